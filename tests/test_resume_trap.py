"""The resume trap (issue 13): a note with {company} and no fallback, prospects pasted as profile
URLs without a company, launched because "the look-up will fill it". Nothing may then wait in
the queue silently: a row the look-up could not fill leaves the queue, skipped with the reason
and counted; rows whose note cannot be sent are announced while the campaign runs, can all be
skipped at once, never keep the campaign from resuming, and follow the note when a fallback is
added in Edit. Only queued rows move, each through `move_to`."""

import json
import re

import httpx
import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.urls import reverse

from campaigns import outx
from campaigns.models import Campaign, ConnectionRequest, Event, Prospect, Sender
from campaigns.worker import run_tick
from tests.helpers import add_request, at, page_url

pytestmark = pytest.mark.django_db(transaction=True)

State = ConnectionRequest.State
NOTE = "Hi {first_name}, how is {company}?"
LENA = "https://www.linkedin.com/in/lena-ott-1a2b"  # LinkedIn shows no company for her
SABINE = "https://www.linkedin.com/in/sabine-krueger-7a1b2c"
AFTER_LOOKUP = "No value for {company} after the LinkedIn look-up, and no fallback (write {company|…})."


class FakeOutx:
    """OutX answering at once; fetch-profile reads Lena's profile without a company, the
    sandbox's answer we cannot get from it (it always names a company)."""

    PROFILES = {
        "lena-ott-1a2b": {"profile_urn": "ACoAALenaOtt", "first_name": "Lena", "last_name": "Ott"},
        "sabine-krueger-7a1b2c": {
            "profile_urn": "ACoAASabine", "first_name": "Sabine", "last_name": "Krueger", "company": "Hooli",
        },
    }

    def __init__(self):
        self.outputs = {}
        self.invited = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1]
        if request.method == "POST":
            body = json.loads(request.content)
            task_id = f"task-{len(self.outputs) + 1}"
            if endpoint == "fetch-profile":
                self.outputs[task_id] = {"profile": self.PROFILES[body["profile_slug"]]}
            elif endpoint == "send-connection-request":
                self.invited.append(body)
                self.outputs[task_id] = {"sent": True}
            else:
                self.outputs[task_id] = {"connections": []}
            return httpx.Response(200, json={"success": True, "api_agent_task_id": task_id, "message": "created"})
        task_id = request.url.params["api_agent_task_id"]
        task = {"id": task_id, "status": "completed", "task_input": {}, "task_output": self.outputs[task_id]}
        return httpx.Response(200, json={"success": True, "data": task})

    def run(self, seconds_list):
        with outx.OutxClient("https://outx.test", "key", transport=httpx.MockTransport(self.handle)) as client:
            for seconds in seconds_list:
                run_tick(now=at(seconds), client=client)


@pytest.fixture
def account(pacing_off, ada):
    pacing_off.users.add(ada)
    return pacing_off


@pytest.fixture
def bob_client(client):
    client.force_login(User.objects.create_user("bob"))
    return client


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def row_html(html, row):
    return re.search(rf'<tr id="request-{row.pk}".*?</tr>', html, re.S).group(0)


def add_url_prospects(campaign, *urls):
    campaign.add_prospects([Prospect.objects.create(profile_url=url) for url in urls])


def add_urn_prospects(campaign, count, **fields):
    """Prospects known by URN (no look-up to come) and without a company."""
    start = Prospect.objects.count()
    campaign.add_prospects([
        Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAATrap{start + i}", first_name=f"Tom{i}", **fields)
        for i in range(count)
    ])


# --- The trap, reproduced through the look-up -------------------------------------------------------


def test_a_row_the_look_up_could_not_fill_leaves_the_queue_counted_and_resume_stays_open(
    ada_client, ada, make_campaign, account
):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada, note_template=NOTE)
    add_url_prospects(campaign, LENA, SABINE)

    launched = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))
    assert launched.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.ACTIVE  # allowed: the look-up may fill {company}

    fake = FakeOutx()
    fake.run([0, 6, 12, 18, 24])

    lena = ConnectionRequest.objects.get(prospect__profile_url=LENA)
    sabine = ConnectionRequest.objects.get(prospect__profile_url=SABINE)
    assert lena.state == State.SKIPPED  # not left "Queued" for ever
    assert lena.events.last().cause == AFTER_LOOKUP
    assert sabine.state == State.SENT and sabine.note == "Hi Sabine, how is Hooli?"
    assert [body["note"] for body in fake.invited] == ["Hi Sabine, how is Hooli?"]  # Lena never invited

    html = ada_client.get(page_url(campaign)).content.decode()
    assert 'Skipped <span class="state-count">1</span>' in html  # counted, and its own tab
    assert "Skipped 1" in html  # the progress bar counts it too
    assert ">Queued <span" not in html  # no tab left for an empty state
    assert AFTER_LOOKUP in row_html(html, lena)  # why it left the queue, on its row

    ada_client.post(reverse("campaign_action", args=[campaign.pk, "pause"]))
    paused = ada_client.get(page_url(campaign)).content.decode()
    assert 'id="launch-problems"' not in paused and "No value for {company}" not in paused.replace(AFTER_LOOKUP, "")
    assert re.search(r"<button[^>]*>Resume</button>", paused)
    assert not re.search(r"<button[^>]*disabled[^>]*>Resume</button>", paused)


def test_a_look_up_in_a_draft_leaves_the_row_to_its_launch_check(make_campaign, account, ada):
    """Only a campaign launched on the look-up's promise loses the row; a draft's launch check
    lists it, with the fixes next to it."""
    draft = make_campaign("Draft", Campaign.State.DRAFT, owner=ada, note_template=NOTE)
    active = make_campaign("Active", Campaign.State.ACTIVE, owner=ada, note_template=NOTE)
    add_url_prospects(active, LENA)
    draft.add_prospects(Prospect.objects.filter(profile_url=LENA))

    FakeOutx().run([0, 6])

    assert active.requests.get().state == State.SKIPPED
    assert draft.requests.get().state == State.QUEUED
    assert draft.requests.unsendable().count() == 1


# --- Rows whose note cannot be sent while the campaign runs ----------------------------------------------


def test_the_running_page_warns_of_unsendable_rows_and_offers_one_skip(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template=NOTE)
    add_urn_prospects(campaign, 2)  # pasted by URN into the running campaign: no look-up will come
    add_urn_prospects(campaign, 1, company="Feedzai")

    html = ada_client.get(page_url(campaign)).content.decode()
    notice = re.search(r'<div class="campaign-unsendable" id="unsendable-notice">.*?</div>', html, re.S).group(0)
    assert "2 queued invitations cannot be sent as the note stands:" in notice
    assert "2: No value for {company} and no fallback (write {company|…})." in notice
    assert "Add a fallback to the note in" in notice and reverse("campaign_edit", args=[campaign.pk]) in notice
    skip_url = reverse("campaign_skip_unsendable", args=[campaign.pk])
    assert f'action="{skip_url}"' in notice and "Skip these invitations (2)" in notice
    assert "style=" not in html

    FakeOutx().run([0, 6])
    assert campaign.requests.filter(state=State.SENT).count() == 1  # Feedzai's went out
    assert campaign.requests.unsendable().count() == 2  # still queued, but said


def test_resume_is_not_blocked_by_rows_that_can_be_skipped(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template=NOTE)
    add_urn_prospects(campaign, 2)
    ada_client.post(reverse("campaign_action", args=[campaign.pk, "pause"]))

    html = ada_client.get(page_url(campaign)).content.decode()
    assert not re.search(r"<button[^>]*disabled[^>]*>Resume</button>", html)
    assert 'id="unsendable-notice"' in html  # the fix is offered, not forced

    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "resume"]))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.ACTIVE
    assert "Resumed “Lisbon founders”." in messages_of(response)


def test_resume_is_still_blocked_by_a_real_problem_with_its_fix_next_to_it(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template=NOTE)
    add_urn_prospects(campaign, 1)
    ada_client.post(reverse("campaign_action", args=[campaign.pk, "pause"]))
    campaign.senders.clear()

    html = ada_client.get(page_url(campaign)).content.decode()
    problems = re.search(r'<div class="launch-problems" id="launch-problems">.*?</div>\s*</div>', html, re.S).group(0)
    assert Campaign.NO_SENDER_PROBLEM in problems and "No value for {company}" not in problems
    assert f'href="{reverse("campaign_edit", args=[campaign.pk])}"' in problems
    assert re.search(r'<button[^>]*disabled aria-describedby="launch-problems"[^>]*>Resume</button>', html)


def test_a_draft_launch_lists_the_rows_with_the_skip_next_to_them(ada_client, ada, make_campaign, account):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada, note_template=NOTE)
    add_urn_prospects(campaign, 1)
    add_urn_prospects(campaign, 1, company="Feedzai")

    html = ada_client.get(page_url(campaign)).content.decode()
    problems = re.search(r'<div class="launch-problems" id="launch-problems">.*?</div>\s*</div>', html, re.S).group(0)
    assert "Tom0: No value for {company} and no fallback" in problems
    assert reverse("campaign_skip_unsendable", args=[campaign.pk]) in problems and "Skip this invitation" in problems

    ada_client.post(reverse("campaign_skip_unsendable", args=[campaign.pk]))
    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.ACTIVE, messages_of(response)


def test_skipping_moves_only_unsendable_queued_rows_each_with_its_reason(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template=NOTE)
    add_urn_prospects(campaign, 2)
    add_urn_prospects(campaign, 1, company="Feedzai")  # sendable: stays queued
    add_url_prospects(campaign, LENA)  # waits for its look-up: may still be filled
    sent = add_request(campaign, State.SENT, note="Hi Ann, how is Acme?")

    response = ada_client.post(reverse("campaign_skip_unsendable", args=[campaign.pk]))

    assert response.status_code == 302 and response["Location"] == page_url(campaign)
    assert "Skipped 2 invitations whose note cannot be sent." in messages_of(response)
    skipped = campaign.requests.filter(state=State.SKIPPED)
    assert skipped.count() == 2
    assert {row.events.last().cause for row in skipped} == {
        "Skipped by ada, the note cannot be sent: No value for {company} and no fallback (write {company|…})."
    }
    assert campaign.requests.filter(state=State.QUEUED).count() == 2  # Feedzai's and Lena's
    sent.refresh_from_db()
    assert sent.state == State.SENT and not sent.events.exists()

    again = ada_client.post(reverse("campaign_skip_unsendable", args=[campaign.pk]))
    assert "Nothing to skip: every queued invitation's note can be sent now." in messages_of(again)
    assert 'id="unsendable-notice"' not in ada_client.get(page_url(campaign)).content.decode()


def test_only_the_owner_or_an_admin_may_skip_and_only_by_post(bob_client, ada, make_campaign, account, client):
    campaign = make_campaign(owner=ada, note_template=NOTE)
    add_urn_prospects(campaign, 2)
    url = reverse("campaign_skip_unsendable", args=[campaign.pk])

    assert bob_client.post(url).status_code == 403
    assert bob_client.get(url).status_code == 405
    assert campaign.requests.filter(state=State.QUEUED).count() == 2
    assert not Event.objects.filter(connection_request__campaign=campaign).exists()
    html = bob_client.get(page_url(campaign)).content.decode()
    assert 'id="unsendable-notice"' in html and url not in html  # told, without the button

    client.force_login(User.objects.create_user("admin", is_staff=True))
    assert client.post(url).status_code == 302
    assert campaign.requests.filter(state=State.SKIPPED).count() == 2


def test_adding_a_fallback_in_edit_makes_the_queued_rows_sendable(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template=NOTE)
    add_urn_prospects(campaign, 2)
    assert campaign.requests.unsendable().count() == 2

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        {"name": campaign.name, "senders": Sender.get().pk, "note_template": "Hi {first_name}, how is {company|your team}?"},
    )

    assert response.status_code == 302
    assert campaign.requests.unsendable().count() == 0
    assert set(campaign.requests.values_list("note", "note_problem")) == {
        ("Hi Tom0, how is your team?", ""), ("Hi Tom1, how is your team?", ""),
    }
    assert ConnectionRequest.objects.submittable().filter(campaign=campaign).count() == 2
    assert 'id="unsendable-notice"' not in ada_client.get(page_url(campaign)).content.decode()
