"""A note edit on a long queue: the request only marks the queue as being re-rendered and
enqueues a django-q2 task; the task renders it batch by batch with its progress on the
campaign; meanwhile the worker submits none of the campaign's invitations (SUBMIT_RULES)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import tasks
from campaigns.models import Campaign, ConnectionRequest, Prospect, QueuedNotes
from tests.test_edit_cost import queue, rows_fetched

pytestmark = pytest.mark.django_db


def edit_data(campaign, note_template):
    return {
        "name": campaign.name, "senders": [s.pk for s in campaign.senders.all()],
        "note_template": note_template, "note_template_b": "", "note_template_c": "",
        "followup_template": "", "followup_delay_minutes": 1440,
        "brake_min_invitations": 20, "brake_min_acceptance_percent": 20,
    }


def edit(client, campaign, note_template, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaign_edit", args=[campaign.pk]), edit_data(campaign, note_template))
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()
    return response


def test_an_edit_of_a_long_queue_renders_nothing_in_the_request(
    make_campaign, owner_client, enqueued, long_queue, django_capture_on_commit_callbacks
):
    campaign = make_campaign("Long", Campaign.State.ACTIVE)
    queue(campaign, 20)

    edit(owner_client, campaign, "Hello {first_name|there}", django_capture_on_commit_callbacks)

    assert enqueued == [(campaign.pk, campaign.notes_version, 0)]
    assert campaign.notes_render_progress == "Updating the queue: 0 of 20"
    assert not campaign.requests.filter(note__startswith="Hello").exists()
    # The worker leaves the campaign alone meanwhile, and the page says why.
    assert not ConnectionRequest.objects.submittable().filter(campaign=campaign).exists()
    request = campaign.requests.select_related("campaign", "prospect").first()
    assert request.why_waiting(request.sender, timezone.now(), lambda: "Next in line") == "Updating the queue: 0 of 20"
    page = owner_client.get(reverse("campaign_edit", args=[campaign.pk])).content.decode()
    assert "Updating the queue: 0 of 20" in page
    followed = owner_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert "Updating the queue: 0 of 20" in followed  # the message after the redirect

    assert tasks.render_notes(*enqueued[0]).endswith("20 notes rendered (version 1).")

    campaign.refresh_from_db()
    assert not campaign.is_rendering_notes and campaign.notes_rendered == 20
    assert campaign.requests.filter(note__startswith="Hello Q").count() == 20
    assert ConnectionRequest.objects.submittable().filter(campaign=campaign).count() == 20


def test_the_edit_request_costs_the_same_beside_10_and_10000_queued(
    make_campaign, owner_client, enqueued, long_queue, django_capture_on_commit_callbacks
):
    costs = []
    for n in (10, 10_000):
        campaign = make_campaign(f"Queue of {n}", Campaign.State.PAUSED)
        queue(campaign, n)
        with CaptureQueriesContext(connection) as queries, rows_fetched() as fetched:
            edit(owner_client, campaign, "Hello {first_name|there}", django_capture_on_commit_callbacks)
        costs.append((len(queries), fetched["rows"]))
        assert campaign.notes_render_progress == f"Updating the queue: 0 of {n:,}"
    (few_queries, few_rows), (many_queries, many_rows) = costs
    assert few_queries == many_queries
    # The form's check measures the first PREVIEW_WINDOW queued notes (QueuedNotes), no more.
    assert many_rows <= few_rows + QueuedNotes.PREVIEW_WINDOW + 1, costs


def test_the_task_renders_in_batches_with_progress_and_hands_on_the_rest(
    make_campaign, owner_client, enqueued, long_queue, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Campaign, "NOTE_RENDER_BATCH", 7)
    monkeypatch.setattr(Campaign, "NOTE_RENDER_TASK_SECONDS", 0)  # one batch per task
    campaign = make_campaign("Batches", Campaign.State.ACTIVE, note_template="Hi {first_name|there}",
                             note_template_b="Hey {first_name|you}")
    queue(campaign, 20)
    edit(owner_client, campaign, "Hello {first_name|there}", django_capture_on_commit_callbacks)
    # Variant B is gone: its 10 requests follow A now.

    tasks.render_notes(*enqueued[-1])
    campaign.refresh_from_db()
    assert campaign.notes_render_progress == "Updating the queue: 7 of 20"
    assert campaign.requests.filter(note__startswith="Hello Q").count() == 7
    assert set(campaign.requests.values_list("variant", flat=True)) == {"A"}
    while campaign.is_rendering_notes:
        tasks.render_notes(*enqueued[-1])
        campaign.refresh_from_db()
    assert len(enqueued) == 1 + 2  # the edit's, then one for each batch of the two left over
    assert campaign.requests.filter(note__startswith="Hello Q").count() == 20


def test_a_newer_edit_stops_the_older_render(
    make_campaign, owner_client, enqueued, long_queue, django_capture_on_commit_callbacks
):
    campaign = make_campaign("Twice", Campaign.State.ACTIVE)
    queue(campaign, 20)
    edit(owner_client, campaign, "Hello {first_name|there}", django_capture_on_commit_callbacks)
    edit(owner_client, campaign, "Howdy {first_name|there}", django_capture_on_commit_callbacks)
    older, newer = enqueued

    assert "superseded" in tasks.render_notes(*older)  # it writes nothing
    assert not campaign.requests.filter(note__startswith="Hello").exists()
    assert campaign.requests.filter(note__startswith="Hi").count() == 20
    tasks.render_notes(*newer)
    assert campaign.requests.filter(note__startswith="Howdy Q").count() == 20


def test_a_stalled_render_starts_again(make_campaign, owner_client, enqueued, long_queue,
                                       django_capture_on_commit_callbacks):
    campaign = make_campaign("Stalled", Campaign.State.ACTIVE)
    queue(campaign, 20)
    edit(owner_client, campaign, "Hello {first_name|there}", django_capture_on_commit_callbacks)
    assert tasks.restart_stalled_note_renders() == 0
    Campaign.objects.filter(pk=campaign.pk).update(notes_render_beat_at=timezone.now() - dt.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.restart_stalled_note_renders() == 1
    assert enqueued[-1] == (campaign.pk, 2, 0)
    tasks.render_notes(*enqueued[-1])
    assert campaign.requests.filter(note__startswith="Hello Q").count() == 20


def test_a_short_queue_is_rendered_in_the_request(make_campaign, owner_client, enqueued,
                                                  django_capture_on_commit_callbacks):
    campaign = make_campaign("Short", Campaign.State.ACTIVE)
    queue(campaign, 20)
    edit(owner_client, campaign, "Hello {first_name|there}", django_capture_on_commit_callbacks)
    assert not enqueued and not campaign.is_rendering_notes
    assert campaign.requests.filter(note__startswith="Hello Q").count() == 20


def test_a_look_up_renders_only_its_prospects_notes(make_campaign):
    campaign = make_campaign("Look-up", Campaign.State.ACTIVE, note_template="Hi {first_name}")
    queue(campaign, 5)
    prospect = Prospect.objects.create(profile_url="https://www.linkedin.com/in/someone-new")
    campaign.add_prospects([prospect])
    request = campaign.requests.get(prospect=prospect)
    assert request.note == "" and request.note_problem
    Prospect.objects.filter(pk=prospect.pk).update(first_name="Grace", profile_urn="urn:li:fsd_profile:ACoAAGrace01")

    with CaptureQueriesContext(connection) as queries, rows_fetched() as fetched:
        campaign.render_notes_of([prospect.pk])
    request.refresh_from_db()
    assert (request.note, request.note_problem) == ("Hi Grace", "")
    assert fetched["rows"] <= 2 and len(queries) <= 3


def test_the_task_goes_to_django_q(make_campaign, settings):
    from django_q.brokers import get_broker

    campaign = make_campaign("Enqueued", Campaign.State.ACTIVE)
    broker = get_broker()
    before = broker.queue_size()
    campaign.enqueue_note_render(3)
    if "orm" in settings.Q_CLUSTER:  # Redis is shared by other runs: only that it was accepted
        assert broker.queue_size() == before + 1


def test_the_campaign_page_shows_the_progress_and_refuses_a_launch_meanwhile(
    make_campaign, owner_client, enqueued, long_queue, django_capture_on_commit_callbacks
):
    campaign = make_campaign("Long", Campaign.State.DRAFT)
    queue(campaign, 20)
    edit(owner_client, campaign, "Hello {first_name|there}", django_capture_on_commit_callbacks)
    page_url = reverse("campaign_detail", args=[campaign.pk])

    html = owner_client.get(page_url).content.decode()
    assert 'id="notes-render-progress">Updating the queue: 0 of 20.' in html
    assert 'hx-trigger="every 3s"' in html  # its progress shows as the task goes
    assert "Updating the queue: 0 of 20: launch once the queue is updated." in html
    assert campaign.launch_problems() == ["Updating the queue: 0 of 20: launch once the queue is updated."]

    status = reverse("campaign_status", args=[campaign.pk])
    token = re.search(r'[?&](?:amp;)?v=([0-9.]+)', html).group(1)
    assert owner_client.get(status, {"v": token}).status_code == 204
    tasks.render_notes(*enqueued[0])
    assert owner_client.get(status, {"v": token}).status_code == 286  # redrawn: done, and nothing moves
    campaign.refresh_from_db()
    assert campaign.launch_problems() == []
