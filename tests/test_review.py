"""Review: the list of every invitation with its filters, one invitation's page, the CSV export."""

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import zoneinfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, Event, Prospect, Sender

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
SERIAL = itertools.count()
NOON = dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def user(db):
    return User.objects.create_user("ada", password="x")


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def campaign(make_campaign, user):
    return make_campaign("Q4 founders", owner=user, note_template="")


# Not tests.helpers.add_request: Review's rows need fixed submission times (NOON), notes and names.
def add_request(campaign, *, first_name="", last_name="", company="", title="", state=State.SENT,
                note="Hi there", submitted_at=NOON, **fields) -> ConnectionRequest:
    serial = next(SERIAL)
    prospect = Prospect.objects.create(
        profile_urn=f"urn:li:fsd_profile:ACoAAReview{serial}",
        profile_url=f"https://www.linkedin.com/in/review-{serial}",
        first_name=first_name, last_name=last_name, company=company, title=title,
    )
    return ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, prospect=prospect, state=state, note=note, submitted_at=submitted_at, **fields
    )


def listed_names(response) -> list[str]:
    """The prospects in the review table, in order (each is the link to its detail page)."""
    html = response.content.decode()
    return re.findall(r'<a href="/review/\d+/">([^<]*)</a>', html)


def review(client, **params):
    response = client.get(reverse("review"), params)
    assert response.status_code == 200
    return response


# --- The list -----------------------------------------------------------------------------------


def test_review_lists_every_request_out_of_the_queue_newest_first(user_client, campaign):
    add_request(campaign, first_name="Older", submitted_at=NOON - dt.timedelta(hours=1))
    add_request(campaign, first_name="Newer", company="Analytical Engines", submitted_at=NOON)
    add_request(campaign, first_name="Skipped", state=State.SKIPPED, submitted_at=None)
    add_request(campaign, first_name="Waiting", state=State.QUEUED, submitted_at=None)
    long_note = "Hello Newer, " + "x" * 200

    ConnectionRequest.objects.filter(prospect__first_name="Newer").update(note=long_note)
    response = review(user_client)
    html = response.content.decode()

    assert listed_names(response) == ["Newer", "Older", "Skipped"]  # never submitted: last
    assert "Analytical Engines" in html
    assert f'href="{reverse("campaign_detail", args=[campaign.pk])}">Q4 founders</a>' in html
    assert "Hello Newer, xxx" in html and long_note not in html  # the note, truncated
    assert "2024-05-02 12:00" in html  # the account's time zone is UTC by default
    for text in ("Review", "Filter", "Export CSV", ">State<", ">Campaign<", ">From<", ">To<", ">Search<"):
        assert text in html


@pytest.mark.parametrize("state", [State.FAILED, State.QUEUED])
def test_review_filters_by_state_including_queued(user_client, campaign, state):
    add_request(campaign, first_name="Sent", state=State.SENT)
    add_request(campaign, first_name="Chosen", state=state, submitted_at=None)

    assert listed_names(review(user_client, state=state)) == ["Chosen"]


def test_review_filters_by_campaign(user_client, user, campaign):
    other = Campaign.objects.create(name="Other", owner=user)
    add_request(campaign, first_name="Mine")
    add_request(other, first_name="Theirs")

    assert listed_names(review(user_client, campaign=other.pk)) == ["Theirs"]


def test_review_filters_by_days_in_the_account_time_zone(user_client, campaign):
    account = Sender.get()
    account.time_zone = "America/New_York"  # UTC-4 in May
    account.save()
    # 02:00 UTC on 2 May is still the evening of 1 May in New York.
    add_request(campaign, first_name="Evening", submitted_at=dt.datetime(2024, 5, 2, 2, 0, tzinfo=dt.UTC))
    add_request(campaign, first_name="Night", submitted_at=dt.datetime(2024, 5, 2, 5, 0, tzinfo=dt.UTC))
    add_request(campaign, first_name="Later", submitted_at=dt.datetime(2024, 5, 4, 5, 0, tzinfo=dt.UTC))

    assert listed_names(review(user_client, date_from="2024-05-01", date_to="2024-05-01")) == ["Evening"]
    assert listed_names(review(user_client, date_from="2024-05-02", date_to="2024-05-02")) == ["Night"]
    assert listed_names(review(user_client, date_from="2024-05-02")) == ["Later", "Night"]
    assert listed_names(review(user_client, date_to="2024-05-02")) == ["Night", "Evening"]
    assert "2024-05-01 22:00" in review(user_client).content.decode()  # shown in New York time


@pytest.mark.parametrize("search", ["lovelace", "ANALYTICAL", "engine", "ada love", "difference"])
def test_review_searches_name_company_and_note(user_client, campaign, search):
    add_request(campaign, first_name="Ada", last_name="Lovelace", company="Analytical Engines",
                note="About your difference engine")
    add_request(campaign, first_name="Grace", last_name="Hopper", company="Navy", note="Hi Grace")

    assert listed_names(review(user_client, q=search)) == ["Ada Lovelace"]


def test_review_paginates_and_page_links_keep_the_filters(user_client, campaign):
    for i in range(60):
        add_request(campaign, first_name=f"P{i:02}", submitted_at=NOON + dt.timedelta(minutes=i))
    add_request(campaign, first_name="Failed", state=State.FAILED)

    first = review(user_client, state="sent", q="P")
    html = first.content.decode()
    assert len(listed_names(first)) == 50 and listed_names(first)[0] == "P59"
    assert "60 invitations" in html and "Page 1" not in html  # pages by cursor, not by number
    next_link = re.search(r'href="\?state=sent&amp;q=P&amp;after=([0-9.]+)" rel="next"', html)
    assert next_link is not None
    assert 'href="/review/export.csv?state=sent&amp;q=P"' in html  # Export CSV keeps the filters

    second = review(user_client, state="sent", q="P", after=next_link[1])
    assert listed_names(second) == [f"P{i:02}" for i in range(9, -1, -1)]
    second_html = second.content.decode()
    assert 'href="?state=sent&amp;q=P">First</a>' in second_html
    assert re.search(r'href="\?state=sent&amp;q=P&amp;before=[0-9.]+" rel="prev"', second_html)
    assert 'rel="next"' not in second_html


def test_invalid_filters_are_shown_as_errors_and_the_valid_ones_still_apply(user_client, user, campaign):
    other = Campaign.objects.create(name="Other", owner=user)
    add_request(campaign, first_name="Mine")
    add_request(other, first_name="Theirs")

    response = review(user_client, state="bogus", date_from="yesterday", campaign=other.pk)
    html = response.content.decode()

    assert "Select a valid choice. bogus is not one of the available choices." in html
    assert "Enter a valid date." in html
    assert 'aria-invalid="true"' in html
    assert listed_names(response) == ["Theirs"]


def test_end_date_before_start_date_is_an_error(user_client, campaign):
    add_request(campaign, first_name="Someone")

    html = review(user_client, date_from="2024-05-03", date_to="2024-05-01").content.decode()

    assert "The end date is before the start date." in html


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured)


@pytest.mark.parametrize("url_name", ["review", "review_export"])
def test_queries_do_not_grow_with_rows(user_client, user, campaign, url_name):
    other = Campaign.objects.create(name="Other", owner=user)
    url = reverse(url_name) + "?q=a"
    for i in range(5):
        add_request(campaign if i % 2 else other, first_name="Ada")
    queries_for(user_client, url)  # the first visit creates the sending account's row
    with_five = queries_for(user_client, url)
    for i in range(55):
        add_request(campaign if i % 2 else other, first_name="Ada")

    assert queries_for(user_client, url) == with_five


# --- One invitation -----------------------------------------------------------------------------


def test_request_detail_shows_the_note_prospect_outx_fields_and_every_event(user_client, campaign):
    connection_request = add_request(
        campaign, first_name="Ada", last_name="Lovelace", company="Analytical Engines",
        state=State.QUEUED, submitted_at=None,
        note='Hi Ada,\n<script>alert("note")</script>\nBest',
    )
    connection_request.move_to(State.SUBMITTING, "Picked by the worker.")
    connection_request.move_to(
        State.PENDING, "OutX created the task.", outx_task_id="task-123", attempts=1, submitted_at=NOON,
    )
    connection_request.move_to(
        State.NOT_SENT, "The task completed without sending.", poll_count=4,
        last_error="Not sent: <b>already invited</b>", completed_at=NOON + dt.timedelta(minutes=5),
        task_output={"sent": False, "reason": "<script>alert('output')</script>", "ünïcode": "ok"},
    )

    response = user_client.get(reverse("request_detail", args=[connection_request.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert "<script>" not in html
    assert '<pre class="note-text">Hi Ada,\n&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;\nBest</pre>' in html
    assert "&quot;reason&quot;: &quot;&lt;script&gt;alert(&#x27;output&#x27;)&lt;/script&gt;&quot;" in html
    assert '\n  &quot;sent&quot;: false,\n' in html and "ünïcode" in html  # pretty-printed JSON
    assert "Not sent: &lt;b&gt;already invited&lt;/b&gt;" in html
    assert 'href="https://www.linkedin.com/in/review-' in html
    assert connection_request.prospect.profile_urn in html
    assert f'href="{reverse("campaign_detail", args=[campaign.pk])}"' in html
    assert "task-123" in html and "Analytical Engines" in html
    assert "2024-05-02 12:00:00" in html and "2024-05-02 12:05:00" in html
    causes = ["Picked by the worker.", "OutX created the task.", "The task completed without sending."]
    assert [html.index(cause) for cause in causes] == sorted(html.index(cause) for cause in causes)
    assert Event.objects.filter(connection_request=connection_request).count() == 3


def test_request_detail_of_an_unknown_request_is_404(user_client):
    assert user_client.get(reverse("request_detail", args=[999])).status_code == 404


def test_any_logged_in_user_may_view_another_owners_request(client, campaign):
    connection_request = add_request(campaign, first_name="Ada")
    client.force_login(User.objects.create_user("someone-else"))

    assert client.get(reverse("request_detail", args=[connection_request.pk])).status_code == 200


# --- The CSV export -----------------------------------------------------------------------------


def export(client, **params) -> tuple[object, list[list[str]]]:
    response = client.get(reverse("review_export"), params)
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    # The UTF-8 byte-order mark first, once: without it Excel opens "Krüger" as "KrÃ¼ger".
    assert body.startswith(codecs.BOM_UTF8) and codecs.BOM_UTF8 not in body[3:]
    return response, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_streams_the_filtered_requests_as_csv(user_client, user, campaign):
    account = Sender.get()
    account.time_zone = "Europe/Paris"
    account.save()
    add_request(
        campaign, first_name="Ada", last_name="Lovelace", company="Analytical Engines", title="Countess",
        note="Hi Ada,\nlet us connect", outx_task_id="task-1", completed_at=NOON + dt.timedelta(minutes=3),
        last_error="",
    )
    add_request(campaign, first_name="Grace", state=State.FAILED, last_error="Invalid profile")
    add_request(Campaign.objects.create(name="Other", owner=user), first_name="Elsewhere")

    response, rows = export(user_client, campaign=campaign.pk, state="sent")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Paris")).date()
    assert response["Content-Disposition"] == f'attachment; filename="invitations-{today:%Y-%m-%d}.csv"'
    assert rows == [
        ["Submitted at", "Completed at", "State", "Campaign", "First name", "Last name", "Company", "Title",
         "Profile URL", "Profile URN", "Note", "OutX task id", "Last error",
         "Variant", "Accepted at", "Follow-up state", "Follow-up message", "Sender", "Response", "Responded at"],
        ["2024-05-02 14:00:00+02:00", "2024-05-02 14:03:00+02:00", "Sent", "Q4 founders", "Ada", "Lovelace",
         "Analytical Engines", "Countess", rows[1][8], rows[1][9], "Hi Ada,\nlet us connect", "task-1", "",
         "", "", "", "", account.name, "", ""],
    ]
    assert rows[1][8].startswith("https://www.linkedin.com/in/review-")
    assert rows[1][9].startswith("urn:li:fsd_profile:ACoAAReview")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_export_neutralises_spreadsheet_formulas(user_client, campaign, start):
    add_request(campaign, first_name=f"{start}cmd", company=f"{start}1+1", note=f"{start}HYPERLINK(\"x\")")

    _, rows = export(user_client)

    assert rows[1][4] == f"'{start}cmd"
    assert rows[1][6] == f"'{start}1+1"
    assert rows[1][10] == f"'{start}HYPERLINK(\"x\")"


def test_export_with_no_rows_has_the_header_only(user_client):
    _, rows = export(user_client, q="nobody")

    assert len(rows) == 1 and rows[0][0] == "Submitted at"


def test_export_keeps_accents_for_excel(user_client, campaign):
    add_request(campaign, first_name="Sabine", last_name="Krüger", company="Stadtwerke München", note="Grüße")

    response = user_client.get(reverse("review_export"), {"q": "KRÜGER"})

    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8 + b"Submitted at,")
    assert "Krüger,Stadtwerke München".encode() in body
