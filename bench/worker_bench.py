"""Worker benchmarks, run with the project's settings and database (SQLite, or PostgreSQL
through DATABASE_URL); see bench/run.py.

1. Throughput with pacing off against a zero-delay OutX stand-in (bench/standin.py, not the
   Django sandbox): the worker's submissions and status calls per second (run_tick), beside a
   plain httpx loop making the same calls to the same stand-in in the same run. The ratio is
   what the worker's bookkeeping costs (claims, events, budget, turns). The queue is topped up
   to `n` submittable invitations if it holds fewer.
2. Status calls per completed task, the mean delay between a task finishing at OutX and the
   worker knowing it, and the shortest gap between two calls for one task, for tasks of 3 s,
   1 min and 1 h: bench/poll_sim.py's simulated clock, a browser opening and closing, with the
   worker's polling rules (and, as `polling_before`, every task on its own doubling schedule).

`python -m bench.worker_bench [n]` prints one JSON object; `measure(n)` returns it.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django


COMMITS_PER_SUBMISSION = 2


def pacing_off() -> None:
    """Lift every cap the account has to the most its bounds allow, no spacing, open all day."""
    import datetime as dt

    from campaigns.models import ACCOUNT_BOUNDS, Sender

    limits = {name: bound.maximum for name, bound in ACCOUNT_BOUNDS.items() if name.endswith("_limit")}
    Sender.objects.update(
        min_spacing_seconds=0, max_spacing_seconds=0, next_submission_at=None, working_days=list(range(7)),
        work_start=dt.time(0, 0), work_end=dt.time(23, 59, 59), **limits,
    )


def top_up_queue(n: int) -> None:
    """At least `n` submittable invitations, from the first working sender, made in bulk."""
    from django.contrib.auth.models import User

    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender

    missing = n - ConnectionRequest.objects.submittable().count()
    if missing <= 0:
        return
    sender = Sender.objects.working().order_by("pk").first() or Sender.get()
    owner, _ = User.objects.get_or_create(username="worker-bench")
    campaign = Campaign.objects.create(name=f"Worker bench {time.time():.0f}", owner=owner, state=Campaign.State.ACTIVE)
    campaign.senders.set([sender])
    prospects = Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAWb{campaign.pk}x{i:07d}", first_name=f"W{i}") for i in range(missing)
    )
    ConnectionRequest.objects.bulk_create(
        (ConnectionRequest(campaign=campaign, prospect=prospect, sender=sender, note=f"Hi {prospect.first_name}")
         for prospect in prospects), batch_size=1000,
    )


def plain_loop(url: str, n: int) -> tuple[float, float]:
    """A plain httpx loop: n POSTs, then a status call for each task; returns both rates."""
    import httpx

    with httpx.Client(base_url=url, headers={"x-api-key": "bench"}) as http:
        started = time.perf_counter()
        task_ids = [
            http.post(
                "/linkedin-agent/send-connection-request",
                json={"profile_urn": f"urn:li:fsd_profile:ACoAABaseline{i:07d}", "note": f"Hi P{i}"},
            ).json()["api_agent_task_id"]
            for i in range(n)
        ]
        posts = n / (time.perf_counter() - started)
        started = time.perf_counter()
        for task_id in task_ids:
            http.get("/linkedin-agent/get-task-status", params={"api_agent_task_id": task_id}).json()
        gets = n / (time.perf_counter() - started)
    return posts, gets


def worker_rates(url: str, n: int) -> tuple[float, float, float]:
    """The worker's passes (run_tick, pacing off): n submissions, then n status calls. Returns
    both rates and the SQL statements per submission (not counting BEGIN and COMMIT)."""
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import ConnectionRequest
    from campaigns.outx import OutxClient
    from campaigns.worker import run_tick

    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with OutxClient(url, "bench") as client, connection.execute_wrapper(count):
        submitted, started = 0, time.perf_counter()
        while submitted < n:
            done = run_tick(client=client, max_submissions=n - submitted, max_polls=0).submitted
            if not done:
                raise RuntimeError(f"The worker submitted {submitted} of {n}, then stopped.")
            submitted += done
        submit_rate = submitted / (time.perf_counter() - started)
    with OutxClient(url, "bench") as client:
        # Every task due now, as if its first 5 s had passed.
        pending = ConnectionRequest.objects.filter(state=ConnectionRequest.State.PENDING)
        pending.update(next_poll_at=timezone.now())
        polled, started = 0, time.perf_counter()
        while pending.exists():
            polls = run_tick(client=client, max_submissions=0, max_polls=n).polls
            if not polls:
                raise RuntimeError(f"The worker polled {polled} tasks, then stopped.")
            polled += polls
        poll_rate = polled / (time.perf_counter() - started)
    return submit_rate, poll_rate, statements / submitted


def round_trip_ms(times: int = 300) -> float:
    """The median time of `SELECT 1` on the worker's connection: what any statement costs at least."""
    import statistics

    from django.db import connection

    samples = []
    with connection.cursor() as cursor:
        for _ in range(times):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def throughput(n: int) -> dict:
    from django.db import connection

    from bench import standin

    top_up_queue(n)
    pacing_off()
    with standin.running() as url:
        plain_loop(url, 50)  # warm both ends up
        plain_post, plain_get = plain_loop(url, n)
        worker_post, worker_get, statements = worker_rates(url, n)
        # The plain loop again, after the worker: the machine's load is shared by both.
        again_post, again_get = plain_loop(url, n)
    plain_post, plain_get = (plain_post + again_post) / 2, (plain_get + again_get) / 2
    # The most the worker could reach if its Python and the database's own work cost nothing:
    # each submission still waits for its statements and its two commits (the claim, committed
    # before the POST so that nothing is sent twice, and OutX's answer), one round trip each.
    rtt = round_trip_ms()
    ceiling_per_s = 1 / (1 / plain_post + (statements + COMMITS_PER_SUBMISSION) * rtt / 1000)
    return {
        "requests": n,
        "database": connection.vendor,
        "standin": "bench/standin.py",
        "plain_post_per_s": plain_post,
        "worker_submit_per_s": worker_post,
        "submit_ratio": worker_post / plain_post,
        "statements_per_submission": statements,
        "round_trip_ms": rtt,
        "round_trip_ceiling_ratio": ceiling_per_s / plain_post,
        "plain_get_per_s": plain_get,
        "worker_poll_per_s": worker_get,
        "poll_ratio": worker_get / plain_get,
    }


def polling(*, old_rules: bool = False, hours: float = 24.0) -> list[dict]:
    from bench.poll_sim import simulate

    return [simulate(seconds, hours=hours, old_rules=old_rules) for seconds in (3, 60, 3600)]


def measure(n: int = 300) -> dict:
    """Both benchmarks, with Django set up by the caller (`main` does it)."""
    return {"throughput": throughput(n), "polling": polling(), "polling_before": polling(old_rules=True)}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(json.dumps(measure(n)))


if __name__ == "__main__":
    main()
