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

from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from people.timezones import local_moment, sender_moment

from . import outx, pacing
from .durations import duration_text
from .models import Campaign, ConnectionRequest, FollowUp, ProfileLookup, ProfileSearch, Sender, TaskState

ACCOUNT_ERRORS = (outx.OutxUnauthorized, outx.OutxNoAdmin, outx.OutxExtensionOffline, outx.OutxRateLimited)
# Account states in which OutX would refuse every call, not only invitations.
CALLS_STOPPED = (Sender.State.INVALID_KEY, Sender.State.NO_ADMIN, Sender.State.EXTENSION_OFFLINE)
# The answers that put a sender in one of those states (take_account_wide_answer).
STOPPING_ERRORS = (outx.OutxUnauthorized, outx.OutxNoAdmin, outx.OutxExtensionOffline)
HOUR = dt.timedelta(hours=1)

logger = logging.getLogger(__name__)


def budget_used(account: Sender, now: dt.datetime) -> tuple[int, int]:
    """The sender's submissions since midnight in its time zone, and in the rolling last 7 days."""
    return budgets_used([account], now)[account.pk]


@dataclass(frozen=True)
class TeamTotal:
    """The team's submissions against the sum of its senders' caps."""

    senders: int  # working senders
    sent_today: int
    sent_this_week: int
    daily_limit: int
    weekly_limit: int


def actions_last_hour(account: Sender, now: dt.datetime) -> int:
    """The sender's LinkedIn actions submitted in the last hour (OutX's ~50 an hour): its
    invitations, follow-up messages, profile look-ups and searches (`actions_since`)."""
    counts = Sender.objects.filter(pk=account.pk).annotate(**actions_since(now - HOUR)).values_list(*ACTION_KINDS)
    return sum(counts.get())


# The kinds of LinkedIn action a sender's hourly cap counts, as actions_since names their counts.
ACTION_KINDS = ("n_invitations", "n_messages", "n_lookups", "n_searches")


def actions_since(since: dt.datetime) -> dict[str, Coalesce]:
    """The one rule for what counts against a sender's hourly cap, as annotations of a Sender
    query (one count per kind of ACTION_KINDS; their sum is the figure): its actions submitted
    after `since`. Every call under /linkedin-agent/* is an action on the account; one OutX
    refused (400) was none. Each count reads an index range: the hour's submissions."""
    sender = OuterRef("pk")
    invitations = ConnectionRequest.objects.spending_budget().filter(sender=sender, submitted_at__gt=since)
    lookups, searches = (
        model.objects.filter(sender=sender, submitted_at__gt=since).exclude(state=TaskState.FAILED)
        for model in (ProfileLookup, ProfileSearch)
    )
    return {
        "n_invitations": count_of(invitations),
        # The follow-up's request is read one level further in: its sender is this row's.
        "n_messages": count_of(messages_since(OuterRef(sender), since)),
        "n_lookups": count_of(lookups),
        "n_searches": count_of(searches),
    }


@dataclass
class Budget:
    """One reading of what a sender has spent, taken once per pass with one query and counted
    on by the pass's own submissions. Time only frees budget, so a reading a few seconds old
    never lets more through; but another pass may spend too, should this pass's turn lapse
    (Sender.take_turn): each claim checks, on the sender's row it locks, that the turn read
    with the budget still holds (`holds`), and reads the budget again if not."""

    sent_today: int
    sent_this_week: int
    actions_last_hour: int
    has_work: bool  # whether any invitation of the sender is submittable
    oldest_pending_since: dt.datetime | None  # when its oldest invitation OutX said is pending was submitted
    latest_turn: dt.datetime | None = None  # the latest turn any campaign took (Invitations.after_claim)
    finished_lately: bool = False  # whether one of its invitations was seen finished within pacing.STALLED_AFTER
    turn: str = ""  # who held the sender's turn when it was read (Sender.worked_by)

    def holds(self, account: Sender, now: dt.datetime) -> bool:
        """Whether nobody else can have spent since the reading: the pass that read it still
        holds the sender's turn (`account`: its row, read under the claim's lock)."""
        return bool(self.turn) and account.worked_by == self.turn and bool(account.worked_until and account.worked_until > now)

    def read_again(self, account: Sender, now: dt.datetime) -> None:
        vars(self).update(vars(read_budget(account, now)))

    @property
    def used(self) -> tuple[int, int]:
        return self.sent_today, self.sent_this_week

    def spend(self) -> None:
        """One more invitation submitted by this pass."""
        self.sent_today += 1
        self.sent_this_week += 1
        self.actions_last_hour += 1


def read_budget(account: Sender, now: dt.datetime) -> Budget:
    """The sender's Budget: the counts of budget_used and actions_last_hour, whether it has an
    invitation to submit, since when its oldest one waits with OutX and the campaigns' latest
    turn, in one query (each part read through an index)."""
    today_start = pacing.local_day_start(now, zoneinfo.ZoneInfo(account.time_zone))
    spending = ConnectionRequest.objects.spending_budget().filter(sender=account)
    # Only a task OutX has said is still pending tells that the browser is closed (one whose
    # status call has not been made, its worker killed say, tells nothing).
    oldest_pending = (
        ConnectionRequest.objects.filter(sender=account, state=ConnectionRequest.State.PENDING, poll_count__gt=0)
        .order_by("submitted_at").values("submitted_at")[:1]
    )
    latest_turn = (
        Campaign.objects.filter(last_submission_at__isnull=False).order_by("-last_submission_at").values("last_submission_at")[:1]
    )
    row = Sender.objects.filter(pk=account.pk).values().annotate(
        today=count_of(spending.filter(submitted_at__gte=today_start)),
        week=count_of(spending.filter(submitted_at__gt=now - pacing.WEEK)),
        **actions_since(now - HOUR),
        has_work=Exists(ConnectionRequest.objects.submittable().filter(sender=account)),
        oldest_pending_since=Subquery(oldest_pending),
        latest_turn=Subquery(latest_turn),
        # Read among the last day's submissions (its index), at most a daily cap of rows.
        finished_lately=Exists(
            ConnectionRequest.objects.filter(
                sender=account, submitted_at__gt=now - dt.timedelta(days=1), completed_at__gt=now - pacing.STALLED_AFTER
            )
        ),
    ).values(
        "today", "week", *ACTION_KINDS, "has_work", "oldest_pending_since", "latest_turn", "finished_lately", "worked_by",
    ).get()
    return Budget(
        row["today"], row["week"], sum(row[kind] for kind in ACTION_KINDS),
        bool(row["has_work"]), row["oldest_pending_since"], row["latest_turn"], bool(row["finished_lately"]),
        row["worked_by"],
    )


def count_of(queryset) -> Coalesce:
    """How many rows `queryset` holds, as a scalar subquery of another query."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def messages_since(account: Sender, since: dt.datetime):
    """The sender's follow-up messages submitted since `since` (a refused one was none): the
    last hour's, by their submission time, each request then read by its key, so the count
    never walks the sender's whole history."""
    requests = ConnectionRequest.objects.filter(pk=OuterRef("request_id"), sender=account)
    return FollowUp.objects.filter(Exists(requests), submitted_at__gt=since).exclude(state=FollowUp.State.FAILED)


def submission_decision(
    account: Sender, now: dt.datetime, used: tuple[int, int] | None = None, *, budget: Budget | None = None
) -> pacing.Decision:
    """Whether an invitation may be submitted now, and if not, why (for a person to read).

    `used`: budget_used(account, now), when the caller has it already; `budget`: the pass's
    reading (read_budget), which saves every count."""
    if budget is not None:
        used = budget.used
    used = used or budget_used(account, now)
    actions = budget.actions_last_hour if budget is not None else actions_last_hour(account, now)
    return submission_decisions([account], now, {account.pk: used}, {account.pk: actions})[account.pk]


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


# Many senders at once (Home's cards): the rules above (budget_used, actions_last_hour,
# submission_decision), read for every sender in a fixed number of queries whatever their
# number, each over index ranges: a week's submissions, an hour's actions.


def budgets_used(senders: list[Sender], now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Each sender's submissions since midnight in its own time zone, and in the rolling last 7
    days, {sender id: (today, week)}, in one query over the week's submissions of these senders
    (every sender's today lies inside the week)."""
    if not senders:
        return {}
    by_day_start: dict[dt.datetime, list[int]] = {}
    for sender in senders:
        by_day_start.setdefault(pacing.local_day_start(now, zoneinfo.ZoneInfo(sender.time_zone)), []).append(sender.pk)
    today = functools.reduce(operator.or_, (
        Q(sender_id__in=pks, submitted_at__gte=start) for start, pks in by_day_start.items()
    ))
    rows = (
        ConnectionRequest.objects.spending_budget()
        .filter(sender_id__in=[sender.pk for sender in senders], submitted_at__gt=now - pacing.WEEK)
        .values("sender_id")
        # sender_id, not id: with the state, it is all request_sender_submitted_idx holds.
        .annotate(today=Count("sender_id", filter=today), week=Count("sender_id"))
        .order_by()
    )
    used = {row["sender_id"]: (row["today"], row["week"]) for row in rows}
    return {sender.pk: used.get(sender.pk, (0, 0)) for sender in senders}


def actions_of_senders_with_work(senders: list[Sender], now: dt.datetime) -> dict[int, int]:
    """`actions_last_hour` of each of these senders that has an invitation to submit
    (Sender.has_work), {sender id: actions}; the others are absent. One query: per sender, an
    EXISTS and the last hour's ranges (`actions_since`)."""
    if not senders:
        return {}
    rows = (
        Sender.objects.filter(pk__in=[account.pk for account in senders])
        .with_submittable_work()
        .annotate(**actions_since(now - HOUR))
        .values_list("pk", "has_work", *ACTION_KINDS)
    )
    return {pk: sum(counts) for pk, has_work, *counts in rows if has_work}


def submission_decisions(
    senders: list[Sender], now: dt.datetime, used: dict[int, tuple[int, int]], actions: dict[int, int]
) -> dict[int, pacing.Decision]:
    """`submission_decision` of each sender, from its `budgets_used` and its actions in the
    last hour: one more query when any has reached its weekly cap, for when the window frees
    a place for each such sender."""
    at_cap = {
        sender.pk: used[sender.pk][1] - sender.weekly_limit
        for sender in senders if used[sender.pk][1] >= sender.weekly_limit > 0
    }
    week_frees_at: dict[int, dt.datetime] = {}
    if at_cap:
        # The week's submissions of those senders, oldest first: a weekly cap's rows each.
        counted: dict[int, list[dt.datetime]] = {}
        rows = (
            ConnectionRequest.objects.spending_budget()
            .filter(sender_id__in=list(at_cap), submitted_at__gt=now - pacing.WEEK)
            .order_by("sender_id", "submitted_at")
            .values_list("sender_id", "submitted_at")
        )
        for pk, submitted_at in rows:
            counted.setdefault(pk, []).append(submitted_at)
        for pk, place in at_cap.items():
            times = counted.get(pk, [])
            if place < len(times):  # else a row left the window meanwhile: pacing then guesses
                week_frees_at[pk] = times[place] + pacing.WEEK
    return {
        sender.pk: pacing.submission_decision(
            sender, now, sent_today=used[sender.pk][0], sent_this_week=used[sender.pk][1],
            week_frees_at=week_frees_at.get(sender.pk), actions_last_hour=actions[sender.pk],
        )
        for sender in senders
    }


def team_total(senders: list[Sender], used: dict[int, tuple[int, int]]) -> TeamTotal:
    """The working senders' total against their caps: today as each sender's cap counts it (from
    midnight in its own time zone), and over the rolling last 7 days, from their `budgets_used`
    (`used` holds every one): no query."""
    return TeamTotal(
        len(senders), sum(used[sender.pk][0] for sender in senders), sum(used[sender.pk][1] for sender in senders),
        sum(sender.daily_limit for sender in senders), sum(sender.weekly_limit for sender in senders),
    )
