"""Lists that do not grow with the table (issue 14): Review (its first page, a far page, a
search), Home, the campaign list and the note preview run the same queries at 10 requests and at
10,000; none pages by OFFSET, and none counts the requests without a LIMIT."""

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, Prospect, QueuedNotes, Sender
from campaigns.views.review import SEARCH_WINDOW, Position

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
SERIAL = itertools.count()
CAMPAIGNS = 30
STATES = [State.SENT, State.SENT, State.ACCEPTED, State.PENDING, State.QUEUED, State.SKIPPED, State.FAILED]


def add_rows(campaigns: list[Campaign], queue: Campaign, count: int) -> None:
    """`count` requests over the campaigns, in every state, submitted over the last 60 days; one
    in five queued in `queue` (the note preview's)."""
    now, sender = timezone.now(), Sender.get()
    serials = [next(SERIAL) for _ in range(count)]
    prospects = Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAListCost{serial}", first_name=f"Ada{serial}",
                 last_name="Lovelace" if serial % 7 == 0 else "Byron", company="Analytical Engines")
        for serial in serials
    )
    requests = []
    for index, (serial, prospect) in enumerate(zip(serials, prospects, strict=True)):
        if index % 5 == 0:
            requests.append(ConnectionRequest(campaign=queue, prospect=prospect, sender=sender, note="Hi"))
            continue
        state = STATES[serial % len(STATES)]
        submitted = state not in (State.QUEUED, State.SKIPPED)
        requests.append(ConnectionRequest(
            campaign=campaigns[serial % len(campaigns)], prospect=prospect, sender=sender, state=state,
            note="Hello there", submitted_at=now - dt.timedelta(minutes=serial % (60 * 24 * 60)) if submitted else None,
        ))
    ConnectionRequest.objects.bulk_create(requests, batch_size=1000)


def captured(client, url: str, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
        assert response.status_code == 200
    return [query["sql"] for query in context.captured_queries]


def far_cursor() -> str:
    """A position half way down Review's submitted rows (page 100 at 10,000 rows)."""
    submitted = ConnectionRequest.objects.exclude(state=State.QUEUED).filter(submitted_at__isnull=False)
    row = submitted.order_by("-submitted_at", "-id")[submitted.count() // 2]
    return Position.of(row).token


def pages(queue: Campaign) -> dict[str, tuple[str, dict]]:
    return {
        "review": (reverse("review"), {}),
        "review far page": (reverse("review"), {"after": far_cursor()}),
        "review search": (reverse("review"), {"q": "lovelace ada"}),
        "review campaign name": (reverse("review"), {"campaign_name": "campaign 1"}),
        "review campaign names": (reverse("review_campaign_names"), {"campaign_name": "campaign"}),
        "home": (reverse("home"), {}),
        "campaign list": (reverse("campaign_list"), {}),
        "campaign list, page 2": (reverse("campaign_list"), {"page": 2}),
        "note preview": (reverse("note_preview", args=[queue.pk]), {"note_template": "Hi {first_name}, {company}"}),
    }


def test_every_list_runs_the_same_queries_at_10_and_10000_requests(owner_client, owner):
    sender = Sender.get()
    sender.users.add(owner)
    # Caps no size here reaches: a sender at its cap costs Home a query more (when it frees).
    sender.daily_limit, sender.weekly_limit = 1000, 7000
    sender.save()
    campaigns = [
        Campaign.objects.create(name=f"Campaign {n}", owner=owner, state=Campaign.State.ACTIVE) for n in range(CAMPAIGNS)
    ]
    queue = Campaign.objects.create(name="Paused queue", owner=owner, state=Campaign.State.PAUSED, note_template="Hi")
    add_rows(campaigns, queue, 10)
    for url, params in pages(queue).values():
        captured(owner_client, url, params)  # the first visit makes what a first visit makes
    few = {name: captured(owner_client, url, params) for name, (url, params) in pages(queue).items()}

    add_rows(campaigns, queue, 9_990)
    assert queue.requests.filter(state=State.QUEUED).count() > QueuedNotes.PREVIEW_WINDOW
    many = {name: captured(owner_client, url, params) for name, (url, params) in pages(queue).items()}

    print({name: (len(few[name]), len(sql)) for name, sql in many.items()})  # for the record
    assert {name: len(sql) for name, sql in many.items()} == {name: len(sql) for name, sql in few.items()}
    for name, queries in many.items():
        for sql in queries:
            # No paging by OFFSET. A window's end (Review's search, the note preview's) is
            # a bounded step, the same on every page.
            for offset in re.findall(r" OFFSET (\d+)", sql if "campaigns_connectionrequest" in sql else ""):
                assert int(offset) <= SEARCH_WINDOW, (name, sql)
            if re.search(r"COUNT\(", sql) and "campaigns_connectionrequest" in sql and name.startswith("review"):
                assert "LIMIT" in sql, (name, sql)  # a capped count


def test_the_note_preview_says_when_it_measured_only_the_first_notes(owner_client, owner, make_campaign):
    queue = make_campaign("Big queue", Campaign.State.PAUSED, prospects=QueuedNotes.PREVIEW_WINDOW + 1)

    html = owner_client.get(reverse("note_preview", args=[queue.pk]), {"note_template": "Hi {first_name}"}).content.decode()

    assert f"More than {QueuedNotes.PREVIEW_WINDOW} queued prospects" in html
    assert f"the longest of the first {QueuedNotes.PREVIEW_WINDOW} queued notes" in html


def test_reviews_counts_are_capped(owner_client, owner, monkeypatch):
    monkeypatch.setattr("campaigns.views.review.COUNT_CAP", 5)
    campaign = Campaign.objects.create(name="Capped", owner=owner)
    add_rows([campaign], campaign, 20)

    html = owner_client.get(reverse("review")).content.decode()

    assert "More than 5 invitations." in html


def test_a_common_words_count_stops_sooner_and_a_rare_words_is_exact(owner_client, owner, monkeypatch):
    """A word with a page of matches among the first SEARCH_WINDOW rows is counted row by row
    up to COMMON_WORDS_COUNT_CAP; a rarer one through the indexes, up to COUNT_CAP."""
    monkeypatch.setattr("campaigns.views.review.SEARCH_WINDOW", 420)
    monkeypatch.setattr("campaigns.views.review.COMMON_WORDS_COUNT_CAP", 60)
    campaign = Campaign.objects.create(name="Counted", owner=owner)
    add_rows([campaign], campaign, 700)  # one in seven a Lovelace: 80 of them outside the queue, 60 in the window

    for row in ConnectionRequest.objects.exclude(state=State.QUEUED).select_related("prospect")[:3]:
        row.prospect.last_name = "Quixote"
        row.prospect.save()

    common = owner_client.get(reverse("review"), {"q": "lovelace"}).content.decode()
    rare = owner_client.get(reverse("review"), {"q": "quixote"}).content.decode()

    assert "More than 60 invitations." in common
    assert "3 invitations." in rare and "More than" not in rare


def test_a_search_reads_its_filters_once(owner_client, owner, monkeypatch):
    """A common word's page selects its rows three ways (the window, the page, the count), all
    from one validated filter form: the campaign name is looked up once, not once each."""
    monkeypatch.setattr("campaigns.views.review.SEARCH_WINDOW", 420)
    campaign = Campaign.objects.create(name="Campaign 1", owner=owner)
    add_rows([campaign], campaign, 700)

    queries = captured(owner_client, reverse("review"), {"q": "lovelace", "campaign_name": "campaign 1"})

    name_lookups = [sql for sql in queries if re.match(r'SELECT "campaigns_campaign"\."id" (AS "pk" )?FROM "campaigns_campaign" WHERE', sql)]
    assert len(name_lookups) == 1, name_lookups


def test_the_campaign_box_suggests_the_newest_matching_names(owner_client, owner):
    for name in ("Lisbon founders", "Berlin CTOs", "LISBON designers"):
        Campaign.objects.create(name=name, owner=owner)

    html = owner_client.get(reverse("review_campaign_names"), {"campaign_name": "lisbon"}, HTTP_HX_REQUEST="true").content.decode()

    assert html.strip() == '<option value="LISBON designers"></option><option value="Lisbon founders"></option>'
    page = owner_client.get(reverse("review")).content.decode()
    assert 'list="campaign-names"' in page and "<select name=\"campaign\"" not in page


def test_the_search_text_follows_every_way_names_are_written(db):
    """Prospect.search_text is kept by save(), bulk_create, bulk_update and update(): Review's
    search reads only it."""
    prospect = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAASearch1", first_name="Sabine", last_name="KRÜGER")
    assert prospect.search_text == "sabine krüger urn:li:fsd_profile:acoaasearch1"

    prospect.company = "Stadtwerke München"
    prospect.save(update_fields=["company"])
    assert "stadtwerke münchen" in Prospect.objects.get(pk=prospect.pk).search_text

    prospect.title = "CTO"
    Prospect.objects.bulk_update([prospect], ["title"])
    assert "cto" in Prospect.objects.get(pk=prospect.pk).search_text

    Prospect.objects.filter(pk=prospect.pk).update(first_name="Ørjan", headline="Builds ÆØÅ")
    assert Prospect.objects.get(pk=prospect.pk).search_text.startswith("ørjan krüger stadtwerke münchen cto builds æøå")

    (made,) = Prospect.objects.bulk_create([Prospect(profile_url="https://www.linkedin.com/in/grace", first_name="Grace")])
    assert Prospect.objects.get(pk=made.pk).search_text == "grace https://www.linkedin.com/in/grace"
