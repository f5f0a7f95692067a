"""The pages with many senders: a campaign chooses its senders (only ones its person may use, or
403), Home has a card for each sender one may use and the team's total, the banner names each
stopped sender, and the campaign page, Review and the export show and filter by each invitation's
sender, at a cost in queries that does not grow with the rows."""

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, Event, Sender
from tests.helpers import add_request, count_queries, fingerprint_in, page_url, status_url, words

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
ALWAYS_OPEN = {"working_days": [0, 1, 2, 3, 4, 5, 6], "work_start": dt.time(0, 0), "work_end": dt.time(23, 59, 59)}


def make_sender(name: str, *users, **fields) -> Sender:
    """A sender inside working hours at any moment, which `users` may use."""
    sender = Sender.objects.create(name=name, **{**ALWAYS_OPEN, **fields})
    sender.users.add(*users)
    return sender


@pytest.fixture
def ada_client(client, ada):
    """Ada logged in, allowed on no sender but those each test gives her."""
    client.force_login(ada)
    return client


@pytest.fixture
def lisbon(ada):
    return make_sender("Lisbon desk", ada)


@pytest.fixture
def porto(ada):
    return make_sender("Porto desk", ada)


@pytest.fixture
def berlin(db):
    """A sender ada may not use."""
    return make_sender("Berlin desk")


def form_data(*senders, **fields) -> dict:
    return {"name": "Two desks", "note_template": "Hi {first_name|there}", "senders": [s.pk for s in senders], **fields}


def text_of(html: str) -> str:
    """The HTML's text as a reader sees it: without tags, each run of white space one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


# --- The campaign form ----------------------------------------------------------------------------


def test_the_form_offers_only_the_senders_one_may_use(ada_client, lisbon, porto, berlin):
    html = ada_client.get(reverse("campaign_create")).content.decode()

    assert "<legend>Senders</legend>" in html
    assert "Lisbon desk" in html and "Porto desk" in html and "Berlin desk" not in html
    assert "checked" not in html  # two to choose from: none is chosen for her


def test_a_new_campaign_starts_on_the_one_sender_one_may_use(ada_client, lisbon, berlin):
    html = ada_client.get(reverse("campaign_create")).content.decode()

    assert re.search(rf'<input type="checkbox" name="senders" value="{lisbon.pk}"[^>]*checked', html)


def test_a_campaign_needs_a_sender(ada_client, lisbon):
    response = ada_client.post(reverse("campaign_create"), form_data())

    assert response.status_code == 200
    assert "Choose at least one sender: invitations go out from a sender." in response.content.decode()
    assert not Campaign.objects.exists()


def test_choosing_two_senders_spreads_the_queue_evenly(ada_client, ada, make_campaign, lisbon, porto):
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, senders=[], prospects=10)
    assert campaign.requests.filter(sender=None).count() == 10  # waiting for a sender

    response = ada_client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(lisbon, porto))

    assert response.status_code == 302
    assert set(campaign.senders.all()) == {lisbon, porto}
    assert campaign.requests.filter(sender=lisbon).count() == 5
    assert campaign.requests.filter(sender=porto).count() == 5


def test_changing_senders_moves_the_queue_and_keeps_what_was_submitted(ada_client, ada, make_campaign, lisbon, porto):
    campaign = make_campaign(owner=ada, senders=[lisbon], prospects=3)
    sent = add_request(campaign, State.SENT)

    response = ada_client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(porto))

    assert response.status_code == 302
    assert list(campaign.senders.all()) == [porto]
    assert campaign.requests.filter(state=State.QUEUED, sender=porto).count() == 3
    sent.refresh_from_db()
    assert sent.sender == lisbon  # its acceptance and follow-up come from the account that invited


def test_choosing_a_sender_one_may_not_use_is_403_and_saves_nothing(ada_client, ada, make_campaign, lisbon, berlin):
    created = ada_client.post(reverse("campaign_create"), form_data(lisbon, berlin))
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, senders=[lisbon], prospects=2)
    edited = ada_client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(berlin, name="Renamed"))

    assert created.status_code == 403 and edited.status_code == 403
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Lisbon founders"]
    assert list(campaign.senders.all()) == [lisbon]
    assert set(campaign.requests.values_list("sender", flat=True)) == {lisbon.pk}


def test_a_sender_the_campaign_has_may_stay_though_its_owner_may_not_use_it(ada_client, ada, make_campaign, berlin):
    """An admin chose it; the owner may still edit the note (launching would be refused)."""
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, senders=[berlin])

    form = ada_client.get(reverse("campaign_edit", args=[campaign.pk])).content.decode()
    response = ada_client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(berlin, name="Renamed"))

    assert re.search(rf'value="{berlin.pk}"[^>]*checked', form)
    assert response.status_code == 302
    assert Campaign.objects.get().name == "Renamed"


def test_an_admin_may_choose_any_working_sender(client, ada, make_campaign, berlin):
    client.force_login(User.objects.create_user("root", is_staff=True))
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, senders=[])
    berlin_retired = make_sender("Retired desk")
    berlin_retired.retire(User.objects.get(username="root"))

    html = client.get(reverse("campaign_edit", args=[campaign.pk])).content.decode()
    refused = client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(berlin_retired))
    chosen = client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(berlin))

    assert "Berlin desk" in html and "Retired desk" not in html
    assert refused.status_code == 403  # a retired sender sends nothing, for anyone
    assert chosen.status_code == 302 and list(campaign.senders.all()) == [berlin]


# --- Launching ------------------------------------------------------------------------------------


def test_launching_on_a_sender_one_was_removed_from_is_403_and_changes_nothing(
    ada_client, ada, make_campaign, lisbon
):
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, senders=[lisbon], prospects=2)
    lisbon.users.remove(ada)

    page = ada_client.get(page_url(campaign)).content.decode()
    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))

    assert "You may not send from Lisbon desk: an admin may add you to it, or choose another sender in Edit." in page
    assert re.search(r'<button[^>]*disabled aria-describedby="launch-problems"[^>]*>Launch</button>', page)
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and campaign.launched_at is None
    assert not Event.objects.filter(campaign=campaign).exists()


def test_resuming_on_a_sender_one_may_not_use_is_403(ada_client, ada, make_campaign, lisbon, berlin):
    campaign = make_campaign(owner=ada, state=Campaign.State.PAUSED, senders=[lisbon, berlin], prospects=2)

    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "resume"]))

    assert response.status_code == 403
    assert Campaign.objects.get().state == Campaign.State.PAUSED


def test_a_campaign_without_a_sender_is_not_launched(ada_client, ada, make_campaign, lisbon):
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, senders=[], prospects=2)

    page = ada_client.get(page_url(campaign)).content.decode()
    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))

    assert "Choose at least one sender in Edit: invitations go out from a sender." in page
    assert "No sender yet: choose one in" in page
    assert response.status_code == 302
    assert messages_of(response) == [
        "Not launched: fix these first.", "Choose at least one sender in Edit: invitations go out from a sender."
    ]
    assert Campaign.objects.get().state == Campaign.State.DRAFT


def test_a_member_launches_on_her_own_sender(ada_client, ada, make_campaign, lisbon):
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, senders=[lisbon], prospects=2)

    response = ada_client.post(reverse("campaign_action", args=[campaign.pk, "launch"]))

    assert response.status_code == 302
    assert Campaign.objects.get().state == Campaign.State.ACTIVE


# --- Home -----------------------------------------------------------------------------------------


def home_cards(html: str) -> dict[str, str]:
    """Each sender card's text, by the sender's name."""
    # A card ends with its "why it waits" paragraph.
    cards = re.findall(r'<div class="card sender-card.*?</p>\s*</div>', html, re.S)
    return {re.search(r"<h3[^>]*>([^<]*)</h3>", card).group(1): words(card) for card in cards}


def test_home_has_a_card_per_usable_sender_and_the_teams_total(ada_client, ada, make_campaign, lisbon, porto, berlin):
    campaign = make_campaign(owner=ada, senders=[lisbon, porto, berlin])
    now = timezone.now()
    for sender, count in ((lisbon, 2), (porto, 1), (berlin, 4)):
        for _ in range(count):
            add_request(campaign, State.SENT, sender=sender, submitted_at=now)
    add_request(campaign, State.QUEUED, sender=lisbon)
    porto.set_state(Sender.State.EXTENSION_OFFLINE, "Waiting for the OutX extension of Porto desk to come online.")
    make_sender("Old desk").retire(ada)

    html = ada_client.get(reverse("home")).content.decode()
    cards = home_cards(html)

    assert list(cards) == ["Lisbon desk", "Porto desk"]  # hers: not Berlin's, not the retired one
    assert "Active" in cards["Lisbon desk"] and "2 / 20" in cards["Lisbon desk"] and "2 / 100" in cards["Lisbon desk"]
    assert "The next queued invitation may go out now." in cards["Lisbon desk"]
    assert "OutX extension offline" in cards["Porto desk"]
    # Its cause is the banner's, once per screen, not repeated on its card.
    assert "Waiting for the OutX extension of Porto desk to come online." not in cards["Porto desk"]
    assert html.count("Waiting for the OutX extension of Porto desk to come online.") == 1
    assert "Nothing queued for this sender." in cards["Porto desk"]
    team = text_of(re.search(r'<section class="stats team-total".*?</section>', html, re.S).group(0))
    assert "Team, submitted today 7 / 60" in team  # every working sender, Berlin's too
    assert "Team, submitted in the last 7 days 7 / 300" in team
    assert "Working senders 3" in team


def test_home_says_why_a_senders_next_invitation_waits(ada_client, ada, make_campaign, lisbon):
    campaign = make_campaign(owner=ada, senders=[lisbon])
    for _ in range(2):
        add_request(campaign, State.SENT, submitted_at=timezone.now())
    add_request(campaign, State.QUEUED)
    Sender.objects.filter(pk=lisbon.pk).update(daily_limit=2)

    cards = home_cards(ada_client.get(reverse("home")).content.decode())

    assert "Next invitation: " in cards["Lisbon desk"] and "2 / 2" in cards["Lisbon desk"]


def test_an_admin_sees_every_working_sender_and_a_member_without_one_is_told(client, lisbon, berlin):
    client.force_login(User.objects.create_user("root", is_staff=True))
    assert list(home_cards(client.get(reverse("home")).content.decode())) == ["Berlin desk", "Lisbon desk"]

    client.force_login(User.objects.create_user("bob"))
    html = client.get(reverse("home")).content.decode()
    assert home_cards(html) == {}
    assert "You may not send from any sender yet: an admin can add you to one." in html


def test_home_queries_do_not_grow_with_rows(ada_client, ada, make_campaign, lisbon, porto):
    campaign = make_campaign(owner=ada, senders=[lisbon, porto])

    def add_rows(count):
        for _ in range(count):
            for sender in (lisbon, porto):
                add_request(campaign, State.SENT, sender=sender, submitted_at=timezone.now())
                add_request(campaign, State.QUEUED, sender=sender)
                add_request(campaign, State.PENDING, sender=sender, submitted_at=timezone.now() - dt.timedelta(days=9))

    add_rows(1)
    few = count_queries(ada_client, reverse("home"))
    add_rows(15)
    assert count_queries(ada_client, reverse("home")) == few


# --- The banner -----------------------------------------------------------------------------------


def test_the_banner_names_each_stopped_sender_and_why(ada_client, lisbon, porto, berlin):
    porto.set_state(Sender.State.LIMIT_REACHED, "Porto desk paused: LinkedIn invitation limit reached.")
    berlin.set_state(Sender.State.INVALID_KEY, "OutX rejected Berlin desk's API key.")
    retired = make_sender("Old desk")
    retired.set_state(Sender.State.PAUSED, "Paused before it retired.")
    retired.retire(User.objects.create_user("root", is_staff=True))

    html = words(ada_client.get(reverse("campaign_list")).content.decode())
    banners = re.findall(r'<div class="banner banner-(\w+)" role="alert">(.*?)</div>', html)

    assert [state for state, _ in banners] == ["invalid_key", "limit_reached"]
    assert (
        "<strong>Sending from Berlin desk is stopped: OutX API key rejected.</strong> OutX rejected Berlin desk's API key."
        in banners[0][1].replace("&#x27;", "'")
    )
    assert "Sending from Porto desk is stopped: LinkedIn invitation limit reached." in banners[1][1]
    assert "Lisbon desk" not in html.split("<main")[0] and "Old desk" not in html


def test_the_banner_costs_one_query(ada_client, lisbon, porto):
    quiet = count_queries(ada_client, reverse("campaign_list"))
    for sender in (lisbon, porto):
        sender.set_state(Sender.State.PAUSED, "Paused by an admin.")
    assert count_queries(ada_client, reverse("campaign_list")) == quiet


# --- The campaign page ----------------------------------------------------------------------------


@pytest.fixture
def two_desk_campaign(ada, make_campaign, lisbon, porto):
    """An active campaign with two queued invitations on each desk and one sent from Lisbon."""
    campaign = make_campaign(owner=ada, senders=[lisbon, porto], prospects=4)
    add_request(campaign, State.SENT, sender=lisbon, first_name="Sent")
    return campaign


def rows_of(html: str) -> list[str]:
    return [words(row) for row in re.findall(r'<tr id="request-\d+".*?</tr>', html, re.S)]


def test_the_campaign_page_shows_each_rows_sender_and_why_it_waits(ada_client, two_desk_campaign, lisbon, porto):
    porto.set_state(Sender.State.EXTENSION_OFFLINE, "Waiting for the OutX extension of Porto desk.")

    html = ada_client.get(page_url(two_desk_campaign)).content.decode()
    rows = rows_of(html)

    assert '<th scope="col">Sender</th>' in html
    assert re.search(r"<dt>Sends from</dt><dd[^>]*>Lisbon desk, Porto desk <span[^>]*>\(OutX extension offline\)</span>", html)
    queued_lisbon = [row for row in rows if '<td class="request-sender">Lisbon desk</td>' in row and "Queued" in row]
    queued_porto = [row for row in rows if '<td class="request-sender">Porto desk</td>' in row]
    assert len(queued_lisbon) == 2 and len(queued_porto) == 2
    assert all("Next in line" in row for row in queued_lisbon)
    # The sender's cause is said once, by the banner; each row names its state.
    assert all("Porto desk is stopped: OutX extension offline (see the notice at the top)" in row for row in queued_porto)
    assert html.count("Waiting for the OutX extension of Porto desk.") == 1


def test_a_queued_row_without_a_sender_waits_for_one(ada_client, ada, make_campaign, always_open):
    campaign = make_campaign(owner=ada, senders=[], prospects=1)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert '<td class="request-sender">—</td>' in rows_of(html)[0]
    assert "Waiting for a sender: choose one in Edit." in rows_of(html)[0]


def test_the_campaign_page_filters_by_sender(ada_client, two_desk_campaign, lisbon, porto, berlin):
    url = page_url(two_desk_campaign)

    everyone = ada_client.get(url).content.decode()
    lisbon_only = ada_client.get(url, {"sender": lisbon.pk}).content.decode()
    queued_porto = ada_client.get(url, {"sender": porto.pk, "state": "queued"}).content.decode()
    not_its_sender = ada_client.get(url, {"sender": berlin.pk}).content.decode()

    assert len(rows_of(everyone)) == 5 and 'aria-label="Show invitations by sender"' in everyone
    assert f'href="{url}?sender={lisbon.pk}"' in everyone and "Lisbon desk <span class=\"state-count\">3</span>" in everyone
    assert len(rows_of(lisbon_only)) == 3
    assert all("Lisbon desk" in row for row in rows_of(lisbon_only))
    # The state links keep the sender; the poll keeps both.
    assert f'href="{url}?state=queued&amp;sender={lisbon.pk}"' in lisbon_only
    assert len(rows_of(queued_porto)) == 2
    assert re.search(rf'hx-get="[^"]*state=queued&amp;sender={porto.pk}', queued_porto)
    assert len(rows_of(not_its_sender)) == 5  # a sender the campaign never used: all of them


def test_an_action_goes_back_to_the_sender_filter(ada_client, two_desk_campaign, lisbon):
    row = two_desk_campaign.requests.filter(sender=lisbon, state=State.QUEUED).first()

    response = ada_client.post(
        reverse("request_action", args=[row.pk, "remove"]), {"state": "", "sender": str(lisbon.pk), "page": "1"}
    )

    assert response["Location"] == f"{page_url(two_desk_campaign)}?sender={lisbon.pk}"


def test_the_poll_notices_any_of_the_senders_changing(ada_client, two_desk_campaign, porto):
    fingerprint = fingerprint_in(ada_client.get(page_url(two_desk_campaign)).content.decode())
    assert ada_client.get(status_url(two_desk_campaign), {"v": fingerprint}).status_code == 204

    porto.set_state(Sender.State.PAUSED, "Porto desk paused by an admin.")
    response = ada_client.get(status_url(two_desk_campaign), {"v": fingerprint})

    assert response.status_code == 200 and "Porto desk is stopped: Paused by a person" in response.content.decode()


def test_campaign_page_and_poll_queries_do_not_grow_with_rows(ada_client, two_desk_campaign, lisbon, porto):
    url, poll = page_url(two_desk_campaign), status_url(two_desk_campaign)
    count_queries(ada_client, url)
    fingerprint = fingerprint_in(ada_client.get(url).content.decode())
    few = count_queries(ada_client, url), count_queries(ada_client, poll, v=fingerprint)
    lisbon_few = count_queries(ada_client, url, sender=lisbon.pk)  # one sender's decision to ask, not two

    for _ in range(10):
        for sender in (lisbon, porto):
            add_request(two_desk_campaign, State.QUEUED, sender=sender)
            add_request(two_desk_campaign, State.PENDING, sender=sender, submitted_at=timezone.now())
    fingerprint = fingerprint_in(ada_client.get(url).content.decode())

    assert (count_queries(ada_client, url), count_queries(ada_client, poll, v=fingerprint)) == few
    assert count_queries(ada_client, url, sender=lisbon.pk) == lisbon_few


def test_the_campaign_list_shows_each_campaigns_senders(ada_client, two_desk_campaign):
    html = ada_client.get(reverse("campaign_list")).content.decode()

    assert '<th scope="col">Senders</th>' in html
    assert '<td class="campaign-senders-cell">Lisbon desk, Porto desk</td>' in html


# --- Review and the export ------------------------------------------------------------------------


def test_review_shows_and_filters_by_sender_retired_ones_too(ada_client, ada, two_desk_campaign, lisbon, porto):
    add_request(two_desk_campaign, State.SENT, sender=porto, first_name="FromPorto")
    porto.retire(ada)

    everyone = ada_client.get(reverse("review")).content.decode()
    porto_only = ada_client.get(reverse("review"), {"sender": porto.pk}).content.decode()

    assert '<th scope="col">Sender</th>' in everyone
    assert '<td class="review-sender">Lisbon desk</td>' in everyone and '<td class="review-sender">Porto desk</td>' in everyone
    assert '<select name="sender"' in everyone
    assert f'<option value="{porto.pk}">Porto desk (retired)</option>' in everyone
    assert porto_only.count('<td class="review-sender">') == 1 and "FromPorto" in porto_only


def test_the_export_has_each_invitations_sender(ada_client, two_desk_campaign, lisbon, porto):
    add_request(two_desk_campaign, State.SENT, sender=porto, first_name="FromPorto")

    response = ada_client.get(reverse("review_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    filtered = ada_client.get(reverse("review_export"), {"sender": porto.pk})
    porto_rows = list(csv.reader(io.StringIO(b"".join(filtered.streaming_content).decode())))

    # Added after the columns of before, so old sheets keep their positions (and so on for the
    # columns added later still, the response marks).
    column = rows[0].index("Sender")
    assert rows[0][column + 1:] == ["Response", "Responded at"]
    assert {row[4]: row[column] for row in rows[1:]} == {"Sent": "Lisbon desk", "FromPorto": "Porto desk"}
    assert [row[column] for row in porto_rows[1:]] == ["Porto desk"]


def test_the_invitations_page_names_its_sender(ada_client, two_desk_campaign, lisbon):
    sent = two_desk_campaign.requests.get(state=State.SENT)

    html = words(ada_client.get(reverse("request_detail", args=[sent.pk])).content.decode())

    assert 'from <span class="request-sender">Lisbon desk</span>;' in html


def test_review_queries_do_not_grow_with_senders_rows(ada_client, two_desk_campaign, lisbon, porto):
    few = count_queries(ada_client, reverse("review"))
    for _ in range(10):
        for sender in (lisbon, porto):
            add_request(two_desk_campaign, State.SENT, sender=sender)
    assert count_queries(ada_client, reverse("review")) == few
