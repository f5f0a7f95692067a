"""Fewer status calls per task: while a sender's browser is closed only its oldest pending task
is asked about; a finished task wakes the others.

The goals are checked on bench/poll_sim.py's simulated clock (a browser opening and closing,
the worker's rules from campaigns/pacing.py), and the rules themselves on the real worker.
"""

import datetime as dt
import itertools

import httpx
import pytest
from django.utils import timezone

from bench.poll_sim import simulate
from campaigns import lifecycle
from campaigns.invitations import INVITATIONS
from campaigns.lifecycle import TickSummary
from campaigns.models import ConnectionRequest, Prospect
from campaigns.outx import OutxClient
from campaigns.pacing import MIN_POLL_INTERVAL, OLDEST_POLL_CAP


@pytest.mark.parametrize("seed", [1, 2])
def test_the_schedule_meets_its_goals_on_a_simulated_clock(seed):
    quick, minute, hour = (simulate(seconds, hours=8, seed=seed) for seconds in (3, 60, 3600))
    for figures in (quick, minute, hour):
        assert figures["calls_per_task"] <= 3, figures
        assert figures["min_gap_s"] >= MIN_POLL_INTERVAL.total_seconds(), figures
    assert quick["mean_delay_s"] <= 10, quick
    assert hour["mean_delay_s"] <= 120, hour


def test_each_task_on_its_own_schedule_costs_more_than_3_calls_for_hour_long_tasks():
    """What the simulation measures bites: the rules before issue 14 miss the goal."""
    assert simulate(3600, hours=8, old_rules=True)["calls_per_task"] > 3


class ClosedBrowser:
    """OutX with its browser closed until `open()`: tasks stay pending, then all complete."""

    def __init__(self):
        self.is_open = False
        self.asked: list[str] = []
        self.ids = itertools.count()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"success": True, "api_agent_task_id": f"b-{next(self.ids)}", "message": "ok"})
        task_id = request.url.params["api_agent_task_id"]
        self.asked.append(task_id)
        return httpx.Response(200, json={"success": True, "data": {
            "id": task_id, "status": "completed" if self.is_open else "pending", "task_input": {},
            "task_output": {"sent": True} if self.is_open else None}})


@pytest.mark.django_db
def test_only_the_oldest_task_is_asked_about_until_one_finishes(pacing_off, make_campaign):
    campaign = make_campaign()
    t0 = timezone.now().replace(microsecond=0)
    for i in range(4):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAOld{i}")
        ConnectionRequest.objects.create(
            campaign=campaign, prospect=prospect, sender=pacing_off, state=ConnectionRequest.State.PENDING,
            outx_task_id=f"b-old-{i}", submitted_at=t0 + dt.timedelta(seconds=i), next_poll_at=t0 + dt.timedelta(seconds=5 + i),
        )
    outx = ClosedBrowser()
    now = t0
    with OutxClient("https://outx.invalid", "k", transport=httpx.MockTransport(outx.handle)) as client:

        def pass_at(seconds: float) -> None:
            nonlocal now
            now = t0 + dt.timedelta(seconds=seconds)
            lifecycle.poll_due(INVITATIONS, pacing_off, client, lambda: now, TickSummary(), limit=50)

        pass_at(10)  # each asked once, 5 s after it was created
        assert sorted(outx.asked) == ["b-old-0", "b-old-1", "b-old-2", "b-old-3"]
        outx.asked.clear()
        for second in range(11, 1800):
            pass_at(second)
        # Half an hour closed: only the oldest was asked about.
        assert set(outx.asked) == {"b-old-0"} and len(outx.asked) <= 20
        outx.asked.clear()
        outx.is_open = True
        for second in range(1800, 2100):
            pass_at(second)
            if not ConnectionRequest.objects.filter(state=ConnectionRequest.State.PENDING).exists():
                break
        finished_at = now
    # The oldest was found finished at its next call, and the rest 5 s after it.
    assert not ConnectionRequest.objects.filter(state=ConnectionRequest.State.PENDING).exists()
    assert sorted(outx.asked) == ["b-old-0", "b-old-1", "b-old-2", "b-old-3"]
    assert finished_at <= t0 + dt.timedelta(seconds=1800) + OLDEST_POLL_CAP + MIN_POLL_INTERVAL
