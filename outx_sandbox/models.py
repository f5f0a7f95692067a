"""The sandbox's state: its switches, the tasks it was given, and what it "delivered".

The sandbox stands in for OutX; nothing here is product data. Production leaves the app out
of INSTALLED_APPS (settings.OUTX_SANDBOX = False), so these tables are never used there.
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

SHARE = [MinValueValidator(0.0), MaxValueValidator(1.0)]
NOT_NEGATIVE = [MinValueValidator(0.0)]


def default_task_delay() -> float:
    return settings.OUTX_SANDBOX_TASK_DELAY


class SandboxSettings(models.Model):
    """The switches: each condition OutX can report, and how the simulated extension behaves. One row."""

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
        verbose_name = "sandbox settings"
        verbose_name_plural = "sandbox settings"

    def __str__(self) -> str:
        return "Sandbox settings"

    @classmethod
    def get(cls) -> SandboxSettings:
        found = cls.objects.order_by("pk").first()
        return found or cls.objects.get_or_create(pk=1)[0]


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

    class Status(models.TextChoices):
        PENDING = "pending"
        COMPLETED = "completed"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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

    @classmethod
    def start(cls, task_type: str, task_input: dict[str, Any], sandbox: SandboxSettings) -> SandboxTask:
        now = timezone.now()
        return cls.objects.create(
            task_type=task_type,
            task_input=task_input,
            created_at=now,
            complete_after=now + dt.timedelta(seconds=sandbox.task_delay_seconds),
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
    def with_times_delivered(self) -> DeliveryQuerySet:
        """Annotate how many invitations went to each row's profile: above 1 is a duplicate."""
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
    """An invitation the sandbox "delivered": a connection-request task that completed with sent: true."""

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
