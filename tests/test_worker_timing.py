"""Time is taken when it happens: every "next time" the worker stores counts from the moment
OutX answered, not from the start of the pass.

OutX asks for at least 5 s between two status calls for one task. A slow POST must not shorten
that gap, nor the spacing between two submissions. The fake OutX here answers every POST
2 seconds late on a simulated clock, which the worker reads whenever it needs the time.
"""

import datetime as dt
import uuid
from collections import defaultdict

import httpx
import pytest
from django.utils import timezone

from campaigns.models import ConnectionRequest, Sender
from campaigns.outx import OutxClient
from campaigns.pacing import MIN_POLL_INTERVAL
from campaigns.worker import run_tick

POST_TAKES = dt.timedelta(seconds=2)
TASK_TAKES = dt.timedelta(seconds=30)


class SlowOutx:
    """Answers POSTs `POST_TAKES` late on its clock; completes each task `TASK_TAKES` after
    it was created; records when each task was polled."""

    def __init__(self):
        self.now = timezone.now().replace(microsecond=0)
        self.polled_at = defaultdict(list)
        self.created_at = {}

    def clock(self) -> dt.datetime:
        return self.now

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.now += POST_TAKES
            task_id = str(uuid.uuid4())
            self.created_at[task_id] = self.now
            return httpx.Response(200, json={"success": True, "api_agent_task_id": task_id, "message": "created"})
        task_id = request.url.params["api_agent_task_id"]
        self.polled_at[task_id].append(self.now)
        done = self.now - self.created_at[task_id] >= TASK_TAKES
        task = {
            "id": task_id, "status": "completed" if done else "pending",
            "task_input": {}, "task_output": {"sent": True} if done else None,
        }
        return httpx.Response(200, json={"success": True, "data": task})

    def client(self) -> OutxClient:
        return OutxClient("http://outx.test", "key", transport=httpx.MockTransport(self.handle))


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Q4", note_template="Hi", prospects=8)


def test_polls_of_one_task_stay_5_seconds_apart_when_posts_answer_slowly(pacing_off, campaign):
    outx = SlowOutx()
    with outx.client() as client:
        # Passes a second apart; each submits up to two invitations (4 s of slow POSTs) before
        # it polls, so a next poll counted from the pass's start would come too early.
        for _ in range(120):
            run_tick(clock=outx.clock, client=client, max_submissions=2)
            outx.now += dt.timedelta(seconds=1)

    assert set(ConnectionRequest.objects.values_list("state", flat=True)) == {ConnectionRequest.State.SENT}
    invitation_tasks = set(ConnectionRequest.objects.values_list("outx_task_id", flat=True))
    assert len(invitation_tasks) == 8
    assert all(outx.polled_at[task_id] for task_id in invitation_tasks)
    # Every task polled, the newest connections' read included.
    gaps = [later - earlier for times in outx.polled_at.values() for earlier, later in zip(times, times[1:])]
    assert min(gaps) >= MIN_POLL_INTERVAL


def test_first_poll_counts_from_outx_answer_not_from_the_claim(pacing_off, campaign):
    outx = SlowOutx()
    claimed_at = outx.now
    with outx.client() as client:
        run_tick(clock=outx.clock, client=client, max_submissions=1)
    request = ConnectionRequest.objects.get(state=ConnectionRequest.State.PENDING)
    assert request.submitted_at == claimed_at  # the budget counts when the POST started
    assert request.next_poll_at == claimed_at + POST_TAKES + MIN_POLL_INTERVAL


def test_spacing_counts_from_outx_answer(pacing_off, campaign):
    account = pacing_off
    account.min_spacing_seconds = account.max_spacing_seconds = 60
    account.save()
    outx = SlowOutx()
    claimed_at = outx.now
    with outx.client() as client:
        summary = run_tick(clock=outx.clock, client=client)
    assert summary.submitted == 1  # the next one waits for the spacing
    account = Sender.get()
    assert account.next_submission_at == claimed_at + POST_TAKES + dt.timedelta(seconds=60)
