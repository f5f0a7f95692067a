"""The worker: a dispatcher that hands out senders, and one sender's pass, in the README's steps.

Each sender is one LinkedIn account with its own budget and key, so the work scales out by
sender. The django-q2 schedule (campaigns.tasks) runs `dispatch_loop` every minute: about once a
second it finds the senders whose work is due, by the index on `Sender.next_due_at`, and
enqueues one `work_sender` task for each. Any worker process of any cluster, on any machine,
may take it. A pass takes a turn on its sender first (`Sender.take_turn`, locked with
skip_locked), so one sender is never worked by two processes at once; other senders go on in
parallel, and a slow or failing one delays nobody else. A pass ends by storing when its
sender next has work: idle senders stay out of the dispatcher's way.

Every kind of OutX action lives the one life written in lifecycle.py, so everything here is
also safe should two passes overlap: submissions are decided and claimed under a lock on the
sender's row, polls are claimed row by row, and an item is committed as `submitting` before
its POST, so a crash leaves a trace that becomes `uncertain`, never a second invitation.
`run_tick()` is every sender's pass in turn, in this process (`manage.py outreach_tick`, tests).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from contextlib import contextmanager

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from . import lifecycle, outx
from .acceptance import track_acceptances
from .followups import FOLLOW_UPS, queue_due_followups
from .invitations import INVITATIONS
from .lifecycle import Clock, TickSummary
from .lookups import LOOKUPS
from .models import Campaign, ConnectionRequest, FollowUp, ProfileSearch, Prospect, Sender, TaskState, claim_timeout
from .searches import SEARCHES
from .sending import (
    CALLS_STOPPED,
    Budget,
    action_decision,
    lookup_decision,
    resume_account_if_due,
    search_decision,
    submission_decision,
)

logger = logging.getLogger(__name__)

KINDS = (INVITATIONS, FOLLOW_UPS, LOOKUPS, SEARCHES)
# Status calls per kind in one pass, at most.
MAX_LOOKUP_POLLS = 50
MAX_SEARCH_POLLS = 20
MAX_FOLLOWUP_POLLS = 200
# A sender with work waits at most this long for its next pass, even if its next moment was
# computed later: a safety net should a wake-up be missed.
LONGEST_NAP = dt.timedelta(minutes=15)
# A dispatched sender is not handed out again for this long, unless its pass ends sooner.
DISPATCH_LEASE = dt.timedelta(minutes=3)
# How many senders one look of the dispatcher hands out, at most.
DISPATCH_BATCH = 500
# A pass submits and polls for at most this long, then hands its sender back (the rest is due
# at once, and comes in the next pass): well within django-q2's task timeout (120 s), so a
# sender with a slow OutX is never killed mid-call, and other senders get their turn.
PASS_SECONDS = 50


def run_tick(
    *,
    now: dt.datetime | None = None,
    clock: Clock | None = None,
    client: outx.OutxClient | None = None,
    max_submissions: int | None = None,
    max_polls: int = 500,
) -> TickSummary:
    """Every working sender's pass in turn, in this process. `clock` tells the time whenever a
    step needs it (each "next time" counts from when OutX answered); `now` fixes it, for tests
    and the benchmark's simulated clock. `client`, for tests, talks to OutX for every sender."""
    clock = clock or ((lambda: now) if now is not None else timezone.now)
    summary = TickSummary()
    for sender in Sender.objects.working().order_by("pk"):
        summary.add(
            work_sender(sender, clock=clock, client=client, max_submissions=max_submissions, max_polls=max_polls)
        )
    return summary


def work_sender(
    sender: Sender,
    *,
    clock: Clock | None = None,
    client: outx.OutxClient | None = None,
    max_submissions: int | None = None,
    max_polls: int = 500,
) -> TickSummary:
    """One pass for one sender, unless another process holds its turn; then store when the
    sender next has work."""
    clock = clock or timezone.now
    summary = TickSummary()
    budget = None
    tag = lifecycle.claim_tag()
    if not sender.take_turn(tag, clock()):
        return summary
    try:
        own_client = client is None
        try:
            client = client or outx.client_for(sender)
        except Exception as error:  # its key cannot be read: this sender waits, the others go on
            logger.exception("Sender %s has no usable OutX client", sender.pk)
            summary.problems.append(f"{sender.name}: {error}")
            return summary
        try:
            budget = sender_pass(sender, client, clock, summary, max_submissions=max_submissions, max_polls=max_polls)
        finally:
            if own_client:
                client.close()
    finally:
        next_due = None
        with step(summary, "working out when the sender next has work"):
            next_due = next_due_at(Sender.objects.get(pk=sender.pk), clock(), budget=budget)
        sender.end_turn(tag, next_due)
    return summary


def sender_pass(
    sender: Sender, client: outx.OutxClient, clock: Clock, summary: TickSummary, *, max_submissions: int | None,
    max_polls: int,
) -> Budget | None:
    """One sender's pass, in the README's order. Returns the pass's one reading of the sender's
    budget (counted on by its submissions), if it took one."""
    budget = None
    deadline = time.monotonic() + PASS_SECONDS
    # 1. Claims whose worker died mid-call become uncertain (look-ups are asked again).
    for kind in KINDS:
        with step(summary, "recovering abandoned claims"):
            lifecycle.recover_abandoned(kind, sender, clock(), summary)
    sender = Sender.objects.get(pk=sender.pk)
    if sender.state in (Sender.State.INVALID_KEY, Sender.State.NO_ADMIN):
        # OutX refused this sender's team: no call can succeed until an admin fixes it and resumes.
        summary.waiting = sender.state_cause
        return budget
    # 2. A pause whose time has come ends.
    with step(summary, "resuming the sender"):
        sender = resume_account_if_due(sender, client, clock())
    if sender.state in CALLS_STOPPED:
        summary.waiting = sender.state_cause  # every call would be refused
        return budget
    # 3. Searches first: a person is at the search's page, waiting for its results.
    with step(summary, "searches"):
        lifecycle.poll_due(SEARCHES, sender, client, clock, summary, MAX_SEARCH_POLLS, deadline)
        lifecycle.submit_due(SEARCHES, sender, client, clock, summary, limit=1, deadline=deadline)
    # Prospects known only by URL get their URN.
    with step(summary, "profile look-ups"):
        lifecycle.poll_due(LOOKUPS, sender, client, clock, summary, MAX_LOOKUP_POLLS, deadline)
        lifecycle.submit_due(LOOKUPS, sender, client, clock, summary, limit=1, deadline=deadline)
    # 4. Follow-ups first (they answer an acceptance and share the spacing), then invitations.
    with step(summary, "follow-ups"):
        queue_due_followups(sender, clock())
    followups_went_well = False
    with step(summary, "submitting follow-ups"):
        followups_went_well = lifecycle.submit_due(FOLLOW_UPS, sender, client, clock, summary, deadline=deadline)
    if followups_went_well:
        with step(summary, "submitting invitations"):
            # Read after the other kinds' submissions, which count against the hourly budget too.
            budget = INVITATIONS.reading(sender, clock())
            lifecycle.submit_due(
                INVITATIONS, sender, client, clock, summary, limit=max_submissions, deadline=deadline, budget=budget
            )
    # 5. Poll what is due.
    with step(summary, "polling invitations"):
        lifecycle.poll_due(INVITATIONS, sender, client, clock, summary, max_polls, deadline)
    with step(summary, "polling follow-ups"):
        lifecycle.poll_due(FOLLOW_UPS, sender, client, clock, summary, MAX_FOLLOWUP_POLLS, deadline)
    # 6. Read the newest connections when due: acceptances, then the safety brake.
    with step(summary, "reading the newest connections"):
        track_acceptances(sender, client, clock, summary)
    return budget


@contextmanager
def step(summary: TickSummary, name: str):
    """One step of the pass: whatever fails in it is logged and shown, and the pass goes on
    with the next step. (Each item within a step is kept apart the same way, in lifecycle.)"""
    try:
        yield
    except Exception as error:
        logger.exception("The worker's pass failed while %s", name)
        summary.problems.append(f"Failed while {name}: {type(error).__name__}")


# --- When a sender next has work --------------------------------------------------------------


def next_due_at(sender: Sender, now: dt.datetime, *, budget: Budget | None = None) -> dt.datetime | None:
    """The next moment this sender's pass would do something, or None when it has no work at
    all (nothing queued, pending or to check): then only a launch, an import or a person's
    action wakes it (`SenderQuerySet.wake`). `budget`: the pass's reading, if it took one."""
    if sender.is_retired or sender.state in (Sender.State.INVALID_KEY, Sender.State.NO_ADMIN):
        return None  # until a person fixes it and resumes it
    moments: list[dt.datetime | None] = []
    pending = TaskState.PENDING
    for kind in KINDS:
        items = kind.of_sender(sender)
        moments.append(items.filter(state=pending).aggregate(at=Min("next_poll_at"))["at"])
        claimed = items.filter(state=TaskState.SUBMITTING).aggregate(at=Min("claimed_at"))["at"]
        if claimed is not None:
            moments.append(claimed + claim_timeout())  # recovered once abandoned
    if sender.state in CALLS_STOPPED:
        moments.append(sender.resume_at)  # calls wait for the pause to end
        return earliest(moments, now)
    if sender.connections_task_id:
        # A read of the newest connections is under way: its next status call is what is due
        # (the check's own time stays in the past until the read ends).
        moments.append(sender.connections_next_poll_at)
    elif ConnectionRequest.objects.filter(sender=sender, state=ConnectionRequest.State.SENT).exists():
        moments.append(sender.next_acceptance_check_at or now)
    if INVITATIONS.may_have_work(sender):
        moments.append(submission_decision(sender, now, budget=budget).moment_or(now))
    if FollowUp.objects.filter(request__sender=sender, state=TaskState.QUEUED, request__campaign__state=Campaign.State.ACTIVE).exists():
        moments.append(action_decision(sender, now).moment_or(now))
    if queued_followups_due(sender):
        moments.append(now)
    if Prospect.objects.waiting_for_urn(sender).exists():
        moments.append(lookup_decision(sender, now).moment_or(now))
    if ProfileSearch.objects.filter(sender=sender, state=TaskState.QUEUED).exists():
        moments.append(search_decision(sender, now).moment_or(now))
    return earliest(moments, now)


def queued_followups_due(sender: Sender) -> bool:
    """Accepted invitations whose follow-up is still to be written (queue_due_followups)."""
    return (
        ConnectionRequest.objects.filter(
            sender=sender, state=ConnectionRequest.State.ACCEPTED, followup__isnull=True, campaign__state=Campaign.State.ACTIVE,
            response="",  # a person marked a reply: no follow-up will be written
        )
        .exclude(campaign__followup_template="")
        .exists()
    )


def earliest(moments: list[dt.datetime | None], now: dt.datetime) -> dt.datetime | None:
    known = [moment for moment in moments if moment is not None]
    if not known:
        return None
    return min(min(known), now + LONGEST_NAP)


# --- The dispatcher ---------------------------------------------------------------------------


def dispatch(now: dt.datetime, enqueue) -> list[int]:
    """Hand out every sender whose work is due: `enqueue(sender_id)` for each, after moving its
    next-due time past a lease so the next look does not hand it out again while it waits in
    the queue. One indexed query when nobody is due, whatever the number of senders."""
    with transaction.atomic():
        due = list(
            Sender.objects.due_for_work(now)
            .select_for_update(skip_locked=True)
            .order_by("next_due_at")
            .values_list("pk", flat=True)[:DISPATCH_BATCH]
        )
        if due:
            Sender.objects.filter(pk__in=due).update(next_due_at=now + DISPATCH_LEASE)
    for sender_id in due:
        enqueue(sender_id)
    return due


def enqueue_sender(sender_id: int) -> None:
    from django_q.tasks import async_task

    async_task("campaigns.tasks.work_sender", sender_id, group="sender", q_options={"task_name": f"sender-{sender_id}"})


def dispatch_loop(seconds: float, *, interval: float = 1.0, enqueue=enqueue_sender) -> int:
    """Dispatch about every `interval` seconds for about `seconds`; returns how many passes it
    handed out. The schedule starts it every minute, so a sender whose work comes due (a
    launch wakes its senders at once) waits about a second, not a minute."""
    deadline = time.monotonic() + seconds
    handed_out = 0
    while not stop_requested():
        try:
            handed_out += len(dispatch(timezone.now(), enqueue))
        except Exception:
            logger.exception("The dispatcher's look failed; it looks again shortly")
        if time.monotonic() + interval >= deadline:
            break
        time.sleep(interval)
    return handed_out


def run_worker_loop(seconds: float, *, max_idle_sleep: float = 5.0) -> TickSummary:
    """Every sender's passes in this one process, again and again for about `seconds`, sleeping
    until some sender's work is due (`manage.py outreach_tick --loop`)."""
    deadline = time.monotonic() + seconds
    total = TickSummary()
    while not stop_requested():
        total.add(run_tick())
        wake_at = time.monotonic() + min(max_idle_sleep, seconds_until_due())
        if wake_at >= deadline:
            break
        while time.monotonic() < wake_at and not stop_requested():
            time.sleep(0.25)
    return total


def stop_requested() -> bool:
    """Whether whoever started this worker asked it to end its loop early.

    django-q2 lets a running task finish before its cluster stops, and gives the task no
    signal; `manage.py serve` creates this file so that Ctrl-C does not wait out the loop.
    """
    path = os.environ.get("OUTREACH_WORKER_STOP_FILE")
    return bool(path) and os.path.exists(path)


def seconds_until_due(now: dt.datetime | None = None) -> float:
    """How long until some sender's work is due (0 if some is now; 60 when none is known)."""
    now = now or timezone.now()
    first = Sender.objects.working().aggregate(at=Min("next_due_at"))["at"]
    if first is None:
        return 60.0
    return max(0.0, (first - now).total_seconds())

