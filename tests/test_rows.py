"""campaigns.rows: the long tables' rows written in Python. The pages' own tests hold their
HTML (test_review*, test_campaign_views, test_security_escaping, test_time_zones); these hold
the shortcuts the rows take against what Django itself would write."""

import datetime as dt
import itertools
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from hypothesis import given
from hypothesis import strategies as st

from campaigns import markup
from campaigns.markup import html_format
from campaigns.models import ConnectionRequest, FollowUp, Prospect
from campaigns.rows import Times, url_for_each
from tests.helpers import add_followup, add_request

State = ConnectionRequest.State
KINDS = itertools.count()

HOSTILE = ['<script>alert("x")</script>', "O'Brien & Co", '"><img src=x onerror=alert(1)>', "Zoë", ""]


def test_a_url_made_for_each_id_is_what_reverse_gives():
    for name, args in (("request_detail", ()), ("campaign_detail", ()), ("request_action", ("followup-retry",))):
        url = url_for_each(name, *args)
        for pk in (1, 42, 987654321, 2**62):
            assert url(pk) == reverse(name, args=[pk, *args])


def test_a_url_made_for_each_id_keeps_the_sites_prefix():
    set_script_prefix("/outreach/")
    try:
        assert url_for_each("request_detail")(7) == reverse("request_detail", args=[7]) == "/outreach/review/7/"
    finally:
        set_script_prefix("/")


def test_html_format_escapes_as_format_html_does():
    for value in HOSTILE:
        assert html_format('<a title="{v}">{v}</a>', v=value) == format_html('<a title="{}">{}</a>', value, value)
    assert html_format("<p>{v}</p>", v=SafeString("<b>kept</b>")) == "<p><b>kept</b></p>"
    assert isinstance(html_format("<p>{v}</p>", v="x"), SafeString)
    assert html_format("<p>{}{}</p>", "<", 3) == format_html("<p>{}{}</p>", "<", 3) == "<p>&lt;3</p>"


@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)),
       st.sampled_from(["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"]))
def test_times_are_written_as_djangos_date_formats_write_them(moment, zone_name):
    zone = zoneinfo.ZoneInfo(zone_name)
    with timezone.override(zone):
        times, here = Times(), timezone.localtime(moment)
        assert markup.minute(here) == dateformat.format(here, "Y-m-d H:i")
        assert markup.weekday_minute(here) == dateformat.format(here, "D j M H:i")
        assert times.tag(moment, markup.minute, utc=True) == (
            f'<time datetime="{dateformat.format(moment.astimezone(dt.UTC), "c")}">{dateformat.format(here, "Y-m-d H:i")}</time>'
        )
        assert times.tag(moment, markup.weekday_minute, utc=False).startswith(f'<time datetime="{dateformat.format(here, "c")}">')
        assert times.tag(None, markup.minute, utc=True) == ""
        assert markup.day_month(here.date()) == dateformat.format(here.date(), "j M")
        assert markup.weekday_day_month(here.date()) == dateformat.format(here.date(), "D j M")


@pytest.mark.django_db
def test_reviews_rows_of_every_kind_cost_no_query_each(owner_client, make_campaign):
    """Review reads only ReviewRows.COLUMNS: a row showing a column left out would load it with
    one query of its own. Rows of every kind, then five times as many: the same queries."""

    def add_rows():
        campaign = make_campaign(f"Kinds {next(KINDS)}")
        long_ago = timezone.now() - dt.timedelta(days=60)
        accepted = add_request(campaign, State.ACCEPTED, company="Initech", note="Hello there")
        add_followup(accepted, FollowUp.State.UNCERTAIN, message="Thanks <b>for</b> connecting")
        add_request(campaign, State.SENT, submitted_at=long_ago, response=ConnectionRequest.Response.REPLIED)
        add_request(campaign, State.PENDING, submitted_at=long_ago, completed_at=None)
        add_request(campaign, State.SKIPPED, sender=None)
        add_request(campaign, State.NOT_SENT, completed_at=timezone.now())

    def queries(params) -> int:
        with CaptureQueriesContext(connection) as context:
            html = owner_client.get(reverse("review"), params).content.decode()
        assert "Thanks &lt;b&gt;for&lt;/b&gt; connecting" in html and "Replied" in html
        return len(context.captured_queries)

    add_rows()
    few = [queries({}), queries({"q": "pat"})]
    for _ in range(4):
        add_rows()
    assert [queries({}), queries({"q": "pat"})] == few


@pytest.mark.django_db
def test_the_campaign_pages_rows_of_every_kind_cost_no_query_each(owner_client, make_campaign):
    """The campaign page reads only RequestRows.COLUMNS (and its senders whole), and says why
    each row waits from them: rows of every kind, then five times as many, the same queries."""
    campaign = make_campaign("Every kind", note_template="Hi {first_name}", note_template_b="Hello {first_name}",
                             followup_template="Thanks, {first_name}!")
    long_ago = timezone.now() - dt.timedelta(days=60)

    def add_rows():
        add_request(campaign, State.QUEUED, note="Hi Pat", variant="A")
        add_request(campaign, State.QUEUED, note="", note_problem="The note needs a first name.", variant="B")
        no_urn = add_request(campaign, State.QUEUED, note="Hi Sam")
        Prospect.objects.filter(pk=no_urn.prospect_id).update(profile_urn=None, lookup_error="Not found on LinkedIn.")
        accepted = add_request(campaign, State.ACCEPTED, note="Hi")
        add_followup(accepted, FollowUp.State.UNCERTAIN, message="Thanks <b>for</b> connecting")
        add_request(campaign, State.ACCEPTED, accepted_at=long_ago)  # its follow-up due
        add_request(campaign, State.PENDING, submitted_at=long_ago, response=ConnectionRequest.Response.NOT_INTERESTED)
        add_request(campaign, State.UNCERTAIN)
        skipped = add_request(campaign, State.QUEUED)
        skipped.move_to(State.SKIPPED, "Removed by hand.")

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            html = owner_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
        assert "Thanks &lt;b&gt;for&lt;/b&gt; connecting" in html and "Not found on LinkedIn." in html
        assert "Removed by hand." in html and "Follow-up message due now" in html and "Stale:" in html
        return len(context.captured_queries)

    add_rows()
    few = queries()
    for _ in range(4):
        add_rows()
    assert queries() == few
