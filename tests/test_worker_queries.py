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


def submit(sender: Sender, client: OutxClient, n: int, *, control: bool = False) -> list[str]:
    """The statements of one pass's submissions of `n` invitations, with its one budget reading,
    the pass holding the sender's turn as a worker's pass does. `control`: every statement,
    BEGIN, COMMIT and savepoints too."""
    now = timezone.now()
    summary = TickSummary()
    Sender.objects.filter(pk=sender.pk).update(worked_by="", worked_until=None)
    assert sender.take_turn(lifecycle.claim_tag(), now)
    with CaptureQueriesContext(connection) as captured:
        lifecycle.submit_due(INVITATIONS, sender, client, lambda: now, summary, limit=n)
    assert summary.submitted == n, summary.line()
    return [query["sql"] for query in captured.captured_queries] if control else statements(captured)


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


def test_a_submission_commits_twice_and_takes_one_savepoint_per_move(pacing_off, make_campaign, client):
    """Round trips beyond the statements: the claim commits before the POST and the answer
    (the task and the spacing counted from it) commits once; each move is its own savepoint."""
    queue(make_campaign(), pacing_off, 10)
    one, three = submit(pacing_off, client, 1, control=True), submit(pacing_off, client, 3, control=True)

    def per_submission(prefix: str) -> float:
        return (sum(sql.startswith(prefix) for sql in three) - sum(sql.startswith(prefix) for sql in one)) / 2

    assert per_submission("COMMIT") == 2
    assert per_submission("SAVEPOINT") == 2
    # No write commits on its own (autocommit): each is inside one of those transactions.
    open_transaction = False
    for sql in three:
        if sql.startswith("BEGIN"):
            open_transaction = True
        elif sql.startswith(("COMMIT", "ROLLBACK")):
            open_transaction = False
        elif sql.startswith(("UPDATE", "INSERT", "DELETE")):
            assert open_transaction, sql


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


@pytest.mark.parametrize("url", ["", "https://www.linkedin.com/in/prospect-one"])
@pytest.mark.parametrize("company", ["", "Acme"])
def test_the_claims_condition_compiled_once_agrees_with_the_rules_it_is_made_of(pacing_off, make_campaign, url, company):
    """The claim's check (do-not-contact, the sender's connections) is compiled once per shape
    and run with each prospect's values: for every shape it blocks exactly whom
    `entry_blocking` and `SenderConnection.objects.of_prospect_first` name."""
    from campaigns.donotcontact import company_key, entry_blocking
    from campaigns.invitations import may_invite
    from campaigns.models import DoNotContact, SenderConnection

    queue(make_campaign(), pacing_off, 2)
    request, other = ConnectionRequest.objects.select_related("prospect").order_by("pk")
    Prospect.objects.filter(pk=request.prospect_id).update(profile_url=url or None, company=company)
    request.prospect.refresh_from_db()
    prospect = request.prospect

    def blocked() -> bool:
        condition = may_invite(pacing_off.pk, prospect.profile_urn or "", prospect.profile_url or "", company_key(prospect.company))
        return not ConnectionRequest.objects.filter(condition, pk=request.pk).exists()

    def by_the_rules() -> bool:
        return entry_blocking(prospect) is not None or SenderConnection.objects.of_prospect_first(pacing_off, prospect) is not None

    assert not blocked() and not by_the_rules()
    # Someone else's entry or connection blocks nobody here.
    DoNotContact.objects.create(kind="profile", value="x", profile_urn=other.prospect.profile_urn)
    SenderConnection.objects.create(sender=pacing_off, profile_urn=other.prospect.profile_urn)
    assert not blocked() and not by_the_rules()
    entries = [{"kind": "profile", "profile_urn": prospect.profile_urn}]
    if url:
        entries.append({"kind": "profile", "profile_url": url})
    if company:
        entries.append({"kind": "company", "company_key": company_key(company)})
    for fields in entries:
        entry = DoNotContact.objects.create(value="y", **fields)
        assert blocked() and by_the_rules(), fields
        entry.delete()
    connections = [{"profile_urn": prospect.profile_urn}] + ([{"profile_url": url}] if url else [])
    for fields in connections:
        connection_row = SenderConnection.objects.create(sender=pacing_off, **fields)
        assert blocked() and by_the_rules(), fields
        connection_row.delete()
        # Another sender's connection does not stop this sender.
        SenderConnection.objects.create(sender=Sender.objects.create(name="Other"), **fields)
        assert not blocked() and not by_the_rules(), fields
