"""The campaign pages: list, create and edit, a campaign's page, its live status, and the
actions a person takes on a campaign or on one invitation."""

import datetime as dt
import itertools
import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import REQUEST_TABS, Campaign, ConnectionRequest, Event, Prospect, Sender
from tests.helpers import count_queries, fingerprint_in, page_url

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
SERIAL = itertools.count()


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob")


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def sender(ada):
    """The default sender, which ada may send from (campaigns launch only on such a sender)."""
    sender = Sender.get()
    sender.users.add(ada)
    return sender


@pytest.fixture
def account(always_open, sender):
    """Sending allowed at any moment, so a queued invitation's reason is the sender's own."""
    return always_open


# Not tests.helpers.add_request: these rows need the prospect's own fields, or no URN at all (a look-up).
def add_prospect(campaign, state=State.QUEUED, urn=True, **prospect_fields):
    serial = next(SERIAL)
    prospect_fields.setdefault("first_name", f"Pat{serial}")
    prospect = Prospect.objects.create(
        profile_urn=f"urn:li:fsd_profile:ACoAACampaign{serial}" if urn else None,
        profile_url=f"https://www.linkedin.com/in/pat-{serial}",
        **prospect_fields,
    )
    return ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect, state=state)


def text_of(html):
    """The text a reader sees: tags dropped and entities read, as in a browser's textContent."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def message_texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- The list -------------------------------------------------------------------------------------


def test_list_shows_each_current_campaign_with_its_counts(ada_client, ada, make_campaign, bob, account):
    mine = make_campaign("Lisbon founders", Campaign.State.ACTIVE, owner=ada)
    add_prospect(mine, State.SENT)
    add_prospect(mine, State.PENDING)
    add_prospect(mine, State.QUEUED)
    add_prospect(mine, State.QUEUED)
    add_prospect(mine, State.NOT_SENT)
    make_campaign("Berlin CTOs", Campaign.State.DRAFT, owner=bob)
    make_campaign("Old one", Campaign.State.ARCHIVED, owner=ada)

    response = ada_client.get(reverse("campaign_list"))
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Campaigns</h1>" in html
    assert f'href="{reverse("campaign_create")}"' in html and "New campaign" in html
    assert "Lisbon founders" in html and "Berlin CTOs" in html and "bob" in html
    assert "Old one" not in html
    assert "Sent 1" in html and "With OutX 1" in html and "Queued 2" in html and "Not sent 1" in html
    assert "Failed 0" in html
    assert "<svg class=\"progress\"" in html
    assert "style=" not in html


def test_list_shows_archived_campaigns_when_asked(ada_client, ada, make_campaign):
    make_campaign("Current one", Campaign.State.DRAFT, owner=ada)
    make_campaign("Old one", Campaign.State.ARCHIVED, owner=ada)

    html = ada_client.get(reverse("campaign_list"), {"show": "archived"}).content.decode()

    assert "Old one" in html and "Current one" not in html
    assert "Show current campaigns" in html


def test_list_paginates_by_25(ada_client, ada, make_campaign):
    for i in range(27):
        make_campaign(f"Campaign {i:02}", Campaign.State.DRAFT, owner=ada)

    first = ada_client.get(reverse("campaign_list")).content.decode()
    second = ada_client.get(reverse("campaign_list"), {"page": 2}).content.decode()

    assert first.count("/campaigns/") - second.count("/campaigns/") == 23  # 25 rows against 2
    assert "Page 1 of 2" in first and "Page 2 of 2" in second


def test_list_queries_do_not_grow_with_campaigns(ada_client, ada, make_campaign, account):
    for i in range(2):
        add_prospect(make_campaign(f"Few {i}", Campaign.State.DRAFT, owner=ada))
    few = count_queries(ada_client, reverse("campaign_list"))
    for i in range(30):
        campaign = make_campaign(f"Many {i}", Campaign.State.DRAFT, owner=ada)
        add_prospect(campaign)
        add_prospect(campaign, State.SENT)
    assert count_queries(ada_client, reverse("campaign_list")) == few


# --- Create and edit ---------------------------------------------------------------------------------


def test_create_form_has_name_note_and_save(ada_client):
    response = ada_client.get(reverse("campaign_create"))
    html = response.content.decode()

    assert response.status_code == 200
    assert re.search(r'<label for="id_name">Name</label>', html)
    assert re.search(r'<label for="id_note_template">Note</label>', html)
    assert 'name="note_template"' in html
    assert re.search(r"<button[^>]*>Save</button>", html)


def test_create_makes_the_user_the_owner_and_normalises_line_breaks(ada_client, ada, sender):
    response = ada_client.post(
        reverse("campaign_create"),
        {"name": "Lisbon founders", "senders": sender.pk, "note_template": "Hi {first_name|there},\r\nlet's talk."},
    )

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == page_url(campaign)
    assert campaign.owner == ada and campaign.state == Campaign.State.DRAFT
    assert list(campaign.senders.all()) == [sender]
    assert campaign.note_template == "Hi {first_name|there},\nlet's talk."
    assert "Campaign “Lisbon founders” created. Add prospects to it next." in message_texts(response)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("a" * 301, "The template as typed is 301 characters long; LinkedIn allows at most 300."),
        ("Hi {nickname}", "Unknown variable {nickname}"),
    ],
)
def test_create_refuses_a_template_outx_would_refuse(ada_client, template, reason):
    response = ada_client.post(reverse("campaign_create"), {"name": "Lisbon", "note_template": template})

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_crlf_template_of_300_characters_counts_as_300(ada_client, sender):
    template = "a" * 149 + "\r\n" + "b" * 150  # 301 with CRLF, 300 as OutX counts it

    response = ada_client.post(reverse("campaign_create"), {"name": "Edge", "senders": sender.pk, "note_template": template})

    assert response.status_code == 302
    assert Campaign.objects.get().note_template == "a" * 149 + "\n" + "b" * 150


def test_edit_saves_and_refreshes_queued_notes(ada_client, ada, make_campaign, sender):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)
    queued = add_prospect(campaign, first_name="Maria")
    sent = add_prospect(campaign, State.SENT, first_name="João")
    ConnectionRequest.objects.filter(pk=sent.pk).update(note="Hi João")

    form = ada_client.get(reverse("campaign_edit", args=[campaign.pk])).content.decode()
    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        {"name": "Renamed", "senders": sender.pk, "note_template": "Hello {first_name}\r\n!"},
    )

    assert "Hi {first_name|there}" in form and 'value="Lisbon founders"' in form
    assert response.status_code == 302 and response["Location"] == page_url(campaign)
    campaign.refresh_from_db()
    assert campaign.name == "Renamed" and campaign.note_template == "Hello {first_name}\n!"
    queued.refresh_from_db()
    sent.refresh_from_db()
    assert queued.note == "Hello Maria\n!"
    assert sent.note == "Hi João"  # frozen once it left the queue


def test_edit_refuses_a_301_character_template(ada_client, ada, make_campaign):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)

    response = ada_client.post(reverse("campaign_edit", args=[campaign.pk]), {"name": "X", "note_template": "é" * 301})

    assert response.status_code == 200
    assert "The template as typed is 301 characters long; LinkedIn allows at most 300." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "Lisbon founders" and campaign.note_template == "Hi {first_name|there}"


def test_edit_refuses_a_variable_a_queued_prospect_has_no_value_for(ada_client, ada, make_campaign):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)
    add_prospect(campaign, first_name="Maria", company="Feedzai")
    add_prospect(campaign, first_name="Rui", last_name="Costa")  # no company

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]), {"name": "X", "note_template": "Hi {first_name} at {company}"}
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "1 queued prospect would get a note that cannot be sent:" in html
    assert "Rui Costa: No value for {company} and no fallback" in html
    assert "Maria" not in html.split("cannot be sent:")[1].split("</ul>")[0]
    assert Campaign.objects.get().note_template == "Hi {first_name|there}"


def test_edit_refuses_a_template_too_long_for_one_queued_prospect(ada_client, ada, make_campaign):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)
    add_prospect(campaign, first_name="Maria", company="C" * 60)

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]), {"name": "X", "note_template": "a" * 250 + " {company}"}
    )

    assert response.status_code == 200
    assert "Maria: The note is 311 characters long; LinkedIn allows at most 300." in response.content.decode()


def test_staff_may_edit_anyones_campaign(client, ada, make_campaign):
    client.force_login(User.objects.create_user("admin", is_staff=True))
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)

    response = client.post(
        reverse("campaign_edit", args=[campaign.pk]), {"name": "By staff", "senders": Sender.get().pk, "note_template": ""}
    )

    assert response.status_code == 302
    assert Campaign.objects.get().name == "By staff"


# --- Another user may look but not change --------------------------------------------------------------


def test_another_user_cannot_edit(bob_client, ada, make_campaign):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)

    assert bob_client.get(reverse("campaign_edit", args=[campaign.pk])).status_code == 403
    response = bob_client.post(reverse("campaign_edit", args=[campaign.pk]), {"name": "Mine now", "note_template": ""})

    assert response.status_code == 403
    assert Campaign.objects.get().name == "Lisbon founders"


def test_another_user_sees_the_campaign_without_its_controls(bob_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    add_prospect(campaign, State.QUEUED)
    add_prospect(campaign, State.UNCERTAIN)

    response = bob_client.get(page_url(campaign))
    html = response.content.decode()

    assert response.status_code == 200
    assert "Lisbon founders" in html and "ada" in html
    assert ">Edit<" not in html and ">Pause<" not in html and ">Archive<" not in html
    assert ">Retry<" not in html and ">Remove<" not in html
    assert bob_client.get(reverse("campaign_status", args=[campaign.pk])).status_code == 200


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (Campaign.State.DRAFT, "launch"),
        (Campaign.State.ACTIVE, "pause"),
        (Campaign.State.PAUSED, "resume"),
        (Campaign.State.ACTIVE, "archive"),
    ],
)
def test_another_user_cannot_move_the_campaign(bob_client, ada, make_campaign, state, action):
    campaign = make_campaign(owner=ada, state=state)
    add_prospect(campaign)

    response = bob_client.post(reverse("campaign_action", args=[campaign.pk, action]))

    assert response.status_code == 403
    assert Campaign.objects.get().state == state
    assert not Event.objects.filter(campaign=campaign).exists()


@pytest.mark.parametrize(("state", "action"), [(State.UNCERTAIN, "retry"), (State.UNCERTAIN, "close"), (State.QUEUED, "remove")])
def test_another_user_cannot_act_on_an_invitation(bob_client, ada, make_campaign, state, action):
    row = add_prospect(make_campaign(owner=ada, state=Campaign.State.ACTIVE), state)

    response = bob_client.post(reverse("request_action", args=[row.pk, action]))

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.state == state


# --- Moving a campaign ---------------------------------------------------------------------------------


def test_launch_freezes_notes_records_who_and_activates(ada_client, ada, make_campaign, account):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)
    row = add_prospect(campaign, first_name="Maria")

    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))

    assert response.status_code == 302 and response["Location"] == page_url(campaign)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.ACTIVE and campaign.launched_at is not None
    assert Event.objects.get(campaign=campaign, connection_request=None).cause == "Launched by ada"
    row.refresh_from_db()
    assert row.note == "Hi Maria"
    assert "Launched “Lisbon founders”." in message_texts(response)


@pytest.mark.parametrize(
    ("note", "prospect_fields", "reason"),
    [
        ("a" * 250 + " {company}", {"first_name": "Maria", "company": "C" * 60},
         "Maria: The note is 311 characters long; LinkedIn allows at most 300."),
        ("Hi {first_name} from {company}", {"first_name": "Rui"},
         "Rui: No value for {company} and no fallback (write {company|…})."),
    ],
)
def test_launch_is_refused_while_a_note_cannot_be_sent(ada_client, ada, make_campaign, sender, note, prospect_fields, reason):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada, note_template=note)
    add_prospect(campaign, **prospect_fields)
    campaign.render_queued_notes()  # as adding prospects does: each note's problem is stored

    page = ada_client.get(page_url(campaign)).content.decode()
    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))

    assert reason in page
    assert re.search(r'<button[^>]*disabled aria-describedby="launch-problems"[^>]*>Launch</button>', page)
    assert response.status_code == 302
    assert reason in message_texts(response)
    assert Campaign.objects.get().state == Campaign.State.DRAFT


def test_launch_is_refused_without_prospects(ada_client, ada, make_campaign, sender):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)

    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))

    assert "Add prospects to the campaign first: nobody is queued." in message_texts(response)
    assert Campaign.objects.get().state == Campaign.State.DRAFT


def test_pause_resume_and_archive(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    add_prospect(campaign)
    action = lambda name: ada_client.post(reverse("campaign_action", args=[campaign.pk, name]))  # noqa: E731

    assert action("pause").status_code == 302
    assert Campaign.objects.get().state == Campaign.State.PAUSED
    assert ">Resume</button>" in ada_client.get(page_url(campaign)).content.decode()
    assert action("resume").status_code == 302
    assert Campaign.objects.get().state == Campaign.State.ACTIVE
    assert action("archive").status_code == 302
    assert Campaign.objects.get().state == Campaign.State.ARCHIVED
    causes = list(Event.objects.filter(campaign=campaign, connection_request=None).values_list("cause", flat=True))
    assert causes == ["Paused by ada", "Resumed by ada", "Archived by ada"]


def test_a_move_the_state_does_not_allow_changes_nothing(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    add_prospect(campaign)

    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))

    assert "The campaign is active: it cannot be launched." in message_texts(response)
    assert not Event.objects.exists()


def test_unknown_campaign_action_is_404_and_get_is_refused(ada_client, ada, make_campaign):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)

    assert ada_client.post(reverse("campaign_action", args=[campaign.pk, "explode"])).status_code == 404
    assert ada_client.get(reverse("campaign_action", args=[campaign.pk, "launch"])).status_code == 405


# --- The campaign's page -------------------------------------------------------------------------------


def test_page_shows_the_campaign_its_counts_actions_and_links(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    add_prospect(campaign, State.SENT)
    add_prospect(campaign, State.QUEUED)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "<h1>Lisbon founders</h1>" in html and "Hi {first_name|there}" in html
    assert "State: <span" in html and "Active</span>" in html
    assert "Sent <span class=\"state-count\">1</span>" in html
    assert "Queued <span class=\"state-count\">1</span>" in html
    assert ">Pause</button>" in html and ">Archive</button>" in html and ">Launch</button>" not in html
    assert f'href="{reverse("campaign_edit", args=[campaign.pk])}">Edit</a>' in html
    assert reverse("prospects_add", args=[campaign.pk]) in html
    assert reverse("prospects_import", args=[campaign.pk]) in html
    assert "style=" not in html


def test_rows_say_why_they_wait(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    now = timezone.now()
    rows = {
        "next": add_prospect(campaign, first_name="Next", company="Feedzai"),
        "problem": add_prospect(campaign, first_name="Problem"),
        "lookup": add_prospect(campaign, urn=False, first_name="Lookup"),
        "lookup_failed": add_prospect(campaign, urn=False, first_name="Failed", lookup_error="OutX could not read the profile."),
        "pending": add_prospect(campaign, State.PENDING, first_name="Pending"),
        "stale": add_prospect(campaign, State.PENDING, first_name="Stale"),
        "uncertain": add_prospect(campaign, State.UNCERTAIN, first_name="Uncertain"),
        "submitting": add_prospect(campaign, State.SUBMITTING, first_name="Submitting"),
    }
    ConnectionRequest.objects.filter(pk=rows["problem"].pk).update(note_problem="No value for {company} and no fallback.")
    ConnectionRequest.objects.filter(pk=rows["pending"].pk).update(submitted_at=now - dt.timedelta(hours=2))
    ConnectionRequest.objects.filter(pk=rows["stale"].pk).update(submitted_at=now - dt.timedelta(days=9))

    html = ada_client.get(page_url(campaign)).content.decode()

    def row_html(name):
        return re.search(rf'<tr id="request-{rows[name].pk}".*?</tr>', html, re.S).group(0)

    assert "Next in line" in row_html("next")
    assert 'href="https://www.linkedin.com/in/pat-' in row_html("next") and "Feedzai" in row_html("next")
    assert "No value for {company} and no fallback." in row_html("problem")
    assert "Looking up the LinkedIn profile" in row_html("lookup")
    assert "OutX could not read the profile." in row_html("lookup_failed")
    assert "Waiting for OutX's extension to send it (submitted 2\xa0hours ago)" in text_of(row_html("pending"))
    assert re.search(r'<time datetime="[^"]+" data-relative-since="\d+">2\xa0hours</time>', row_html("pending"))
    assert "Stale" not in row_html("pending")
    assert "Stale: waiting for OutX's extension for more than 7 days" in text_of(row_html("stale"))
    assert "OutX may or may not have received it: check LinkedIn, then retry or close" in row_html("uncertain")
    assert ">Retry</button>" in row_html("uncertain") and ">Close</button>" in row_html("uncertain")
    assert ">Remove</button>" in row_html("next")
    assert "Being submitted now" in row_html("submitting")


def test_queued_rows_give_the_accounts_reason_or_the_campaigns_state(ada_client, ada, make_campaign, account):
    account.set_state(Sender.State.EXTENSION_OFFLINE, "Waiting for the OutX extension to come online.")
    active = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    paused = make_campaign("Paused one", Campaign.State.PAUSED, owner=ada)
    add_prospect(active)
    add_prospect(paused)

    active_html = ada_client.get(page_url(active)).content.decode()
    paused_html = ada_client.get(page_url(paused)).content.decode()

    # The cause is the banner's, once per screen; a row names the sender's state only.
    assert active_html.count("Waiting for the OutX extension to come online.") == 1
    assert '<td class="request-waiting">Team LinkedIn account is stopped: OutX extension offline (see the notice at the top)' in active_html
    assert '<td class="request-waiting">Campaign is paused' in paused_html


def test_rows_filter_by_state_and_paginate_by_50(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    for _ in range(52):
        add_prospect(campaign, State.SENT)
    add_prospect(campaign, State.QUEUED)

    first = ada_client.get(page_url(campaign)).content.decode()
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = ada_client.get(next_url).content.decode()
    back_url = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    back = ada_client.get(back_url).content.decode()
    queued = ada_client.get(page_url(campaign), {"state": "queued"}).content.decode()
    nonsense = ada_client.get(page_url(campaign), {"state": "nonsense", "after": "x1"})

    rows = lambda html: re.findall(r'id="request-(\d+)" class="request-row"', html)  # noqa: E731
    assert len(rows(first)) == 50 and 'rel="prev"' not in first and ">First<" not in first
    assert len(rows(second)) == 3 and 'rel="next"' not in second and ">First<" in second
    assert set(rows(first)).isdisjoint(rows(second)) and len(set(rows(first) + rows(second))) == 53
    assert rows(back) == rows(first)
    assert len(rows(queued)) == 1 and 'rel="next"' not in queued
    assert nonsense.status_code == 200 and len(rows(nonsense.content.decode())) == 50


def test_page_queries_do_not_grow_with_rows(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    for state in (State.QUEUED, State.PENDING, State.UNCERTAIN):
        add_prospect(campaign, state)
    count_queries(ada_client, page_url(campaign))
    few = count_queries(ada_client, page_url(campaign))
    for state in (State.QUEUED, State.PENDING, State.UNCERTAIN, State.SENT, State.SUBMITTING) * 20:
        add_prospect(campaign, state, urn=state != State.SUBMITTING)
    assert count_queries(ada_client, page_url(campaign)) == few
    assert count_queries(ada_client, page_url(campaign), state="queued") == few


# --- Live status -----------------------------------------------------------------------------------------


def test_status_answers_204_while_nothing_changed_and_the_partial_when_something_did(
    ada_client, ada, make_campaign, account
):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    row = add_prospect(campaign, State.PENDING)
    add_prospect(campaign, State.QUEUED)
    page = ada_client.get(page_url(campaign)).content.decode()
    fingerprint = fingerprint_in(page)
    assert 'hx-trigger="every 3s"' in page

    unchanged = ada_client.get(reverse("campaign_status", args=[campaign.pk]), {"v": fingerprint}, HTTP_HX_REQUEST="true")
    row.move_to(State.SENT, "OutX reports the invitation sent.")
    changed = ada_client.get(reverse("campaign_status", args=[campaign.pk]), {"v": fingerprint}, HTTP_HX_REQUEST="true")
    html = changed.content.decode()

    assert unchanged.status_code == 204 and unchanged.content == b""
    assert changed.status_code == 200
    assert html.lstrip().startswith('<section id="campaign-status"')
    assert "<html" not in html and "Sent <span class=\"state-count\">1</span>" in html
    assert fingerprint_in(html) != fingerprint
    again = ada_client.get(reverse("campaign_status", args=[campaign.pk]), {"v": fingerprint_in(html)}, HTTP_HX_REQUEST="true")
    assert again.status_code == 204


def test_status_notices_a_profile_look_up_and_the_account_pausing(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    row = add_prospect(campaign, urn=False)
    url = reverse("campaign_status", args=[campaign.pk])
    fingerprint = fingerprint_in(ada_client.get(page_url(campaign)).content.decode())

    # The worker learns the URN with a plain update, which leaves updated_at alone.
    Prospect.objects.filter(pk=row.prospect_id).update(profile_urn="urn:li:fsd_profile:ACoAALookedUp")
    looked_up = ada_client.get(url, {"v": fingerprint}, HTTP_HX_REQUEST="true")
    assert looked_up.status_code == 200 and "Next in line" in looked_up.content.decode()

    account.set_state(Sender.State.LIMIT_REACHED, "Account paused: LinkedIn invitation limit reached.")
    paused = ada_client.get(url, {"v": fingerprint_in(looked_up.content.decode())}, HTTP_HX_REQUEST="true")
    assert paused.status_code == 200
    assert "is stopped: LinkedIn invitation limit reached" in paused.content.decode()


def test_status_answers_286_once_every_invitation_is_settled(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    row = add_prospect(campaign, State.PENDING)
    add_prospect(campaign, State.FAILED)
    add_prospect(campaign, State.UNCERTAIN)
    fingerprint = fingerprint_in(ada_client.get(page_url(campaign)).content.decode())

    row.move_to(State.NOT_SENT, "The task completed without sending.")
    response = ada_client.get(reverse("campaign_status", args=[campaign.pk]), {"v": fingerprint}, HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 286
    assert "Not sent <span class=\"state-count\">1</span>" in html
    assert "hx-trigger" not in html


def test_status_keeps_the_pages_filter_and_page(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    for _ in range(3):
        add_prospect(campaign, State.PENDING)
    add_prospect(campaign, State.QUEUED)

    page = ada_client.get(page_url(campaign), {"state": "pending"}).content.decode()
    poll = re.search(r'hx-get="([^"]*)"', page).group(1).replace("&amp;", "&")
    response = ada_client.get(poll.replace("v=", "v=old"), HTTP_HX_REQUEST="true")

    assert "state=pending" in poll
    assert response.content.decode().count('class="request-row"') == 3


@pytest.mark.parametrize(
    ("campaign_state", "request_states"),
    [
        (Campaign.State.DRAFT, [State.QUEUED]),
        (Campaign.State.PAUSED, [State.QUEUED, State.ACCEPTED]),  # queued, but the campaign sends nothing
        (Campaign.State.ARCHIVED, [State.ACCEPTED, State.NOT_SENT]),
        (Campaign.State.ACTIVE, [State.ACCEPTED, State.NOT_SENT, State.SKIPPED, State.FAILED, State.UNCERTAIN]),
        (Campaign.State.ACTIVE, []),
    ],
)
def test_page_does_not_poll_when_nothing_can_change(
    ada_client, ada, make_campaign, account, campaign_state, request_states
):
    campaign = make_campaign(owner=ada, state=campaign_state)
    for state in request_states:
        add_prospect(campaign, state)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert 'id="campaign-status"' in html
    assert "hx-trigger" not in html and "hx-get" not in html


@pytest.mark.parametrize(
    ("campaign_state", "request_states", "every"),
    [
        (Campaign.State.ACTIVE, [State.QUEUED, State.SENT], "3s"),
        (Campaign.State.PAUSED, [State.PENDING], "3s"),  # OutX is asked until it answers
        (Campaign.State.ARCHIVED, [State.SUBMITTING], "3s"),
        # Only sent invitations left: any may be accepted later, in any campaign state.
        (Campaign.State.ACTIVE, [State.SENT, State.ACCEPTED, State.NOT_SENT], "60s"),
        (Campaign.State.PAUSED, [State.SENT, State.QUEUED], "60s"),
        (Campaign.State.ARCHIVED, [State.SENT], "60s"),
    ],
)
def test_page_polls_slower_but_never_stops_while_an_invitation_may_be_accepted(
    ada_client, ada, make_campaign, account, campaign_state, request_states, every
):
    campaign = make_campaign(owner=ada, state=campaign_state)
    for state in request_states:
        add_prospect(campaign, state)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert f'hx-trigger="every {every}"' in html


def test_an_acceptance_reaches_an_open_page_and_is_announced(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    waiting = [add_prospect(campaign, State.PENDING), add_prospect(campaign, State.PENDING)]
    sent = add_prospect(campaign, State.SENT)
    page = ada_client.get(page_url(campaign)).content.decode()
    poll = re.search(r'hx-get="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert '<p id="campaign-announcer" class="visually-hidden" role="status" aria-live="polite"' in page
    assert "hx-swap-oob" not in page  # nothing to say on the first load

    quiet = ada_client.get(poll, HTTP_HX_REQUEST="true")
    for row in waiting:
        row.move_to(State.SENT, "OutX reports the invitation sent.")
    sent.move_to(State.ACCEPTED, "Now a connection.")
    changed = ada_client.get(poll, HTTP_HX_REQUEST="true")
    html = changed.content.decode()

    assert quiet.status_code == 204 and quiet.content == b""
    assert changed.status_code == 200 and 'hx-trigger="every 60s"' in html  # slower, not stopped
    assert '<p id="campaign-announcer" hx-swap-oob="innerHTML">2 invitations sent, 1 accepted.</p>' in html
    assert html.count("hx-swap-oob") == 1  # the table itself is not announced

    # The next poll compares with what the page shows now: nothing new to say.
    newer = re.search(r'hx-get="([^"]*)"', html).group(1).replace("&amp;", "&")
    assert ada_client.get(newer, HTTP_HX_REQUEST="true").status_code == 204
    campaign.move_to(Campaign.State.PAUSED, "Paused by ada")
    paused = ada_client.get(newer, HTTP_HX_REQUEST="true").content.decode()
    assert '<p id="campaign-announcer" hx-swap-oob="innerHTML">The campaign is paused now.</p>' in paused


@pytest.mark.parametrize("seen", ["", "nonsense", "active.1-2", "active.a-b-c-d-e-f-g-h-i", "gone.0-0-0-0-0-0-0-0-0"])
def test_a_poll_from_an_unknown_page_announces_nothing(ada_client, ada, make_campaign, account, seen):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    add_prospect(campaign, State.PENDING)

    response = ada_client.get(reverse("campaign_status", args=[campaign.pk]), {"v": "old", "seen": seen})

    assert response.status_code == 200 and "hx-swap-oob" not in response.content.decode()


def test_tabs_show_states_with_invitations_and_sent_counts_the_accepted(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    for state in (State.SENT, State.SENT, State.ACCEPTED, State.QUEUED):
        add_prospect(campaign, state)

    html = ada_client.get(page_url(campaign)).content.decode()
    tabs = re.search(r'<nav class="state-filter" aria-label="Show invitations by state">.*?</nav>', html, re.S).group(0)
    sent_tab = ada_client.get(page_url(campaign), {"state": "sent"}).content.decode()
    accepted_tab = ada_client.get(page_url(campaign), {"state": "accepted"}).content.decode()
    empty_tab = ada_client.get(page_url(campaign), {"state": "failed"}).content.decode()

    assert re.findall(r">([^<>]+) <span class=\"state-count\">(\d+)</span>", tabs) == [
        ("All", "4"), ("Queued", "1"), ("Sent", "3"), ("Accepted", "1"),
    ]
    assert "Sent 3 (1 accepted)" in html  # the progress bar agrees with the tab
    assert sent_tab.count('class="request-row"') == 3 and accepted_tab.count('class="request-row"') == 1
    assert 'aria-current="page">Failed <span class="state-count">0</span>' in empty_tab  # the one chosen stays
    assert set(REQUEST_TABS) == set(State.values)  # every state has its tab


def test_status_queries_do_not_grow_with_rows(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    add_prospect(campaign, State.PENDING)
    add_prospect(campaign, State.QUEUED)
    url = reverse("campaign_status", args=[campaign.pk])
    count_queries(ada_client, url)
    fingerprint = fingerprint_in(ada_client.get(page_url(campaign)).content.decode())
    unchanged_few, changed_few = count_queries(ada_client, url, v=fingerprint), count_queries(ada_client, url, v="old")

    for state in (State.QUEUED, State.PENDING, State.SENT, State.UNCERTAIN) * 20:
        add_prospect(campaign, state)
    fingerprint = fingerprint_in(ada_client.get(page_url(campaign)).content.decode())

    assert count_queries(ada_client, url, v=fingerprint) == unchanged_few
    assert count_queries(ada_client, url, v="old") == changed_few
    assert unchanged_few <= 5  # session, user, campaign, account, one aggregate


# --- Acting on one invitation --------------------------------------------------------------------------


def test_retry_puts_an_uncertain_invitation_back_in_the_queue(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    row = add_prospect(campaign, State.UNCERTAIN, first_name="Maria")

    response = ada_client.post(reverse("request_action", args=[row.pk, "retry"]), {"state": "uncertain"})

    assert response.status_code == 302 and response["Location"] == page_url(campaign) + "?state=uncertain"
    row.refresh_from_db()
    assert row.state == State.QUEUED and row.note == "Hi Maria"
    assert row.events.get().cause == "ada checked and put it back in the queue."
    assert "Put back in the queue: Maria." in message_texts(response)


def test_close_and_remove(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    uncertain = add_prospect(campaign, State.UNCERTAIN)
    queued = add_prospect(campaign, State.QUEUED)

    ada_client.post(reverse("request_action", args=[uncertain.pk, "close"]))
    ada_client.post(reverse("request_action", args=[queued.pk, "remove"]))

    uncertain.refresh_from_db()
    queued.refresh_from_db()
    assert uncertain.state == State.SKIPPED and queued.state == State.SKIPPED
    assert queued.events.get().cause == "Removed by ada before submission."


def test_an_action_the_state_does_not_allow_changes_nothing(ada_client, ada, make_campaign):
    row = add_prospect(make_campaign(owner=ada, state=Campaign.State.ACTIVE), State.PENDING, first_name="Maria")

    response = ada_client.post(reverse("request_action", args=[row.pk, "remove"]))

    assert response.status_code == 302
    assert "Nothing changed: the invitation to Maria is with OutX now." in message_texts(response)
    row.refresh_from_db()
    assert row.state == State.PENDING and not row.events.exists()


def test_unknown_request_action_is_404(ada_client, ada, make_campaign):
    row = add_prospect(make_campaign(state=Campaign.State.DRAFT, owner=ada), State.UNCERTAIN)

    assert ada_client.post(reverse("request_action", args=[row.pk, "resend"])).status_code == 404
    assert ada_client.get(reverse("request_action", args=[row.pk, "retry"])).status_code == 405


def test_htmx_action_answers_the_updated_row(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    row = add_prospect(campaign, State.QUEUED, first_name="Maria")

    response = ada_client.post(reverse("request_action", args=[row.pk, "remove"]), HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="request-{row.pk}"')
    assert "Skipped" in html and "Removed before submission: Maria." in html
    assert ">Remove</button>" not in html
    assert not message_texts(response)  # said in the row, not left for the next page


# --- In a real browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_follows_its_invitations_live_and_stops_polling(page, live_server, make_campaign):
    """One poll per 3 s; quiet polls swap nothing; the last change stops the polling (nothing
    sent waits for an acceptance: tests/test_live_campaign_browser.py has the slow polling)."""
    owner = User.objects.create_user("maya", password="a long demo password")
    Sender.get()
    campaign = make_campaign(owner=owner, state=Campaign.State.ACTIVE)
    row = add_prospect(campaign, State.PENDING, first_name="Maria")
    ConnectionRequest.objects.filter(pk=row.pk).update(submitted_at=timezone.now())
    row.refresh_from_db()
    polls = []
    page.on("response", lambda response: polls.append(response.status) if "/status/" in response.url else None)

    page.goto(live_server.url + page_url(campaign))
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("a long demo password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("tbody")).to_contain_text("With OutX")
    page.evaluate("window.__notReloaded = true")
    with page.expect_response(lambda response: "/status/" in response.url, timeout=5000):
        pass
    assert polls == [204]

    row.move_to(State.NOT_SENT, "The task completed without sending.")
    expect(page.locator("tbody")).to_contain_text("Not sent", timeout=8000)
    assert polls[-1] == 286
    expect(page.locator("#campaign-status")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    assert page.evaluate("window.__notReloaded") is True
