"""Kill workers at random moments and prove that nobody was invited twice and that no sender
went past its caps.

A real stack in separate processes (tests/stack.py): its own database (SQLite file, or a
fresh PostgreSQL database in the PostgreSQL suite), the sandbox under gunicorn with one team
per sender, and worker processes running `outreach_tick --loop`, each SIGKILLed at random and
restarted. The sandbox's own log is the judge: one task per invited person at most, and per
team (so per sender) never more in any window than the sender's caps allow.

A killed worker leaves its turn on a sender held until the turn's lease lapses: 10 minutes
in production (SENDER_TURN_LEASE). The workers here shorten it to a few seconds, or the
first kills would hold every sender for the rest of the test. A live pass may then outlast
the lease and a second worker take the same sender: the claims must keep even that safe.
"""

import datetime as dt
import os
import random
import signal
import time
from collections import Counter

import pytest

from tests.stack import TERMINAL_STATES, running_stack, sender_name, wait_until_settled

SENDERS = 3
SHARE = 150  # queued requests per sender
REQUESTS = SENDERS * SHARE
# Each sender has a daily or weekly cap and an hourly cap, all well below its share of 150,
# so the tighter one binds and the rest wait in the queue. Together they submit 315. (A daily
# cap may not exceed the weekly one, so within one day a weekly cap binds with a daily one.)
CAPS = [
    {"hourly_action_limit": 100, "daily_limit": 130},
    {"daily_limit": 105, "hourly_action_limit": 140},
    {"weekly_limit": 110, "daily_limit": 110, "hourly_action_limit": 145},
]
WINDOWS = {"hourly_action_limit": dt.timedelta(hours=1), "weekly_limit": dt.timedelta(days=7)}
TURN_LEASE_SECONDS = 3
MIN_KILLS = 20


def binding_cap(caps: dict) -> int:
    return min(caps.values())


def most_in_any_window(moments: list[dt.datetime], width: dt.timedelta) -> int:
    """The most moments in any window (t - width, t]: what a rolling cap may never exceed."""
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moments[start] <= moment - width:
            start += 1
        most = max(most, end - start + 1)
    return most


def most_in_one_day(moments: list[dt.datetime]) -> int:
    """The most moments in one calendar day (the seeded senders' time zone is UTC)."""
    return max(Counter(moment.astimezone(dt.timezone.utc).date() for moment in moments).values(), default=0)


def most_within(cap_name: str, moments: list[dt.datetime]) -> int:
    if cap_name == "daily_limit":
        return most_in_one_day(moments)
    return most_in_any_window(moments, WINDOWS[cap_name])


def moments(values: list[str]) -> list[dt.datetime]:
    return sorted(dt.datetime.fromisoformat(value) for value in values)


@pytest.mark.slow
def test_sigkilled_workers_never_invite_anyone_twice_nor_pass_a_senders_caps(tmp_path):
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "20261127")))
    names = [sender_name(i) for i in range(SENDERS)]
    kills = 0
    started = time.monotonic()
    with running_stack(tmp_path) as stack:
        # Latency keeps each POST in flight long enough for kills to land mid-call.
        stack.seed(REQUESTS, campaigns=3, senders=SENDERS, sender_fields=CAPS, latency_ms=40, not_sent_rate=0.1)
        workers = [stack.start_worker(turn_lease=TURN_LEASE_SECONDS) for _ in range(2)]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.1, 0.8))
            victim = rng.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            workers[victim] = stack.start_worker(turn_lease=TURN_LEASE_SECONDS)
            if kills % 5:
                continue
            per_sender = stack.report()["per_sender"]
            if kills >= MIN_KILLS and all(per_sender[n]["spent"] >= binding_cap(c) for n, c in zip(names, CAPS)):
                break
        killing = time.monotonic() - started
        # Let the survivors finish: polls, and dead claims turning `uncertain`.
        report = wait_until_settled(stack, timeout=60, queued_ok=True, times=True)

    spent = {name: report["per_sender"][name]["spent"] for name in names}
    print(
        f"chaos: {kills} kills in {killing:.0f} s, settled at {time.monotonic() - started:.0f} s, states {report['states']}, "
        f"{report['tasks']} tasks, submitted per sender {spent}"
    )
    assert kills >= MIN_KILLS
    assert report["requests"] == REQUESTS
    assert set(report["states"]) <= TERMINAL_STATES | {"queued"}, report["states"]
    # Nobody twice: OutX's log, its deliveries across every team, and our own POSTs.
    assert report["invited_twice"] == []
    assert report["delivered_twice"] == [] and report["duplicate_deliveries"] == 0
    assert report["posted_twice"] == []
    assert report["sent_without_delivery"] == []
    # Most went out (the rest: not sent by LinkedIn, or killed mid-POST and now uncertain).
    assert report["states"].get("sent", 0) + report["states"].get("accepted", 0) > sum(spent.values()) // 2

    for name, caps in zip(names, CAPS):
        sender = report["per_sender"][name]
        ours, received = moments(sender["submitted_at"]), moments(sender["received_at"])
        # The caps bound: the sender spent its tightest cap exactly, and the rest still waits.
        assert len(ours) == sender["spent"] == binding_cap(caps), (name, sender["spent"])
        assert sender["states"].get("queued") == SHARE - binding_cap(caps)
        # Each task OutX was given is one of the sender's submissions (some killed mid-POST never arrived).
        assert sender["tasks"] == len(received) <= len(ours)
        for cap_name, cap in caps.items():
            assert most_within(cap_name, ours) <= cap, (name, cap_name)
            assert most_within(cap_name, received) <= cap, (name, cap_name)


def test_window_counts_find_the_busiest_window():
    at = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.timezone.utc)
    times = [at + dt.timedelta(minutes=m) for m in (0, 40, 50, 61)]  # 23:30, then 00:10, 00:20, 00:31

    assert most_in_any_window(times, dt.timedelta(hours=1)) == 3
    assert most_in_any_window(times, dt.timedelta(minutes=15)) == 2
    assert most_in_one_day(times) == 3  # three on 1 December, one on 30 November
    assert most_in_any_window([], dt.timedelta(hours=1)) == most_in_one_day([]) == 0


@pytest.mark.postgres
@pytest.mark.slow
def test_racing_workers_on_postgresql_submit_each_request_once(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the PostgreSQL suite (DATABASE_URL=postgres://…)")
    with running_stack(tmp_path) as stack:
        stack.seed(400, campaigns=4, senders=4, latency_ms=5)
        for _ in range(4):
            stack.start_worker(seconds=120)
        report = wait_until_settled(stack, timeout=150)
    print(f"race: states {report['states']}, {report['tasks']} tasks")
    # Sent, or sent and since accepted: the workers read each sender's newest connections too.
    assert set(report["states"]) <= {"sent", "accepted"} and sum(report["states"].values()) == 400
    assert report["tasks"] == 400
    assert report["invited_twice"] == [] and report["delivered_twice"] == []
    assert {sender["deliveries"] for sender in report["per_sender"].values()} == {100}
