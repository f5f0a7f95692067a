import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, Prospect, SendingAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(client):
    client.force_login(User.objects.create_user("ada", password="x"))
    return client


SERIAL = itertools.count()


def add_requests(campaign, count, **fields):
    for _ in range(count):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAHome{next(SERIAL)}")
        ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, **fields)


def test_home_shows_budget_account_and_stale_invitations(user_client):
    owner = User.objects.get(username="ada")
    campaign = Campaign.objects.create(name="Q4 founders", owner=owner, state=Campaign.State.ACTIVE)
    now = timezone.now()
    add_requests(campaign, 2, state="sent", submitted_at=now)
    add_requests(campaign, 1, state="pending", submitted_at=now - dt.timedelta(days=8))
    account = SendingAccount.get()
    account.set_state(SendingAccount.State.EXTENSION_OFFLINE, "Waiting for the OutX extension to come online.")

    response = user_client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Q4 founders" in html
    assert "Sent 2" in html and "Pending 1" in html and "Queued 0" in html
    assert "Waiting for the OutX extension to come online." in html
    assert "1 invitation pending for more than 7 days" in html


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
    account = SendingAccount.get()
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
