"""The pacing rules against a controlled clock: caps, window, days, hours, time zone, spacing."""

import datetime as dt
import random
import zoneinfo

import pytest

from campaigns import pacing
from campaigns.models import Sender

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(text: str, tz=PARIS) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


def account(**overrides) -> Sender:
    # Unsaved: pacing is a pure function of these fields.
    return Sender(time_zone="Europe/Paris", **overrides)


def decide(acct, now, sent_today=0, sent_this_week=0, week_frees_at=None):
    return pacing.submission_decision(
        acct, now, sent_today=sent_today, sent_this_week=sent_this_week, week_frees_at=week_frees_at
    )


def test_inside_working_hours_with_budget_it_may_send():
    assert decide(account(), at("2026-11-25 10:00")).allowed  # a Wednesday


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        ("2026-11-25 08:59", "2026-11-25 09:00"),  # before hours
        ("2026-11-25 18:00", "2026-11-26 09:00"),  # the end is exclusive
        ("2026-11-27 19:30", "2026-11-30 09:00"),  # Friday evening waits for Monday
        ("2026-11-28 12:00", "2026-11-30 09:00"),  # Saturday
    ],
)
def test_outside_working_hours_it_waits_for_the_next_window(now, opens):
    decision = decide(account(), at(now))
    assert not decision.allowed
    assert decision.retry_at == at(opens)
    assert decision.reason.startswith("Outside working hours; sending resumes")


def test_working_hours_are_in_the_teams_time_zone():
    # 08:30 UTC is 09:30 in Paris in November (UTC+1): inside hours for a Paris team.
    now = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone.utc)
    assert decide(account(), now).allowed
    assert not decide(Sender(time_zone="America/New_York"), now).allowed


def test_working_hours_follow_daylight_saving():
    # Paris is UTC+2 on 2026-07-01: 07:30 UTC is 09:30 there.
    assert decide(account(), dt.datetime(2026, 7, 1, 7, 30, tzinfo=dt.timezone.utc)).allowed
    assert not decide(account(), dt.datetime(2026, 7, 1, 6, 30, tzinfo=dt.timezone.utc)).allowed


def test_working_days_are_editable():
    weekend_team = account(working_days=[5, 6])
    assert decide(weekend_team, at("2026-11-28 12:00")).allowed
    assert decide(weekend_team, at("2026-11-25 12:00")).retry_at == at("2026-11-28 09:00")


def test_daily_cap_waits_for_the_next_working_morning():
    decision = decide(account(daily_limit=20), at("2026-11-27 11:00"), sent_today=20, sent_this_week=20)
    assert not decision.allowed
    assert decision.retry_at == at("2026-11-30 09:00")
    assert "Daily limit of 20 reached" in decision.reason


def test_weekly_cap_waits_for_the_window_to_free_a_place():
    frees = at("2026-11-26 14:00")
    decision = decide(account(), at("2026-11-25 10:00"), sent_today=3, sent_this_week=100, week_frees_at=frees)
    assert not decision.allowed and decision.retry_at == frees
    assert "Weekly limit of 100 reached" in decision.reason


def test_spacing_holds_the_next_submission():
    nxt = at("2026-11-25 10:03")
    decision = decide(account(next_submission_at=nxt), at("2026-11-25 10:01"))
    assert not decision.allowed and decision.retry_at == nxt
    assert decide(account(next_submission_at=nxt), at("2026-11-25 10:03")).allowed


def test_a_paused_account_sends_nothing_and_says_why():
    paused = account(state=Sender.State.LIMIT_REACHED, state_cause="LinkedIn invitation limit reached")
    decision = decide(paused, at("2026-11-25 10:00"))
    assert not decision.allowed and decision.reason == "LinkedIn invitation limit reached"


def test_spacing_is_random_within_the_bounds():
    acct = account(min_spacing_seconds=120, max_spacing_seconds=300)
    gaps = {pacing.spacing_after_submission(acct, random.Random(seed)).total_seconds() for seed in range(50)}
    assert all(120 <= gap <= 300 for gap in gaps)
    assert len(gaps) > 40  # jittered, not constant


def test_poll_interval_starts_at_5s_grows_with_age_and_is_capped():
    assert pacing.next_poll_delay(dt.timedelta(seconds=0)) == dt.timedelta(seconds=5)
    assert pacing.next_poll_delay(dt.timedelta(seconds=40)) == dt.timedelta(seconds=40)
    assert pacing.next_poll_delay(dt.timedelta(days=2)) == dt.timedelta(minutes=10)


def test_the_oldest_pending_task_is_asked_about_on_a_schedule_and_the_others_are_parked():
    second = dt.timedelta(seconds=1)
    assert pacing.task_poll_delay(0 * second, oldest=True) == pacing.MIN_POLL_INTERVAL
    assert pacing.task_poll_delay(20 * second, oldest=True) == 60 * second  # 3× its age
    assert pacing.task_poll_delay(dt.timedelta(days=2), oldest=True) == pacing.OLDEST_POLL_CAP
    assert pacing.task_poll_delay(10 * second, oldest=False) == pacing.PARKED_POLL_INTERVAL
    assert pacing.task_poll_delay(dt.timedelta(days=2), oldest=False) == pacing.MAX_PARKED_INTERVAL
    created = dt.datetime(2026, 11, 23, 9, tzinfo=dt.timezone.utc)
    assert pacing.first_poll_at(created) == created + pacing.MIN_POLL_INTERVAL
    assert pacing.first_poll_at(created, behind_stalled=True) == created + pacing.PARKED_POLL_INTERVAL
    assert not pacing.is_stalled(None, created)
    assert pacing.is_stalled(created - pacing.STALLED_AFTER, created)
