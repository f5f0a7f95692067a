"""When the sending account may submit its next invitation, and when to poll a task again.

Pure functions of the account's settings, the submission history and a clock, so the rules
can be tested against any moment without waiting for it. Pacing is per account: every
campaign spends the one LinkedIn account's budget.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass

from people.timezones import sender_moment

WEEK = dt.timedelta(days=7)

# OutX asks for no more than one status call every 5 s per task.
MIN_POLL_INTERVAL = dt.timedelta(seconds=5)
# A task stays pending while the extension's browser is closed, maybe for days; polling it
# every few seconds for that long would waste calls, so the interval grows with its age.
MAX_POLL_INTERVAL = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Decision:
    """May we submit now? If not, why (in words for a person) and when to look again."""

    allowed: bool
    reason: str = ""
    retry_at: dt.datetime | None = None

    def moment_or(self, now: dt.datetime) -> dt.datetime | None:
        """When to try again: now if allowed; `retry_at`; None if only a person can change it."""
        return now if self.allowed else self.retry_at


def local_day_start(now: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def next_working_moment(account, now: dt.datetime) -> dt.datetime:
    """`now` if it is inside working hours, else when the next working window opens."""
    tz = zoneinfo.ZoneInfo(account.time_zone)
    local = now.astimezone(tz)
    for days_ahead in range(8):
        day = (local + dt.timedelta(days=days_ahead)).date()
        if day.weekday() not in account.working_days:
            continue
        opens = dt.datetime.combine(day, account.work_start, tzinfo=tz)
        closes = dt.datetime.combine(day, account.work_end, tzinfo=tz)
        if local < closes:
            return now if local >= opens else opens
    raise ValueError("The sending account has no working days.")


def action_decision(account, now: dt.datetime, *, actions_last_hour: int = 0) -> Decision:
    """Whether the account may take any LinkedIn action (an invitation or a follow-up) now:
    it is not paused, it is inside working hours, the hourly cap has room, and the random
    spacing since the last action has passed."""
    if not account.is_sending:
        return Decision(False, account.state_cause or account.get_state_display(), account.resume_at)

    opens = next_working_moment(account, now)
    if opens > now:
        return Decision(False, f"Outside working hours; sending resumes {_when(opens, account)}.", opens)

    if actions_last_hour >= account.hourly_action_limit:
        return Decision(
            False,
            f"{account.hourly_action_limit} LinkedIn actions in the last hour, as many as OutX advises; waiting.",
            now + dt.timedelta(minutes=5),
        )

    if account.next_submission_at and account.next_submission_at > now:
        return Decision(False, "Spacing out invitations so they never come in bursts.", account.next_submission_at)

    return Decision(True)


def submission_decision(
    account,
    now: dt.datetime,
    *,
    sent_today: int,
    sent_this_week: int,
    week_frees_at: dt.datetime | None = None,
    actions_last_hour: int = 0,
) -> Decision:
    """Whether the account may submit an invitation at `now`: `action_decision`, and the
    invitation caps.

    `sent_today`: submissions since midnight in the team's time zone; `sent_this_week`:
    submissions in the last 7 days (the rolling weekly cap); `week_frees_at`: when the
    window next frees a place, needed only once the weekly cap is reached.
    """
    if not account.is_sending or next_working_moment(account, now) > now:
        return action_decision(account, now)

    if sent_this_week >= account.weekly_limit:
        frees_at = week_frees_at or now + dt.timedelta(hours=1)
        return Decision(
            False,
            f"Weekly limit of {account.weekly_limit} reached; a place frees up {_when(frees_at, account)}.",
            frees_at,
        )

    if sent_today >= account.daily_limit:
        tomorrow = local_day_start(now, zoneinfo.ZoneInfo(account.time_zone)) + dt.timedelta(days=1)
        reopens = next_working_moment(account, tomorrow)
        return Decision(
            False, f"Daily limit of {account.daily_limit} reached; sending resumes {_when(reopens, account)}.", reopens
        )

    return action_decision(account, now, actions_last_hour=actions_last_hour)


def _when(moment: dt.datetime, account) -> str:
    """In the viewer's time zone, naming the sender's, whose clock its working hours follow."""
    return sender_moment(moment, account.time_zone)


def spacing_after_submission(account, rng: random.Random | None = None) -> dt.timedelta:
    """The random gap before the next submission, so invitations never come in bursts."""
    rng = rng or random
    return dt.timedelta(seconds=rng.uniform(account.min_spacing_seconds, account.max_spacing_seconds))


def next_poll_delay(task_age: dt.timedelta) -> dt.timedelta:
    """How long to wait before asking about a task again, given how long ago it was created.

    Waiting as long as the task has already waited (doubling) keeps the calls per task to
    about log2(age / 5 s) while the delay to notice completion stays under the task's age.
    """
    return min(MAX_POLL_INTERVAL, max(MIN_POLL_INTERVAL, task_age))


def first_poll_at(created_at: dt.datetime, *, behind_stalled: bool = False) -> dt.datetime:
    """When to ask about a new task first: after 5 s (most finish within seconds while the
    browser is open), or parked (`task_poll_delay`) when an older task of the sender has been
    waiting long enough to say its browser is closed: the older one is asked for both."""
    return created_at + (PARKED_POLL_INTERVAL if behind_stalled else MIN_POLL_INTERVAL)


# The extension performs a sender's tasks only while its browser is open, so they finish in
# bursts, oldest first. The oldest pending task of a sender (of one kind) stands for the rest:
# only it is asked about on a schedule, the others are parked until a finished task wakes them.
# Its calls grow with its age (3× its age: a lone task of a minute costs 3 calls), up to
# OLDEST_POLL_CAP, which bounds the delay to notice the browser coming back.
OLDEST_POLL_CAP = dt.timedelta(seconds=180)
# A parked task is asked about anyway after this long, should the oldest never finish; then
# as long again as it has waited, up to MAX_PARKED_INTERVAL (a browser closed all weekend).
PARKED_POLL_INTERVAL = dt.timedelta(hours=1)
MAX_PARKED_INTERVAL = dt.timedelta(hours=6)
# An older task OutX has said is still pending, this long after it was submitted, means the
# browser is closed: a new task is parked at once.
STALLED_AFTER = dt.timedelta(seconds=60)
# A finished task wakes its sender's parked tasks for a call this soon (never sooner than 5 s
# after their last one), and the next few pending ones, which the extension does next.
WAKE_AFTER = MIN_POLL_INTERVAL
WAKE_NEXT = 3


def tasks_to_wake(finished: int) -> int:
    """How many of a sender's next pending tasks to wake after a batch of status calls found
    `finished` of them finished: twice as many, at least WAKE_NEXT, so a long burst is
    followed in a few steps."""
    return max(WAKE_NEXT, 2 * finished)


def task_poll_delay(task_age: dt.timedelta, *, oldest: bool) -> dt.timedelta:
    """How long until a still-pending task is asked about again: the sender's oldest pending
    task on a schedule growing with its age; any other is parked (a finished task wakes it)."""
    if not oldest:
        return min(MAX_PARKED_INTERVAL, max(PARKED_POLL_INTERVAL, task_age))
    return min(OLDEST_POLL_CAP, max(MIN_POLL_INTERVAL, 3 * task_age))


def is_stalled(oldest_pending_since: dt.datetime | None, now: dt.datetime, *, finished_lately: bool = False) -> bool:
    """Whether a sender's browser looks closed, so that new tasks are parked: its oldest task
    OutX said is pending has waited STALLED_AFTER, and none of its tasks finished within as long."""
    return not finished_lately and oldest_pending_since is not None and now - oldest_pending_since >= STALLED_AFTER
