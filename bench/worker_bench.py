"""Worker benchmarks, run inside a stack's environment (see bench/run.py).

1. Throughput with pacing off against the zero-delay sandbox: the worker's submissions and
   status polls per second, beside a plain httpx loop making the same calls on the same
   machine in the same run. The ratio is what the worker's bookkeeping (claims, events,
   the duplicate check) costs.
2. Status calls per completed task, and the mean delay between a task completing at OutX and
   the worker knowing it, for tasks that take 3 s, 60 s and 1 h — the real run_tick against
   a simulated clock, with OutX answering through httpx.MockTransport.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import time

import django


def pacing_off() -> None:
    """Lift every cap the account has to the most its bounds allow, no spacing."""
    from campaigns.models import ACCOUNT_BOUNDS, Sender

    limits = {name: bound.maximum for name, bound in ACCOUNT_BOUNDS.items() if name.endswith("_limit")}
    Sender.objects.update(min_spacing_seconds=0, max_spacing_seconds=0, next_submission_at=None, **limits)


def throughput(n: int) -> dict:
    import httpx
    from django.conf import settings
    from django.utils import timezone

    from campaigns.models import ConnectionRequest
    from campaigns.outx import get_client
    from campaigns.worker import run_tick

    headers = {"x-api-key": settings.OUTX_API_KEY}
    base = settings.OUTX_BASE_URL
    with httpx.Client(base_url=base, headers=headers) as http:
        started = time.perf_counter()
        task_ids = []
        for i in range(n):
            answer = http.post(
                "/linkedin-agent/send-connection-request",
                json={"profile_urn": f"urn:li:fsd_profile:ACoAABaseline{i:07d}", "note": f"Hi P{i}"},
            )
            task_ids.append(answer.json()["api_agent_task_id"])
        plain_post = n / (time.perf_counter() - started)
        started = time.perf_counter()
        for task_id in task_ids:
            http.get("/linkedin-agent/get-task-status", params={"api_agent_task_id": task_id}).json()
        plain_get = n / (time.perf_counter() - started)

    with get_client() as client:
        started = time.perf_counter()
        summary = run_tick(client=client, max_polls=0)
        worker_post = summary.submitted / (time.perf_counter() - started)
        # Make every task due, then time the polls.
        ConnectionRequest.objects.filter(state="pending").update(next_poll_at=timezone.now())
        started = time.perf_counter()
        polled = run_tick(client=client, max_polls=n)
        worker_get = polled.polls / (time.perf_counter() - started)
    assert summary.submitted == n and polled.sent == n, (summary.line(), polled.line())
    return {
        "requests": n,
        "plain_post_per_s": plain_post,
        "worker_submit_per_s": worker_post,
        "submit_ratio": worker_post / plain_post,
        "plain_get_per_s": plain_get,
        "worker_poll_per_s": worker_get,
        "poll_ratio": worker_get / plain_get,
    }


def polling_cost(task_seconds: float, tasks: int = 40) -> dict:
    """Run the real worker on a simulated clock; OutX completes each task after ~task_seconds."""
    import httpx
    from django.contrib.auth.models import User

    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
    from campaigns.outx import OutxClient
    from campaigns.worker import run_tick

    rng = random.Random(1)
    clock = {"now": dt.datetime(2026, 11, 23, 9, tzinfo=dt.timezone.utc)}
    created_at: dict[str, dt.datetime] = {}
    duration: dict[str, float] = {}

    def outx_answers(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            task_id = f"t{task_seconds:g}-{len(created_at)}"
            created_at[task_id] = clock["now"]
            # Spread completions ±20% around the nominal time, as real tasks vary.
            duration[task_id] = task_seconds * rng.uniform(0.8, 1.2)
            return httpx.Response(200, json={"success": True, "api_agent_task_id": task_id, "message": "ok"})
        task_id = request.url.params["api_agent_task_id"]
        done = (clock["now"] - created_at[task_id]).total_seconds() >= duration[task_id]
        return httpx.Response(200, json={"success": True, "data": {
            "id": task_id, "status": "completed" if done else "pending", "task_input": {},
            "task_output": {"sent": True} if done else None}})

    Sender.objects.update(next_submission_at=None)  # the clock went back in time
    owner, _ = User.objects.get_or_create(username=f"polling-{task_seconds}")
    campaign = Campaign.objects.create(name=f"Polling {task_seconds}", owner=owner, state=Campaign.State.ACTIVE)
    for i in range(tasks):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAPoll{int(task_seconds)}x{i:05d}")
        ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, note="Hi")
    client = OutxClient("https://outx.invalid", "k", transport=httpx.MockTransport(outx_answers))
    run_tick(now=clock["now"], client=client, max_polls=0)
    requests = ConnectionRequest.objects.filter(campaign=campaign)
    assert not requests.filter(state="queued").exists()
    while requests.filter(state="pending").exists():
        clock["now"] += dt.timedelta(seconds=1)
        run_tick(now=clock["now"], client=client)
    delays = [
        (r.completed_at - created_at[r.outx_task_id]).total_seconds() - duration[r.outx_task_id]
        for r in requests
    ]
    calls = [r.poll_count for r in requests]
    return {
        "task_seconds": task_seconds,
        "calls_per_task": statistics.mean(calls),
        "mean_delay_s": statistics.mean(delays),
        "max_delay_s": max(delays),
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    pacing_off()
    results = {"throughput": throughput(n), "polling": [polling_cost(s) for s in (3, 60, 3600)]}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
