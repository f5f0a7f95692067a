"""A sender's shared rules, used by every kind of LinkedIn action the worker takes: what counts
against its budget, whether it may act now, what OutX's account-wide refusals (401, 404 no
admin, 403, 429) do to it, and when a pause ends. Each sender is one LinkedIn account: its
budget, pace and state are its own, and one sender's trouble never touches another."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import operator
import zoneinfo
from dataclasses import dataclass

from django.db.models import Count, Q

from people.timezones import local_moment, sender_moment

from . import outx, pacing
from .durations import duration_text
from .models import ConnectionRequest, FollowUp, ProfileLookup, ProfileSearch, Sender, TaskState

ACCOUNT_ERRORS = (outx.OutxUnauthorized, outx.OutxNoAdmin, outx.OutxExtensionOffline, outx.OutxRateLimited)
# Account states in which OutX would refuse every call, not only invitations.
CALLS_STOPPED = (Sender.State.INVALID_KEY, Sender.State.NO_ADMIN, Sender.State.EXTENSION_OFFLINE)
HOUR = dt.timedelta(hours=1)

logger = logging.getLogger(__name__)


def budget_used(account: Sender, now: dt.datetime) -> tuple[int, int]:
    """The sender's submissions since midnight in its time zone, and in the rolling last 7 days."""
    spending = ConnectionRequest.objects.spending_budget().filter(sender=account)
    today_start = pacing.local_day_start(now, zoneinfo.ZoneInfo(account.time_zone))
    return (
        spending.filter(submitted_at__gte=today_start).count(),
        spending.filter(submitted_at__gt=now - pacing.WEEK).count(),
    )


@dataclass(frozen=True)
class TeamTotal:
    """The team's submissions against the sum of its senders' caps."""

    senders: int  # working senders
    sent_today: int
    sent_this_week: int
    daily_limit: int
    weekly_limit: int


def team_budget_used(senders: list[Sender], now: dt.datetime) -> TeamTotal:
    """The working senders' submissions in one query: today as each sender's cap counts it
    (from midnight in its own time zone), and over the rolling last 7 days."""
    if not senders:
        return TeamTotal(0, 0, 0, 0, 0)
    today = functools.reduce(operator.or_, (
        Q(sender_id=sender.pk, submitted_at__gte=pacing.local_day_start(now, zoneinfo.ZoneInfo(sender.time_zone)))
        for sender in senders
    ))
    values = (
        ConnectionRequest.objects.spending_budget()
        .filter(sender_id__in=[sender.pk for sender in senders])
        .aggregate(
            today=Count("id", filter=today),
            week=Count("id", filter=Q(submitted_at__gt=now - pacing.WEEK)),
        )
    )
    return TeamTotal(
        len(senders), values["today"], values["week"],
        sum(sender.daily_limit for sender in senders), sum(sender.weekly_limit for sender in senders),
    )


def actions_last_hour(account: Sender, now: dt.datetime) -> int:
    """The sender's LinkedIn actions submitted in the last hour (OutX's ~50 an hour): its
    invitations, follow-up messages, profile look-ups and searches. Every call under
    /linkedin-agent/* is an action on the account; one OutX refused (400) was none."""
    since = now - HOUR
    invitations = ConnectionRequest.objects.spending_budget().filter(sender=account, submitted_at__gt=since).count()
    messages = (
        FollowUp.objects.filter(request__sender=account, submitted_at__gt=since)
        .exclude(state=FollowUp.State.FAILED)
        .count()
    )
    reads = sum(
        model.objects.filter(sender=account, submitted_at__gt=since).exclude(state=TaskState.FAILED).count()
        for model in (ProfileLookup, ProfileSearch)
    )
    return invitations + messages + reads


def submission_decision(
    account: Sender, now: dt.datetime, used: tuple[int, int] | None = None
) -> pacing.Decision:
    """Whether an invitation may be submitted now, and if not, why (for a person to read).

    `used`: budget_used(account, now), when the caller has it already."""
    sent_today, sent_this_week = used or budget_used(account, now)
    week_frees_at = None
    if sent_this_week >= account.weekly_limit > 0:
        oldest_counted = (
            ConnectionRequest.objects.spending_budget()
            .filter(sender=account, submitted_at__gt=now - pacing.WEEK)
            .order_by("submitted_at")
            .values_list("submitted_at", flat=True)[sent_this_week - account.weekly_limit]
        )
        week_frees_at = oldest_counted + pacing.WEEK
    return pacing.submission_decision(
        account, now, sent_today=sent_today, sent_this_week=sent_this_week,
        week_frees_at=week_frees_at, actions_last_hour=actions_last_hour(account, now),
    )


def waiting_reason(account: Sender, decision: pacing.Decision) -> str:
    """Why the sender's next invitation waits, in a campaign's rows or on its Home card; ""
    when it may go now. A stopped sender's whole cause is said once per screen, by the banner
    every page shows (context_processors.stopped_senders): here only its state, briefly."""
    if decision.allowed:
        return ""
    if not account.is_sending:
        return f"{account.name} is stopped: {account.get_state_display()} (see the notice at the top)"
    return decision.reason


def action_decision(account: Sender, now: dt.datetime) -> pacing.Decision:
    """Whether a follow-up message may be submitted now: no invitation caps, the rest alike."""
    return pacing.action_decision(account, now, actions_last_hour=actions_last_hour(account, now))


def lookup_decision(account: Sender, now: dt.datetime) -> pacing.Decision:
    """Whether a profile look-up may be submitted now: the account sends and is inside its
    working hours; look-ups are spaced on their own clock, so they never hold invitations up."""
    if not account.is_sending or pacing.next_working_moment(account, now) > now:
        return pacing.action_decision(account, now)
    if account.next_lookup_at and account.next_lookup_at > now:
        return pacing.Decision(False, "Spacing out profile look-ups.", account.next_lookup_at)
    return pacing.Decision(True)


def search_decision(account: Sender, now: dt.datetime) -> pacing.Decision:
    """Whether a profile search may be submitted now, and if not, why (the search's page shows it).

    A search counts against the hourly cap like every LinkedIn action, and waits while the
    account is paused. Working hours do not apply: they keep unattended sending looking like a
    person at work, but a search runs because a person at the page asked for it, right now,
    as they would search LinkedIn themselves. Searches are spaced on their own clock
    (`next_search_at`), so a search never holds an invitation up, nor waits for one; the gap
    between two searches is 20–40 s (searches.SEARCH_SPACING_SECONDS), so "Next page" never
    makes a burst."""
    if not account.is_sending:
        return pacing.action_decision(account, now)
    if actions_last_hour(account, now) >= account.hourly_action_limit:
        return pacing.Decision(
            False,
            f"{account.hourly_action_limit} LinkedIn actions in the last hour, as many as OutX advises; "
            "the search waits for room in the hourly budget.",
            now + dt.timedelta(minutes=5),
        )
    if account.next_search_at and account.next_search_at > now:
        return pacing.Decision(
            False, f"Spacing out searches; the next one may run {when(account.next_search_at, account)}.",
            account.next_search_at,
        )
    return pacing.Decision(True)


def when(moment: dt.datetime, account: Sender) -> str:
    """On the viewer's clock (the sender's in the worker), with the zone's abbreviation."""
    return f"at {local_moment(moment, account.time_zone):%H:%M:%S %Z}"


def take_account_wide_answer(account: Sender, error: outx.OutxError, now: dt.datetime) -> bool:
    """The one rule for an answer that concerns the sender's whole account, wherever it arrives
    (a POST, a status call, a check): 401 and 404 no admin stop every call, 403 pauses until
    the extension is back, 429 pauses until the weekly window frees budget. Only this sender
    stops. Returns whether `error` was such an answer."""
    if not isinstance(error, ACCOUNT_ERRORS):
        return False
    account = Sender.objects.get(pk=account.pk)
    if isinstance(error, outx.OutxUnauthorized):
        new_state, resume_at = Sender.State.INVALID_KEY, None
        cause = (
            f"OutX rejected {account.name}'s API key ({error.message}). An admin must enter a "
            "correct key and resume it; no calls are made to OutX for it until then."
        )
    elif isinstance(error, outx.OutxNoAdmin):
        new_state, resume_at = Sender.State.NO_ADMIN, None
        cause = (
            f"OutX found no admin in {account.name}'s team ({error.message}). An admin must fix the "
            "OutX team and resume it; no calls are made to OutX for it until then."
        )
    elif isinstance(error, outx.OutxExtensionOffline):
        new_state = Sender.State.EXTENSION_OFFLINE
        resume_at = now + dt.timedelta(seconds=account.offline_recheck_seconds)
        cause = (
            f"Waiting for the OutX extension of {account.name} to come online: no team member's "
            f"extension has been active in the last 48 hours. Checking again every {duration_text(account.offline_recheck_seconds)}."
        )
    else:  # 429
        new_state, resume_at = Sender.State.LIMIT_REACHED, weekly_window_frees_at(account, now)
        # Kept as the sender's state cause, read by everyone: on the sender's clock, named.
        cause = (
            f"{account.name} paused: LinkedIn invitation limit reached, resumes around "
            f"{sender_moment(resume_at, account.time_zone)}."
        )
    if account.state != new_state:
        account.set_state(new_state, cause, resume_at=resume_at)
    return True


def weekly_window_frees_at(account: Sender, now: dt.datetime) -> dt.datetime:
    """When the sender's oldest submission of the last 7 days leaves the window (LinkedIn's cap is weekly)."""
    oldest = (
        ConnectionRequest.objects.spending_budget()
        .filter(sender=account, submitted_at__gt=now - pacing.WEEK)
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    return (oldest + pacing.WEEK) if oldest else now + dt.timedelta(days=1)


def resume_account_if_due(account: Sender, client: outx.OutxClient, now: dt.datetime) -> Sender:
    """Resume a pause whose time has come: 429 after the window frees, 403 once OutX answers."""
    account = Sender.objects.get(pk=account.pk)
    if account.resume_at is None or account.resume_at > now:
        return account
    if account.state == Sender.State.LIMIT_REACHED:
        account.set_state(Sender.State.ACTIVE, "The 7-day window has freed invitation budget; sending resumes.")
    elif account.state == Sender.State.EXTENSION_OFFLINE:
        try:
            client.check_connection()
        except outx.OutxExtensionOffline:
            account.resume_at = now + dt.timedelta(seconds=account.offline_recheck_seconds)
            account.save(update_fields=["resume_at", "updated_at"])
            return account
        except outx.OutxError as error:
            if not take_account_wide_answer(account, error, now):
                logger.warning("Checking whether the OutX extension of sender %s is back failed: %s", account.pk, error)
            return Sender.objects.get(pk=account.pk)
        account.set_state(Sender.State.ACTIVE, "The OutX extension is online again; sending resumes.")
    return Sender.objects.get(pk=account.pk)
