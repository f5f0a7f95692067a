"""The worker's pass: the README's steps, one call each, each step in its own module.

One pass is `run_tick()`; the django-q2 schedule (campaigns.tasks) and `manage.py
outreach_tick` both call it. Every kind of OutX action lives the one life written in
lifecycle.py, so everything here is safe to run in several processes at once: submissions are
decided and claimed under a lock on the sending account's row (the budget is per account), polls
are claimed row by row, and an item is committed as `submitting` before its POST, so a crash
leaves a trace that becomes `uncertain`, never a second invitation.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from contextlib import contextmanager

from django.utils import timezone

from . import lifecycle, outx
from .acceptance import track_acceptances
from .followups import FOLLOW_UPS, queue_due_followups
from .invitations import INVITATIONS
from .lifecycle import Clock, TickSummary
from .lookups import LOOKUPS
from .models import Campaign, ConnectionRequest, FollowUp, ProfileLookup, SendingAccount, TaskState
from .sending import CALLS_STOPPED, resume_account_if_due

logger = logging.getLogger(__name__)

KINDS = (INVITATIONS, FOLLOW_UPS, LOOKUPS)
# Status calls per kind in one pass, at most.
MAX_LOOKUP_POLLS = 50
MAX_FOLLOWUP_POLLS = 200


def run_tick(
    *,
    now: dt.datetime | None = None,
    clock: Clock | None = None,
    client: outx.OutxClient | None = None,
    max_submissions: int | None = None,
    max_polls: int = 500,
) -> TickSummary:
    """One pass, in the README's order. `clock` tells the time whenever a step needs it (each
    "next time" counts from when OutX answered); `now` fixes it, for tests and the benchmark's
    simulated clock."""
    clock = clock or ((lambda: now) if now is not None else timezone.now)
    summary = TickSummary()
    own_client = client is None
    client = client or outx.get_client()
    try:
        # 1. Claims whose worker died mid-call become uncertain (look-ups are asked again).
        for kind in KINDS:
            with step(summary, "recovering abandoned claims"):
                lifecycle.recover_abandoned(kind, clock(), summary)
        account = SendingAccount.get()
        if account.state in (SendingAccount.State.INVALID_KEY, SendingAccount.State.NO_ADMIN):
            # OutX refused us as a team: no call can succeed until an admin fixes it and resumes.
            summary.waiting = account.state_cause
            return summary
        # 2. A pause whose time has come ends.
        with step(summary, "resuming the account"):
            resume_account_if_due(client, clock())
        account = SendingAccount.get()
        if account.state in CALLS_STOPPED:
            summary.waiting = account.state_cause  # every call would be refused
            return summary
        # 3. Prospects known only by URL get their URN.
        with step(summary, "profile look-ups"):
            lifecycle.poll_due(LOOKUPS, client, clock, summary, MAX_LOOKUP_POLLS)
            lifecycle.submit_due(LOOKUPS, client, clock, summary, limit=1)
        # 4. Follow-ups first (they answer an acceptance and share the spacing), then invitations.
        with step(summary, "follow-ups"):
            queue_due_followups(clock())
        followups_went_well = False
        with step(summary, "submitting follow-ups"):
            followups_went_well = lifecycle.submit_due(FOLLOW_UPS, client, clock, summary)
        if followups_went_well:
            with step(summary, "submitting invitations"):
                lifecycle.submit_due(INVITATIONS, client, clock, summary, limit=max_submissions)
        # 5. Poll what is due.
        with step(summary, "polling invitations"):
            lifecycle.poll_due(INVITATIONS, client, clock, summary, max_polls)
        with step(summary, "polling follow-ups"):
            lifecycle.poll_due(FOLLOW_UPS, client, clock, summary, MAX_FOLLOWUP_POLLS)
        # 6. Read the newest connections when due: acceptances, then the safety brake.
        with step(summary, "reading the newest connections"):
            track_acceptances(client, clock, summary)
    finally:
        if own_client:
            client.close()
    return summary


@contextmanager
def step(summary: TickSummary, name: str):
    """One step of the pass: whatever fails in it is logged and shown, and the pass goes on
    with the next step. (Each item within a step is kept apart the same way, in lifecycle.)"""
    try:
        yield
    except Exception as error:
        logger.exception("The worker's pass failed while %s", name)
        summary.problems.append(f"Failed while {name}: {type(error).__name__}")


def run_worker_loop(seconds: float, *, max_idle_sleep: float = 5.0) -> TickSummary:
    """Tick repeatedly for about `seconds`, sleeping until something may be due.

    The django-q2 schedule fires once a minute; looping inside lets invitations go out at
    their jittered times and tasks be polled within seconds, not minutes.
    """
    deadline = time.monotonic() + seconds
    total = TickSummary()
    with outx.get_client() as client:
        while not stop_requested():
            total.add(run_tick(client=client))
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


def seconds_until_due() -> float:
    """How long until the next poll or submission may be due (0 if something is due now)."""
    now = timezone.now()
    account = SendingAccount.get()
    moments = [
        model.objects.filter(state=TaskState.PENDING).order_by("next_poll_at").values_list("next_poll_at", flat=True).first()
        for model in (ConnectionRequest, FollowUp, ProfileLookup)
    ]
    moments.append(account.connections_next_poll_at)
    waiting_to_submit = (
        ConnectionRequest.objects.filter(state=TaskState.QUEUED, campaign__state=Campaign.State.ACTIVE).exists()
        or FollowUp.objects.filter(state=TaskState.QUEUED).exists()
    )
    if waiting_to_submit:
        moments.append(account.next_submission_at or now)
    moments = [moment for moment in moments if moment is not None]
    if not moments:
        return 60.0
    return max(0.0, (min(moments) - now).total_seconds())
