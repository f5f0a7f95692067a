"""Home: each campaign's progress, each usable sender's state and stale invitations, and the 30-day
chart, at a cost in queries that does not grow; and each campaign's acceptance rate, in the table
of campaigns Home shares with the campaign list. (Several senders: tests/test_sender_pages.py.)"""

import datetime as dt
import itertools
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, FollowUp, Prospect, Sender
from tests.helpers import add_followup, add_request, count_queries

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
FState = FollowUp.State


@pytest.fixture
def user_client(client):
    client.force_login(User.objects.create_user("ada", password="x"))
    return client


SERIAL = itertools.count()


# Not tests.helpers.add_request: Home's counts need many rows at once, with their request fields.
def add_requests(campaign, count, **fields):
    for _ in range(count):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAHome{next(SERIAL)}")
        ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect, **fields)


def test_home_shows_budget_account_and_stale_invitations(user_client):
    owner = User.objects.get(username="ada")
    campaign = Campaign.objects.create(name="Q4 founders", owner=owner, state=Campaign.State.ACTIVE)
    now = timezone.now()
    add_requests(campaign, 2, state="sent", submitted_at=now)
    add_requests(campaign, 1, state="pending", submitted_at=now - dt.timedelta(days=8))
    account = Sender.get()
    account.users.add(owner)  # Home has a card for each sender one may use
    account.set_state(Sender.State.EXTENSION_OFFLINE, "Waiting for the OutX extension to come online.")

    response = user_client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Q4 founders" in html
    assert "Sent 2" in html and "With OutX 1" in html and "Queued 0" in html
    assert html.count("Waiting for the OutX extension to come online.") == 1  # the banner's, once
    assert "1 invitation waiting for OutX's extension for more than 7 days" in html
    assert "Nothing queued for this sender." in html
    assert "2 / 20" in html and "2 / 100" in html  # against its caps; the stale one went out 8 days ago


def queries_for_home(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def test_home_queries_do_not_grow_with_campaigns(user_client):
    owner = User.objects.get(username="ada")
    add_requests(Campaign.objects.create(name="first", owner=owner), 3)
    queries_for_home(user_client)  # the first visit creates the sending account's row
    with_one = queries_for_home(user_client)
    for i in range(30):
        add_requests(Campaign.objects.create(name=f"C{i}", owner=owner), 3)
    assert queries_for_home(user_client) == with_one


def test_chart_counts_submissions_per_day_in_the_teams_time_zone(user_client):
    owner = User.objects.get(username="ada")
    campaign = Campaign.objects.create(name="Chart", owner=owner)
    account = Sender.get()
    account.time_zone = "Pacific/Auckland"  # UTC+13 in November: days split differently
    account.save()
    now = timezone.now()
    add_requests(campaign, 3, state="sent", submitted_at=now)
    add_requests(campaign, 2, state="sent", submitted_at=now - dt.timedelta(days=2))
    add_requests(campaign, 1, state="failed", submitted_at=now)  # refused: not an invitation
    response = user_client.get("/")
    bars = response.context["bars"]
    assert len(bars) == 30 and bars[-1].count == 3 and bars[-3].count == 2
    assert sum(bar.count for bar in bars) == 5
    assert bars[-1].height == 120 and bars[-3].height == 80


# --- Each campaign's acceptance rate, on Home and the campaign list -----------------------------------


def test_home_and_the_list_show_each_campaigns_acceptance_rate(ada_client, ada, make_campaign, always_open):
    liked = make_campaign("Liked", owner=ada)
    add_request(liked, State.ACCEPTED)
    add_request(liked, State.SENT)
    add_request(liked, State.QUEUED)
    make_campaign("Untouched", owner=ada)

    for url in (reverse("home"), reverse("campaign_list")):
        html = ada_client.get(url).content.decode()
        assert '<th scope="col">Acceptance rate</th>' in html
        liked_row = re.search(r"<tr>\s*<td><a [^>]*>Liked</a>.*?</tr>", html, re.S).group(0)
        untouched_row = re.search(r"<tr>\s*<td><a [^>]*>Untouched</a>.*?</tr>", html, re.S).group(0)
        assert "50% (1 of 2)" in liked_row
        assert "—" in untouched_row


def test_home_and_list_queries_do_not_grow_with_accepted_invitations(ada_client, ada, make_campaign, always_open):
    def add_campaigns(count):
        for i in range(count):
            campaign = make_campaign(f"C{next(SERIAL)}", owner=ada)
            add_followup(add_request(campaign, State.ACCEPTED), FState.SENT)
            add_request(campaign, State.SENT)

    add_campaigns(2)
    count_queries(ada_client, reverse("home"))
    few = count_queries(ada_client, reverse("home")), count_queries(ada_client, reverse("campaign_list"))
    add_campaigns(20)
    assert (count_queries(ada_client, reverse("home")), count_queries(ada_client, reverse("campaign_list"))) == few


# --- What Home says of a sender's queue, and a stopped sender said once (issue 13) --------------------


def test_home_never_says_may_go_out_now_for_a_paused_campaigns_queue(ada_client, ada, make_campaign, always_open):
    make_campaign("Paused one", Campaign.State.PAUSED, owner=ada, prospects=2)

    html = ada_client.get(reverse("home")).content.decode()

    assert "may go out now" not in html  # the worker submits nothing of a paused campaign
    assert "Nothing to send now: 2 queued invitations wait in campaigns that do not send now" in html

    make_campaign("Running one", owner=ada, prospects=1, start=10)
    assert "The next queued invitation may go out now." in ada_client.get(reverse("home")).content.decode()


def test_an_offline_sender_is_said_once_per_screen_in_minutes(ada_client, ada, make_campaign, always_open):
    from campaigns import outx
    from campaigns.sending import take_account_wide_answer

    campaign = make_campaign(owner=ada, prospects=3)
    take_account_wide_answer(Sender.get(), outx.OutxExtensionOffline("Extension offline"), timezone.now())
    cause = Sender.get().state_cause
    assert cause.endswith("Checking again every 5 minutes.") and "300 seconds" not in cause

    for url in (reverse("home"), reverse("campaign_detail", args=[campaign.pk])):
        html = ada_client.get(url).content.decode().replace("&#x27;", "'")
        assert html.count(cause) == 1, url  # the banner's; the card and the rows name the state only
    page = ada_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert page.count("is stopped: OutX extension offline (see the notice at the top)") == 3  # one per queued row


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(300, "5 minutes"), (60, "1 minute"), (45, "45 seconds"), (5400, "1 hour 30 minutes"), (86400, "1 day"),
     (90061, "1 day 1 hour"), (0, "0 seconds")],
)
def test_durations_read_as_a_person_says_them(seconds, words):
    from campaigns.durations import duration_text

    assert duration_text(seconds) == words
