"""The sending account's shared rules, used by every kind of LinkedIn action the worker takes:
what counts against its budget, whether it may act now, how long a claim lives, and what
OutX's account-wide refusals (401, 404 no admin, 403, 429) do to it."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
import zoneinfo
from collections.abc import Callable

from django.conf import settings

from . import outx, pacing
from .models import ConnectionRequest, FollowUp, SendingAccount

logger = logging.getLogger(__name__)

State = ConnectionRequest.State
AccountState = SendingAccount.State

ACCOUNT_ERRORS = (outx.OutxUnauthorized, outx.OutxNoAdmin, outx.OutxExtensionOffline, outx.OutxRateLimited)
# Account states in which OutX would refuse every call, not only invitations.
CALLS_STOPPED = (AccountState.INVALID_KEY, AccountState.NO_ADMIN, AccountState.EXTENSION_OFFLINE)
HOUR = dt.timedelta(hours=1)


def claim_tag() -> str:
    """Who claimed a submission (host, process, a random part): for a person reading the row."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_timeout() -> dt.timedelta:
    """After this long a claim is dead: the client's calls would have timed out by then.

    A `submitting` request claimed longer ago becomes `uncertain`; a claimed poll may be taken
    by another worker."""
    return dt.timedelta(seconds=settings.OUTX_CONNECT_TIMEOUT + 3 * settings.OUTX_READ_TIMEOUT + 5)


def budget_spending_requests():
    """Requests whose submission counts against the budget: every POST that reached OutX or
    may have. A 400 refusal created no invitation; a request put back in the queue never left."""
    return ConnectionRequest.objects.filter(submitted_at__isnull=False).exclude(state=State.FAILED)


def budget_used(account: SendingAccount, now: dt.datetime) -> tuple[int, int]:
    """Submissions since midnight in the team's time zone, and in the rolling last 7 days."""
    spending = budget_spending_requests()
    today_start = pacing.local_day_start(now, zoneinfo.ZoneInfo(account.time_zone))
    return (
        spending.filter(submitted_at__gte=today_start).count(),
        spending.filter(submitted_at__gt=now - pacing.WEEK).count(),
    )


def actions_last_hour(now: dt.datetime) -> int:
    """Invitations and follow-up messages submitted in the last hour (OutX's ~50 an hour)."""
    invitations = budget_spending_requests().filter(submitted_at__gt=now - HOUR).count()
    messages = FollowUp.objects.filter(submitted_at__gt=now - HOUR).exclude(state=FollowUp.State.FAILED).count()
    return invitations + messages


def submission_decision(
    account: SendingAccount, now: dt.datetime, used: tuple[int, int] | None = None
) -> pacing.Decision:
    """Whether an invitation may be submitted now, and if not, why (for a person to read).

    `used`: budget_used(account, now), when the caller has it already."""
    sent_today, sent_this_week = used or budget_used(account, now)
    week_frees_at = None
    if sent_this_week >= account.weekly_limit > 0:
        oldest_counted = (
            budget_spending_requests()
            .filter(submitted_at__gt=now - pacing.WEEK)
            .order_by("submitted_at")
            .values_list("submitted_at", flat=True)[sent_this_week - account.weekly_limit]
        )
        week_frees_at = oldest_counted + pacing.WEEK
    return pacing.submission_decision(
        account, now, sent_today=sent_today, sent_this_week=sent_this_week,
        week_frees_at=week_frees_at, actions_last_hour=actions_last_hour(now),
    )


def action_decision(account: SendingAccount, now: dt.datetime) -> pacing.Decision:
    """Whether a follow-up message may be submitted now: no invitation caps, the rest alike."""
    return pacing.action_decision(account, now, actions_last_hour=actions_last_hour(now))


def pause_account_for(error: outx.OutxError, now: dt.datetime) -> None:
    """Give an account-wide OutX refusal its effect: 401, 404 no admin, 403, 429."""
    account = SendingAccount.get()
    if isinstance(error, outx.OutxUnauthorized):
        new_state, resume_at = AccountState.INVALID_KEY, None
        cause = (
            f"OutX rejected the API key ({error.message}). An admin must correct OUTX_API_KEY; "
            "no calls are made to OutX until then."
        )
    elif isinstance(error, outx.OutxNoAdmin):
        new_state, resume_at = AccountState.NO_ADMIN, None
        cause = (
            f"OutX found no admin in the team ({error.message}). An admin must fix the OutX team; "
            "no calls are made to OutX until then."
        )
    elif isinstance(error, outx.OutxExtensionOffline):
        new_state = AccountState.EXTENSION_OFFLINE
        resume_at = now + dt.timedelta(seconds=account.offline_recheck_seconds)
        cause = (
            "Waiting for the OutX extension to come online: no team member's extension has been "
            f"active in the last 48 hours. Checking again every {account.offline_recheck_seconds} seconds."
        )
    elif isinstance(error, outx.OutxRateLimited):
        new_state, resume_at = AccountState.LIMIT_REACHED, weekly_window_frees_at(now)
        local = resume_at.astimezone(zoneinfo.ZoneInfo(account.time_zone))
        cause = f"Account paused: LinkedIn invitation limit reached, resumes around {local:%a %d %b %H:%M %Z}."
    else:
        raise ValueError(f"{type(error).__name__} does not pause the account")
    if account.state != new_state:
        account.set_state(new_state, cause, resume_at=resume_at)


def weekly_window_frees_at(now: dt.datetime) -> dt.datetime:
    """When the oldest submission of the last 7 days leaves the window (LinkedIn's cap is weekly)."""
    oldest = (
        budget_spending_requests()
        .filter(submitted_at__gt=now - pacing.WEEK)
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    return (oldest + pacing.WEEK) if oldest else now + dt.timedelta(days=1)


def record_post(item, post: Callable[[], outx.TaskCreated], now: dt.datetime, summary, *, what: str) -> bool:
    """Make the POST for one claimed `submitting` item (an invitation or a follow-up) and give
    OutX's answer its effect — the one place that decides what may be sent again.

    `what` names the item in the causes ("Invitation", "Follow-up"). Returns whether OutX
    answered normally (a task, or a 400 refusal); if not, the pass submits no more.
    """
    release = {"claimed_by": "", "claimed_at": None}
    try:
        created = post()
    except outx.OutxBadRequest as error:
        item.move_to("failed", f"{what}: OutX refused it: {error.message}", last_error=error.message, **release)
        summary.failed += 1
        return True
    except ACCOUNT_ERRORS as error:
        item.move_to(
            "queued", f"{what}: not submitted, OutX answered {error.status_code} ({error.message}); it waits in the queue.",
            last_error=error.message, submitted_at=None, **release,
        )
        pause_account_for(error, now)
        summary.problems.append(error.message)
        return False
    except outx.OutxError as error:
        if error.may_have_reached_outx:
            item.move_to(
                "uncertain",
                f"{what}: OutX may or may not have received it ({error.message}). "
                "It will not be sent again unless a person retries it.",
                last_error=error.message, **release,
            )
            summary.uncertain += 1
        else:
            item.move_to(
                "queued", f"{what}: could not reach OutX ({error.message}); nothing was sent, it waits in the queue.",
                last_error=error.message, submitted_at=None, **release,
            )
        summary.problems.append(error.message)
        return False
    moved = item.move_to(
        "pending", f"{what}: OutX created the task; waiting for the extension to perform it.",
        outx_task_id=created.task_id, next_poll_at=pacing.first_poll_at(now), last_error="", **release,
    )
    if not moved:
        # The claim expired while the call ran and the item was marked uncertain. OutX did
        # receive it: keep the task id where the person deciding will see it.
        logger.error("%s %s was no longer submitting when OutX answered task %s", what, item.pk, created.task_id)
        type(item).objects.filter(pk=item.pk, outx_task_id=None).update(
            outx_task_id=created.task_id, last_error=f"OutX did receive it late (task {created.task_id})."
        )
    return True
