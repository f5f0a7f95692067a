"""Load: three django-q2 worker processes on PostgreSQL and the Redis broker, 1,000 invitations.

The production path, end to end: passes of the worker (campaigns.tasks.run_worker) are queued
through Redis and taken by three `qcluster` processes at once, all submitting to one sandbox
under gunicorn. Every request must end terminal and the sandbox must have been asked to invite
each person once.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from tests.stack import PYTHON, ROOT, running_stack, wait_until_settled

REQUESTS = 1000
CLUSTERS = 3


@pytest.mark.postgres
@pytest.mark.slow
def test_three_workers_on_postgresql_and_redis_invite_each_of_1000_once(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        pytest.skip("runs in the PostgreSQL + Redis suite (DATABASE_URL and REDIS_URL set)")
    import redis

    broker_url = "redis://127.0.0.1:6379/14"  # a database of its own: nothing else's queue
    redis.from_url(broker_url).flushdb()
    stop_file = tmp_path / "stop-workers"
    clusters = []
    with running_stack(tmp_path) as stack:
        stack.env.update(REDIS_URL=broker_url, Q_WORKERS="1", OUTREACH_WORKER_STOP_FILE=str(stop_file))
        stack.seed(REQUESTS, campaigns=5, latency_ms=5)
        stack.manage(
            "shell", "-c",
            "from django_q.tasks import async_task\n"
            f"for _ in range({2 * CLUSTERS}): async_task('campaigns.tasks.run_worker', 40)",
        )
        clusters = [
            subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=stack.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            for _ in range(CLUSTERS)
        ]
        try:
            report = wait_until_settled(stack, timeout=300, poll=2)
        finally:
            stop_file.touch()  # ends the passes still looping
            for cluster in clusters:
                cluster.send_signal(signal.SIGTERM)  # the main process only, as in production
            deadline = time.monotonic() + 60
            for cluster in clusters:
                try:
                    cluster.wait(timeout=max(1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(cluster.pid, signal.SIGKILL)
                    cluster.wait()
        submitted_per_pass = [
            int(n) for n in re.findall(
                r"submitted (\d+)",
                stack.manage("shell", "-c", "from django_q.models import Task\n"
                             "for t in Task.objects.filter(func='campaigns.tasks.run_worker'): print(t.result)"),
            )
        ]

    print(f"load: {report['states']}, {report['tasks']} tasks, submissions per pass {submitted_per_pass}")
    assert report["states"] == {"sent": REQUESTS}
    assert report["tasks"] == REQUESTS
    assert report["invited_twice"] == [] and report["delivered_twice"] == []
    # The work was shared: several passes (in different processes) submitted invitations.
    assert sum(submitted_per_pass) == REQUESTS
    assert sum(1 for n in submitted_per_pass if n > 0) >= 2
