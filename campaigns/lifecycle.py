"""The life of every OutX action the worker takes, written once.

An invitation, a follow-up message and a profile look-up are each a kind of tracked OutX task
(`OutxTask`). Whatever the kind, the worker:

1. claims the next queued item of one sender under a lock on the sender's row, if the kind's
   pacing allows, and commits it as `submitting` before the POST (`claim_next`), so that a crash
   leaves a trace;
2. makes the POST and gives OutX's answer its effect (`submit`): a task → `pending`; a 400 →
   `failed`; an account-wide refusal → back in the queue and the account paused; no answer →
   `uncertain` (never sent again by itself), or back in the queue when the POST certainly never
   reached OutX or the kind may safely be sent twice;
3. polls what is due, no more often than every 5 s per task (`poll_due`), and gives a finished
   task its outcome;
4. turns claims whose worker died mid-call `uncertain` (`recover_abandoned`).

A `Kind` says only what differs: which items are next, which pacing applies, which OutX call to
make and what a completed output means. Everything here works on one sender at a time: its
items, its budget, its key; an account-wide refusal stops that sender only.

Time is taken when it happens: every stored "next time" counts from the moment OutX answered,
read from the pass's clock after the call, never from the start of the pass.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import json
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery
from django.utils import timezone
from django.utils.text import capfirst

from . import outx, pacing
from .models import OutxTask, Sender, TaskState, claim_timeout
from .sending import STOPPING_ERRORS, Budget, take_account_wide_answer

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

COUNTS = (
    "submitted", "skipped", "failed", "uncertain", "polls", "sent", "not_sent", "lookups", "accepted", "followups", "searches",
)


@dataclass
class TickSummary:
    """What one pass did, and why it did no more."""

    submitted: int = 0  # invitations OutX created a task for
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0
    polls: int = 0
    sent: int = 0
    not_sent: int = 0
    lookups: int = 0  # profile look-ups OutX created a task for
    accepted: int = 0
    followups: int = 0  # follow-up messages OutX created a task for
    searches: int = 0  # profile searches OutX created a task for
    waiting: str = ""  # why nothing more was submitted
    problems: list[str] = field(default_factory=list)

    def add(self, other: TickSummary) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.waiting, self.problems = other.waiting, self.problems + other.problems

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
            f"searches {self.searches}",
        ]
        line = "Outreach tick: " + ", ".join(parts) + "."
        if self.waiting:
            line += f" Waiting: {self.waiting}"
        if self.problems:
            line += " Problems: " + "; ".join(self.problems)
        return line


def claim_tag() -> str:
    """Who claimed a submission (host, process, a random part): for a person reading the row."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Kind:
    """What differs between kinds of OutX action. Subclasses set the attributes and override
    the methods that raise NotImplementedError; the rest are defaults most kinds keep."""

    model: type[OutxTask]
    # How an item of this kind names the sender it goes out from.
    sender_path = "sender"
    label: str  # names the item in the causes of OutX's answers: "Invitation", "Follow-up"
    created_count: str  # the TickSummary field counting the tasks OutX created
    # Which of the account's clocks spaces this kind's POSTs out.
    spacing_field = "next_submission_at"
    # Whether an item OutX may or may not have received may simply be sent again (and a task
    # OutX lost be given up, without asking a person): only when the action changes nothing on
    # LinkedIn (reading a profile), never for an invitation or a message.
    resend_when_unsure = False
    # Whether the pass's summary reports this kind: why it waits ("Waiting: daily limit of 20
    # reached") and how many of its tasks ended sent or not sent. The invitations' are the
    # figures a person asks about.
    reports_to_summary = False
    abandoned_cause = "the worker stopped while submitting it; OutX may or may not have received it."
    lost_cause = "OutX no longer knows its task ({message})."
    sent_cause = "sent (OutX task completed)."

    def says(self, text: str) -> str:
        """A cause in this kind's words: "Follow-up: …", or plain for an invitation."""
        return capfirst(f"{self.model.cause_prefix}{text}")

    def decision(self, account: Sender, now: dt.datetime, budget: Budget | None = None) -> pacing.Decision:
        """May the sender submit one of these now? `budget`: the pass's reading, if the kind takes one."""
        raise NotImplementedError

    def reading(self, sender: Sender, now: dt.datetime) -> Budget | None:
        """One reading of the sender's budget for a pass's submissions of this kind, counted on
        by each claim; None when the kind's decision reads what it needs each time."""
        return None

    def pick(
        self, sender: Sender, now: dt.datetime, summary: TickSummary, budget: Budget | None
    ) -> tuple[Sender | None, OutxTask | None]:
        """Inside the claim's transaction: the sender's row, locked, and its next item pacing
        allows (None when there is none); (None, None) when another worker holds the sender."""
        account = lock_sender(sender)
        if account is None or not allowed(self, account, now, summary, budget):
            return account, None
        return account, self.next_queued(account, now, summary)

    def claim_condition(self, item: OutxTask, account: Sender) -> Q | None:
        """What must still hold when the item is claimed, checked in the claim's own statement."""
        return None

    def refused_claim(self, item: OutxTask, account: Sender, summary: TickSummary) -> bool:
        """The claim changed nothing: if `claim_condition` stopped it, take the item out of the
        queue with the reason and return True; False when another worker moved it."""
        return False

    def spacing(self, account: Sender) -> dt.timedelta:
        """The random gap drawn before this kind's next POST from the sender."""
        return pacing.spacing_after_submission(account)

    def may_have_work(self, sender: Sender) -> bool:
        """A cheap look, before the sender's lock and the pacing counts: False when nothing
        of this kind can be waiting (most passes have no follow-up or look-up to send)."""
        return True

    def next_queued(self, sender: Sender, now: dt.datetime, summary: TickSummary) -> OutxTask | None:
        """The sender's next item to submit, under the sender's lock; skip (with the reason)
        any that must not be sent."""
        raise NotImplementedError

    def refuse_duplicate(self, item: OutxTask, summary: TickSummary) -> None:
        """The database refused to claim `item`: another worker is sending the same action
        right now (the one-invitation-per-person rule). Take it out of the queue, saying why."""
        raise NotImplementedError

    def of_sender(self, sender: Sender):
        """This kind's items that go out from `sender`."""
        return self.model.objects.filter(**{self.sender_path: sender})

    def post(self, client: outx.OutxClient, item: OutxTask) -> outx.TaskCreated:
        raise NotImplementedError

    def after_claim(self, item: OutxTask, now: dt.datetime, budget: Budget | None = None) -> None:
        """What else a claim changes (campaigns taking turns), inside the claim's transaction."""

    def finish(self, item: OutxTask, status: outx.TaskStatus, fields: dict, summary: TickSummary) -> None:
        """A finished task's outcome: `sent` when OutX reports it done, else `not_sent` with its
        output. `fields`: the poll's bookkeeping to store with the move."""
        if status.sent:
            item.move_to(TaskState.SENT, self.says(self.sent_cause), task_output=status.stored_output, **fields)
        else:
            item.move_to(
                TaskState.NOT_SENT,
                self.says(f"OutX {status.status} the task without sending: {outx.describe_output(status.task_output)}"),
                task_output=status.stored_output, **fields,
            )
        if self.reports_to_summary:
            summary.sent += status.sent
            summary.not_sent += not status.sent

    def after_failure(self, item: OutxTask, reason: str) -> None:
        """What an item's failing (a 400, a lost or unreadable task) does beyond its own row."""


# --- 1. Claim -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    item: OutxTask
    sender: Sender
    spacing: dt.timedelta  # the random gap drawn for this POST: counted again from OutX's answer
    # An older task of the sender has waited long enough to say its browser is closed: the new
    # task is parked, and asked about when a finished task wakes it (pacing.first_poll_at).
    behind_stalled: bool = False


def allowed(kind: Kind, account: Sender, now: dt.datetime, summary: TickSummary, budget: Budget | None) -> bool:
    """Whether the kind's pacing lets `account` submit now; if not, the summary says why."""
    decision = kind.decision(account, now, budget)
    if not decision.allowed and kind.reports_to_summary:
        summary.waiting = decision.reason
    return decision.allowed


def lock_sender(sender: Sender) -> Sender | None:
    """The sender's row, locked until the transaction ends; None if another worker holds it
    (it is deciding a submission right now). On SQLite the IMMEDIATE transaction already
    serialises writers."""
    return Sender.objects.select_for_update(skip_locked=True).filter(pk=sender.pk).first()


def claim_next(kind: Kind, sender: Sender, clock: Clock, summary: TickSummary, budget: Budget | None = None) -> Claim | None:
    """Take the sender's next item pacing allows: mark it `submitting` and commit, or return None.
    `budget`: the pass's reading (Kind.reading), counted on here."""
    if budget is None and not kind.may_have_work(sender):
        return None
    with transaction.atomic():
        now = clock()
        account, item = kind.pick(sender, now, summary, budget)
        while item is not None:
            try:
                # move_to's own atomic block is the savepoint a refused claim rolls back to.
                claimed = item.move_to(
                    TaskState.SUBMITTING, kind.says("submitting to OutX."), only_if=kind.claim_condition(item, account),
                    submitted_at=now, claimed_by=claim_tag(), claimed_at=now, attempts=item.attempts + 1,
                )
            except IntegrityError:
                kind.refuse_duplicate(item, summary)
            else:
                if claimed:
                    break
                if not kind.refused_claim(item, account, summary):
                    return None  # another worker moved it
            item = kind.next_queued(account, now, summary)
        if item is None:
            return None
        spacing = kind.spacing(account)
        setattr(account, kind.spacing_field, now + spacing)
        Sender.objects.filter(pk=account.pk).update(**{kind.spacing_field: now + spacing, "updated_at": timezone.now()})
        kind.after_claim(item, now, budget)
    behind_stalled = False
    if budget is not None:
        behind_stalled = pacing.is_stalled(budget.oldest_pending_since, now, finished_lately=budget.finished_lately)
        budget.spend()
    return Claim(item, account, spacing, behind_stalled)


# --- 2. Submit ----------------------------------------------------------------------------------


def submit_due(
    kind: Kind, sender: Sender, client: outx.OutxClient, clock: Clock, summary: TickSummary, limit: int | None = None,
    deadline: float | None = None, budget: Budget | None = None,
) -> bool:
    """Submit what the sender's pacing allows, one claim at a time, until `deadline` (a
    time.monotonic() moment) if given. Returns False if OutX was in trouble (the pass then
    submits nothing more for this sender). `budget`: the pass's reading, else the kind's own
    is taken once here."""
    budget = budget or kind.reading(sender, clock())
    if budget is not None and not budget.has_work:
        return True
    account = sender
    submitted = 0
    while (limit is None or submitted < limit) and not past(deadline):
        if budget is not None and not allowed(kind, account, clock(), summary, budget):
            # What the pass knows already says no: no lock taken. (The claim decides again, locked.)
            return True
        claim = claim_next(kind, sender, clock, summary, budget)
        if claim is None:
            return True
        account = claim.sender
        with one_item(kind, claim.item, summary):
            if submit(kind, claim, client, clock, summary):
                submitted += claim.item.state == TaskState.PENDING
                continue
        return False
    return True


def submit(kind: Kind, claim: Claim, client: outx.OutxClient, clock: Clock, summary: TickSummary) -> bool:
    """Make the POST for one claimed `submitting` item and give OutX's answer its effect — the
    one place that decides what may be sent again. Returns whether OutX answered normally (a
    task, or a 400 refusal)."""
    item = claim.item
    try:
        created = kind.post(client, item)
    except outx.OutxUnreadableAnswer as error:
        # OutX may have created a task we cannot see: a person decides, never a resend.
        space_from(kind, claim, clock())
        summary.problems.append(error.message)
        quarantine(kind, item, unreadable(error), error.body, summary)
        return False
    except outx.OutxError as error:
        answered_at = clock()
        space_from(kind, claim, answered_at)
        return record_refusal(kind, claim.sender, item, error, answered_at, summary)
    answered_at = clock()
    failed = None
    # The spacing counted from the answer and the task commit together: one commit, not two.
    with transaction.atomic():
        space_from(kind, claim, answered_at)
        try:
            # Its own atomic block: should the move fail, only the move is undone.
            moved = item.move_to(
                TaskState.PENDING, f"{kind.label}: OutX created the task; waiting for the extension to perform it.",
                outx_task_id=created.task_id, next_poll_at=pacing.first_poll_at(answered_at, behind_stalled=claim.behind_stalled),
                last_error="", claimed_by="", claimed_at=None,
            )
        except Exception as error:
            failed = error
    if failed is not None:
        raise failed
    if moved:
        setattr(summary, kind.created_count, getattr(summary, kind.created_count) + 1)
    else:
        # The claim expired while the call ran and the item was marked uncertain. OutX did
        # receive it: keep the task id where the person deciding will see it.
        logger.error("%s %s was no longer submitting when OutX answered task %s", kind.label, item.pk, created.task_id)
        type(item).objects.filter(pk=item.pk, outx_task_id=None).update(
            outx_task_id=created.task_id, last_error=f"OutX did receive it late (task {created.task_id})."
        )
    return True


def record_refusal(
    kind: Kind, sender: Sender, item: OutxTask, error: outx.OutxError, answered_at: dt.datetime, summary: TickSummary
) -> bool:
    """A POST that created no task we know of: a 400 fails the item; an account-wide answer, or
    a call that never reached OutX, puts it back in the queue; otherwise OutX may or may not
    have it, and only a person may send it again (unless the kind may safely be sent twice)."""
    label, release = kind.label, {"claimed_by": "", "claimed_at": None}
    if isinstance(error, outx.OutxBadRequest):
        item.move_to(TaskState.FAILED, f"{label}: OutX refused it: {error.message}", last_error=error.message, **release)
        summary.failed += 1
        kind.after_failure(item, error.message)
        return True
    summary.problems.append(error.message)
    if take_account_wide_answer(sender, error, answered_at):
        cause = f"{label}: not submitted, OutX answered {error.status_code} ({error.message}); it waits in the queue."
    elif not error.may_have_reached_outx:
        cause = f"{label}: could not reach OutX ({error.message}); nothing was sent, it waits in the queue."
    elif kind.resend_when_unsure:
        cause = f"{label}: OutX may not have received it ({error.message}); it will be asked again."
    else:
        item.move_to(
            TaskState.UNCERTAIN,
            f"{label}: OutX may or may not have received it ({error.message}). "
            "It will not be sent again unless a person retries it.",
            last_error=error.message, **release,
        )
        summary.uncertain += 1
        return False
    item.move_to(TaskState.QUEUED, cause, last_error=error.message, submitted_at=None, **release)
    return False


def space_from(kind: Kind, claim: Claim, answered_at: dt.datetime) -> None:
    """Count the gap before the next POST from OutX's answer, not from the claim: a slow answer
    must not shorten it. Never moves the next moment earlier."""
    name, next_at = kind.spacing_field, answered_at + claim.spacing
    Sender.objects.filter(pk=claim.sender.pk, **{f"{name}__lt": next_at}).update(**{name: next_at})
    if getattr(claim.sender, name) is None or getattr(claim.sender, name) < next_at:
        setattr(claim.sender, name, next_at)  # what the pass knows, for its next decision


def past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


# --- 3. Poll ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusAnswer:
    """One status call's result: the task's status, or why there is none, and when OutX answered."""

    answered_at: dt.datetime
    status: outx.TaskStatus | None = None
    lost: outx.OutxTaskNotFound | None = None  # OutX no longer knows the task
    unreadable: outx.OutxUnreadableAnswer | None = None  # OutX answered what we cannot read
    error: outx.OutxError | None = None  # the call failed; ask again later
    stops_calls: bool = False  # the answer stopped every call of the sender (CALLS_STOPPED)

    @property
    def finished(self) -> bool:
        return self.status is not None and self.status.is_finished


def ask_status(client: outx.OutxClient, sender: Sender, task_id: str, clock: Clock, summary: TickSummary) -> StatusAnswer:
    """Ask OutX how one of the sender's tasks stands, with the one rule for what a failed status
    call means: an account-wide refusal pauses the sender; anything else is asked again later."""
    summary.polls += 1
    try:
        status = client.get_task_status(task_id)
    except outx.OutxTaskNotFound as error:
        return StatusAnswer(clock(), lost=error)
    except outx.OutxUnreadableAnswer as error:
        summary.problems.append(error.message)
        return StatusAnswer(clock(), unreadable=error)
    except outx.OutxError as error:
        answered_at = clock()
        stops_calls = take_account_wide_answer(sender, error, answered_at) and isinstance(error, STOPPING_ERRORS)
        summary.problems.append(error.message)
        return StatusAnswer(answered_at, error=error, stops_calls=stops_calls)
    return StatusAnswer(clock(), status=status)


def claim_due_polls(kind: Kind, sender: Sender, now: dt.datetime, limit: int) -> list[OutxTask]:
    """Take the sender's due pending items for this worker by moving their next poll past a
    lease; each knows the id of the sender's oldest pending item (`oldest_pending_id`)."""
    if not kind.of_sender(sender).due_for_poll(now).exists():
        return []  # nothing due: no write lock taken (SQLite's transactions here are IMMEDIATE)
    oldest = kind.of_sender(sender).filter(state=TaskState.PENDING).order_by("submitted_at", "pk").values("pk")[:1]
    with transaction.atomic():
        due = list(
            # Lock the items only, not the rows a kind joins to name its sender (a follow-up's request).
            kind.of_sender(sender).select_for_update(skip_locked=True, of=("self",))
            .due_for_poll(now).annotate(oldest_pending_id=Subquery(oldest)).order_by("next_poll_at")[:limit]
        )
        kind.model.objects.filter(pk__in=[item.pk for item in due]).update(next_poll_at=now + claim_timeout())
    return due


def poll_due(
    kind: Kind, sender: Sender, client: outx.OutxClient, clock: Clock, summary: TickSummary, limit: int,
    deadline: float | None = None,
) -> None:
    """Ask about the sender's due tasks of this kind; if any has finished, wake its parked ones."""
    newest_finished, finished = None, 0
    for item in claim_due_polls(kind, sender, clock(), limit):
        if past(deadline):
            break  # the pass has had its time; the claimed polls come due again once their lease ends
        answer = None
        with one_item(kind, item, summary):
            answer = poll(kind, sender, item, client, clock, summary)
        if answer is not None and answer.finished and item.submitted_at is not None:
            newest_finished = max(newest_finished or item.submitted_at, item.submitted_at)
            finished += 1
        if answer is not None and answer.stops_calls:
            break  # every further call would be refused too; the claimed polls come due again later
    if newest_finished is not None:
        wake_parked(kind, sender, newest_finished, finished, clock())


def wake_parked(kind: Kind, sender: Sender, newest_finished: dt.datetime, finished: int, now: dt.datetime) -> None:
    """The extension is at work: ask soon about the sender's pending tasks submitted before
    the newest one that finished (it performs them oldest first) and the next few after it,
    more when more finished (pacing.tasks_to_wake). Never sooner than 5 s from now, so never
    within 5 s of their last call."""
    wake_at = now + pacing.WAKE_AFTER
    pending = kind.of_sender(sender).filter(state=TaskState.PENDING)
    next_few = pending.order_by("submitted_at", "pk").values("pk")[: pacing.tasks_to_wake(finished)]
    pending.filter(Q(submitted_at__lte=newest_finished) | Q(pk__in=Subquery(next_few)), next_poll_at__gt=wake_at).update(
        next_poll_at=wake_at
    )


def poll(
    kind: Kind, sender: Sender, item: OutxTask, client: outx.OutxClient, clock: Clock, summary: TickSummary
) -> StatusAnswer:
    """One status call for `item` and its effect; returns OutX's answer."""
    answer = ask_status(client, sender, item.outx_task_id, clock, summary)
    poll_count = item.poll_count + 1
    if answer.lost is not None:
        lose(kind, item, answer.lost, poll_count, summary)
    elif answer.unreadable is not None:
        quarantine(kind, item, unreadable(answer.unreadable), answer.unreadable.body, summary, poll_count=poll_count)
    elif answer.status is not None and answer.status.is_finished:
        fields = {"completed_at": answer.answered_at, "poll_count": poll_count, "next_poll_at": None, "last_error": ""}
        try:
            kind.finish(item, answer.status, fields, summary)
        except Exception as error:
            # What the output means could not be worked out: this one item waits for a person.
            logger.exception("%s %s: the output of OutX task %s could not be used", kind.label, item.pk, item.outx_task_id)
            summary.problems.append(f"{kind.label} {item.pk}: OutX's output could not be used ({type(error).__name__})")
            reason = f"OutX's output could not be used ({type(error).__name__}: {error})"
            quarantine(kind, item, outx.clean_text(reason, 300), answer.status.stored_output, summary, poll_count=poll_count)
    else:
        # Still pending, or the call failed: ask again, counting from OutX's answer.
        last_error = f"Checking the task failed: {answer.error.message}" if answer.error else ""
        age = answer.answered_at - (item.submitted_at or answer.answered_at)
        oldest = getattr(item, "oldest_pending_id", item.pk) in (item.pk, None)
        type(item).objects.filter(pk=item.pk, state=TaskState.PENDING).update(
            poll_count=poll_count, next_poll_at=answer.answered_at + pacing.task_poll_delay(age, oldest=oldest),
            last_error=last_error,
        )
    return answer


def lose(kind: Kind, item: OutxTask, error: outx.OutxTaskNotFound, poll_count: int, summary: TickSummary) -> None:
    """OutX no longer knows the task: whether it was performed is unknown, so a person decides
    — unless the kind may simply be asked again."""
    if kind.resend_when_unsure:
        reason = kind.lost_cause.format(message=error.message, task_id=item.outx_task_id)
        item.move_to(TaskState.NOT_SENT, kind.says(reason), last_error=error.message, poll_count=poll_count, next_poll_at=None)
        kind.after_failure(item, reason)
        return
    item.move_to(
        TaskState.UNCERTAIN, kind.says(kind.lost_cause.format(message=error.message, task_id=item.outx_task_id)),
        last_error=error.message, poll_count=poll_count,
    )
    summary.uncertain += 1


def quarantine(kind: Kind, item: OutxTask, reason: str, raw: Any, summary: TickSummary, **fields) -> None:
    """Stop this one item where a person sees it, with `reason` and the raw answer in its
    history; the pass goes on with everything else. An invitation or a message becomes
    `uncertain` (whether it went out is unknown); a kind that may be asked again fails."""
    raw_text = outx.clean_text(json.dumps(raw, ensure_ascii=False, default=str), 600) if raw is not None else ""
    if raw_text:
        reason = f"{reason}. Its answer: {raw_text}"
    if kind.resend_when_unsure:
        target = TaskState.NOT_SENT if item.state == TaskState.PENDING else TaskState.FAILED
        if item.move_to(target, kind.says(reason), last_error=reason, next_poll_at=None, claimed_by="", claimed_at=None, **fields):
            kind.after_failure(item, reason)
        return
    if TaskState.UNCERTAIN not in item.TRANSITIONS[item.state]:
        logger.error("%s %s could not be quarantined from %s: %s", kind.label, item.pk, item.state, reason)
        return
    summary.uncertain += item.move_to(
        TaskState.UNCERTAIN, kind.says(f"{reason}. Whether it went out is unknown: a person should check LinkedIn."),
        last_error=reason, task_output={"unreadable_answer": raw_text}, claimed_by="", claimed_at=None, **fields,
    )


def unreadable(error: outx.OutxError) -> str:
    return f"OutX answered something we could not read ({error.message})"


@contextmanager
def one_item(kind: Kind, item: OutxTask, summary: TickSummary):
    """Whatever goes wrong with one item stops that item, never the pass: it is logged and
    shown, and the item is quarantined if it can be."""
    try:
        yield
    except Exception as error:
        logger.exception("%s %s failed in the worker", kind.label, item.pk)
        summary.problems.append(f"{kind.label} {item.pk}: {type(error).__name__}")
        try:
            item.refresh_from_db(fields=["state"])
            if item.state in (TaskState.PENDING, TaskState.SUBMITTING):
                reason = f"The worker failed on it ({type(error).__name__}: {error})"
                quarantine(kind, item, outx.clean_text(reason, 300), None, summary)
        except Exception:
            logger.exception("%s %s could not be quarantined", kind.label, item.pk)


# --- 4. Recover ---------------------------------------------------------------------------------


def recover_abandoned(kind: Kind, sender: Sender, now: dt.datetime, summary: TickSummary) -> None:
    """An item of the sender left `submitting` longer than any call can take lost its worker mid-call."""
    for item in kind.of_sender(sender).abandoned(now):
        if kind.resend_when_unsure:
            item.move_to(TaskState.QUEUED, kind.says(kind.abandoned_cause), claimed_by="", claimed_at=None, submitted_at=None)
            continue
        summary.uncertain += item.move_to(
            TaskState.UNCERTAIN, kind.says(kind.abandoned_cause), claimed_by="", claimed_at=None
        )
