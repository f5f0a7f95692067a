"""The sending account's shared rules, used by every kind of LinkedIn action the worker takes:
what counts against its budget, whether it may act now, what OutX's account-wide refusals
(401, 404 no admin, 403, 429) do to it, and when a pause ends."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import logging

from . import outx, pacing
from .models import ConnectionRequest, FollowUp, SendingAccount

ACCOUNT_ERRORS = (outx.OutxUnauthorized, outx.OutxNoAdmin, outx.OutxExtensionOffline, outx.OutxRateLimited)
# Account states in which OutX would refuse every call, not only invitations.
CALLS_STOPPED = (SendingAccount.State.INVALID_KEY, SendingAccount.State.NO_ADMIN, SendingAccount.State.EXTENSION_OFFLINE)
HOUR = dt.timedelta(hours=1)

logger = logging.getLogger(__name__)


def budget_used(account: SendingAccount, now: dt.datetime) -> tuple[int, int]:
    """Submissions since midnight in the team's time zone, and in the rolling last 7 days."""
    spending = ConnectionRequest.objects.spending_budget()
    today_start = pacing.local_day_start(now, zoneinfo.ZoneInfo(account.time_zone))
    return (
        spending.filter(submitted_at__gte=today_start).count(),
        spending.filter(submitted_at__gt=now - pacing.WEEK).count(),
    )


def actions_last_hour(now: dt.datetime) -> int:
    """Invitations and follow-up messages submitted in the last hour (OutX's ~50 an hour)."""
    invitations = ConnectionRequest.objects.spending_budget().filter(submitted_at__gt=now - HOUR).count()
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
            ConnectionRequest.objects.spending_budget()
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


def lookup_decision(account: SendingAccount, now: dt.datetime) -> pacing.Decision:
    """Whether a profile look-up may be submitted now: the account sends and is inside its
    working hours; look-ups are spaced on their own clock, so they never hold invitations up."""
    if not account.is_sending or pacing.next_working_moment(account, now) > now:
        return pacing.action_decision(account, now)
    if account.next_lookup_at and account.next_lookup_at > now:
        return pacing.Decision(False, "Spacing out profile look-ups.", account.next_lookup_at)
    return pacing.Decision(True)


def take_account_wide_answer(error: outx.OutxError, now: dt.datetime) -> bool:
    """The one rule for an answer that concerns the whole account, wherever it arrives (a POST,
    a status call, a check): 401 and 404 no admin stop every call, 403 pauses until the
    extension is back, 429 pauses until the weekly window frees budget. Returns whether
    `error` was such an answer."""
    if not isinstance(error, ACCOUNT_ERRORS):
        return False
    account = SendingAccount.get()
    if isinstance(error, outx.OutxUnauthorized):
        new_state, resume_at = SendingAccount.State.INVALID_KEY, None
        cause = (
            f"OutX rejected the API key ({error.message}). An admin must correct OUTX_API_KEY; "
            "no calls are made to OutX until then."
        )
    elif isinstance(error, outx.OutxNoAdmin):
        new_state, resume_at = SendingAccount.State.NO_ADMIN, None
        cause = (
            f"OutX found no admin in the team ({error.message}). An admin must fix the OutX team; "
            "no calls are made to OutX until then."
        )
    elif isinstance(error, outx.OutxExtensionOffline):
        new_state = SendingAccount.State.EXTENSION_OFFLINE
        resume_at = now + dt.timedelta(seconds=account.offline_recheck_seconds)
        cause = (
            "Waiting for the OutX extension to come online: no team member's extension has been "
            f"active in the last 48 hours. Checking again every {account.offline_recheck_seconds} seconds."
        )
    else:  # 429
        new_state, resume_at = SendingAccount.State.LIMIT_REACHED, weekly_window_frees_at(now)
        local = resume_at.astimezone(zoneinfo.ZoneInfo(account.time_zone))
        cause = f"Account paused: LinkedIn invitation limit reached, resumes around {local:%a %d %b %H:%M %Z}."
    if account.state != new_state:
        account.set_state(new_state, cause, resume_at=resume_at)
    return True


def weekly_window_frees_at(now: dt.datetime) -> dt.datetime:
    """When the oldest submission of the last 7 days leaves the window (LinkedIn's cap is weekly)."""
    oldest = (
        ConnectionRequest.objects.spending_budget()
        .filter(submitted_at__gt=now - pacing.WEEK)
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    return (oldest + pacing.WEEK) if oldest else now + dt.timedelta(days=1)


def resume_account_if_due(client: outx.OutxClient, now: dt.datetime) -> SendingAccount:
    """Resume a pause whose time has come: 429 after the window frees, 403 once OutX answers."""
    account = SendingAccount.get()
    if account.resume_at is None or account.resume_at > now:
        return account
    if account.state == SendingAccount.State.LIMIT_REACHED:
        account.set_state(SendingAccount.State.ACTIVE, "The 7-day window has freed invitation budget; sending resumes.")
    elif account.state == SendingAccount.State.EXTENSION_OFFLINE:
        try:
            client.check_connection()
        except outx.OutxExtensionOffline:
            account.resume_at = now + dt.timedelta(seconds=account.offline_recheck_seconds)
            account.save(update_fields=["resume_at", "updated_at"])
            return account
        except outx.OutxError as error:
            if not take_account_wide_answer(error, now):
                logger.warning("Checking whether the OutX extension is back failed: %s", error)
            return SendingAccount.get()
        account.set_state(SendingAccount.State.ACTIVE, "The OutX extension is online again; sending resumes.")
    return SendingAccount.get()
