"""Django's admin stays for operators, to read: the worker's own fields are read-only, and the
rows only the product makes (invitations, look-ups, searches, events, senders) cannot be
added there."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from campaigns.models import Event, ProfileLookup, ProfileSearch, Prospect, Sender
from tests.helpers import State, add_request

pytestmark = pytest.mark.django_db

WORKER_FIELDS = [
    "state", "outx_task_id", "task_output", "attempts", "poll_count", "last_error", "submitted_at", "claimed_by",
    "claimed_at", "completed_at", "next_poll_at",
]


@pytest.fixture
def operator():
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def inputs(html: str) -> set[str]:
    """The names of the form fields a person could change on the page."""
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html))


@pytest.mark.parametrize("model", ["connectionrequest", "profilelookup", "profilesearch", "sender", "event"])
def test_rows_the_product_makes_cannot_be_added_in_the_admin(operator, model):
    assert operator.get(reverse(f"admin:campaigns_{model}_add")).status_code == 403
    changelist = operator.get(reverse(f"admin:campaigns_{model}_changelist"))
    assert changelist.status_code == 200
    assert reverse(f"admin:campaigns_{model}_add") not in changelist.content.decode()


def test_an_invitations_worker_fields_are_read_only(operator, make_campaign):
    row = add_request(make_campaign(), State.PENDING, outx_task_id="task-7", claimed_by="worker-1", task_output={"sent": None})

    response = operator.get(reverse("admin:campaigns_connectionrequest_change", args=[row.pk]))

    assert response.status_code == 200
    editable = inputs(response.content.decode())
    assert not editable & {*WORKER_FIELDS, "note", "sender"}
    assert "task-7" in response.content.decode() and "worker-1" in response.content.decode()  # still shown


def test_a_lookup_and_a_search_are_read_only_where_the_worker_writes(operator):
    sender = Sender.get()
    prospect = Prospect.objects.create(profile_url="https://www.linkedin.com/in/someone")
    lookup = ProfileLookup.objects.create(prospect=prospect, sender=sender)
    search = ProfileSearch.objects.create(sender=sender, keywords="founder")

    lookup_page = operator.get(reverse("admin:campaigns_profilelookup_change", args=[lookup.pk])).content.decode()
    search_page = operator.get(reverse("admin:campaigns_profilesearch_change", args=[search.pk])).content.decode()

    assert not inputs(lookup_page) & {*WORKER_FIELDS, "sender"}
    assert not inputs(search_page) & {*WORKER_FIELDS, "sender", "requested_by", "previous"}


def test_a_senders_worker_fields_are_read_only_and_its_pacing_still_editable(operator):
    sender = Sender.get()

    editable = inputs(operator.get(reverse("admin:campaigns_sender_change", args=[sender.pk])).content.decode())

    worker = {
        "state", "state_cause", "state_changed_at", "resume_at", "next_due_at", "worked_by", "worked_until",
        "next_submission_at", "next_lookup_at", "next_search_at", "connections_task_id", "connections_task_start",
        "connections_next_poll_at", "connections_task_started_at", "next_acceptance_check_at",
        "last_acceptance_check_at", "retired_at", "api_key_encrypted", "key_fingerprint",
    }
    assert not {name.split("_0")[0].split("_1")[0] for name in editable} & worker
    assert {"daily_limit", "weekly_limit", "hourly_action_limit"} <= editable


def test_a_campaigns_worker_fields_are_read_only_and_its_invitations_cannot_be_added(operator, make_campaign):
    campaign = make_campaign(prospects=1)

    html = operator.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    editable = inputs(html)
    assert not editable & {"state", "launched_at", "last_submission_at", "brake_released_count", "paused_cause"}
    assert "name" in editable
    assert 'name="requests-MAX_NUM_FORMS" value="0"' in html  # the inline offers no new row


def test_events_are_not_added_or_changed(operator, make_campaign):
    campaign = make_campaign()
    event = Event.objects.create(campaign=campaign, from_state="draft", to_state="active", cause="Launched by ada")
    page = operator.get(reverse("admin:campaigns_event_change", args=[event.pk]))
    assert page.status_code == 200 and not inputs(page.content.decode()) & {"cause", "to_state", "at"}
