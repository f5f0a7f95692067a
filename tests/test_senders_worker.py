"""Many senders: each is one LinkedIn account with its own key, pace, state and queue, and the
worker serves each on its own.

OutX here is a stand-in that records which key made each call and answers by key, so that one
sender's refusal can be told from another's (the sandbox's teams are tested over real HTTP in
test_sandbox_teams.py). Nobody is invited by two of our senders: the check before each claim
says who invited, and the database refuses the second claim should two workers race.
"""

import datetime as dt
import threading
import uuid
from collections import Counter

import httpx
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import invitations, outx, worker
from campaigns.models import Campaign, ConnectionRequest, Event, Prospect, Sender, SENDER_TURN_LEASE
from campaigns.lifecycle import TickSummary
from campaigns.worker import dispatch, next_due_at, run_tick, work_sender
from tests.helpers import add_request

State = ConnectionRequest.State
NOW = timezone.now().replace(microsecond=0)


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


class OutxByKey:
    """Creates a task for every POST and completes it on the first poll; answers a key listed
    in `refuse` with that status. Records (key, path) of every call."""

    def __init__(self, refuse: dict[str, int] | None = None):
        self.refuse = refuse or {}
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["x-api-key"]
        with self.lock:
            self.calls.append((key, request.url.path))
        if key in self.refuse:
            return httpx.Response(self.refuse[key], json={"error": "Refused for this team"})
        if request.method == "POST":
            return httpx.Response(200, json={"success": True, "api_agent_task_id": str(uuid.uuid4()), "message": "ok"})
        task = {"id": request.url.params["api_agent_task_id"], "status": "completed", "task_input": {}, "task_output": {"sent": True}}
        return httpx.Response(200, json={"success": True, "data": task})

    def posts_by_key(self) -> Counter:
        return Counter(key for key, path in self.calls if path.endswith("send-connection-request"))


def make_sender(name: str, key: str, **pacing) -> Sender:
    """A sender with pacing off (always open, no spacing) unless told otherwise."""
    fields = {
        "working_days": list(range(7)), "work_start": dt.time(0, 0), "work_end": dt.time(23, 59, 59),
        "min_spacing_seconds": 0, "max_spacing_seconds": 0,
        "daily_limit": 1000, "weekly_limit": 1000, "hourly_action_limit": 1000,
    }
    sender = Sender(name=name, **{**fields, **pacing})
    sender.set_api_key(key)
    sender.save()
    return sender


@pytest.fixture
def ada_and_grace(db):
    return make_sender("Ada's LinkedIn", "key-of-ada-0001"), make_sender("Grace's LinkedIn", "key-of-grace-0002")


# --- Campaigns choose senders ---------------------------------------------------------------------


def test_a_campaigns_prospects_are_spread_evenly_over_its_senders(make_campaign, ada_and_grace):
    ada, grace = ada_and_grace
    campaign = make_campaign(senders=[ada, grace], prospects=10)
    counts = dict(campaign.requests.values_list("sender__name").annotate(n=Count("id")))
    assert counts == {"Ada's LinkedIn": 5, "Grace's LinkedIn": 5}


def test_a_request_keeps_its_sender_once_submitted_and_queued_ones_follow_the_campaign(make_campaign, ada_and_grace):
    ada, grace = ada_and_grace
    linus = make_sender("Linus's LinkedIn", "key-of-linus-0003")
    campaign = make_campaign(senders=[ada, grace], prospects=4)
    sent = campaign.requests.filter(sender=ada).first()
    ConnectionRequest.objects.filter(pk=sent.pk).update(state=State.SENT, submitted_at=NOW)

    campaign.senders.set([grace, linus])
    campaign.spread_queued_over_senders()

    assert ConnectionRequest.objects.get(pk=sent.pk).sender == ada  # acceptance and follow-up come from Ada
    queued = Counter(campaign.requests.filter(state=State.QUEUED).values_list("sender__name", flat=True))
    assert "Ada's LinkedIn" not in queued and sum(queued.values()) == 3
    assert abs(queued["Grace's LinkedIn"] - queued["Linus's LinkedIn"]) <= 1


def test_retiring_a_sender_moves_its_queue_to_the_campaigns_other_senders_and_keeps_its_history(
    make_campaign, ada_and_grace, owner
):
    ada, grace = ada_and_grace
    campaign = make_campaign(senders=[ada, grace], prospects=6)
    ada.retire(owner)
    assert set(campaign.requests.values_list("sender", flat=True)) == {grace.pk}
    assert ada.is_retired and Event.objects.filter(sender=ada, to_state="retired").exists()
    assert list(campaign.senders.all()) == [grace]
    assert Sender.objects.working().filter(pk=ada.pk).exists() is False


def test_only_someone_allowed_on_every_sender_may_launch(make_campaign, ada_and_grace, ada):
    from django.core.exceptions import PermissionDenied

    ada_sender, grace_sender = ada_and_grace
    ada_sender.users.add(ada)
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada, senders=[ada_sender, grace_sender], prospects=2)
    with pytest.raises(PermissionDenied, match="Grace's LinkedIn"):
        campaign.launch(ada)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT

    campaign.senders.set([ada_sender])
    assert campaign.launch(ada) == []
    ada_sender.users.remove(ada)  # removed from the sender: no new launch on it
    campaign.pause(ada)
    with pytest.raises(PermissionDenied):
        campaign.resume(ada)


# --- The worker serves each sender on its own -----------------------------------------------------


def test_each_sender_sends_its_own_share_with_its_own_key(make_campaign, ada_and_grace, stand_in):
    ada, grace = ada_and_grace
    make_campaign(senders=[ada, grace], prospects=8)
    run_tick(now=at(0))
    run_tick(now=at(10))
    assert stand_in.posts_by_key() == {"key-of-ada-0001": 4, "key-of-grace-0002": 4}
    assert Counter(ConnectionRequest.objects.values_list("state", flat=True)) == {State.SENT: 8}


def test_each_sender_keeps_its_own_caps(make_campaign, db, stand_in):
    ada = make_sender("Ada's LinkedIn", "key-of-ada-0001", daily_limit=2, weekly_limit=10)
    grace = make_sender("Grace's LinkedIn", "key-of-grace-0002", daily_limit=3, weekly_limit=10)
    make_campaign(senders=[ada, grace], prospects=10)
    for second in range(0, 60, 10):
        summary = run_tick(now=at(second))
    assert stand_in.posts_by_key() == {"key-of-ada-0001": 2, "key-of-grace-0002": 3}
    assert "Daily limit of" in summary.waiting


@pytest.mark.parametrize("status, state", [
    (429, Sender.State.LIMIT_REACHED), (403, Sender.State.EXTENSION_OFFLINE),
    (401, Sender.State.INVALID_KEY), (404, Sender.State.NO_ADMIN),
])
def test_an_account_wide_refusal_stops_only_that_sender(make_campaign, ada_and_grace, stand_in, status, state):
    ada, grace = ada_and_grace
    stand_in.refuse["key-of-ada-0001"] = status  # a 404 on a POST: "No admin user found in the team"
    make_campaign(senders=[ada, grace], prospects=6)
    run_tick(now=at(0))
    run_tick(now=at(10))
    ada.refresh_from_db()
    grace.refresh_from_db()
    assert grace.state == Sender.State.ACTIVE
    assert ConnectionRequest.objects.filter(sender=grace, state=State.SENT).count() == 3
    assert ada.state == state and "Ada's LinkedIn" in ada.state_cause
    assert not ConnectionRequest.objects.filter(sender=ada, state=State.SENT).exists()


def test_nobody_is_invited_by_two_senders_and_the_reason_names_who_invited(make_campaign, ada_and_grace, stand_in):
    ada, grace = ada_and_grace
    first = make_campaign("first", senders=[ada], prospects=1)
    second = make_campaign("second", senders=[grace], prospects=1)  # the same person, P0
    run_tick(now=at(0))
    run_tick(now=at(10))
    assert sum(stand_in.posts_by_key().values()) == 1
    skipped = ConnectionRequest.objects.get(state=State.SKIPPED)
    invited = ConnectionRequest.objects.get(state=State.SENT)
    assert {skipped.campaign, invited.campaign} == {first, second}
    assert skipped.events.last().cause.startswith(
        f"Already invited by {invited.sender.name} in campaign “{invited.campaign.name}” ("
    )


def test_the_database_refuses_a_second_invitation_to_one_person(make_campaign, ada_and_grace):
    ada, grace = ada_and_grace
    first = make_campaign("first", senders=[ada], prospects=1)
    second = make_campaign("second", senders=[grace], prospects=1)
    ConnectionRequest.objects.filter(campaign=first).update(state=State.PENDING, submitted_at=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionRequest.objects.filter(campaign=second).update(state=State.SUBMITTING)


def test_a_claim_the_database_refuses_is_skipped_with_the_reason(make_campaign, ada_and_grace, stand_in):
    """Nobody else invites a person: the worker does not look first, the database refuses the
    second claim (whichever worker makes it), and that request is skipped saying who invited."""
    ada, grace = ada_and_grace
    make_campaign("first", senders=[ada], prospects=1)
    second = make_campaign("second", senders=[grace], prospects=1)
    ConnectionRequest.objects.filter(sender=ada).update(state=State.PENDING, submitted_at=NOW, outx_task_id="t-ada")
    summary = work_sender(grace, clock=lambda: at(0))
    request = second.requests.get()
    assert request.state == State.SKIPPED and summary.skipped == 1
    assert request.events.last().cause.startswith("Already invited by Ada's LinkedIn in campaign “first”")
    assert stand_in.posts_by_key()["key-of-grace-0002"] == 0


def test_follow_ups_and_acceptance_reads_go_out_from_the_sender_that_invited(make_campaign, ada_and_grace, stand_in):
    ada, grace = ada_and_grace
    campaign = make_campaign(senders=[ada, grace], prospects=0, followup_template="Thanks {first_name|}")
    accepted = add_request(campaign, State.ACCEPTED, sender=grace, accepted_at=at(-3 * 86400))
    add_request(campaign, State.SENT, sender=ada, submitted_at=at(-3600))
    run_tick(now=at(0))
    messages = [key for key, path in stand_in.calls if path.endswith("send-message")]
    reads = Counter(key for key, path in stand_in.calls if path.endswith("fetch-connections"))
    assert messages == ["key-of-grace-0002"] and accepted.followup.state in ("pending", "sent")
    assert reads == {"key-of-ada-0001": 1}  # only Ada has invitations waiting for an answer


# --- When a sender has work: the dispatcher's index ---------------------------------------------------


def test_an_idle_sender_has_no_next_moment_and_a_launch_wakes_its_senders(make_campaign, ada_and_grace, owner):
    ada, grace = ada_and_grace
    ada.users.add(owner)
    assert next_due_at(ada, NOW) is None
    campaign = make_campaign(state=Campaign.State.DRAFT, senders=[ada], prospects=3)
    assert next_due_at(ada, NOW) is None  # a draft sends nothing
    Sender.objects.update(next_due_at=None)
    campaign.launch(owner)
    ada.refresh_from_db()
    grace.refresh_from_db()
    assert ada.next_due_at is not None and ada.next_due_at <= timezone.now()
    assert grace.next_due_at is None
    assert next_due_at(ada, NOW) == NOW


def test_a_pass_stores_when_its_sender_next_has_work(make_campaign, db, stand_in):
    ada = make_sender("Ada's LinkedIn", "key-of-ada-0001", min_spacing_seconds=120, max_spacing_seconds=120)
    make_campaign(senders=[ada], prospects=2)
    work_sender(ada, clock=lambda: at(0))
    ada.refresh_from_db()
    # The first invitation's status is asked 5 s later; the second waits for the spacing.
    assert ada.next_due_at == at(5)
    assert ada.worked_by == "" and ada.worked_until is None
    ConnectionRequest.objects.filter(state=State.PENDING).update(state=State.SENT)
    Sender.objects.filter(pk=ada.pk).update(next_acceptance_check_at=at(1800))
    assert next_due_at(Sender.objects.get(pk=ada.pk), at(6)) == at(120)


def test_a_stopped_sender_waits_for_a_person(make_campaign, ada_and_grace):
    ada, _ = ada_and_grace
    make_campaign(senders=[ada], prospects=2)
    ada.set_state(Sender.State.INVALID_KEY, "OutX rejected the key")
    assert next_due_at(ada, NOW) is None
    ada.set_state(Sender.State.ACTIVE, "Resumed by owner")
    ada.refresh_from_db()
    assert ada.next_due_at is not None  # resuming wakes it


def test_the_dispatcher_hands_out_each_due_sender_once(ada_and_grace):
    ada, grace = ada_and_grace
    Sender.objects.filter(pk=ada.pk).update(next_due_at=at(-1))
    Sender.objects.filter(pk=grace.pk).update(next_due_at=at(60))
    handed = []
    assert dispatch(NOW, handed.append) == [ada.pk] and handed == [ada.pk]
    assert dispatch(NOW, handed.append) == []  # not again while its task waits in the queue
    assert sorted(dispatch(at(60) + worker.DISPATCH_LEASE, handed.append)) == [ada.pk, grace.pk]


def test_the_dispatcher_costs_one_indexed_query_however_many_senders_are_idle(db):
    Sender.objects.bulk_create([Sender(name=f"Idle {i}", next_due_at=None) for i in range(300)])
    Sender.objects.bulk_create([Sender(name=f"Later {i}", next_due_at=at(3600)) for i in range(300)])
    with CaptureQueriesContext(connection) as queries:
        assert dispatch(NOW, lambda sender_id: None) == []
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].split()[0] in ("SAVEPOINT", "RELEASE")]
    assert len(statements) == 1
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + statements[0].replace("LIMIT 500", "LIMIT 500 --"))
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert "next_due_at" in plan and "USING INDEX" in plan


def test_one_sender_is_never_worked_by_two_processes_at_once(ada_and_grace):
    ada, grace = ada_and_grace
    assert ada.take_turn("worker-1", NOW)
    assert not ada.take_turn("worker-2", NOW)
    assert grace.take_turn("worker-2", NOW)  # other senders go on
    assert work_sender(ada, clock=lambda: NOW) == TickSummary()  # its turn is taken: nothing done
    assert ada.take_turn("worker-2", NOW + SENDER_TURN_LEASE + dt.timedelta(seconds=1))  # a crashed worker's turn lapses


def test_a_sender_whose_key_cannot_be_read_waits_and_the_others_go_on(make_campaign, ada_and_grace, stand_in, settings):
    ada, grace = ada_and_grace
    make_campaign(senders=[ada, grace], prospects=4)
    Sender.objects.filter(pk=ada.pk).update(api_key_encrypted="gAAAAA-not-a-token")
    summary = run_tick(now=at(0))
    assert any(problem.startswith("Ada's LinkedIn: A stored OutX API key cannot be decrypted") for problem in summary.problems)
    assert stand_in.posts_by_key() == {"key-of-grace-0002": 2}


# --- PostgreSQL: two senders' workers racing for one person ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_for_one_person_on_postgresql_invite_once(make_campaign, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (DATABASE_URL=postgres://…)")
    fake = OutxByKey()
    monkeypatch.setattr(
        outx, "client_for",
        lambda sender, **kw: outx.OutxClient("http://outx.test", sender.api_key, transport=httpx.MockTransport(fake.handle)),
    )
    ada = make_sender("Ada's LinkedIn", "key-of-ada-0001")
    grace = make_sender("Grace's LinkedIn", "key-of-grace-0002")
    make_campaign("first", senders=[ada], prospects=1)
    make_campaign("second", senders=[grace], prospects=1)
    # Both workers look before either claims: only the database can stop the second.
    both_looked = threading.Barrier(2, timeout=10)
    real_check = invitations.skip_if_already_invited

    def look_together(request, summary):
        skipped = real_check(request, summary)
        if not skipped and threading.current_thread().name.startswith("sender-"):
            try:
                both_looked.wait()
            except threading.BrokenBarrierError:
                pass
        return skipped

    monkeypatch.setattr(invitations, "skip_if_already_invited", look_together)
    refused = []
    real_refuse = invitations.INVITATIONS.refuse_duplicate
    monkeypatch.setattr(
        invitations.INVITATIONS, "refuse_duplicate", lambda item, summary: (refused.append(item.pk), real_refuse(item, summary))
    )
    from django.db import connections

    def work(sender):
        try:
            work_sender(sender, clock=timezone.now)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(sender,), name=f"sender-{sender.pk}") for sender in (ada, grace)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(fake.posts_by_key().values()) == 1
    assert len(refused) == 1  # the database, not the look before, stopped the second claim
    states = Counter(ConnectionRequest.objects.values_list("state", flat=True))
    assert states[State.SKIPPED] == 1 and states[State.SKIPPED] + states[State.PENDING] + states[State.SENT] == 2
    assert Prospect.objects.count() == 1


def test_a_launch_is_sent_at_the_dispatchers_next_look_not_the_next_minute(make_campaign, ada_and_grace, owner, stand_in, monkeypatch):
    """The dispatcher looks about once a second; a launch makes its senders due at once, so the
    first invitation goes out at its next look (django-q2 runs the task in-process here)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    ada, grace = ada_and_grace
    ada.users.add(owner)
    campaign = make_campaign(state=Campaign.State.DRAFT, senders=[ada], prospects=2)
    Sender.objects.update(next_due_at=None)
    assert dispatch(timezone.now(), worker.enqueue_sender) == []
    campaign.launch(owner)
    assert dispatch(timezone.now(), worker.enqueue_sender) == [ada.pk]
    assert stand_in.posts_by_key() == {"key-of-ada-0001": 2}
    ada.refresh_from_db()
    assert ada.worked_by == "" and ada.next_due_at is not None  # its pass ended and said when next


def test_while_a_connections_read_is_under_way_its_next_status_call_is_what_is_due(make_campaign, ada_and_grace):
    """Not the check's own time, which stays in the past until the read ends: a sender would
    otherwise be handed out at every look of the dispatcher for as long as the read lasts."""
    ada, _ = ada_and_grace
    campaign = make_campaign(senders=[ada], prospects=0)
    add_request(campaign, State.SENT, sender=ada, submitted_at=at(-3600))
    Sender.objects.filter(pk=ada.pk).update(
        next_acceptance_check_at=at(-60), connections_task_id="t-read", connections_next_poll_at=at(40),
    )
    assert next_due_at(Sender.objects.get(pk=ada.pk), NOW) == at(40)
    Sender.objects.filter(pk=ada.pk).update(connections_task_id="", connections_next_poll_at=None)
    assert next_due_at(Sender.objects.get(pk=ada.pk), NOW) == at(-60)  # a check is due: earlier than now
