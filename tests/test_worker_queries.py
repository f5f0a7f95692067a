"""What the worker costs the database: queries per submission and per status call, the same
with 10 and with 10,000 rows queued; and campaigns taking fair turns with pacing off.

OutX answers through httpx.MockTransport at once, so only the worker's own work is counted.
"""

import datetime as dt
import itertools

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import lifecycle
from campaigns.invitations import INVITATIONS
from campaigns.lifecycle import TickSummary
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.outx import OutxClient
from campaigns.worker import run_tick

pytestmark = pytest.mark.django_db(transaction=True)

# OutX's answers: every POST creates a task, every status call finds it completed.
TASK_IDS = itertools.count()


def outx_answers(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        return httpx.Response(200, json={"success": True, "api_agent_task_id": f"q-{next(TASK_IDS)}", "message": "ok"})
    task_id = request.url.params["api_agent_task_id"]
    return httpx.Response(200, json={"success": True, "data": {
        "id": task_id, "status": "completed", "task_input": {}, "task_output": {"sent": True}}})


@pytest.fixture
def client():
    with OutxClient("https://outx.invalid", "k", transport=httpx.MockTransport(outx_answers)) as client:
        yield client


def queue(campaign: Campaign, sender: Sender, n: int, start: int = 0) -> None:
    """`n` queued, sendable invitations in `campaign`, made in bulk."""
    prospects = Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAQ{campaign.pk}x{i:06d}", first_name=f"P{i}")
        for i in range(start, start + n)
    )
    ConnectionRequest.objects.bulk_create(
        ConnectionRequest(campaign=campaign, prospect=prospect, sender=sender, note="Hi") for prospect in prospects
    )


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements that read or write rows: BEGIN, COMMIT and savepoints left out."""
    return [query["sql"] for query in captured.captured_queries if not query["sql"].startswith(TRANSACTION_CONTROL)]


def submit(sender: Sender, client: OutxClient, n: int) -> list[str]:
    """The statements of one pass's submissions of `n` invitations, with its one budget reading,
    the pass holding the sender's turn as a worker's pass does."""
    now = timezone.now()
    summary = TickSummary()
    Sender.objects.filter(pk=sender.pk).update(worked_by="", worked_until=None)
    assert sender.take_turn(lifecycle.claim_tag(), now)
    with CaptureQueriesContext(connection) as captured:
        lifecycle.submit_due(INVITATIONS, sender, client, lambda: now, summary, limit=n)
    assert summary.submitted == n, summary.line()
    return statements(captured)


def poll(sender: Sender, client: OutxClient, n: int) -> list[str]:
    """The statements of one pass's status calls for `n` tasks, each found completed."""
    later = timezone.now() + dt.timedelta(minutes=1)
    summary = TickSummary()
    with CaptureQueriesContext(connection) as captured:
        lifecycle.poll_due(INVITATIONS, sender, client, lambda: later, summary, limit=n)
    assert summary.polls == n and summary.sent == n, summary.line()
    return statements(captured)


@pytest.mark.parametrize("queued", [10, 10_000])
def test_a_submission_costs_at_most_8_queries_whatever_the_queue(pacing_off, make_campaign, client, queued):
    queue(make_campaign(), pacing_off, queued)
    one = submit(pacing_off, client, 1)
    three = submit(pacing_off, client, 3)
    # Each submission: the pick (which locks the sender), the claim and its event, the
    # sender's and the campaign's turn, the spacing counted from OutX's answer, the task and its event.
    assert (len(three) - len(one)) / 2 <= 8
    # The pass's one budget reading comes once, whatever it submits.
    assert len(one) <= 9
    assert sum("COUNT(" in sql for sql in three) == 1


@pytest.mark.parametrize("queued", [10, 10_000])
def test_a_status_call_costs_at_most_3_queries_whatever_the_queue(pacing_off, make_campaign, client, queued):
    queue(make_campaign(), pacing_off, queued)
    submit(pacing_off, client, 4)
    one = poll(pacing_off, client, 1)
    three = poll(pacing_off, client, 3)
    # Each completed task: its move, its event and the webhooks' look; the batch's claim
    # (a look, the locked read, the lease) and the wake of parked tasks come once.
    assert (len(three) - len(one)) / 2 <= 3
    assert len(one) <= 3 + 4


def test_the_worker_reads_the_queue_through_indexes(pacing_off, make_campaign, client):
    """No statement of a submission or a status call scans the requests table: what each
    reads does not grow with the queue."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query plans")
    queue(make_campaign(), pacing_off, 100)
    sqls = submit(pacing_off, client, 2) + poll(pacing_off, client, 2)
    with connection.cursor() as cursor:
        for sql in sqls:
            if not sql.startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = [row[-1] for row in cursor.fetchall()]
            scans = [step for step in plan if step.startswith("SCAN") and "USING" not in step]
            assert not [step for step in scans if "connectionrequest" in step or step.startswith("SCAN U")], (sql, plan)
            # An index read of requests bounded by its sender alone would walk its whole history.
            searches = [step for step in plan if "INDEX request_" in step]
            assert all(" AND " in step for step in searches), [step for step in searches if " AND " not in step]


def test_campaigns_take_turns_with_pacing_off(pacing_off, make_campaign, client):
    """Every claim of a pass shares one moment on a fixed clock: the turns must still rotate."""
    first, second = make_campaign("First"), make_campaign("Second")
    queue(first, pacing_off, 20)
    queue(second, pacing_off, 20)
    now = timezone.now()
    summary = run_tick(now=now, client=client, max_submissions=11, max_polls=0)
    assert summary.submitted == 11
    sent = [first.requests.exclude(state="queued").count(), second.requests.exclude(state="queued").count()]
    assert abs(sent[0] - sent[1]) <= 1, sent
    summary = run_tick(now=now, client=client, max_submissions=9, max_polls=0)
    sent = [first.requests.exclude(state="queued").count(), second.requests.exclude(state="queued").count()]
    assert sent == [10, 10]
