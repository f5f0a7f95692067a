"""Review's pages by cursor (issue 14): walking Next from the first page, or Previous back from
the last, lists every invitation once, in Review's order — submitted ones newest first, ties on
the submission time broken by id, then those never submitted — with the filters kept; a cursor
that is not one of ours shows the first page with a message, never an error."""

import datetime as dt
import html as html_lib
import itertools
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.views.review import PAGE_SIZE, Position

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
SERIAL = itertools.count()
NOON = dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC)
ROW = re.compile(r'<tr id="review-(\d+)">')


def invite(campaign, state=State.SENT, submitted_at=None, first_name="Pat") -> ConnectionRequest:
    serial = next(SERIAL)
    prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAKeyset{serial}", first_name=first_name)
    return ConnectionRequest.objects.create(
        campaign=campaign, prospect=prospect, sender=Sender.get(), state=state, submitted_at=submitted_at,
    )


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Keyset", Campaign.State.ACTIVE)


@pytest.fixture
def rows(campaign):
    """130 invitations: 40 submitted at the very same moment (ties), 60 a minute apart, and 30
    skipped before they were ever submitted; so that pages cross every boundary."""
    for _ in range(40):
        invite(campaign, submitted_at=NOON)
    for minute in range(60):
        invite(campaign, submitted_at=NOON + dt.timedelta(minutes=minute % 30, seconds=minute))
    for _ in range(30):
        invite(campaign, state=State.SKIPPED)


def review_order(requests) -> list[int]:
    submitted = requests.filter(submitted_at__isnull=False).order_by("-submitted_at", "-id")
    never = requests.filter(submitted_at__isnull=True).order_by("-id")
    return [*submitted.values_list("pk", flat=True), *never.values_list("pk", flat=True)]


def link(page_html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]*)" rel="{rel}"', page_html)
    return html_lib.unescape(found[1]) if found else None


def walk(client, url: str, rel: str) -> list[list[int]]:
    pages = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        page_html = response.content.decode()
        pages.append([int(pk) for pk in ROW.findall(page_html)])
        following = link(page_html, rel)
        url = reverse("review") + following if following else None
        assert len(pages) < 20
    return pages


def test_next_walks_every_row_once_in_reviews_order(owner_client, rows):
    pages = walk(owner_client, reverse("review"), "next")

    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 30]
    assert [pk for page in pages for pk in page] == review_order(ConnectionRequest.objects.all())


def test_previous_walks_back_the_same_pages(owner_client, rows):
    forward = walk(owner_client, reverse("review"), "next")
    last_page_html = owner_client.get(reverse("review"), {"after": Position.of(
        ConnectionRequest.objects.get(pk=forward[1][-1])).token}).content.decode()
    assert "First</a>" in last_page_html and link(last_page_html, "next") is None

    backward = walk(owner_client, reverse("review") + link(last_page_html, "prev"), "prev")

    assert backward == forward[-2::-1]
    assert "First</a>" not in owner_client.get(reverse("review")).content.decode()


def test_the_filters_stay_on_every_page(owner_client, campaign, rows):
    other = Campaign.objects.create(name="Other", owner=campaign.owner)
    for minute in range(5):
        invite(other, submitted_at=NOON + dt.timedelta(minutes=minute))

    first = owner_client.get(reverse("review"), {"state": "sent", "campaign": campaign.pk}).content.decode()
    next_url = link(first, "next")

    assert f"state=sent&campaign={campaign.pk}&after=" in next_url
    pages = walk(owner_client, reverse("review") + f"?state=sent&campaign={campaign.pk}", "next")
    assert [pk for page in pages for pk in page] == review_order(campaign.requests.filter(state=State.SENT))


def test_a_page_after_the_boundary_of_never_submitted_rows(owner_client, campaign, rows):
    never = campaign.requests.filter(submitted_at__isnull=True).order_by("-id")
    start = never[4]

    page = owner_client.get(reverse("review"), {"after": Position.of(start).token}).content.decode()

    assert [int(pk) for pk in ROW.findall(page)] == list(never.values_list("pk", flat=True))[5:]


@pytest.mark.parametrize("cursor", ["garbage", "1.2.3", "n.99999999999999999999", "n.0", "-5.3", "1." + "9" * 30])
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_bad_cursor_shows_the_first_page_with_a_message(owner_client, rows, cursor, direction):
    response = owner_client.get(reverse("review"), {direction: cursor})

    assert response.status_code == 200
    page_html = response.content.decode()
    assert [int(pk) for pk in ROW.findall(page_html)] == review_order(ConnectionRequest.objects.all())[:PAGE_SIZE]
    assert "That page link is not one this page made" in page_html


def test_a_position_reads_back_to_the_microsecond():
    moment = timezone.now().replace(microsecond=123456)
    for position in (Position(moment, 42), Position(None, 7)):
        assert Position.parse(position.token) == position


def test_the_export_is_in_reviews_order(owner_client, rows):
    export = b"".join(owner_client.get(reverse("review_export")).streaming_content).decode("utf-8-sig")

    assert export.count("\n") == 1 + ConnectionRequest.objects.count()
    lines = export.splitlines()[1:]
    assert all(line.startswith("2024-05-02") for line in lines[:100]) and all(line.startswith(",") for line in lines[100:])


@pytest.mark.parametrize("every", [1, 3, 40])
def test_a_search_walks_the_same_rows_whether_its_window_holds_a_page_or_not(
    owner_client, campaign, monkeypatch, every
):
    """A search looks for its page among the next SEARCH_WINDOW rows first (common words),
    else through the indexes (rare ones); either way the pages list every match once, in
    Review's order. Here the window is 60 rows, across the ties and the never-submitted rows."""
    monkeypatch.setattr("campaigns.views.review.SEARCH_WINDOW", 60)
    for i in range(40):
        invite(campaign, submitted_at=NOON, first_name="Grace" if i % every == 0 else "Pat")
    for minute in range(60):
        invite(campaign, submitted_at=NOON + dt.timedelta(seconds=minute), first_name="Grace" if minute % every == 0 else "Pat")
    for i in range(30):
        invite(campaign, state=State.SKIPPED, first_name="Grace" if i % every == 0 else "Pat")

    seen = [pk for page in walk(owner_client, reverse("review") + "?q=grace", "next") for pk in page]
    expected = review_order(ConnectionRequest.objects.filter(prospect__first_name="Grace"))
    assert len(seen) == len(set(seen)) == len(expected)
    assert seen == expected
