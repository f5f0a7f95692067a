"""Webhooks: events written in the state change's transaction, delivered signed to a real HTTP
receiver that verifies them with standardwebhooks, retried on the Standard Webhooks schedule,
at most once per (endpoint, message), an endpoint disabled when it stays down."""

import datetime as dt
import importlib
import os
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.acceptance import apply_safety_brakes
from campaigns.models import Campaign, ConnectionRequest, FollowUp, Sender
from campaigns.worker import run_tick
from tests.helpers import add_followup, add_request
from tests.test_webhooks_receiver import Answer, running_receiver
from webhooks import delivery as deliveries
from webhooks import ssrf, tasks
from webhooks.models import (
    DELIVERY_LEASE,
    RETRY_SCHEDULE,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

State = ConnectionRequest.State
ALL_EVENTS = EventType.values
# An hour ahead: events are stamped (and their first try made due) with the real time.
T0 = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def make_endpoint(url: str, events=ALL_EVENTS, **fields) -> tuple[WebhookEndpoint, str]:
    endpoint = WebhookEndpoint(url=url, events=list(events), **fields)
    secret = endpoint.set_new_secret()
    endpoint.save()
    return endpoint, secret


def deliver(clock_at: dt.datetime | None = None):
    """One deliver_due run, at a fixed moment (or now)."""
    return deliveries.deliver_due(clock=(lambda: clock_at) if clock_at else timezone.now)


def sent_event(campaign) -> ConnectionRequest:
    """An invitation that OutX has just reported sent."""
    request = add_request(campaign, State.PENDING, first_name="Grace", company="Acme")
    assert request.move_to(State.SENT, "OutX completed the task: the invitation was sent.")
    return request



@pytest.fixture
def receiver(settings):
    yield from running_receiver(settings)

# --- Through the real worker ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_invitation_sent_by_the_worker_reaches_each_subscribed_endpoint_once_signed(
    sandbox, pacing_off, make_campaign, receiver, settings
):
    settings.SITE_URL = "https://outreach.example.com"
    crm, crm_secret = make_endpoint(receiver.url("/crm"), [EventType.INVITATION_SENT, EventType.INVITATION_ACCEPTED])
    zap, zap_secret = make_endpoint(receiver.url("/zap"), [EventType.INVITATION_SENT])
    make_endpoint(receiver.url("/other"), [EventType.INVITATION_ACCEPTED])  # not subscribed to sent
    make_endpoint(receiver.url("/off"), [EventType.INVITATION_SENT], enabled=False)  # disabled
    campaign = make_campaign(prospects=1)

    start = timezone.now()
    run_tick(now=start)  # submitted: pending, no event
    assert not WebhookMessage.objects.exists()
    run_tick(now=start + dt.timedelta(seconds=5))  # OutX reports it sent
    request = ConnectionRequest.objects.get()
    assert request.state == State.SENT
    message = WebhookMessage.objects.get()
    assert message.type == "invitation.sent" and message.msg_id.startswith("msg_")
    assert sorted(WebhookDelivery.objects.values_list("endpoint__url", flat=True)) == [crm.url, zap.url]

    assert deliver().delivered == 2
    assert deliver().delivered == 0  # delivered once, never again
    by_path = {r.path: r for r in receiver.received}
    assert sorted(by_path) == ["/crm", "/zap"] and len(receiver.received) == 2
    body = by_path["/crm"].verified(crm_secret)
    assert by_path["/zap"].verified(zap_secret) == body
    assert by_path["/crm"].headers["webhook-id"] == by_path["/zap"].headers["webhook-id"] == message.msg_id
    assert body["type"] == "invitation.sent" and body["timestamp"].endswith("Z")
    data = body["data"]
    assert (data["id"], data["state"], data["note"]) == (request.pk, "sent", "Hi P0")
    assert data["campaign"] == {"id": campaign.pk, "name": "Lisbon founders"}
    assert data["prospect"]["profile_urn"] == "urn:li:fsd_profile:ACoAAProspect0000"
    assert (data["prospect"]["name"], data["prospect"]["company"]) == ("P0", "Acme")
    assert data["sender"] == {"id": request.sender_id, "name": request.sender.name}
    assert data["submitted_at"] and data["accepted_at"] is None
    assert data["url"] == f"https://outreach.example.com/review/{request.pk}/"
    assert WebhookDelivery.objects.filter(state="delivered").count() == 2
    assert list(WebhookAttempt.objects.values_list("status_code", flat=True)) == [200, 200]


# --- Which moves are events --------------------------------------------------------------------------


def test_each_reported_move_is_one_event_and_the_others_are_none(make_campaign, db):
    make_endpoint("http://127.0.0.1:9/hook")
    campaign = make_campaign()
    queued = add_request(campaign)
    queued.move_to(State.SUBMITTING, "Claimed")
    assert not WebhookMessage.objects.exists()  # submitting: no event
    queued.move_to(State.FAILED, "OutX refused it: 400 invalid profile", last_error="invalid profile")
    pending = add_request(campaign, State.PENDING)
    pending.move_to(State.NOT_SENT, "OutX completed the task without sending: {'sent': False}")
    unsure = add_request(campaign, State.SUBMITTING)
    unsure.move_to(State.UNCERTAIN, "The POST timed out")
    sent = add_request(campaign, State.SENT)
    sent.move_to(State.ACCEPTED, "Accepted", accepted_at=at(0))
    followup = add_followup(sent, FollowUp.State.PENDING)
    followup.move_to(FollowUp.State.SENT, "Follow-up sent", completed_at=at(1))

    events = [(m.type, m.payload["data"].get("state")) for m in WebhookMessage.objects.order_by("id")]
    assert events == [
        ("invitation.failed", "failed"), ("invitation.failed", "not_sent"), ("invitation.uncertain", "uncertain"),
        ("invitation.accepted", "accepted"), ("followup.sent", "sent"),
    ]
    failed, not_sent = [m.payload["data"] for m in WebhookMessage.objects.order_by("id")[:2]]
    assert "400 invalid profile" in failed["reason"] and "without sending" in not_sent["reason"]
    accepted = WebhookMessage.objects.get(type="invitation.accepted").payload["data"]
    assert accepted["accepted_at"] == at(0).isoformat().replace("+00:00", "Z")
    followup_data = WebhookMessage.objects.get(type="followup.sent").payload["data"]
    assert followup_data["message"] == "Thanks for connecting!" and followup_data["invitation"]["id"] == sent.pk


def test_the_brakes_pause_is_an_event_and_a_persons_is_not(make_campaign, owner, db):
    make_endpoint("http://127.0.0.1:9/hook", [EventType.CAMPAIGN_PAUSED_BY_BRAKE])
    braked = make_campaign("Braked", brake_min_invitations=5)
    for _ in range(5):  # five invitations long answered, none accepted
        add_request(braked, State.SENT, submitted_at=timezone.now() - dt.timedelta(days=30))
    paused = make_campaign("Paused by hand")
    paused.pause(owner)
    assert not WebhookMessage.objects.exists()
    assert apply_safety_brakes(Sender.get(), timezone.now()) == [braked]
    message = WebhookMessage.objects.get()
    data = message.payload["data"]
    assert message.type == "campaign.paused_by_brake"
    assert data["campaign"]["id"] == braked.pk and data["campaign"]["url"].endswith(f"/campaigns/{braked.pk}/")
    assert data["reason"].startswith("Safety brake: only 0 of 5 invitations")
    braked.refresh_from_db()
    braked.move_to(Campaign.State.ACTIVE, "Resumed by owner")
    braked.pause(owner)  # a person's pause after the brake's: no event
    assert WebhookMessage.objects.count() == 1


def test_an_event_rolled_back_with_its_state_change_is_never_sent(make_campaign, db):
    make_endpoint("http://127.0.0.1:9/hook")
    request = add_request(make_campaign(), State.PENDING)
    with pytest.raises(RuntimeError), transaction.atomic():
        request.move_to(State.SENT, "sent")
        raise RuntimeError("the pass died")
    assert not WebhookMessage.objects.exists() and not WebhookDelivery.objects.exists()


def test_without_endpoints_a_move_costs_one_more_query_and_unreported_moves_none(make_campaign, db):
    campaign = make_campaign()

    def cost(request, state):
        with CaptureQueriesContext(connection) as queries:
            request.move_to(state, "moved")
        return len([q for q in queries.captured_queries if q["sql"].split()[0] not in ("SAVEPOINT", "RELEASE")])

    assert cost(add_request(campaign, State.QUEUED), State.SUBMITTING) == 2  # the update and its Event
    assert cost(add_request(campaign, State.PENDING), State.SENT) == 3  # and one look for endpoints
    make_endpoint("http://127.0.0.1:9/hook", [EventType.INVITATION_ACCEPTED])
    assert cost(add_request(campaign, State.PENDING), State.SENT) == 3  # nobody wants `sent`
    assert not WebhookMessage.objects.exists()


# --- Retries ---------------------------------------------------------------------------------------


def test_a_500_is_retried_after_5_seconds_with_the_same_id_then_a_200_delivers(make_campaign, receiver, db):
    endpoint, secret = make_endpoint(receiver.url())
    receiver.answer(500)
    sent_event(make_campaign())
    delivery = WebhookDelivery.objects.get()

    assert deliver(at(0)).retrying == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code, delivery.next_attempt_at) == ("pending", 500, at(5))
    assert deliver(at(4)).retrying == 0 and len(receiver.received) == 1  # not due yet
    assert deliver(at(5)).delivered == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count, delivery.next_attempt_at) == ("delivered", 2, None)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message.msg_id
    assert first.body == second.body
    assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 5
    assert list(delivery.attempts.order_by("at").values_list("status_code", flat=True)) == [500, 200]
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.consecutive_failures, endpoint.failing_since) == (True, 0, None)


def test_retries_grow_for_more_than_a_day_then_the_delivery_fails_and_the_endpoint_is_disabled(
    make_campaign, receiver, db
):
    endpoint, _ = make_endpoint(receiver.url())
    receiver.answer(*[503] * 20)
    request = sent_event(make_campaign())
    delivery = WebhookDelivery.objects.get()
    moment, gaps = at(0), []
    for _ in range(len(RETRY_SCHEDULE)):
        deliver(moment)
        delivery.refresh_from_db()
        if delivery.next_attempt_at is None:
            break
        gaps.append(delivery.next_attempt_at - moment)
        assert deliver(delivery.next_attempt_at - dt.timedelta(seconds=1)).retrying == 0  # never early
        moment = delivery.next_attempt_at
    assert gaps == list(RETRY_SCHEDULE[1:])
    assert gaps == sorted(gaps) and sum(gaps, dt.timedelta()) >= dt.timedelta(hours=24)
    assert (delivery.state, delivery.attempt_count, len(receiver.received)) == ("failed", 8, 8)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "27 hours" in endpoint.disabled_reason and "8 in a row" in endpoint.disabled_reason

    # Disabled: a new event makes no delivery for it; a waiting one waits.
    ConnectionRequest.objects.filter(pk=request.pk).update(state=State.PENDING)
    request.refresh_from_db()
    request.move_to(State.SENT, "sent again, for the test")
    assert WebhookDelivery.objects.count() == 1
    waiting = WebhookDelivery.objects.create(endpoint=endpoint, message=WebhookMessage.objects.create(
        type="invitation.sent", payload={"type": "invitation.sent", "timestamp": "x", "data": {}}), next_attempt_at=at(0))
    assert deliver(moment + dt.timedelta(days=1)).delivered == 0 and len(receiver.received) == 8

    receiver.answers.clear()  # the receiver is back
    endpoint.enable()  # and a person says so
    assert deliver().delivered == 1
    waiting.refresh_from_db()
    assert waiting.state == "delivered"


def test_one_event_refused_while_others_get_through_does_not_disable_the_endpoint(make_campaign, receiver, db):
    endpoint, _ = make_endpoint(receiver.url())
    campaign = make_campaign()
    sent_event(campaign)
    refused = WebhookDelivery.objects.get()
    moment = at(0)
    for step in range(len(RETRY_SCHEDULE)):
        receiver.answer(400)
        WebhookDelivery.objects.filter(pk=refused.pk).update(next_attempt_at=moment)
        deliver(moment)
        if step == 3:  # meanwhile another event gets through
            sent_event(campaign)
            deliver(moment)
        moment += dt.timedelta(hours=4)
    refused.refresh_from_db()
    endpoint.refresh_from_db()
    assert refused.state == "failed" and endpoint.enabled


def test_a_redirect_is_not_followed_and_a_long_answer_is_read_only_in_part(make_campaign, receiver, db):
    make_endpoint(receiver.url())
    receiver.answer(Answer(302, b"", {"location": "http://169.254.169.254/"}), Answer(200, b"x" * 1_000_000))
    sent_event(make_campaign())
    deliver(at(0))
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and "not followed" in delivery.last_error
    assert len(receiver.received) == 1
    deliver(at(5))
    delivery.refresh_from_db()
    attempt = delivery.attempts.order_by("-at").first()
    assert delivery.state == "delivered" and len(attempt.response_excerpt) == 500


def test_a_receiver_that_cannot_be_reached_is_a_failed_attempt_with_the_error(make_campaign, settings, db):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    make_endpoint("http://127.0.0.1:9/nothing-listens")
    sent_event(make_campaign())
    assert deliver(at(0)).retrying == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "ConnectError" in attempt.error


# --- At most once ------------------------------------------------------------------------------------


def test_two_runs_that_saw_the_same_delivery_due_post_it_once(make_campaign, receiver, db):
    make_endpoint(receiver.url())
    sent_event(make_campaign())
    seen_by_a = WebhookDelivery.objects.select_related("endpoint", "message").get()
    seen_by_b = WebhookDelivery.objects.select_related("endpoint", "message").get()
    with deliveries.new_client() as client:
        assert deliveries.deliver(client, seen_by_a, lambda: at(0)) == "delivered"
        assert deliveries.deliver(client, seen_by_b, lambda: at(0)) is None  # its claim finds the row moved on
    assert len(receiver.received) == 1


def test_a_claimed_delivery_is_not_taken_until_its_lease_runs_out(make_campaign, receiver, db):
    make_endpoint(receiver.url())
    sent_event(make_campaign())
    delivery = WebhookDelivery.objects.get()
    assert deliveries.claim(delivery, at(0))  # a worker took it, then died mid-try
    assert deliver(at(1)).delivered == 0 and not receiver.received
    assert deliver(at(0) + DELIVERY_LEASE).delivered == 1  # the lease ran out: tried again
    assert len(receiver.received) == 1


def test_an_event_goes_to_an_endpoint_at_most_once(make_campaign, db):
    from django.db import IntegrityError

    endpoint, _ = make_endpoint("http://127.0.0.1:9/hook")
    sent_event(make_campaign())
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(endpoint=endpoint, message=delivery.message)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_racing_runs_post_each_delivery_once(make_campaign, receiver):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the PostgreSQL suite (DATABASE_URL set)")
    make_endpoint(receiver.url())
    campaign = make_campaign()
    for _ in range(30):
        sent_event(campaign)

    def run():
        try:
            deliveries.deliver_due(seconds=30)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    deliveries_made = WebhookDelivery.objects.select_related("message")
    assert set(ids) == {d.message.msg_id for d in deliveries_made} and len(set(ids)) == 30
    assert {d.state for d in deliveries_made} == {WebhookDelivery.State.DELIVERED}
    # Every POST the receiver got was one recorded try of one worker: no two workers made the
    # same try. (A try that timed out on a loaded machine is tried again, with the same id,
    # as it should be: then it has two tries and two receipts.)
    for delivery in deliveries_made:
        tries = list(delivery.attempts.order_by("at").values_list("status_code", "error"))
        assert ids.count(delivery.message.msg_id) == len(tries), tries
        assert all(error for _, error in tries[:-1]), tries  # only a failed try is followed by another


# --- SSRF at delivery, the task, the schedule -------------------------------------------------------


def test_an_address_refused_at_delivery_is_a_failed_attempt_and_nothing_is_sent(make_campaign, receiver, settings, db):
    make_endpoint(receiver.url())  # saved while private URLs were allowed
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    sent_event(make_campaign())
    deliver(at(0))
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "127.0.0.1 is a loopback address" in attempt.error
    assert not receiver.received


@pytest.mark.parametrize("url, words", [
    ("http://localhost/hook", "localhost resolves to 127.0.0.1 is a loopback address"),
    ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("http://10.1.2.3/hook", "10.1.2.3 is a private-network address"),
    ("http://192.168.0.10/hook", "private-network"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::1]/hook", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]/hook", "inside the IPv6 address ::ffff:7f00:1"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://100.64.0.1/hook", "not a public internet address"),
    ("http://2130706433/hook", "127.0.0.1 is a loopback address"),
])
def test_private_addresses_are_refused_in_production(url, words, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(ssrf.UrlRefused) as refused:
        ssrf.check(url)
    assert words in refused.value.message


def test_a_public_address_is_accepted_and_private_ones_are_when_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    assert ssrf.check("https://93.184.216.34:8443/hook").port == 8443
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    assert ssrf.check("http://127.0.0.1:8000/hook").host == "127.0.0.1"


def test_the_task_reports_in_one_line_and_the_schedule_runs_it_every_minute(db):
    from django_q.models import Schedule

    assert tasks.deliver_due() == "0 delivered, 0 to retry, 0 failed."
    # The migration made it; a transactional test before this one may have flushed the table,
    # so its function is run again here (it is idempotent, as a re-run migration must be).
    from django.apps import apps

    importlib.import_module("webhooks.migrations.0002_delivery_schedule").create_schedule(apps, None)
    schedule = Schedule.objects.get(func="webhooks.tasks.deliver_due")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 1, -1)


def test_an_event_enqueues_a_delivery_run_once_its_transaction_commits(
    make_campaign, django_capture_on_commit_callbacks, settings, db
):
    if "orm" not in settings.Q_CLUSTER:
        pytest.skip("counts the ORM broker's queue")
    from django_q.models import OrmQ

    make_endpoint("http://127.0.0.1:9/hook")
    campaign = make_campaign()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_request(campaign, State.QUEUED).move_to(State.SUBMITTING, "Claimed")  # no event: nothing to run
    assert not callbacks and not OrmQ.objects.exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent_event(campaign)
    assert len(callbacks) == 1 and OrmQ.objects.count() == 1


def test_check_deploy_warns_when_production_allows_private_webhook_urls(settings):
    from webhooks.checks import private_urls_refused_in_production

    settings.DEBUG, settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False, True
    assert [m.id for m in private_urls_refused_in_production()] == ["webhooks.W001"]
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    assert private_urls_refused_in_production() == []


def test_old_messages_are_deleted_once_nothing_waits_on_them(make_campaign, db):
    make_endpoint("http://127.0.0.1:9/hook")
    campaign = make_campaign()
    for _ in range(3):
        sent_event(campaign)
    old, waiting, recent = WebhookMessage.objects.order_by("id")
    WebhookMessage.objects.filter(pk__in=[old.pk, waiting.pk]).update(created_at=timezone.now() - dt.timedelta(days=31))
    WebhookDelivery.objects.exclude(message=waiting).update(state="delivered", next_attempt_at=None)
    assert deliveries.prune(timezone.now()) == 1
    assert sorted(WebhookMessage.objects.values_list("pk", flat=True)) == [waiting.pk, recent.pk]


def test_a_claim_is_taken_once_and_given_back_if_the_endpoint_was_disabled_meanwhile(make_campaign):
    endpoint, _ = make_endpoint("http://127.0.0.1:9/hook")
    sent_event(make_campaign())
    seen_due = WebhookDelivery.objects.get()  # as a worker listed it, the endpoint enabled
    due_at, now = seen_due.next_attempt_at, timezone.now()

    assert deliveries.claim(seen_due, now) is True
    assert deliveries.claim(seen_due, now) is False  # a second worker with the same listing

    WebhookDelivery.objects.filter(pk=seen_due.pk).update(next_attempt_at=due_at, claimed_at=None)
    endpoint.disable("Disabled by root.")
    assert deliveries.claim(seen_due, now) is False
    back = WebhookDelivery.objects.get()
    assert (back.next_attempt_at, back.claimed_at, back.attempt_count) == (due_at, None, 0)
