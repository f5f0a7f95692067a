"""Times in each person's own time zone, chosen on their account page, the team's (the first
sender's) by default: on the campaign page, Review, an invitation's page, the exports, Home's
chart and the follow-up's due time. A sender's pacing stays on the sender's own clock; what
refers to its working hours names its zone. The zone list is short, canonical and grouped."""

import csv
import datetime as dt
import io
import re
import zoneinfo

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Sender, validate_time_zone
from campaigns.sending import budget_used, submission_decision
from people.models import Profile
from people.timezones import canonical_time_zones, show_times_in
from tests.helpers import State, add_request

pytestmark = pytest.mark.django_db

# 13:00 UTC on 2 May 2024: 14:00 in Lisbon (WEST, UTC+1), 09:00 in New York (EDT, UTC-4).
NOON = dt.datetime(2024, 5, 2, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def team():
    sender = Sender.get()
    sender.time_zone = "Europe/Lisbon"
    sender.save()
    return sender


@pytest.fixture
def ada_client(team, ada):
    team.users.add(ada)
    client = Client()
    client.force_login(ada)
    return client


@pytest.fixture
def in_new_york(ada):
    Profile.set_time_zone(ada, "America/New_York")


@pytest.fixture
def sent(make_campaign, ada, team):
    campaign = make_campaign("Spring", owner=ada)
    Campaign.objects.filter(pk=campaign.pk).update(created_at=NOON)
    request = add_request(
        campaign, State.SENT, first_name="Ada", submitted_at=NOON, completed_at=NOON + dt.timedelta(minutes=3)
    )
    return request


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- The team's zone by default, one's own once chosen -------------------------------------------


def test_the_campaign_page_shows_times_in_the_teams_zone_by_default(ada_client, sent):
    html = text(ada_client.get(reverse("campaign_detail", args=[sent.campaign_id])))

    assert "Thu 2 May 2024 14:00" in html  # created, Lisbon time
    assert "Thu 2 May 14:00" in html  # the invitation's submission
    assert "Times are in Europe/Lisbon, the team’s time zone" in html
    assert f'href="{reverse("account")}#time-zone"' in html


def test_the_campaign_page_follows_the_persons_own_zone(ada_client, sent, in_new_york):
    html = text(ada_client.get(reverse("campaign_detail", args=[sent.campaign_id])))

    assert "Thu 2 May 2024 09:00" in html and "Thu 2 May 09:00" in html
    assert "14:00" not in html
    assert "Times are in America/New_York (" in html  # their own: not called the team's


def test_review_and_the_invitation_page_follow_the_persons_zone(ada_client, sent, in_new_york):
    review = text(ada_client.get(reverse("review")))
    assert "2024-05-02 09:00" in review and "2024-05-02 09:03" in review
    assert "Times are in America/New_York" in review

    detail = text(ada_client.get(reverse("request_detail", args=[sent.pk])))
    assert "2024-05-02 09:00:00" in detail and "2024-05-02 09:03:00" in detail
    assert "Times are in America/New_York" in detail


def test_review_days_are_the_persons_days(ada_client, sent, in_new_york):
    # 02:00 UTC on 3 May is still 2 May in New York (22:00).
    late = add_request(sent.campaign, State.SENT, first_name="Late", submitted_at=dt.datetime(2024, 5, 3, 2, tzinfo=dt.UTC))
    response = ada_client.get(reverse("review"), {"date_from": "2024-05-02", "date_to": "2024-05-02"})
    shown = {row.pk for row in response.context["page"].object_list}
    assert shown == {sent.pk, late.pk}


def export_rows(client, url_name) -> list[list[str]]:
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_the_invitations_export_is_in_the_persons_zone(ada_client, sent, in_new_york):
    rows = export_rows(ada_client, "review_export")
    assert rows[1][:2] == ["2024-05-02 09:00:00-04:00", "2024-05-02 09:03:00-04:00"]


def test_the_invitations_export_is_in_the_teams_zone_by_default(ada_client, sent):
    rows = export_rows(ada_client, "review_export")
    assert rows[1][:2] == ["2024-05-02 14:00:00+01:00", "2024-05-02 14:03:00+01:00"]


def test_the_do_not_contact_export_is_in_the_persons_zone(ada_client, ada, in_new_york):
    from campaigns.donotcontact import add_entries
    from campaigns.models import DoNotContact

    add_entries(["https://www.linkedin.com/in/someone"], ada, "Asked us to stop")
    DoNotContact.objects.update(created_at=NOON)

    rows = export_rows(ada_client, "do_not_contact_export")
    assert "2024-05-02 09:00:00-04:00" in rows[1]


def test_homes_chart_counts_days_in_the_persons_zone(ada_client, sent, ada, in_new_york):
    now = timezone.now()
    # Two minutes after the viewer's midnight today, and four minutes before it.
    new_york = zoneinfo.ZoneInfo("America/New_York")
    midnight = now.astimezone(new_york).replace(hour=0, minute=0, second=0, microsecond=0)
    add_request(sent.campaign, State.SENT, submitted_at=midnight + dt.timedelta(minutes=2))
    add_request(sent.campaign, State.SENT, submitted_at=midnight - dt.timedelta(minutes=4))

    response = ada_client.get(reverse("home"))

    bars = response.context["bars"]
    assert bars[-1].day == now.astimezone(new_york).date()
    assert bars[-1].count == 1 and bars[-2].count == 1
    assert "days in America/New_York" in text(response)


def test_the_follow_up_due_time_is_in_the_persons_zone(ada_client, make_campaign, ada, team, in_new_york):
    campaign = make_campaign("Follow", owner=ada, followup_template="Thanks!", followup_delay_minutes=60 * 24)
    accepted_at = timezone.now()
    add_request(campaign, State.ACCEPTED, accepted_at=accepted_at)

    html = text(ada_client.get(reverse("campaign_detail", args=[campaign.pk])))

    due = (accepted_at + dt.timedelta(days=1)).astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f"Follow-up message due {due:%a %d %b %H:%M}" in html


# --- Choosing one's zone ----------------------------------------------------------------------------


def test_a_person_chooses_their_zone_on_their_account_page_and_may_go_back_to_the_teams(ada_client, ada, team):
    page = text(ada_client.get(reverse("account")))
    assert 'id="time-zone"' in page and "The team&#x27;s time zone (Europe/Lisbon)" in page

    response = ada_client.post(reverse("account_time_zone"), {"time_zone": "Asia/Tokyo"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("account") + "#time-zone"
    assert Profile.objects.get(user=ada).time_zone == "Asia/Tokyo"
    assert "Times are now shown in Asia/Tokyo." in [str(m) for m in response.context["messages"]]
    assert '<option value="Asia/Tokyo" selected>' in response.content.decode()

    ada_client.post(reverse("account_time_zone"), {"time_zone": ""})
    assert Profile.time_zone_of(ada) == ("Europe/Lisbon", False)


@pytest.mark.parametrize("zone", ["Factory", "localtime", "Mars/Olympus", "US/Eastern", "Etc/GMT+3"])
def test_a_zone_off_the_list_is_refused(ada_client, ada, zone):
    response = ada_client.post(reverse("account_time_zone"), {"time_zone": zone}, follow=True)
    assert "Choose a time zone from the list." in [str(m) for m in response.context["messages"]]
    assert not Profile.objects.filter(user=ada).exclude(time_zone="").exists()


def test_a_zone_saved_before_stays_valid_and_chosen(ada_client, ada):
    Profile.set_time_zone(ada, "Asia/Calcutta")  # an old alias, saved before the list was short
    html = ada_client.get(reverse("account")).content.decode()
    assert '<option value="Asia/Calcutta" selected>' in html
    response = ada_client.post(reverse("account_time_zone"), {"time_zone": "Asia/Calcutta"})
    assert response.status_code == 302 and Profile.objects.get(user=ada).time_zone == "Asia/Calcutta"
    validate_time_zone("Asia/Calcutta")
    validate_time_zone("Etc/GMT+3")
    with pytest.raises(ValidationError):
        validate_time_zone("Mars/Olympus")


# --- The short list ---------------------------------------------------------------------------------


def test_the_list_is_canonical_area_city_zones_only():
    zones = canonical_time_zones()
    assert 300 < len(zones) < 450
    assert {"Europe/Lisbon", "America/New_York", "Asia/Kolkata", "America/Argentina/Buenos_Aires"} <= set(zones)
    for unwanted in ("Factory", "localtime", "UTC", "US/Eastern", "Etc/GMT+3", "Asia/Calcutta", "GB", "EST5EDT"):
        assert unwanted not in zones
    assert not [zone for zone in zones if zone.startswith(("posix/", "right/", "Etc/"))]
    assert set(zones) <= zoneinfo.available_timezones()


def test_the_sender_form_uses_the_grouped_list_and_keeps_a_saved_zone(team):
    staff = User.objects.create_user("grace", is_staff=True)
    client = Client()
    client.force_login(staff)
    team.time_zone = "US/Eastern"  # saved before: still valid, still offered
    team.save()

    html = client.get(reverse("sender_detail", args=[team.pk])).content.decode()
    select = html.split('name="time_zone"')[1].split("</select>")[0]

    assert '<optgroup label="Europe">' in select and '<optgroup label="America">' in select
    assert '<option value="Europe/Lisbon">Lisbon</option>' in select
    assert '<option value="US/Eastern" selected>US/Eastern</option>' in select
    assert 'value="Factory"' not in select and 'value="localtime"' not in select
    assert len(re.findall("<option ", select)) < 450


# --- Pacing stays on the sender's clock -------------------------------------------------------------


def test_pacing_stays_in_the_senders_zone_and_names_it(team):
    team.time_zone = "Europe/Paris"
    team.working_days = [0, 1, 2, 3, 4]
    team.work_start, team.work_end = dt.time(9), dt.time(18)
    team.save()
    # Thursday 2 May 2024, 06:00 UTC: 08:00 in Paris, before its working hours; 02:00 in New York.
    early = dt.datetime(2024, 5, 2, 6, 0, tzinfo=dt.UTC)
    try:
        show_times_in("America/New_York")
        decision = submission_decision(team, early, (0, 0))
        assert not decision.allowed
        assert decision.retry_at == dt.datetime(2024, 5, 2, 7, 0, tzinfo=dt.UTC)  # 09:00 Paris
        assert decision.reason == (
            "Outside working hours; sending resumes Thu 02 May 03:00 your time (09:00 Europe/Paris, the sender's time)."
        )
        show_times_in("Europe/Paris")
        assert submission_decision(team, early, (0, 0)).reason.endswith("sending resumes Thu 02 May 09:00 (Europe/Paris time).")
    finally:
        show_times_in(None)
    # The worker has no viewer: the sender's clock, named.
    assert submission_decision(team, early, (0, 0)).reason.endswith("(Europe/Paris time).")


def test_the_daily_count_starts_at_the_senders_midnight_whoever_looks(team, make_campaign):
    team.time_zone = "Europe/Paris"
    team.save()
    campaign = make_campaign()
    now = dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC)
    add_request(campaign, State.SENT, submitted_at=dt.datetime(2024, 5, 1, 22, 30, tzinfo=dt.UTC))  # 00:30 Paris
    add_request(campaign, State.SENT, submitted_at=dt.datetime(2024, 5, 1, 21, 30, tzinfo=dt.UTC))  # 23:30 Paris
    try:
        show_times_in("America/Los_Angeles")
        assert budget_used(team, now)[0] == 1
    finally:
        show_times_in(None)
    assert budget_used(team, now)[0] == 1


def test_the_sender_page_names_the_senders_zone_for_its_hours_and_shows_the_hourly_cap(team, ada):
    staff = User.objects.create_user("grace", is_staff=True)
    Profile.set_time_zone(staff, "America/New_York")
    client = Client()
    client.force_login(staff)

    html = text(client.get(reverse("sender_detail", args=[team.pk])))

    assert "follow the sender’s own time zone, Europe/Lisbon" in html
    assert "Times are in America/New_York" in html
    assert "LinkedIn actions in the last hour: 0 of 50" in html
    assert re.search(r'<input type="number" name="hourly_action_limit" value="50" min="1" max="1000"', html)
    assert "invitations, follow-up messages, profile look-ups and searches" in html
    assert "At most 1000 actions an hour." in html


def test_homes_sender_card_shows_the_hourly_cap(ada_client):
    assert "At most 50 LinkedIn actions an hour" in text(ada_client.get(reverse("home")))


def test_a_request_that_shows_no_time_does_not_look_the_zone_up(team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = User.objects.create_user("grace", is_staff=True)
    client = Client()
    client.force_login(staff)
    with CaptureQueriesContext(connection) as shown:
        client.get(reverse("user_list"))
    with CaptureQueriesContext(connection) as redirected:
        assert client.get(reverse("settings")).status_code == 302  # the old Settings page: a redirect

    assert [q for q in shown if "people_profile" in q["sql"]]
    assert not [q for q in redirected if "people_profile" in q["sql"]]
