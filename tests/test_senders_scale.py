"""The worker scales out by sender: three django-q2 clusters on PostgreSQL and the Redis
broker work 30 senders at once, and never one sender in two processes at once.

The production path end to end: the dispatcher (the task the minute's schedule runs) hands
out one `campaigns.tasks.work_sender` task per sender whose work is due; any worker process
of any cluster takes it. Each sender reaches its own sandbox team, whose log is the judge.
django-q2's Task rows record when each pass was enqueued (`started`, in django-q2 1.11) and
when it stopped: those spans hold the pass, and one sender's never overlap. The moments its
invitations were submitted show senders submitting at the same time: the work ran in parallel.
"""

import datetime as dt
import os
import re
from collections import defaultdict

import pytest

from tests.stack import passes_per_process, redis_database, running_clusters, running_stack, wait_until_settled

SENDERS = 30
QUEUED = 20  # per sender
CLUSTERS = 3


def overlapping(intervals: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple]:
    """Pairs of consecutive intervals (sorted by start) where the next starts before the last ended."""
    intervals = sorted(intervals)
    return [(a, b) for a, b in zip(intervals, intervals[1:]) if b[0] < a[1]]


def most_at_once(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most intervals running at one moment."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(stop, -1) for _, stop in intervals])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_interval_checks():
    at = dt.datetime(2026, 12, 1, 9, tzinfo=dt.timezone.utc)

    def span(a, b):
        return (at + dt.timedelta(seconds=a), at + dt.timedelta(seconds=b))

    assert overlapping([span(0, 2), span(2, 3), span(5, 6)]) == []  # touching is not overlapping
    assert overlapping([span(4, 6), span(0, 5)]) == [(span(0, 5), span(4, 6))]
    assert most_at_once([span(0, 2), span(1, 3), span(1.5, 4), span(3, 5)]) == 3
    assert most_at_once([span(0, 1), span(1, 2)]) == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_three_clusters_work_30_senders_in_parallel_and_each_sender_in_one_process_at_a_time(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        pytest.skip("runs in the PostgreSQL + Redis suite (DATABASE_URL and REDIS_URL set)")
    total = SENDERS * QUEUED
    with running_stack(tmp_path) as stack:
        # Pacing off; no acceptances, so every request ends `sent`.
        stack.seed(total, campaigns=10, senders=SENDERS, latency_ms=5, acceptance_rate=0.0)
        with running_clusters(stack, tmp_path, CLUSTERS, redis_url=redis_database(os.environ["REDIS_URL"], 12)) as logs:
            report = wait_until_settled(stack, timeout=240, poll=2, times=True)
        passes = stack.passes()
        taken = passes_per_process(logs)

    per_sender = defaultdict(list)
    for row in passes["passes"]:
        per_sender[row["sender"]].append(
            (dt.datetime.fromisoformat(row["started"]), dt.datetime.fromisoformat(row["stopped"]))
        )
    # Each sender's queue goes out in its first pass: from its first submission to its last.
    submitting_spans = [
        (dt.datetime.fromisoformat(sender["submitted_at"][0]), dt.datetime.fromisoformat(sender["submitted_at"][-1]))
        for sender in report["per_sender"].values()
    ]
    submitted = [int(re.search(r"submitted (\d+)", row["result"]).group(1)) for row in passes["passes"]]
    print(
        f"senders scale: {report['states']}, {len(passes['passes'])} passes, {sum(1 for n in submitted if n)} submitting, "
        f"{most_at_once(submitting_spans)} senders submitting at once at most, passes per (cluster, process) {dict(taken)}"
    )
    # Sent, or sent and since accepted (the workers read each sender's newest connections too).
    assert set(report["states"]) <= {"sent", "accepted"} and sum(report["states"].values()) == total
    assert report["tasks"] == total
    assert report["invited_twice"] == [] and report["delivered_twice"] == [] and report["duplicate_deliveries"] == 0
    assert {sender["deliveries"] for sender in report["per_sender"].values()} == {QUEUED}
    # Every pass is on record (django-q2 keeps the last save_limit successes), and none failed.
    assert passes["successes_kept"] < 500
    assert all(row["success"] for row in passes["passes"])
    assert sum(submitted) == total
    assert len(per_sender) == SENDERS
    # Spread: every cluster took passes, in several processes (a dispatcher holds a slot or
    # two: the one enqueued here and the minute's schedule), several senders at once.
    assert {cluster for cluster, _ in taken} == set(range(CLUSTERS))
    assert len(taken) >= CLUSTERS
    assert most_at_once(submitting_spans) >= 2
    # ...and never one sender in two processes at once (its passes' spans hold its turns).
    assert {sender: overlapping(spans) for sender, spans in per_sender.items() if overlapping(spans)} == {}
