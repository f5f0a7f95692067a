"""Kill the worker at random moments and prove nobody was invited twice.

A real stack in separate processes (tests/stack.py): its own database (SQLite file, or a
fresh PostgreSQL database in the PostgreSQL suite), the sandbox under gunicorn, and worker
processes running `manage.py outreach_tick --loop`, each SIGKILLed at random and restarted.
The sandbox's own log is the judge: one task per invited person, at most.
"""

import os
import random
import signal
import time

import pytest

from tests.stack import TERMINAL_STATES, running_stack, wait_until_settled

REQUESTS = 240


@pytest.mark.slow
def test_sigkilled_workers_never_invite_anyone_twice(tmp_path):
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "20261127")))
    kills = 0
    with running_stack(tmp_path) as stack:
        # Latency keeps each POST in flight long enough for kills to land mid-call.
        stack.seed(REQUESTS, campaigns=3, latency_ms=40, not_sent_rate=0.1)
        workers = [stack.start_worker(), stack.start_worker()]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.05, 0.6))
            victim = rng.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            workers[victim] = stack.start_worker()
            report = stack.report()
            if not report["states"].get("queued") and kills >= 20:
                break
        # Let the survivors finish: polls, and dead claims turning `uncertain`.
        report = wait_until_settled(stack, timeout=90)

    print(f"chaos: {kills} kills, states {report['states']}, {report['tasks']} tasks")
    assert kills >= 20
    assert report["requests"] == REQUESTS
    assert set(report["states"]) <= TERMINAL_STATES, report["states"]
    assert report["invited_twice"] == []
    assert report["delivered_twice"] == []
    assert report["sent_without_delivery"] == []
    # Each task OutX was given belongs to exactly one request that went out or may have.
    assert report["tasks"] <= REQUESTS - report["states"].get("skipped", 0) - report["states"].get("failed", 0)
    assert report["states"].get("sent", 0) > REQUESTS // 2


@pytest.mark.postgres
@pytest.mark.slow
def test_racing_workers_on_postgresql_submit_each_request_once(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the PostgreSQL suite (DATABASE_URL=postgres://…)")
    with running_stack(tmp_path) as stack:
        stack.seed(400, campaigns=4, latency_ms=5)
        for _ in range(4):
            stack.start_worker(seconds=120)
        report = wait_until_settled(stack, timeout=150)
    print(f"race: states {report['states']}, {report['tasks']} tasks")
    assert report["states"] == {"sent": 400}
    assert report["tasks"] == 400
    assert report["invited_twice"] == [] and report["delivered_twice"] == []
