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


def first_poll_at(created_at: dt.datetime) -> dt.datetime:
    return created_at + MIN_POLL_INTERVAL
