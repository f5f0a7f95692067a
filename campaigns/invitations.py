"""The invitation as a kind of OutX action: what differs from the shared life in lifecycle.py.

Pacing is the sender's: a daily and a rolling weekly cap, working hours, random spacing and
OutX's hourly advice, shared by every campaign it sends for, with campaigns taking turns.
Nobody with a pending, sent, accepted or uncertain invitation from any of our senders is
invited again (and the database refuses it, should two senders race for one person); nor
anyone on the do-not-contact list, nor a connection of the sender, checked just before the POST.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F

from . import outx, pacing
from .donotcontact import blocked_reason, entry_blocking
from .lifecycle import Kind, TickSummary
from .models import Campaign, ConnectionRequest, Sender, SenderConnection
from .notes import check_note
from .sending import submission_decision


class Invitations(Kind):
    model = ConnectionRequest
    label = "Invitation"
    created_count = "submitted"
    reports_to_summary = True
    abandoned_cause = (
        "the worker stopped while submitting this invitation; OutX may or may not have received it. "
        "It will not be sent again unless a person retries it."
    )
    lost_cause = (
        "OutX no longer knows task {task_id} ({message}); whether the invitation went out is unknown. "
        "A person should check LinkedIn."
    )
    sent_cause = "LinkedIn invitation sent (OutX task completed)."

    def decision(self, account: Sender, now: dt.datetime) -> pacing.Decision:
        return submission_decision(account, now)

    def may_have_work(self, sender: Sender) -> bool:
        return ConnectionRequest.objects.submittable().filter(sender=sender).exists()

    def next_queued(self, sender: Sender, now: dt.datetime, summary: TickSummary) -> ConnectionRequest | None:
        """The sender's next fair request, skipping (with the reason) any that must not be sent."""
        while (request := next_fair_request(sender)) is not None:
            if skip_if_already_invited(request, summary):
                continue
            # Checked here, before the POST, and not only at import: an entry added or a
            # connection seen after the prospect was queued still stops the invitation.
            if skip_if_must_not_invite(request, sender, summary):
                continue
            checked = check_note(request.note)
            if not checked.within_limit:
                request.move_to(ConnectionRequest.State.SKIPPED, checked.error)
                summary.skipped += 1
                continue
            return request
        return None

    def refuse_duplicate(self, item: ConnectionRequest, summary: TickSummary) -> None:
        if not skip_if_already_invited(item, summary):
            raise RuntimeError(f"Invitation {item.pk} was refused as a duplicate, yet nobody else invites its prospect.")

    def post(self, client: outx.OutxClient, item: ConnectionRequest) -> outx.TaskCreated:
        return client.send_connection_request(item.prospect.profile_urn, item.note)

    def after_claim(self, item: ConnectionRequest, now: dt.datetime) -> None:
        # Campaigns take turns: the one that submitted least recently goes next.
        Campaign.objects.filter(pk=item.campaign_id).update(last_submission_at=now)


def skip_if_already_invited(request: ConnectionRequest, summary: TickSummary) -> bool:
    """Skip `request` if its prospect has (or may have) an invitation from any of our senders,
    naming the sender and campaign that invited; returns whether it was skipped."""
    earlier = ConnectionRequest.objects.already_inviting(request.prospect_id).exclude(pk=request.pk)
    earlier = earlier.select_related("campaign", "sender").first()
    if earlier is None:
        return False
    by = f" by {earlier.sender.name}" if earlier.sender else ""
    request.move_to(
        ConnectionRequest.State.SKIPPED,
        f"Already invited{by} in campaign “{earlier.campaign.name}” ({earlier.state_in_words}).",
    )
    summary.skipped += 1
    return True


def skip_if_must_not_invite(request: ConnectionRequest, sender: Sender, summary: TickSummary) -> bool:
    """Skip `request` if its prospect is on the do-not-contact list, or already a connection of
    the sender that would invite them, with the reason; returns whether it was skipped."""
    entry = entry_blocking(request.prospect)
    if entry is not None:
        reason = blocked_reason(entry)
    else:
        connection = SenderConnection.objects.of_prospect_first(sender, request.prospect)
        if connection is None:
            return False
        connection.sender = sender  # named in the reason: no query
        reason = connection.skip_reason
    request.move_to(ConnectionRequest.State.SKIPPED, reason)
    summary.skipped += 1
    return True


def next_fair_request(sender: Sender) -> ConnectionRequest | None:
    """The sender's oldest submittable request of the campaign that submitted least recently."""
    submittable = ConnectionRequest.objects.submittable().filter(sender=sender)
    campaign_id = (
        submittable.order_by(F("campaign__last_submission_at").asc(nulls_first=True), "campaign_id")
        .values_list("campaign_id", flat=True)
        .first()
    )
    if campaign_id is None:
        return None
    return (
        submittable.filter(campaign_id=campaign_id)
        .select_related("prospect", "campaign")
        .order_by("created_at", "id")
        .first()
    )


INVITATIONS = Invitations()
