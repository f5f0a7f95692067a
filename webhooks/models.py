"""Webhooks to a CRM: endpoints an admin adds, the events they want, and an outbox.

An event is written as one `WebhookMessage` and one `WebhookDelivery` per subscribed endpoint
in the very transaction that changes the invitation's (or campaign's) state, so an event is
never lost nor invented by a rollback. The worker then POSTs each delivery (webhooks/delivery.py)
and records every try as a `WebhookAttempt`. The message id is the Standard Webhooks
`webhook-id`: the same on every try and on "Send again", so a receiver can drop duplicates.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns import keys


class EventType(models.TextChoices):
    INVITATION_SENT = "invitation.sent", "Invitation sent"
    INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
    INVITATION_FAILED = "invitation.failed", "Invitation failed"
    INVITATION_UNCERTAIN = "invitation.uncertain", "Invitation uncertain"
    FOLLOWUP_SENT = "followup.sent", "Follow-up sent"
    CAMPAIGN_PAUSED_BY_BRAKE = "campaign.paused_by_brake", "Campaign paused by the safety brake"


# When each try of a delivery happens, counted from the failure of the one before: the
# Standard Webhooks / Svix schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h),
# about 27.5 hours in all, so a receiver down for a day still gets every event.
RETRY_SCHEDULE: tuple[dt.timedelta, ...] = (
    dt.timedelta(0),
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
)
ATTEMPTS_PER_ROUND = len(RETRY_SCHEDULE)

# A delivery being POSTed holds its row this long (its next_attempt_at moved past now): longer
# than one try can take (webhooks/delivery.py's timeouts), so no other worker POSTs it at the
# same time; if the worker dies mid-try, the delivery is tried again once the lease runs out.
DELIVERY_LEASE = dt.timedelta(minutes=2)

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes

URL_MAX_LENGTH = 2000


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    """The `webhook-id` of one event: msg_ and 128 random bits, URL-safe."""
    return "msg_" + secrets.token_urlsafe(16)


class WebhookEndpointQuerySet(models.QuerySet):
    def enabled(self) -> WebhookEndpointQuerySet:
        return self.filter(enabled=True)


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribed to, signed with its own secret."""

    url = models.CharField("URL", max_length=URL_MAX_LENGTH)
    description = models.CharField(max_length=200, blank=True)
    # Event types (EventType values) it receives.
    events = models.JSONField(default=list)
    # The signing secret, encrypted with campaigns/keys.py (OUTREACH_ENCRYPTION_KEYS); shown
    # in plain once, when it is made. Never read it but through `secret()`.
    secret_encrypted = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Since when every try to it has failed (None after a success): what disables it.
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.description or self.url

    # --- The secret -----------------------------------------------------------------------

    def set_new_secret(self) -> str:
        """Make and store (encrypted) a new secret; returns it, the only time it is in plain."""
        secret = new_secret()
        self.secret_encrypted = keys.encrypt(secret)
        return secret

    def secret(self) -> str:
        return keys.decrypt(self.secret_encrypted)

    def rotate_secret(self) -> None:
        """A new secret from now on: deliveries not yet made are signed with it."""
        self.set_new_secret()
        self.save(update_fields=["secret_encrypted", "updated_at"])

    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [labels.get(event, event) for event in self.events]

    # --- Enabled and disabled ---------------------------------------------------------------

    def disable(self, reason: str, now: dt.datetime | None = None) -> None:
        """No new deliveries; pending ones wait until a person enables it again."""
        now = now or timezone.now()
        WebhookEndpoint.objects.filter(pk=self.pk).update(
            enabled=False, disabled_reason=reason[:500], disabled_at=now, updated_at=now
        )
        self.refresh_from_db()

    def enable(self, now: dt.datetime | None = None) -> None:
        """Deliver again. Its waiting deliveries go out at once, each with a fresh schedule:
        the person who enabled it says the receiver is back."""
        now = now or timezone.now()
        with transaction.atomic():
            WebhookEndpoint.objects.filter(pk=self.pk).update(
                enabled=True, disabled_reason="", disabled_at=None, failing_since=None,
                consecutive_failures=0, updated_at=now,
            )
            # (Not one still being POSTed, from before it was disabled: its worker finishes it.)
            self.deliveries.filter(state=WebhookDelivery.State.PENDING).exclude(
                claimed_at__gt=now - DELIVERY_LEASE
            ).update(next_attempt_at=now, round_attempts=0, round_started_at=None)
        self.refresh_from_db()

    def record_success(self, now: dt.datetime) -> None:
        WebhookEndpoint.objects.filter(pk=self.pk).update(
            failing_since=None, consecutive_failures=0, last_success_at=now
        )

    def record_failure(self, now: dt.datetime) -> None:
        WebhookEndpoint.objects.filter(pk=self.pk).update(consecutive_failures=F("consecutive_failures") + 1)
        WebhookEndpoint.objects.filter(pk=self.pk, failing_since=None).update(failing_since=now)

    # The rule: an endpoint is disabled when a delivery has used up its whole retry schedule
    # (about 27.5 hours) and no try to the endpoint succeeded in all that time. One event the
    # receiver keeps refusing while others get through does not disable it (that delivery
    # alone ends `failed`); a receiver down for more than a day does, so the worker stops
    # spending tries on it until a person looks.
    def disable_if_down_since(self, delivery_started: dt.datetime, now: dt.datetime) -> bool:
        self.refresh_from_db()
        if not self.enabled or self.failing_since is None or self.failing_since > delivery_started:
            return False
        self.disable(
            f"Every try since {self.failing_since:%Y-%m-%d %H:%M} UTC failed "
            f"({self.consecutive_failures} in a row), and one event used up its "
            f"{ATTEMPTS_PER_ROUND} tries over about 27 hours.",
            now,
        )
        return True


class WebhookMessage(models.Model):
    """One event, the same for every endpoint it goes to: `msg_id` is its webhook-id."""

    msg_id = models.CharField("webhook-id", max_length=40, unique=True, default=new_message_id)
    type = models.CharField(max_length=50, choices=EventType.choices)
    # The body, exactly {"type", "timestamp", "data"} as the spec says.
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook message"

    def __str__(self) -> str:
        return f"{self.type} {self.msg_id}"


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now: dt.datetime) -> WebhookDeliveryQuerySet:
        """Pending deliveries whose next try has come, to endpoints that are enabled."""
        return self.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
        )


class WebhookDelivery(models.Model):
    """One event to one endpoint: at most one per (endpoint, message)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    # When the next try is due; while a worker POSTs it, the end of its lease. None once done.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed it for the try it is making (None between tries): the worker
    # records its outcome only while this is still its claim.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Tries in the current round of RETRY_SCHEDULE ("Send again" starts a new round).
    round_attempts = models.PositiveSmallIntegerField(default=0)
    # When the current round began (its first try): what the endpoint's disable rule reads.
    round_started_at = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # Each event goes to each endpoint at most once.
            models.UniqueConstraint(fields=["endpoint", "message"], name="one_delivery_per_endpoint_and_message"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "delivered", "failed"]), name="webhook_delivery_state_valid"
            ),
        ]
        indexes = [
            # The worker's look for due deliveries.
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due_idx"),
            # The endpoint page's log, newest first.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message} to {self.endpoint} ({self.get_state_display()})"

    def send_again(self, now: dt.datetime | None = None) -> bool:
        """Queue a new try now, of the same message (same webhook-id), with a fresh round of
        retries. A delivery being POSTed right now is left alone (returns False)."""
        now = now or timezone.now()
        changed = WebhookDelivery.objects.filter(pk=self.pk).exclude(claimed_at__gt=now - DELIVERY_LEASE).update(
            state=self.State.PENDING, next_attempt_at=now, round_attempts=0, round_started_at=None, claimed_at=None
        )
        if changed:
            self.refresh_from_db()
        return bool(changed)


class WebhookAttempt(models.Model):
    """One POST of a delivery (or the reason it was not made), as it went."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # The start of the receiver's answer, for the log: read at most this much.
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "webhook attempt"
        indexes = [models.Index(fields=["delivery", "-at"], name="webhook_attempt_delivery_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
