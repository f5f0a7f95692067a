"""Learning which invitations were accepted, and the safety brake that acts on it.

OutX offers one way to know: its list of a sender's 1st-degree connections, newest first
(fetch-connections, RECENTLY_ADDED). A few times an hour the worker reads each sender's list,
page by page only as far as connections it has not seen before, and marks the invitations that
sender sent whose invitee appears there as `accepted`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q

from . import outx, pacing
from .lifecycle import Clock, TickSummary, ask_status
from .models import Campaign, ConnectionRequest, Sender, SenderConnection, claim_timeout
from .sending import take_account_wide_answer

logger = logging.getLogger(__name__)

PAGE_SIZE = 40
# However many connections arrived since the last look, one check reads at most this many pages.
MAX_PAGES = 10
# A page asks for PAGE_SIZE; OutX's count goes up to 100. Whatever a page holds, at most this
# many of its connections are stored.
MAX_STORED_PER_PAGE = 100


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
    store_connections(account, connections, answered_at)
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


def store_connections(account: Sender, connections: list[outx.Connection], now: dt.datetime) -> int:
    """Keep every connection this read saw as the sender's (SenderConnection), so that nobody
    already connected to it is invited from it: new ones inserted, known ones marked seen now
    and given the moment or identifier they lacked. A few queries per page, whatever its size.
    Returns how many connections were new."""
    by_key: dict[str, outx.Connection] = {}
    for connection in connections[:MAX_STORED_PER_PAGE]:
        key = connection.profile_urn or connection.profile_url
        if key and key not in by_key:
            by_key[key] = connection
    seen = list(by_key.values())
    if not seen:
        return 0
    urns = {c.profile_urn for c in seen if c.profile_urn}
    urls = {c.profile_url for c in seen if c.profile_url}
    known = SenderConnection.objects.filter(sender=account).filter(Q(profile_urn__in=urns) | Q(profile_url__in=urls))
    with transaction.atomic():
        existing = list(known)
        known_urns = {row.profile_urn for row in existing if row.profile_urn}
        known_urls = {row.profile_url for row in existing if row.profile_url}
        new = [
            SenderConnection(
                sender=account, profile_urn=c.profile_urn, profile_url=c.profile_url,
                connected_at=min(c.connected_at, now) if c.connected_at else None, seen_at=now,
            )
            for c in seen
            if c.profile_urn not in known_urns and c.profile_url not in known_urls
        ]
        # Another pass may store the same person meanwhile: theirs stands.
        SenderConnection.objects.bulk_create(new, ignore_conflicts=True)
        if existing:
            SenderConnection.objects.filter(pk__in=[row.pk for row in existing]).update(seen_at=now)
        # What a known row lacks (at most one page of rows): its moment, its other identifier.
        for row in existing:
            match = next(
                (c for c in seen if (row.profile_urn and c.profile_urn == row.profile_urn)
                 or (row.profile_url and c.profile_url == row.profile_url)), None,
            )
            fill = {}
            if match is not None and row.connected_at is None and match.connected_at:
                fill["connected_at"] = min(match.connected_at, now)
            if match is not None and row.profile_urn is None and match.profile_urn and match.profile_urn not in known_urns:
                fill["profile_urn"] = match.profile_urn
            if match is not None and row.profile_url is None and match.profile_url and match.profile_url not in known_urls:
                fill["profile_url"] = match.profile_url
            if fill:
                SenderConnection.objects.filter(pk=row.pk).update(**fill)
    return len(new)


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
