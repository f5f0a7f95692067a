"""The follow-up message, sent once an invitation has been accepted — never twice.

A campaign with a follow-up template queues one FollowUp per accepted invitation, its
configured delay after the acceptance. Submitting shares the sending account's pacing with
invitations (working hours, spacing, OutX's ~50 actions an hour; not the invitation caps) and
the same discipline: claimed and committed as `submitting` before the POST, `uncertain` when
OutX may or may not have received it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from . import outx, pacing
from .models import MESSAGE_MAX_LENGTH, Campaign, ConnectionRequest, FollowUp, SendingAccount
from .notes import NoteTemplateError, render_note, utf16_length
from .sending import (
    ACCOUNT_ERRORS,
    CALLS_STOPPED,
    action_decision,
    claim_tag,
    claim_timeout,
    pause_account_for,
    record_post,
)

State = FollowUp.State


def queue_due_followups(now: dt.datetime) -> int:
    """Queue the follow-ups whose delay after acceptance has passed; returns how many."""
    accepted = (
        ConnectionRequest.objects.filter(
            state=ConnectionRequest.State.ACCEPTED, followup__isnull=True, campaign__state=Campaign.State.ACTIVE
        )
        .exclude(campaign__followup_template="")
        .select_related("campaign", "prospect")
    )
    queued = 0
    for request in accepted:
        campaign = request.campaign
        if request.accepted_at and request.accepted_at > now - dt.timedelta(minutes=campaign.followup_delay_minutes):
            continue
        try:
            message, problem = render_note(campaign.followup_template, request.prospect.note_values()), ""
        except NoteTemplateError as error:
            message, problem = "", str(error)
        if utf16_length(message) > MESSAGE_MAX_LENGTH:  # the names filled in can make it too long
            problem = f"with the names filled in it is longer than {MESSAGE_MAX_LENGTH:,} characters"
        try:
            with transaction.atomic():
                followup = FollowUp.objects.create(request=request, message=message)
        except IntegrityError:
            continue  # another worker queued it first: one follow-up per invitation
        if problem:
            followup.move_to(State.SKIPPED, f"Follow-up: not sent, the message cannot be written: {problem}")
        else:
            queued += 1
    return queued


def claim_next_followup(now: dt.datetime, summary) -> FollowUp | None:
    """Like invitations: under the account row's lock, if pacing allows, mark one submitting."""
    with transaction.atomic():
        account = SendingAccount.objects.select_for_update(skip_locked=True).filter(pk=SendingAccount.get().pk).first()
        if account is None:
            return None
        followup = (
            FollowUp.objects.filter(state=State.QUEUED, request__campaign__state=Campaign.State.ACTIVE)
            .select_related("request__prospect")
            .order_by("id")
            .first()
        )
        if followup is None or not action_decision(account, now).allowed:
            return None
        claimed = followup.move_to(
            State.SUBMITTING, "Follow-up: submitting to OutX.",
            submitted_at=now, claimed_by=claim_tag(), claimed_at=now, attempts=followup.attempts + 1,
        )
        if not claimed:
            return None
        account.next_submission_at = now + pacing.spacing_after_submission(account)
        account.save(update_fields=["next_submission_at", "updated_at"])
    return followup


def submit_due_followups(client: outx.OutxClient, now: dt.datetime, summary) -> bool:
    """Submit the follow-ups pacing allows; returns False if OutX was in trouble."""
    while (followup := claim_next_followup(now, summary)) is not None:
        post = lambda: client.send_message(followup.request.prospect.profile_urn, followup.message)  # noqa: E731
        if not record_post(followup, post, now, summary, what="Follow-up"):
            return False
        summary.followups += followup.state == State.PENDING
    return True


def recover_abandoned_followups(now: dt.datetime) -> int:
    abandoned = FollowUp.objects.filter(state=State.SUBMITTING, claimed_at__lt=now - claim_timeout())
    return sum(
        followup.move_to(
            State.UNCERTAIN,
            "Follow-up: the worker stopped while submitting it; OutX may or may not have received it.",
            claimed_by="", claimed_at=None,
        )
        for followup in abandoned
    )


def poll_due_followups(client: outx.OutxClient, now: dt.datetime, summary, limit: int = 200) -> None:
    with transaction.atomic():
        due = list(
            FollowUp.objects.select_for_update(skip_locked=True)
            .filter(state=State.PENDING, next_poll_at__lte=now)
            .order_by("next_poll_at")[:limit]
        )
        FollowUp.objects.filter(pk__in=[f.pk for f in due]).update(next_poll_at=now + claim_timeout())
    for followup in due:
        summary.polls += 1
        poll_count = followup.poll_count + 1
        try:
            status = client.get_task_status(followup.outx_task_id)
        except outx.OutxTaskNotFound as error:
            followup.move_to(
                State.UNCERTAIN, f"Follow-up: OutX no longer knows its task ({error.message}).",
                last_error=error.message, poll_count=poll_count,
            )
            continue
        except outx.OutxError as error:
            if isinstance(error, ACCOUNT_ERRORS):
                pause_account_for(error, now)
            FollowUp.objects.filter(pk=followup.pk, state=State.PENDING).update(
                poll_count=poll_count, last_error=f"Checking the task failed: {error.message}",
                next_poll_at=now + pacing.next_poll_delay(now - (followup.submitted_at or now)),
            )
            if SendingAccount.get().state in CALLS_STOPPED:
                return
            continue
        if status.sent:
            followup.move_to(
                State.SENT, "Follow-up: message sent (OutX task completed).",
                task_output=status.task_output, completed_at=now, poll_count=poll_count, next_poll_at=None,
            )
        elif status.is_finished:
            followup.move_to(
                State.NOT_SENT, f"Follow-up: OutX {status.status} the task without sending: "
                f"{outx.describe_output(status.task_output)}",
                task_output=status.task_output, completed_at=now, poll_count=poll_count, next_poll_at=None,
            )
        else:
            FollowUp.objects.filter(pk=followup.pk, state=State.PENDING).update(
                poll_count=poll_count, next_poll_at=now + pacing.next_poll_delay(now - (followup.submitted_at or now)),
            )
