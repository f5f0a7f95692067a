"""The invitation as a kind of OutX action: what differs from the shared life in lifecycle.py.

Pacing is the sender's: a daily and a rolling weekly cap, working hours, random spacing and
OutX's hourly advice, shared by every campaign it sends for, with campaigns taking turns.
Nobody with a pending, sent, accepted or uncertain invitation from any of our senders is
invited again (and the database refuses it, should two senders race for one person); nor
anyone on the do-not-contact list, nor a connection of the sender, checked just before the POST.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.db.models import Exists, F, OuterRef, Q, Subquery

from . import outx, pacing
from .donotcontact import blocked_reason, company_key, entry_blocking
from .lifecycle import Kind, TickSummary, allowed
from .models import Campaign, ConnectionRequest, DoNotContact, Sender, SenderConnection
from .notes import check_note
from .sending import Budget, read_budget, submission_decision

# The least step between two campaigns' turns.
TURN_STEP = dt.timedelta(microseconds=1)


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

    def decision(self, account: Sender, now: dt.datetime, budget: Budget | None = None) -> pacing.Decision:
        return submission_decision(account, now, budget=budget)

    def reading(self, sender: Sender, now: dt.datetime) -> Budget:
        return read_budget(sender, now)

    def may_have_work(self, sender: Sender) -> bool:
        return ConnectionRequest.objects.submittable().filter(sender=sender).exists()

    def pick(
        self, sender: Sender, now: dt.datetime, summary: TickSummary, budget: Budget | None
    ) -> tuple[Sender | None, ConnectionRequest | None]:
        """The sender's next fair request, read with its sender's row, which the same query
        locks (one query where a lock and a pick were two); then the pacing decides."""
        request = next_fair_request(sender, lock=True)
        if request is None:
            return None, None  # nothing to send, or another worker holds the sender
        account = request.sender
        if budget is not None and not budget.holds(account, now):
            budget.read_again(account, now)  # another pass may have spent: count again, under the lock
        if not allowed(self, account, now, summary, budget):
            return account, None
        return account, self.sendable(request, summary) or self.next_queued(account, now, summary)

    def next_queued(self, sender: Sender, now: dt.datetime, summary: TickSummary) -> ConnectionRequest | None:
        """The sender's next fair request, skipping (with the reason) any that must not be sent."""
        while (request := next_fair_request(sender)) is not None:
            if self.sendable(request, summary):
                return request
        return None

    def sendable(self, request: ConnectionRequest, summary: TickSummary) -> ConnectionRequest | None:
        """`request`, unless its note cannot be sent: then it is skipped, saying why. Whether its
        prospect may be invited is checked by the claim itself (claim_condition), and a second
        invitation to one person is refused by the database (refuse_duplicate)."""
        checked = check_note(request.note)
        if not checked.within_limit:
            request.move_to(ConnectionRequest.State.SKIPPED, checked.error)
            summary.skipped += 1
            return None
        return request

    def claim_condition(self, item: ConnectionRequest, account: Sender) -> Q:
        # Checked at the claim, before the POST, and not only at import: an entry added or a
        # connection seen after the prospect was queued still stops the invitation.
        prospect = item.prospect
        entries = DoNotContact.objects.matching(
            urns=[prospect.profile_urn or ""], urls=[prospect.profile_url or ""], company_keys=[company_key(prospect.company)]
        )
        return ~Exists(entries) & ~Exists(
            SenderConnection.objects.of_prospect(account, item.prospect)
        )

    def refused_claim(self, item: ConnectionRequest, account: Sender, summary: TickSummary) -> bool:
        return skip_if_must_not_invite(item, account, summary)

    def refuse_duplicate(self, item: ConnectionRequest, summary: TickSummary) -> None:
        if not skip_if_already_invited(item, summary):
            raise RuntimeError(f"Invitation {item.pk} was refused as a duplicate, yet nobody else invites its prospect.")

    def post(self, client: outx.OutxClient, item: ConnectionRequest) -> outx.TaskCreated:
        return client.send_connection_request(item.prospect.profile_urn, item.note)

    def after_claim(self, item: ConnectionRequest, now: dt.datetime, budget: Budget | None = None) -> None:
        # Campaigns take turns: the one that submitted least recently goes next. Each turn is
        # later than every earlier one (the pass's reading knows the latest), even when claims
        # share a moment (a simulated clock), or the lowest campaign id would take every turn.
        latest = budget.latest_turn if budget is not None else None
        turn = max(now, latest + TURN_STEP) if latest is not None else now
        if budget is not None:
            budget.latest_turn = turn
        Campaign.objects.filter(pk=item.campaign_id).update(last_submission_at=turn)


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


def next_fair_request(sender: Sender, *, lock: bool = False) -> ConnectionRequest | None:
    """The sender's oldest submittable request of the campaign that submitted least recently,
    in one query: the campaign is picked from the campaigns table (the active ones, by their
    last turn), never by sorting the queue. `lock`: also lock the sender's row (skip_locked:
    None if another worker holds it), for a claim; the sender must be active."""
    return fair_requests(sender.pk, lock).first()


@functools.lru_cache(maxsize=1024)
def fair_requests(sender_id: int, lock: bool):
    """next_fair_request's query, built once per sender: it holds no moment, and building it
    cost more than running it (each use runs a copy)."""
    submittable = ConnectionRequest.objects.submittable().filter(sender_id=sender_id)
    turn = (
        Campaign.objects.filter(state=Campaign.State.ACTIVE)
        .filter(Exists(submittable.filter(campaign=OuterRef("pk"))))
        .order_by(F("last_submission_at").asc(nulls_first=True), "pk")
        .values("pk")[:1]
    )
    requests = submittable.filter(campaign_id=Subquery(turn)).select_related("prospect", "sender").order_by("created_at", "id")
    if lock:
        # The join to the sender is an inner one (a condition on its row), as a lock needs.
        requests = requests.filter(sender__state=Sender.State.ACTIVE).select_for_update(skip_locked=True, of=("sender",))
    return requests


INVITATIONS = Invitations()
