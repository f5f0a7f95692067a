"""Writing events to the outbox, inside the transaction that changes the state they report.

campaigns/models.py calls these functions from its `move_to` methods, importing this module
lazily (inside the method) so that loading campaigns' models never depends on this app's.
With no endpoint configured an event costs one small query (the enabled endpoints); a move
no event reports costs none.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from .models import EventType, WebhookDelivery, WebhookEndpoint, WebhookMessage

logger = logging.getLogger(__name__)

# The invitation states that are events, by the state reached. `not_sent` (OutX completed the
# task without sending) is a failure to the CRM, as is a 400 refusal (`failed`).
INVITATION_EVENTS = {
    "sent": EventType.INVITATION_SENT,
    "accepted": EventType.INVITATION_ACCEPTED,
    "failed": EventType.INVITATION_FAILED,
    "not_sent": EventType.INVITATION_FAILED,
    "uncertain": EventType.INVITATION_UNCERTAIN,
}


def subscribed(event_type: str) -> list[int]:
    """The enabled endpoints that want this event: one query, on a table of a few rows."""
    return [e.pk for e in WebhookEndpoint.objects.enabled().only("pk", "events") if event_type in e.events]


def emit(event_type: str, data: dict | Callable[[], dict], at: dt.datetime) -> WebhookMessage | None:
    """Record one event for every enabled endpoint subscribed to its type, in the current
    transaction; None (and nothing written) when no endpoint wants it. `data` may be a
    function, called only when some endpoint wants the event (it may read related rows)."""
    endpoints = subscribed(event_type)
    if not endpoints:
        return None
    if callable(data):
        data = data()
    payload = {"type": event_type, "timestamp": iso(at), "data": data}
    message = WebhookMessage.objects.create(type=event_type, payload=payload, created_at=at)
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint_id=pk, message=message, next_attempt_at=at, created_at=at) for pk in endpoints],
        ignore_conflicts=True,
    )
    # Deliver at once when a worker cluster runs; the minute's schedule catches what this
    # misses (no cluster, a broker down). Robust: the state change has committed already.
    transaction.on_commit(kick_delivery, robust=True)
    return message


def kick_delivery() -> None:
    from django_q.tasks import async_task

    async_task("webhooks.tasks.deliver_due", group="webhooks", q_options={"task_name": "webhooks-deliver"})


# --- What each event says -----------------------------------------------------------------


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def site_link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def invitation_data(request, reason: str = "", **overrides) -> dict:
    """An invitation as the CRM sees it. `overrides`: the fields its move changes, not yet
    set on the object while the move's transaction runs; `reason`: the move's cause."""
    values = {name: overrides.get(name, getattr(request, name)) for name in ("state", "note", "submitted_at", "accepted_at")}
    prospect, campaign, sender = request.prospect, request.campaign, request.sender
    return {
        "id": request.pk,
        "state": values["state"],
        "note": values["note"],
        "submitted_at": iso(values["submitted_at"]),
        "accepted_at": iso(values["accepted_at"]),
        # Why it moved, as its history says (OutX's refusal, the task's output, ...).
        "reason": reason,
        "url": site_link(reverse("request_detail", args=[request.pk])),
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "prospect": {
            "id": prospect.pk,
            "name": prospect.full_name,
            "first_name": prospect.first_name,
            "last_name": prospect.last_name,
            "profile_urn": prospect.profile_urn,
            "profile_url": prospect.profile_url,
            "company": prospect.company,
            "title": prospect.title,
        },
        "sender": {"id": sender.pk, "name": sender.name} if sender is not None else None,
    }


def invitation_moved(request, new_state: str, cause: str, at: dt.datetime, fields: dict) -> None:
    event_type = INVITATION_EVENTS.get(new_state)
    if event_type is None:
        return
    overrides = {name: value for name, value in fields.items() if name in ("note", "submitted_at", "accepted_at")}
    emit(event_type, lambda: invitation_data(request, reason=cause, state=new_state, **overrides), at)


def followup_moved(followup, new_state: str, cause: str, at: dt.datetime, fields: dict) -> None:
    if new_state != "sent":
        return

    def data() -> dict:
        return {
            "id": followup.pk,
            "state": new_state,
            "message": followup.message,
            "sent_at": iso(fields.get("completed_at") or at),
            "invitation": invitation_data(followup.request),
        }

    emit(EventType.FOLLOWUP_SENT, data, at)


def campaign_paused_by_brake(campaign, reason: str, at: dt.datetime) -> None:
    emit(EventType.CAMPAIGN_PAUSED_BY_BRAKE, lambda: {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "state": "paused",
            "url": site_link(reverse("campaign_detail", args=[campaign.pk])),
        },
        "reason": reason,
    }, at)

