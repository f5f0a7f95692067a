"""The worker's work: submit due invitations under the account's pacing, poll OutX tasks,
look up profiles known only by URL, and turn every OutX answer into a state with a cause.

One pass is `run_tick()`; the django-q2 schedule (campaigns.tasks) and
`manage.py outreach_tick` both call it. Everything here is safe to run in several processes
at once: submissions are serialised by a lock on the sending account's row (the budget is
per account anyway), polls are claimed row by row, and a request is marked `submitting` and
committed before its POST, so a crash leaves a trace that becomes `uncertain`, never a
second invitation.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import outx, pacing
from .acceptance import track_acceptances
from .followups import poll_due_followups, queue_due_followups, recover_abandoned_followups, submit_due_followups
from .linkedin import profile_slug
from .models import Campaign, ConnectionRequest, FollowUp, Prospect, SendingAccount
from .notes import check_note
from .sending import (
    ACCOUNT_ERRORS,
    CALLS_STOPPED,
    claim_tag,
    claim_timeout,
    pause_account_for,
    record_post,
    submission_decision,
)

logger = logging.getLogger(__name__)

State = ConnectionRequest.State
AccountState = SendingAccount.State

# An id no task has: asking for it costs nothing and tells whether OutX answers normally.
PROBE_TASK_ID = "00000000-0000-0000-0000-000000000000"


COUNTS = ("submitted", "skipped", "failed", "uncertain", "polls", "sent", "not_sent", "lookups", "accepted", "followups")


@dataclass
class TickSummary:
    submitted: int = 0
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0
    polls: int = 0
    sent: int = 0
    not_sent: int = 0
    lookups: int = 0
    accepted: int = 0
    followups: int = 0  # follow-up messages submitted
    waiting: str = ""  # why nothing more was submitted
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [
            f"submitted {self.submitted}",
            f"polled {self.polls}",
            f"sent {self.sent}",
            f"not sent {self.not_sent}",
            f"skipped {self.skipped}",
            f"failed {self.failed}",
            f"uncertain {self.uncertain}",
            f"profile look-ups {self.lookups}",
            f"accepted {self.accepted}",
            f"follow-ups {self.followups}",
        ]
        line = "Outreach tick: " + ", ".join(parts) + "."
        if self.waiting:
            line += f" Waiting: {self.waiting}"
        if self.problems:
            line += " Problems: " + "; ".join(self.problems)
        return line


def run_tick(
    *,
    now: dt.datetime | None = None,
    client: outx.OutxClient | None = None,
    max_submissions: int | None = None,
    max_polls: int = 500,
) -> TickSummary:
    """One pass: recover crashed submissions, resume the account if due, look up profiles,
    queue due follow-ups, submit what pacing allows (follow-ups, then invitations), poll what
    is due, and read the newest connections when that is due (acceptances, the brake)."""
    now = now or timezone.now()
    summary = TickSummary()
    account = SendingAccount.get()
    if account.state in (AccountState.INVALID_KEY, AccountState.NO_ADMIN):
        # OutX refused us as a team: no call can succeed until an admin fixes it and resumes.
        summary.waiting = account.state_cause
        recover_abandoned_submissions(now, summary)
        return summary

    own_client = client is None
    client = client or outx.get_client()
    try:
        recover_abandoned_submissions(now, summary)
        account = recheck_account(client, account, now)
        if account.state == AccountState.EXTENSION_OFFLINE:
            summary.waiting = account.state_cause  # every call would answer 403
            return summary
        poll_profile_lookups(client, now, summary)
        start_profile_lookup(client, now, summary)
        queue_due_followups(now)
        # Follow-ups first: they answer an acceptance, and share the spacing with invitations.
        if submit_due_followups(client, now, summary):
            submit_due_requests(client, now, summary, max_submissions)
        poll_due_requests(client, now, summary, max_polls)
        poll_due_followups(client, now, summary)
        track_acceptances(client, now, summary)
    finally:
        if own_client:
            client.close()
    return summary


def run_worker_loop(seconds: float, *, max_idle_sleep: float = 5.0) -> TickSummary:
    """Tick repeatedly for about `seconds`, sleeping until something may be due.

    The django-q2 schedule fires once a minute; looping inside lets invitations go out at
    their jittered times and tasks be polled within seconds, not minutes.
    """
    deadline = time.monotonic() + seconds
    total = TickSummary()
    with outx.get_client() as client:
        while not stop_requested():
            summary = run_tick(client=client)
            for name in COUNTS:
                setattr(total, name, getattr(total, name) + getattr(summary, name))
            total.waiting, total.problems = summary.waiting, total.problems + summary.problems
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
        ConnectionRequest.objects.filter(state=State.PENDING).order_by("next_poll_at")
        .values_list("next_poll_at", flat=True).first(),
        FollowUp.objects.filter(state=FollowUp.State.PENDING).order_by("next_poll_at")
        .values_list("next_poll_at", flat=True).first(),
        account.connections_next_poll_at,
    ]
    waiting_to_submit = (
        ConnectionRequest.objects.filter(state=State.QUEUED, campaign__state=Campaign.State.ACTIVE).exists()
        or FollowUp.objects.filter(state=FollowUp.State.QUEUED).exists()
    )
    if waiting_to_submit:
        moments.append(account.next_submission_at or now)
    moments = [moment for moment in moments if moment is not None]
    if not moments:
        return 60.0
    return max(0.0, (min(moments) - now).total_seconds())


# --- The account ----------------------------------------------------------------------------


def recheck_account(client: outx.OutxClient, account: SendingAccount, now: dt.datetime) -> SendingAccount:
    """Resume a pause whose time has come: 429 after the window frees, 403 once OutX answers."""
    if account.resume_at is None or account.resume_at > now:
        return account
    if account.state == AccountState.LIMIT_REACHED:
        account.set_state(AccountState.ACTIVE, "The 7-day window has freed invitation budget; sending resumes.")
    elif account.state == AccountState.EXTENSION_OFFLINE:
        try:
            client.get_task_status(PROBE_TASK_ID)
        except outx.OutxTaskNotFound:
            pass  # the normal answer for an unknown task: OutX is reachable again
        except (outx.OutxUnauthorized, outx.OutxNoAdmin, outx.OutxExtensionOffline) as error:
            if isinstance(error, outx.OutxExtensionOffline):
                account.resume_at = now + dt.timedelta(seconds=account.offline_recheck_seconds)
                account.save(update_fields=["resume_at", "updated_at"])
            else:
                pause_account_for(error, now)
            return SendingAccount.get()
        except outx.OutxError as error:
            logger.warning("Checking whether the OutX extension is back failed: %s", error)
            return account
        account.set_state(AccountState.ACTIVE, "The OutX extension is online again; sending resumes.")
    return SendingAccount.get()


# --- Submitting -----------------------------------------------------------------------------


def submittable_requests():
    """Queued requests of active campaigns whose prospect has a URN and whose note is sendable."""
    return ConnectionRequest.objects.filter(
        state=State.QUEUED,
        campaign__state=Campaign.State.ACTIVE,
        prospect__profile_urn__isnull=False,
        note_problem="",
    )


def next_fair_request() -> ConnectionRequest | None:
    """The oldest queued request of the campaign that submitted least recently."""
    campaign_id = (
        submittable_requests()
        .order_by(F("campaign__last_submission_at").asc(nulls_first=True), "campaign_id")
        .values_list("campaign_id", flat=True)
        .first()
    )
    if campaign_id is None:
        return None
    return (
        submittable_requests()
        .filter(campaign_id=campaign_id)
        .select_related("prospect", "campaign")
        .order_by("created_at", "id")
        .first()
    )


def already_invited_elsewhere(request: ConnectionRequest) -> ConnectionRequest | None:
    return (
        ConnectionRequest.objects.filter(prospect_id=request.prospect_id, state__in=ConnectionRequest.INVITED_STATES)
        .exclude(pk=request.pk)
        .select_related("campaign")
        .first()
    )


def claim_next_request(now: dt.datetime, summary: TickSummary) -> ConnectionRequest | None:
    """Pick the next request pacing allows, mark it `submitting` and commit, or return None.

    The sending account's row is locked for the decision, so on PostgreSQL two workers never
    decide at once (the second skips); on SQLite the IMMEDIATE transaction does the same.
    """
    with transaction.atomic():
        account = SendingAccount.objects.select_for_update(skip_locked=True).filter(pk=SendingAccount.get().pk).first()
        if account is None:
            return None  # another worker is submitting right now
        decision = submission_decision(account, now)
        if not decision.allowed:
            summary.waiting = decision.reason
            return None
        while (request := next_fair_request()) is not None:
            earlier = already_invited_elsewhere(request)
            if earlier is not None:
                request.move_to(
                    State.SKIPPED,
                    f"Already invited in campaign “{earlier.campaign.name}” ({earlier.get_state_display().lower()}).",
                )
                summary.skipped += 1
                continue
            if not check_note(request.note).within_limit:
                request.move_to(State.SKIPPED, check_note(request.note).error)
                summary.skipped += 1
                continue
            break
        if request is None:
            return None
        claimed = request.move_to(
            State.SUBMITTING,
            "Submitting to OutX.",
            submitted_at=now,
            claimed_by=claim_tag(),
            claimed_at=now,
            attempts=request.attempts + 1,
        )
        if not claimed:
            return None
        account.next_submission_at = now + pacing.spacing_after_submission(account)
        account.save(update_fields=["next_submission_at", "updated_at"])
        Campaign.objects.filter(pk=request.campaign_id).update(last_submission_at=now)
    return request


def submit_due_requests(client: outx.OutxClient, now: dt.datetime, summary: TickSummary, limit: int | None = None) -> None:
    while limit is None or summary.submitted < limit:
        request = claim_next_request(now, summary)
        if request is None:
            return
        post = lambda: client.send_connection_request(request.prospect.profile_urn, request.note)  # noqa: E731
        if not record_post(request, post, now, summary, what="Invitation"):
            return
        summary.submitted += request.state == State.PENDING


def recover_abandoned_submissions(now: dt.datetime, summary: TickSummary) -> None:
    """A request (or follow-up) left `submitting` longer than any call can take lost its
    worker mid-call."""
    summary.uncertain += recover_abandoned_followups(now)
    abandoned = ConnectionRequest.objects.filter(state=State.SUBMITTING, claimed_at__lt=now - claim_timeout())
    for request in abandoned:
        moved = request.move_to(
            State.UNCERTAIN,
            "The worker stopped while submitting this invitation; OutX may or may not have received it. "
            "It will not be sent again unless a person retries it.",
            claimed_by="", claimed_at=None,
        )
        summary.uncertain += int(moved)


# --- Polling --------------------------------------------------------------------------------


def claim_due_polls(now: dt.datetime, limit: int) -> list[ConnectionRequest]:
    """Take the due pending requests for this worker by moving their next poll past a lease."""
    with transaction.atomic():
        due = list(
            ConnectionRequest.objects.select_for_update(skip_locked=True)
            .filter(state=State.PENDING, next_poll_at__lte=now)
            .order_by("next_poll_at")[:limit]
        )
        ConnectionRequest.objects.filter(pk__in=[r.pk for r in due]).update(next_poll_at=now + claim_timeout())
    return due


def poll_due_requests(client: outx.OutxClient, now: dt.datetime, summary: TickSummary, limit: int) -> None:
    for request in claim_due_polls(now, limit):
        poll_request(client, request, now, summary)
        if SendingAccount.get().state in CALLS_STOPPED:
            # Every further call would be refused too; the claimed polls come due again later.
            return


def poll_request(client: outx.OutxClient, request: ConnectionRequest, now: dt.datetime, summary: TickSummary) -> None:
    summary.polls += 1
    poll_count = request.poll_count + 1
    next_poll_at = now + pacing.next_poll_delay(now - (request.submitted_at or now))
    try:
        status = client.get_task_status(request.outx_task_id)
    except outx.OutxTaskNotFound as error:
        request.move_to(
            State.UNCERTAIN,
            f"OutX no longer knows task {request.outx_task_id} ({error.message}); whether the invitation "
            "went out is unknown. A person should check LinkedIn.",
            last_error=error.message, poll_count=poll_count,
        )
        summary.uncertain += 1
        return
    except outx.OutxError as error:
        if isinstance(error, ACCOUNT_ERRORS):
            pause_account_for(error, now)
        ConnectionRequest.objects.filter(pk=request.pk, state=State.PENDING).update(
            poll_count=poll_count, next_poll_at=next_poll_at, last_error=f"Checking the task failed: {error.message}"
        )
        summary.problems.append(error.message)
        return

    if status.sent:
        request.move_to(
            State.SENT, "LinkedIn invitation sent (OutX task completed).",
            task_output=status.task_output, completed_at=now, poll_count=poll_count, next_poll_at=None, last_error="",
        )
        summary.sent += 1
    elif status.is_finished:
        request.move_to(
            State.NOT_SENT, f"OutX {status.status} the task without sending: {outx.describe_output(status.task_output)}",
            task_output=status.task_output, completed_at=now, poll_count=poll_count, next_poll_at=None,
        )
        summary.not_sent += 1
    else:
        ConnectionRequest.objects.filter(pk=request.pk, state=State.PENDING).update(
            poll_count=poll_count, next_poll_at=next_poll_at, last_error=""
        )


# --- Profile look-ups -----------------------------------------------------------------------


def prospects_needing_lookup():
    return Prospect.objects.filter(
        profile_urn__isnull=True,
        lookup_task_id="",
        lookup_error="",
        requests__state=State.QUEUED,
        requests__campaign__state=Campaign.State.ACTIVE,
    ).distinct()


def start_profile_lookup(client: outx.OutxClient, now: dt.datetime, summary: TickSummary) -> None:
    """Start one fetch-profile task, if one is wanted and the account's spacing allows."""
    account = SendingAccount.get()
    if not account.is_sending or pacing.next_working_moment(account, now) > now:
        return
    prospect = (
        prospects_needing_lookup()
        .filter(Q(lookup_started_at__isnull=True) | Q(lookup_started_at__lt=now - claim_timeout()))
        .order_by("id")
        .first()
    )
    if prospect is None:
        return
    # Take the look-up slot and the prospect with conditional updates: whoever updates wins.
    slot = SendingAccount.objects.filter(pk=account.pk).filter(
        Q(next_lookup_at__isnull=True) | Q(next_lookup_at__lte=now)
    ).update(next_lookup_at=now + pacing.spacing_after_submission(account))
    if not slot or not Prospect.objects.filter(pk=prospect.pk, lookup_task_id="", lookup_started_at=prospect.lookup_started_at).update(lookup_started_at=now):
        return
    try:
        created = client.fetch_profile(profile_slug(prospect.profile_url))
    except outx.OutxBadRequest as error:
        fail_lookup(prospect, error.message)
        return
    except outx.OutxError as error:
        # A fetch-profile sends no invitation, so trying again after the claim expires is safe.
        if isinstance(error, ACCOUNT_ERRORS) and not isinstance(error, outx.OutxRateLimited):
            pause_account_for(error, now)
        summary.problems.append(error.message)
        return
    Prospect.objects.filter(pk=prospect.pk).update(
        lookup_task_id=created.task_id, lookup_next_poll_at=pacing.first_poll_at(now)
    )
    summary.lookups += 1


def poll_profile_lookups(client: outx.OutxClient, now: dt.datetime, summary: TickSummary) -> None:
    due = Prospect.objects.filter(profile_urn__isnull=True, lookup_error="", lookup_next_poll_at__lte=now).exclude(lookup_task_id="")
    for prospect in due[:50]:
        claimed = Prospect.objects.filter(pk=prospect.pk, lookup_next_poll_at=prospect.lookup_next_poll_at).update(
            lookup_next_poll_at=now + claim_timeout()
        )
        if not claimed:
            continue
        summary.polls += 1
        try:
            status = client.get_task_status(prospect.lookup_task_id)
        except outx.OutxTaskNotFound as error:
            fail_lookup(prospect, f"OutX no longer knows the profile look-up ({error.message}).")
            continue
        except outx.OutxError as error:
            if isinstance(error, ACCOUNT_ERRORS):
                pause_account_for(error, now)
                return
            summary.problems.append(error.message)
            continue
        if not status.is_finished:
            age = now - (prospect.lookup_started_at or now)
            Prospect.objects.filter(pk=prospect.pk).update(lookup_next_poll_at=now + pacing.next_poll_delay(age))
        elif status.profile_urn:
            apply_looked_up_profile(prospect, status.profile_urn, status.task_output)
        else:
            fail_lookup(prospect, f"OutX could not read the profile: {outx.describe_output(status.task_output)}")


def fail_lookup(prospect: Prospect, reason: str) -> None:
    Prospect.objects.filter(pk=prospect.pk).update(lookup_error=reason[:500], lookup_next_poll_at=None)
    for request in prospect.requests.filter(state=State.QUEUED):
        request.move_to(State.SKIPPED, f"Could not look up the LinkedIn profile: {reason}")


def apply_looked_up_profile(prospect: Prospect, urn: str, output) -> None:
    """Give the prospect its URN; if another prospect already has it, they are one person."""
    profile = output.get("profile", output) if isinstance(output, dict) else {}
    first, _, last = str(profile.get("name") or "").partition(" ")
    details = {
        "first_name": prospect.first_name or first,
        "last_name": prospect.last_name or last,
        "headline": prospect.headline or str(profile.get("headline") or "")[:300],
        "location": prospect.location or str(profile.get("location") or "")[:200],
    }
    try:
        with transaction.atomic():
            Prospect.objects.filter(pk=prospect.pk).update(
                profile_urn=urn, lookup_next_poll_at=None, lookup_error="", **details
            )
    except IntegrityError:
        existing = Prospect.objects.get(profile_urn=urn)
        merge_into_existing(prospect, existing)
        prospect = existing
    # The name may be what the note was waiting for.
    for campaign in Campaign.objects.filter(requests__prospect=prospect, requests__state=State.QUEUED).distinct():
        campaign.freeze_queued_notes()


def merge_into_existing(duplicate: Prospect, existing: Prospect) -> None:
    """The URL-only prospect turned out to be a member we already know by URN."""
    with transaction.atomic():
        for request in duplicate.requests.all():
            if not existing.requests.filter(campaign_id=request.campaign_id).exists():
                ConnectionRequest.objects.filter(pk=request.pk).update(prospect=existing)
            elif request.state == State.QUEUED:
                request.move_to(State.SKIPPED, f"Same person as {existing}, who is already in this campaign.")
        if duplicate.requests.exists():
            # Kept for its skipped request's history; never looked up again.
            Prospect.objects.filter(pk=duplicate.pk).update(
                lookup_error=f"Same person as {existing} (known by URN).", lookup_next_poll_at=None
            )
            return
        url = duplicate.profile_url
        duplicate.delete()
        if existing.profile_url is None:
            Prospect.objects.filter(pk=existing.pk).update(profile_url=url)
