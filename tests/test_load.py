"""Load: three django-q2 clusters on PostgreSQL and the Redis broker, 1,000 invitations.

The production path, end to end: the dispatcher (the task the minute's schedule runs) hands
out one `campaigns.tasks.work_sender` task per sender whose work is due, through Redis, to
three `qcluster` processes at once, all submitting to one sandbox under gunicorn (one team
per sender). Every request must end terminal and the sandbox must have been asked to invite
each person once.
"""

import os
import re

import pytest

from tests.stack import redis_database, running_clusters, running_stack, wait_until_settled

REQUESTS = 1000
SENDERS = 5
CLUSTERS = 3


@pytest.mark.postgres
@pytest.mark.slow
def test_three_clusters_on_postgresql_and_redis_invite_each_of_1000_once(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        pytest.skip("runs in the PostgreSQL + Redis suite (DATABASE_URL and REDIS_URL set)")
    with running_stack(tmp_path) as stack:
        stack.seed(REQUESTS, campaigns=5, senders=SENDERS, latency_ms=5, acceptance_rate=0.0)
        with running_clusters(stack, tmp_path, CLUSTERS, redis_url=redis_database(os.environ["REDIS_URL"], 14)):
            report = wait_until_settled(stack, timeout=300, poll=2)
        passes = stack.passes()["passes"]

    submitted_per_pass = [int(re.search(r"submitted (\d+)", row["result"]).group(1)) for row in passes]
    print(f"load: {report['states']}, {report['tasks']} tasks, submissions per pass {[n for n in submitted_per_pass if n]}")
    # Sent, or sent and since accepted (the workers read each sender's newest connections too).
    assert set(report["states"]) <= {"sent", "accepted"} and sum(report["states"].values()) == REQUESTS
    assert report["tasks"] == REQUESTS
    assert report["invited_twice"] == [] and report["delivered_twice"] == []
    assert {sender["deliveries"] for sender in report["per_sender"].values()} == {REQUESTS // SENDERS}
    # The work was shared: every sender's passes submitted its share, in passes of their own.
    assert sum(submitted_per_pass) == REQUESTS
    assert sum(1 for n in submitted_per_pass if n > 0) >= SENDERS
