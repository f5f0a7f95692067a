"""The sandbox's state: its teams and their switches, the tasks they were given, and what
they "delivered".

The sandbox stands in for OutX; nothing here is product data. Production leaves the app out
of INSTALLED_APPS (settings.OUTX_SANDBOX = False), so these tables are never used there.

Each API key is one simulated OutX team, and so one LinkedIn account (OutX acts from the
team's oldest admin): its own switches, tasks, invitations and connections. A sender in the
product is one such key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import constant_time_compare

DEFAULT_TEAM_NAME = "Sandbox team"
SHARE = [MinValueValidator(0.0), MaxValueValidator(1.0)]
NOT_NEGATIVE = [MinValueValidator(0.0)]


def default_task_delay() -> float:
    return settings.OUTX_SANDBOX_TASK_DELAY


class SandboxSettings(models.Model):
    """One simulated OutX team: its API key, and its switches (each condition OutX can report,
    and how its simulated extension behaves). The default team has OUTX_SANDBOX_API_KEY."""

    name = models.CharField(max_length=100, default=DEFAULT_TEAM_NAME)
    api_key = models.CharField(
        "API key", max_length=200, unique=True,
        help_text="The x-api-key this team answers to: give it to one sender in the product.",
    )

    @property
    def masked_key(self) -> str:
        """As the product shows a key: the last 4 characters. Whoever added the team typed it;
        a page shows no key, lest a real one was used here by mistake."""
        return f"••••••••{self.api_key[-4:]}"

    extension_offline = models.BooleanField(
        "extension offline (403)", default=False,
        help_text="Every call answers 403: no OutX extension active in the last 48 hours.",
    )
    wrong_key = models.BooleanField(
        "wrong API key (401)", default=False, help_text="Every call answers 401 Invalid API Key.",
    )
    no_admin = models.BooleanField(
        "no admin in the team (404)", default=False,
        help_text="Every action (POST) answers 404 No admin user found in the team.",
    )
    weekly_invitation_limit = models.PositiveIntegerField(
        "weekly invitation limit (429)", null=True, blank=True,
        help_text="Empty: no limit. Otherwise send-connection-request answers 429 once this many "
        "invitations were created in the last 7 days (those that completed with sent: false do not count).",
    )
    latency_ms = models.PositiveIntegerField(
        "latency (ms)", default=0, help_text="Added delay before every answer.",
    )
    server_error_rate = models.FloatField(
        "share of server errors (500)", default=0.0, validators=SHARE,
        help_text="0 to 1: the share of calls answering 500 Internal server error.",
    )
    not_sent_rate = models.FloatField(
        "share of invitations not sent", default=0.0, validators=SHARE,
        help_text="0 to 1: the share of connection requests completing with sent: false.",
    )
    task_delay_seconds = models.FloatField(
        "task delay (seconds)", default=default_task_delay, validators=NOT_NEGATIVE,
        help_text="How long the simulated extension takes to complete a task.",
    )
    acceptance_rate = models.FloatField(
        "share of invitations accepted", default=0.4, validators=SHARE,
        help_text="0 to 1: the share of invitees who accept and then appear in fetch-connections.",
    )
    acceptance_delay_seconds = models.FloatField(
        "acceptance delay (seconds)", default=20.0, validators=NOT_NEGATIVE,
        help_text="How long after delivery an invitee who accepts becomes a connection.",
    )

    class Meta:
        verbose_name = "sandbox team"
        verbose_name_plural = "sandbox teams"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def get(cls) -> SandboxSettings:
        """The default team: the one OUTX_SANDBOX_API_KEY reaches (the key `make run` gives the
        product), made on first use."""
        return cls.objects.get_or_create(api_key=settings.OUTX_SANDBOX_API_KEY, defaults={"name": DEFAULT_TEAM_NAME})[0]

    @classmethod
    def for_key(cls, key: str) -> SandboxSettings | None:
        """The team `key` reaches, or None. Found by the key, then compared in constant time, so
        a database that compares text loosely (case, trailing spaces) lets no near miss in."""
        if not key:
            return None
        if constant_time_compare(key, settings.OUTX_SANDBOX_API_KEY):
            return cls.get()  # it exists from the first call on, as OutX's teams do
        team = cls.objects.filter(api_key=key).first()
        return team if team is not None and constant_time_compare(team.api_key, key) else None


class SandboxTaskQuerySet(models.QuerySet):
    def due(self, now: dt.datetime) -> SandboxTaskQuerySet:
        return self.filter(status=SandboxTask.Status.PENDING, complete_after__lte=now)

    def invitations_counting_against_limit(self, now: dt.datetime) -> SandboxTaskQuerySet:
        """Invitations created in the rolling last 7 days that went out, or still may."""
        return self.filter(
            Q(status=SandboxTask.Status.PENDING) | Q(status=SandboxTask.Status.COMPLETED, task_output__sent=True),
            task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST,
            created_at__gt=now - dt.timedelta(days=7),
        )


class SandboxTask(models.Model):
    """One task OutX was asked to perform, as get-task-status reports it."""

    class TaskType(models.TextChoices):
        # Only the connection request's name is fixed by docs/outx-api.md; the others are ours.
        SEND_CONNECTION_REQUEST = "agent_send_connection_request"
        FETCH_PROFILE = "agent_fetch_profile"
        FETCH_CONNECTIONS = "agent_fetch_connections"
        SEND_MESSAGE = "agent_send_message"
        SEARCH_PROFILES = "agent_search_profiles"

    class Status(models.TextChoices):
        PENDING = "pending"
        COMPLETED = "completed"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(SandboxSettings, on_delete=models.CASCADE, related_name="tasks")
    task_type = models.CharField(max_length=50, choices=TaskType)
    task_input = models.JSONField(default=dict, help_text="The fields sent, as the task received them.")
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    task_output = models.JSONField(null=True, blank=True)
    # Set from timezone.now() by the code that creates a task, so tests can move time.
    created_at = models.DateTimeField()
    complete_after = models.DateTimeField(help_text="When the simulated extension performs the task.")

    objects = SandboxTaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "complete_after"])]

    def __str__(self) -> str:
        return f"{self.task_type} {self.id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        # A task made without a team (a test's hand-made log row) is the default team's.
        if self.team_id is None:
            self.team = SandboxSettings.get()
        super().save(*args, **kwargs)

    @classmethod
    def start(cls, task_type: str, task_input: dict[str, Any], team: SandboxSettings) -> SandboxTask:
        """A task `team` was given; its extension performs it after the team's task delay."""
        now = timezone.now()
        return cls.objects.create(
            team=team,
            task_type=task_type,
            task_input=task_input,
            created_at=now,
            complete_after=now + dt.timedelta(seconds=team.task_delay_seconds),
        )

    def as_outx_json(self) -> dict[str, Any]:
        """The `data` of a get-task-status answer."""
        return {
            "id": str(self.id),
            "status": self.status,
            "task_input": {"task_type": self.task_type, **self.task_input},
            "task_output": self.task_output,
        }


class DeliveryQuerySet(models.QuerySet):
    def of_team(self, team: SandboxSettings) -> DeliveryQuerySet:
        """One team's delivery log: the invitations its LinkedIn account sent."""
        return self.filter(task__team=team)

    def with_times_delivered(self) -> DeliveryQuerySet:
        """Annotate how many invitations went to each row's profile, from any team: above 1 is
        a duplicate (our senders together must never invite one person twice)."""
        per_profile = (
            Delivery.objects.filter(profile_urn=OuterRef("profile_urn"))
            .order_by()
            .values("profile_urn")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return self.annotate(times_delivered=Coalesce(Subquery(per_profile), 0))

    def duplicate_count(self) -> int:
        """Invitations beyond the first to the same profile: each one is a mistake."""
        return self.count() - self.values("profile_urn").distinct().count()


class Delivery(models.Model):
    """An invitation the sandbox "delivered": a connection-request task that completed with
    sent: true. Its team is its task's."""

    task = models.OneToOneField(SandboxTask, on_delete=models.CASCADE, related_name="delivery")
    profile_urn = models.CharField("profile URN", max_length=150, db_index=True)
    note = models.TextField(blank=True, help_text="As delivered: trimmed; empty for no note.")
    delivered_at = models.DateTimeField(db_index=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-delivered_at", "-pk"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"Invitation to {self.profile_urn} at {self.delivered_at:%Y-%m-%d %H:%M:%S}"


class SentMessage(models.Model):
    """A message the sandbox "sent": a send-message task to an accepted connection."""

    task = models.OneToOneField(SandboxTask, on_delete=models.CASCADE, related_name="sent_message")
    recipient_urn = models.CharField("recipient URN", max_length=150, db_index=True)
    message = models.TextField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"Message to {self.recipient_urn} at {self.sent_at:%Y-%m-%d %H:%M:%S}"
