"""Delivering webhooks: claim a due delivery, POST it signed, record the try, plan the next.

The life of one delivery, top to bottom:
1. `claim`: a conditional UPDATE moves its next_attempt_at past now (a lease), so of two
   workers that saw it due only one POSTs it; a worker that dies mid-try leaves the lease to
   run out, and the delivery is tried again (same webhook-id: the receiver drops duplicates).
2. `attempt`: check the URL again (SSRF: what a name resolves to can change), sign as the
   Standard Webhooks spec says (standardwebhooks), POST with short timeouts and no redirects,
   read at most a little of the answer.
3. `record`: a WebhookAttempt row; 2xx is delivered; anything else waits for the next step
   of RETRY_SCHEDULE, and after the last the delivery fails and the endpoint's disable rule
   is read (models.WebhookEndpoint.disable_if_down_since).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from . import ssrf
from .models import (
    ATTEMPTS_PER_ROUND,
    DELIVERY_LEASE,
    RETRY_SCHEDULE,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

# Short: a receiver should answer at once and do its work later (the spec's advice). httpx's
# read timeout bounds each wait for bytes, not the whole answer, so the body's reading also
# stops at READ_DEADLINE; a receiver that drips its headers a byte every few seconds could
# still hold a try longer, up to DELIVERY_LEASE, after which the try may be made again.
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
READ_DEADLINE = 20.0
# How much of a receiver's answer is read, and kept for the log.
RESPONSE_READ_LIMIT = 1024
EXCERPT_LENGTH = 500
USER_AGENT = "Outreach-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body_of(payload: dict) -> str:
    """The JSON sent, signed exactly as sent; the same for every try of one message."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def signed_headers(secret: str, msg_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one try. `at` must be aware: the library reads the
    datetime's fields as UTC whatever its zone, so it gets a UTC one."""
    at_utc = at.astimezone(dt.timezone.utc)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at_utc.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at_utc, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


# --- 1. Claim ----------------------------------------------------------------------------


def claim(delivery: WebhookDelivery, now: dt.datetime) -> bool:
    """Take this delivery's try: True for exactly one of the workers that saw it due.

    The UPDATE's conditions are on the delivery's own row only. A condition on the endpoint
    (a join) would make Django filter by `id IN (subquery)`, which PostgreSQL does not check
    again against the row another worker has just claimed: both would win (seen in
    tests/test_webhooks.py's race). An endpoint disabled meanwhile gets its claim back."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=WebhookDelivery.State.PENDING, next_attempt_at=delivery.next_attempt_at,
    ).update(next_attempt_at=now + DELIVERY_LEASE, claimed_at=now)
    if not claimed:
        return False
    if not WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, enabled=True).exists():
        WebhookDelivery.objects.filter(pk=delivery.pk, claimed_at=now).update(
            next_attempt_at=delivery.next_attempt_at, claimed_at=None
        )
        return False
    return True


# --- 2. Attempt ----------------------------------------------------------------------------


def post(client: httpx.Client, url: str, headers: dict[str, str], body: str) -> Outcome:
    started = time.monotonic()
    try:
        ssrf.check(url)
        with client.stream("POST", url, content=body.encode(), headers=headers) as response:
            read = b""
            for chunk in response.iter_bytes():
                read += chunk
                if len(read) >= RESPONSE_READ_LIMIT or time.monotonic() - started > READ_DEADLINE:
                    break  # enough for the log; the rest is not read
            excerpt = read[:RESPONSE_READ_LIMIT].decode("utf-8", "replace")[:EXCERPT_LENGTH]
            outcome = Outcome(status_code=response.status_code, excerpt=excerpt)
            if 300 <= response.status_code < 400:
                outcome = Outcome(
                    status_code=response.status_code, excerpt=excerpt,
                    error=f"Redirect to {response.headers.get('location', '?')[:200]} not followed: give the final URL.",
                )
    except ssrf.UrlRefused as refused:
        outcome = Outcome(error=refused.message)
    except httpx.TimeoutException as error:
        outcome = Outcome(error=f"Timed out ({type(error).__name__}).")
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as error:
        outcome = Outcome(error=f"{type(error).__name__}: {error}"[:500])
    except Exception as error:  # whatever else: a recorded failed try, never a stuck delivery
        logger.exception("Webhook POST to %s failed unexpectedly", url[:200])
        outcome = Outcome(error=f"{type(error).__name__}: {error}"[:500])
    duration_ms = int((time.monotonic() - started) * 1000)
    return Outcome(outcome.status_code, outcome.error, outcome.excerpt, min(duration_ms, 3_600_000))


def attempt(client: httpx.Client, delivery: WebhookDelivery, now: dt.datetime) -> Outcome:
    endpoint, message = delivery.endpoint, delivery.message
    try:
        secret = endpoint.secret()
    except Exception as error:  # an unreadable secret (encryption key removed): say so, retry later
        return Outcome(error=str(error)[:500])
    body = body_of(message.payload)
    return post(client, endpoint.url, signed_headers(secret, message.msg_id, body, now), body)


# --- 3. Record -----------------------------------------------------------------------------


def record(delivery: WebhookDelivery, outcome: Outcome, tried_at: dt.datetime, answered_at: dt.datetime) -> str:
    """Store the try and what follows from it; returns the delivery's new state."""
    endpoint = delivery.endpoint
    round_started = delivery.round_started_at or tried_at
    round_attempts = delivery.round_attempts + 1
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, at=tried_at, status_code=outcome.status_code,
            error=outcome.error[:500], response_excerpt=outcome.excerpt[:500], duration_ms=outcome.duration_ms,
        )
        fields = {
            "attempt_count": delivery.attempt_count + 1, "round_attempts": round_attempts,
            "round_started_at": round_started, "last_status_code": outcome.status_code,
            "last_error": outcome.error[:500], "claimed_at": None,
        }
        if outcome.succeeded:
            fields.update(state=WebhookDelivery.State.DELIVERED, delivered_at=answered_at, next_attempt_at=None)
        elif round_attempts >= ATTEMPTS_PER_ROUND:
            fields.update(state=WebhookDelivery.State.FAILED, next_attempt_at=None)
        else:
            # Counted from the answer, not from the start of the pass.
            fields.update(next_attempt_at=answered_at + RETRY_SCHEDULE[round_attempts])
        # Only while the claim is still ours: after a lapsed lease another worker owns it.
        if not WebhookDelivery.objects.filter(pk=delivery.pk, claimed_at=delivery.claimed_at).update(**fields):
            return delivery.state
        if outcome.succeeded:
            endpoint.record_success(answered_at)
        else:
            endpoint.record_failure(tried_at)
    if not outcome.succeeded and round_attempts >= ATTEMPTS_PER_ROUND:
        endpoint.disable_if_down_since(round_started, answered_at)
        return WebhookDelivery.State.FAILED
    return WebhookDelivery.State.DELIVERED if outcome.succeeded else WebhookDelivery.State.PENDING


# --- The whole life, and the worker's loop -----------------------------------------------------


def deliver(client: httpx.Client, delivery: WebhookDelivery, clock: Clock) -> str | None:
    """Claim, try and record one delivery; None when another worker has it."""
    now = clock()
    if not claim(delivery, now):
        return None
    delivery.claimed_at = now
    tried_at = clock()
    outcome = attempt(client, delivery, tried_at)
    return record(delivery, outcome, tried_at, clock())


def new_client() -> httpx.Client:
    # No environment proxies: the SSRF check resolves the name itself, a proxy would resolve
    # it again elsewhere. No redirects: a 3xx is recorded, never followed.
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


@dataclass
class DeliveryRun:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"{self.delivered} delivered, {self.retrying} to retry, {self.failed} failed."


def deliver_due(
    *, clock: Clock = timezone.now, seconds: float = 50.0, limit: int = 200, client: httpx.Client | None = None,
) -> DeliveryRun:
    """Deliver what is due, oldest first, for at most `seconds` or `limit` deliveries, so
    the django-q2 task ends well before Q_CLUSTER's timeout."""
    deadline = time.monotonic() + seconds
    run = DeliveryRun()
    own_client = client is None
    client = client or new_client()
    try:
        done = 0
        while done < limit and time.monotonic() < deadline:
            batch = list(
                WebhookDelivery.objects.due(clock())
                .select_related("endpoint", "message")
                .order_by("next_attempt_at", "pk")[: min(20, limit - done)]
            )
            if not batch:
                break
            for delivery in batch:
                if done >= limit or time.monotonic() >= deadline:
                    break
                state = deliver(client, delivery, clock)
                done += 1
                if state == WebhookDelivery.State.DELIVERED:
                    run.delivered += 1
                elif state == WebhookDelivery.State.FAILED:
                    run.failed += 1
                elif state == WebhookDelivery.State.PENDING:
                    run.retrying += 1
    finally:
        if own_client:
            client.close()
    return run


# Messages, with their deliveries and tries, are kept this long once nothing waits on them:
# long enough to look into a CRM's complaint, short enough that the outbox does not grow forever.
KEEP_FOR = dt.timedelta(days=30)
PRUNE_BATCH = 500


def prune(now: dt.datetime) -> int:
    """Delete up to PRUNE_BATCH messages older than KEEP_FOR that no delivery still waits to
    send; returns how many. Each run deletes a bounded batch."""
    ids = list(
        WebhookMessage.objects.filter(created_at__lt=now - KEEP_FOR)
        .exclude(deliveries__state=WebhookDelivery.State.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:PRUNE_BATCH]
    )
    if ids:
        WebhookMessage.objects.filter(pk__in=ids).delete()
    return len(ids)


def deliver_now(delivery: WebhookDelivery, clock: Clock = timezone.now) -> str | None:
    """One delivery's try at once (a person's "Send again"), if its endpoint is enabled."""
    delivery = WebhookDelivery.objects.select_related("endpoint", "message").get(pk=delivery.pk)
    with new_client() as client:
        return deliver(client, delivery, clock)
