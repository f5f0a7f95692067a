"""A long queue whose senders change (an edit, a sender retired) is placed over the new senders
by the note render's django-q2 task, batch by batch, never within the request; meanwhile the
worker submits none of the campaign's invitations (SUBMIT_RULES), so none goes out from a
sender that left. A short queue is still placed at once. A request keeps its sender once
submitted; the queued ones of a sender that left move, evenly over the senders."""

import datetime as dt
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import tasks
from campaigns.invitations import next_fair_request
from campaigns.models import Campaign, ConnectionRequest, QueuedNotes
from campaigns.worker import run_tick
from tests.test_edit_cost import queue, rows_fetched
from tests.test_rerender_task import edit_data
from tests.test_senders_worker import at, make_sender

pytestmark = pytest.mark.django_db
State = ConnectionRequest.State


@pytest.fixture
def batches_of_7(monkeypatch):
    """The task places and renders 7 requests a batch, one batch per task."""
    monkeypatch.setattr(Campaign, "NOTE_RENDER_BATCH", 7)
    monkeypatch.setattr(Campaign, "NOTE_RENDER_TASK_SECONDS", 0)


@pytest.fixture
def senders(db, owner):
    """Three senders with pacing off, each usable by the owner."""
    made = [make_sender(f"Sender {name}", f"key-of-{name}-000{n}") for n, name in enumerate("abc", 1)]
    for sender in made:
        sender.users.add(owner)
    return made


def queued_by_sender(campaign: Campaign) -> Counter:
    return Counter(campaign.requests.filter(state=State.QUEUED).values_list("sender__name", flat=True))


def edit_senders(client, campaign, chosen, capture_on_commit):
    data = {**edit_data(campaign, campaign.note_template), "senders": [sender.pk for sender in chosen]}
    with capture_on_commit(execute=True):
        response = client.post(reverse("campaign_edit", args=[campaign.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()


def run_task_to_the_end(campaign: Campaign, enqueued: list) -> None:
    while campaign.is_rendering_notes:
        tasks.render_notes(*enqueued[-1])
        campaign.refresh_from_db()


def test_the_edit_request_costs_the_same_beside_10_and_3000_queued_whose_sender_leaves(
    make_campaign, owner_client, senders, enqueued, long_queue, django_capture_on_commit_callbacks
):
    a, b, _ = senders
    costs = []
    for n in (10, 3000):
        campaign = make_campaign(f"Queue of {n}", Campaign.State.ACTIVE, senders=[a])
        queue(campaign, n)
        with CaptureQueriesContext(connection) as queries, rows_fetched() as fetched:
            edit_senders(owner_client, campaign, [b], django_capture_on_commit_callbacks)
        costs.append((len(queries), fetched["rows"]))
        assert not [q for q in queries if 'SET "sender_id"' in q["sql"]]  # no request moved in the request
        assert queued_by_sender(campaign) == {"Sender a": n}
        assert campaign.notes_render_progress == f"Updating the queue: 0 of {n:,}"
        assert enqueued[-1] == (campaign.pk, campaign.notes_version, 0)
    (few_queries, few_rows), (many_queries, many_rows) = costs
    assert few_queries == many_queries, costs
    # The form's note check reads the first PREVIEW_WINDOW queued notes (QueuedNotes), no more.
    assert many_rows <= few_rows + QueuedNotes.PREVIEW_WINDOW + 1, costs


def test_a_short_queue_is_placed_in_the_request_and_submitted_requests_keep_their_sender(
    make_campaign, owner_client, senders, enqueued, django_capture_on_commit_callbacks
):
    a, b, c = senders
    campaign = make_campaign("Short", Campaign.State.ACTIVE, senders=[a], prospects=9)
    sent = campaign.requests.order_by("id").first()
    ConnectionRequest.objects.filter(pk=sent.pk).update(state=State.SENT, submitted_at=timezone.now())

    edit_senders(owner_client, campaign, [b, c], django_capture_on_commit_callbacks)

    assert not enqueued and not campaign.is_rendering_notes
    assert ConnectionRequest.objects.get(pk=sent.pk).sender == a
    assert queued_by_sender(campaign) == {"Sender b": 4, "Sender c": 4}


def test_the_task_places_evenly_batch_by_batch_and_a_restart_after_a_crash_writes_no_batch_again(
    make_campaign, owner_client, senders, enqueued, long_queue, batches_of_7, django_capture_on_commit_callbacks
):
    a, b, c = senders
    campaign = make_campaign("Evenly", Campaign.State.ACTIVE, senders=[a, b])
    queue(campaign, 20)  # 10 on a, 10 on b
    sent = campaign.requests.filter(sender=a).order_by("id").first()
    ConnectionRequest.objects.filter(pk=sent.pk).update(state=State.SENT, submitted_at=timezone.now())

    edit_senders(owner_client, campaign, [b, c], django_capture_on_commit_callbacks)
    assert queued_by_sender(campaign) == {"Sender a": 9, "Sender b": 10}
    queued_ids = list(campaign.requests.filter(state=State.QUEUED).order_by("id").values_list("id", flat=True))
    on_a = set(campaign.requests.filter(state=State.QUEUED, sender=a).values_list("id", flat=True))

    tasks.render_notes(*enqueued[-1])  # the first batch: the queue's 7 oldest
    campaign.refresh_from_db()
    assert campaign.notes_render_progress == "Updating the queue: 7 of 19"
    assert not campaign.requests.filter(pk__in=queued_ids[:7], sender=a).exists()
    assert set(campaign.requests.filter(sender=a, state=State.QUEUED).values_list("id", flat=True)) == on_a - set(queued_ids[:7])

    # The task dies; the dispatcher starts it again from the beginning, under a new version.
    Campaign.objects.filter(pk=campaign.pk).update(notes_render_beat_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.restart_stalled_note_renders() == 1
    assert enqueued[-1] == (campaign.pk, campaign.notes_version + 1, 0)
    with CaptureQueriesContext(connection) as queries:
        tasks.render_notes(*enqueued[-1])  # the first batch again: already placed
    assert not [q for q in queries if 'SET "sender_id"' in q["sql"]]
    campaign.refresh_from_db()
    run_task_to_the_end(campaign, enqueued)

    # b kept its 10; c took a's 9 (b already had more); the one a sent stays a's.
    assert queued_by_sender(campaign) == {"Sender b": 10, "Sender c": 9}
    assert ConnectionRequest.objects.get(pk=sent.pk).sender == a
    assert not campaign.is_rendering_notes and campaign.notes_rendered == 19


def test_the_task_spreads_a_whole_queue_evenly_over_new_senders(
    make_campaign, owner_client, senders, enqueued, long_queue, batches_of_7, django_capture_on_commit_callbacks
):
    a, b, c = senders
    campaign = make_campaign("Moved", Campaign.State.PAUSED, senders=[a])
    queue(campaign, 20)
    edit_senders(owner_client, campaign, [b, c], django_capture_on_commit_callbacks)
    run_task_to_the_end(campaign, enqueued)
    assert queued_by_sender(campaign) == {"Sender b": 10, "Sender c": 10}
    # In id order, alternately: each sender's first invitations are the campaign's oldest.
    placed = list(campaign.requests.order_by("id").values_list("sender__name", flat=True))
    assert placed[:4] == ["Sender b", "Sender c", "Sender b", "Sender c"]


def test_the_worker_sends_nothing_of_the_campaign_until_its_queue_is_placed(
    make_campaign, owner_client, senders, enqueued, long_queue, batches_of_7, stand_in,
    django_capture_on_commit_callbacks,
):
    a, b, _ = senders
    campaign = make_campaign("Held", Campaign.State.ACTIVE, senders=[a])
    queue(campaign, 20)
    edit_senders(owner_client, campaign, [b], django_capture_on_commit_callbacks)

    # a left the campaign but still works for others: the pick finds none of its old queue.
    assert next_fair_request(a) is None and next_fair_request(b) is None
    run_tick(now=at(0))
    page = owner_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert "Updating the queue: 0 of 20" in page

    tasks.render_notes(*enqueued[-1])  # one batch placed, the rest still on a
    campaign.refresh_from_db()
    assert campaign.is_rendering_notes and campaign.requests.filter(sender=a).count() == 13
    run_tick(now=at(10))
    assert stand_in.posts_by_key() == {}
    assert not ConnectionRequest.objects.submittable().filter(campaign=campaign).exists()

    run_task_to_the_end(campaign, enqueued)
    run_tick(now=at(20))
    assert set(stand_in.posts_by_key()) == {"key-of-b-0002"}
    assert not campaign.requests.filter(sender=a).exists()


def test_retiring_a_sender_moves_a_long_queue_by_the_task(
    make_campaign, owner, senders, enqueued, long_queue, batches_of_7, django_capture_on_commit_callbacks
):
    a, b, _ = senders
    campaign = make_campaign("Retired", Campaign.State.ACTIVE, senders=[a, b])
    queue(campaign, 20)

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        a.retire(owner)
    assert not [q for q in queries if 'SET "sender_id"' in q["sql"]]
    campaign.refresh_from_db()
    assert enqueued == [(campaign.pk, campaign.notes_version, 0)]
    assert campaign.notes_render_progress == "Updating the queue: 0 of 20"
    assert not ConnectionRequest.objects.submittable().filter(campaign=campaign).exists()

    run_task_to_the_end(campaign, enqueued)
    assert queued_by_sender(campaign) == {"Sender b": 20}
    assert ConnectionRequest.objects.submittable().filter(campaign=campaign).count() == 20


def test_retiring_a_sender_moves_a_short_queue_at_once(make_campaign, owner, senders, enqueued):
    a, b, _ = senders
    campaign = make_campaign("Retired, short", Campaign.State.ACTIVE, senders=[a, b], prospects=6)
    a.retire(owner)
    campaign.refresh_from_db()
    assert not enqueued and not campaign.is_rendering_notes
    assert queued_by_sender(campaign) == {"Sender b": 6}
