"""Learning which invitations were accepted, and the safety brake that acts on it.

OutX offers one way to know: its list of a sender's 1st-degree connections, newest first
(fetch-connections, RECENTLY_ADDED). A few times an hour the worker reads each sender's list,
page by page only as far as connections it has not seen before, and marks the invitations that
sender sent whose invitee appears there as `accepted`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import Q

from . import outx, pacing
from .lifecycle import Clock, TickSummary, ask_status
from .models import Campaign, ConnectionRequest, Sender, claim_timeout
from .sending import take_account_wide_answer

logger = logging.getLogger(__name__)

PAGE_SIZE = 40
# However many connections arrived since the last look, one check reads at most this many pages.
MAX_PAGES = 10


def track_acceptances(account: Sender, client: outx.OutxClient, clock: Clock, summary: TickSummary) -> None:
    """Start a read of the sender's newest connections when one is due, or follow the one under way."""
    now = clock()
    account = Sender.objects.get(pk=account.pk)
    if not account.connections_task_id:
        due = account.next_acceptance_check_at is None or account.next_acceptance_check_at <= now
        if not due or not ConnectionRequest.objects.filter(sender=account, state=ConnectionRequest.State.SENT).exists():
            return
        start_connections_page(client, account, clock, start=0, summary=summary)
        return

    if account.connections_next_poll_at and account.connections_next_poll_at > now:
        return
    # Claim this poll: whoever moves the next poll time first asks OutX.
    claimed = Sender.objects.filter(
        pk=account.pk, connections_task_id=account.connections_task_id,
        connections_next_poll_at=account.connections_next_poll_at,
    ).update(connections_next_poll_at=now + claim_timeout())
    if not claimed:
        return
    answer = ask_status(client, account, account.connections_task_id, clock, summary)
    if answer.lost is not None:
        finish_check(account, answer.answered_at)  # lost: the next check starts afresh
        return
    if answer.unreadable is not None:
        finish_check(account, answer.answered_at)  # unreadable: the next check starts afresh
        return
    if answer.error is not None:
        return  # asked again once the claim's lease runs out
    status, answered_at = answer.status, answer.answered_at
    if not status.is_finished:
        age = answered_at - (account.connections_task_started_at or answered_at)
        Sender.objects.filter(pk=account.pk).update(
            connections_next_poll_at=answered_at + pacing.next_poll_delay(age)
        )
        return

    connections = status.connections()
    if connections is None:
        logger.warning("OutX's connections list had no 'connections': %.300r", status.task_output)
        summary.problems.append("OutX answered a list of connections we could not read.")
        finish_check(account, answered_at)
        return
    summary.accepted += mark_accepted(account, connections, answered_at)
    if needs_next_page(account, connections):
        start_connections_page(client, account, clock, start=account.connections_task_start + PAGE_SIZE, summary=summary)
    else:
        finish_check(account, clock())
    apply_safety_brakes(account, clock())


def start_connections_page(client: outx.OutxClient, account: Sender, clock: Clock, *, start: int, summary) -> None:
    started_at = clock()
    try:
        created = client.fetch_connections(sort_type="RECENTLY_ADDED", start=start, count=PAGE_SIZE)
    except outx.OutxError as error:
        take_account_wide_answer(account, error, clock())
        summary.problems.append(error.message)
        finish_check(account, clock())  # try again at the next check
        return
    fields = {
        "connections_task_id": created.task_id,
        "connections_task_start": start,
        "connections_next_poll_at": pacing.first_poll_at(clock()),
    }
    if start == 0:
        fields["connections_task_started_at"] = started_at
    Sender.objects.filter(pk=account.pk).update(**fields)


def needs_next_page(account: Sender, connections: list[outx.Connection]) -> bool:
    """Page on only while the whole page is connections made since the last check."""
    if len(connections) < PAGE_SIZE or account.connections_task_start + PAGE_SIZE >= MAX_PAGES * PAGE_SIZE:
        return False
    if account.last_acceptance_check_at is None:
        return True
    moments = [connection.connected_at for connection in connections]
    if None in moments:
        return False  # a page we cannot date might reach back: stop rather than read on
    return min(moments) > account.last_acceptance_check_at


def finish_check(account: Sender, now: dt.datetime) -> None:
    Sender.objects.filter(pk=account.pk).update(
        connections_task_id="",
        connections_task_start=0,
        connections_next_poll_at=None,
        last_acceptance_check_at=account.connections_task_started_at or now,
        next_acceptance_check_at=now + dt.timedelta(minutes=account.acceptance_check_minutes),
    )


def mark_accepted(account: Sender, connections: list[outx.Connection], now: dt.datetime) -> int:
    """Mark the sender's sent invitations to these connections accepted; returns how many."""
    moments: dict[str, dt.datetime | None] = {}
    for connection in connections:
        for key in (connection.profile_urn, connection.profile_url):
            if key:
                moments[key] = connection.connected_at
    if not moments:
        return 0
    accepted = 0
    invited = ConnectionRequest.objects.filter(sender=account, state=ConnectionRequest.State.SENT).filter(
        Q(prospect__profile_urn__in=moments) | Q(prospect__profile_url__in=moments)
    ).select_related("prospect")
    for request in invited:
        moment = moments.get(request.prospect.profile_urn) or moments.get(request.prospect.profile_url) or now
        accepted += request.move_to(
            ConnectionRequest.State.ACCEPTED,
            f"Accepted: {request.prospect} is now a connection (seen in OutX's list of newest connections).",
            accepted_at=min(moment, now),
        )
    return accepted


def apply_safety_brakes(account: Sender, now: dt.datetime) -> list[Campaign]:
    """Pause each active campaign sending from this sender whose answered invitations are too
    rarely accepted."""
    braked = []
    for campaign in Campaign.objects.filter(state=Campaign.State.ACTIVE, senders=account).exclude(brake_min_invitations=0):
        reason = campaign.brake_reason(now)
        if reason:
            campaign.move_to(Campaign.State.PAUSED, reason, paused_cause=reason)
            braked.append(campaign)
    return braked
