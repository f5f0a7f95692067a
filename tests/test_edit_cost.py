"""Adding prospects to a campaign and editing its note cost the same beside a long queue as
beside a short one: the new requests get their variant, sender and note as they are written,
from counts, and an edit writes only the notes it changes. Measured in queries and in rows
the database hands back to Python, never in seconds."""

import itertools
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.importing import add_pasted_profiles
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender

pytestmark = pytest.mark.django_db

SERIAL = itertools.count()


@contextmanager
def rows_fetched():
    """Counts every row a query hands back to Python (fetchone, fetchmany, fetchall)."""
    fetched = {"rows": 0}
    originals = {name: getattr(CursorWrapper, name, None) for name in ("fetchone", "fetchmany", "fetchall")}

    def fetchone(self):
        row = self.cursor.fetchone()
        fetched["rows"] += row is not None
        return row

    def fetchmany(self, *args, **kwargs):
        rows = self.cursor.fetchmany(*args, **kwargs)
        fetched["rows"] += len(rows)
        return rows

    def fetchall(self):
        rows = self.cursor.fetchall()
        fetched["rows"] += len(rows)
        return rows

    CursorWrapper.fetchone, CursorWrapper.fetchmany, CursorWrapper.fetchall = fetchone, fetchmany, fetchall
    try:
        yield fetched
    finally:
        for name, original in originals.items():
            if original is None:
                delattr(CursorWrapper, name)
            else:
                setattr(CursorWrapper, name, original)


def queue(campaign: Campaign, n: int) -> None:
    """`n` queued requests with their notes stored, written in bulk (the fixture's one by one
    would take minutes at 10,000)."""
    batch = next(SERIAL)
    prospects = Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAQueue{batch:03d}x{i:06d}", first_name=f"Q{i}", company="Acme")
        for i in range(n)
    )
    ConnectionRequest.objects.bulk_create(
        [ConnectionRequest(campaign=campaign, prospect=p) for p in prospects], batch_size=1000
    )
    campaign.spread_queued_over_senders()
    campaign.render_queued_notes()


def note_writes(queries) -> list[str]:
    """The UPDATEs that store notes (Campaign.write_notes)."""
    return [q["sql"] for q in queries if "new_notes" in q["sql"] and "UPDATE" in q["sql"]]


def ten_new_profiles() -> str:
    batch = next(SERIAL)
    return "\n".join(f"https://www.linkedin.com/in/new-person-{batch}-{i}" for i in range(10))


def cost_of_adding_ten(campaign: Campaign) -> tuple[int, int]:
    text = ten_new_profiles()
    with CaptureQueriesContext(connection) as queries, rows_fetched() as fetched:
        result = add_pasted_profiles(campaign, text)
    assert result.added == 10
    return len(queries), fetched["rows"]


def two_sender_campaign(make_campaign, name: str) -> Campaign:
    senders = [Sender.get(), Sender.objects.create(name="Second")]
    return make_campaign(name, Campaign.State.DRAFT, note_template="Hi {first_name|there}",
                         note_template_b="Hello {first_name|you}", senders=senders)


def test_adding_ten_costs_the_same_beside_10_and_10000_queued(make_campaign):
    empty = two_sender_campaign(make_campaign, "Empty")
    short = two_sender_campaign(make_campaign, "Short")
    long = two_sender_campaign(make_campaign, "Long")
    queue(short, 10)
    queue(long, 10_000)

    into_empty = cost_of_adding_ten(empty)
    into_short = cost_of_adding_ten(short)
    into_long = cost_of_adding_ten(long)

    assert into_short == into_long
    queries, rows = into_long
    assert queries <= 2 * into_empty[0] and rows <= 2 * into_empty[1]
    assert rows < 50  # never the queue: the ten new rows and a few counts


def test_the_new_requests_are_spread_and_rendered_as_written(make_campaign):
    campaign = two_sender_campaign(make_campaign, "Spread")
    queue(campaign, 9)  # 5 A and 4 B; 5 on one sender and 4 on the other
    before = {r.pk: (r.note, r.variant, r.sender_id, r.updated_at) for r in campaign.requests.all()}

    add_pasted_profiles(campaign, ten_new_profiles())

    requests = list(campaign.requests.all())
    assert len(requests) == 19
    after = {r.pk: (r.note, r.variant, r.sender_id, r.updated_at) for r in requests if r.pk in before}
    assert after == before  # the queue already there is not rewritten
    variants = sorted(r.variant for r in requests)
    assert variants.count("A") in (9, 10) and variants.count("B") in (9, 10)
    senders = [r.sender_id for r in requests]
    assert sorted(senders.count(pk) for pk in set(senders)) in ([9, 10], [10, 9])
    new = [r for r in requests if r.pk not in before]
    templates = {"A": "Hi there", "B": "Hello you"}  # the pasted people have no names yet
    assert all(r.note == templates[r.variant] and r.note_problem == "" for r in new)


def test_a_new_requests_note_problem_is_stored_when_it_is_written(make_campaign):
    campaign = make_campaign("Needs company", Campaign.State.DRAFT, note_template="Hi {company}")
    prospect = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAANoCompany01", first_name="Ada")
    campaign.add_prospects([prospect])
    request = campaign.requests.get()
    assert request.note == "" and "{company}" in request.note_problem


def test_an_edit_writes_only_the_notes_it_changes(make_campaign, owner_client):
    campaign = two_sender_campaign(make_campaign, "Edited")
    queue(campaign, 40)
    data = {
        "name": campaign.name, "senders": [s.pk for s in campaign.senders.all()],
        "note_template": "Hi {first_name|there}", "note_template_b": "Hey {first_name|you}",
        "note_template_c": "", "followup_template": "", "followup_delay_minutes": 1440,
        "brake_min_invitations": 20, "brake_min_acceptance_percent": 20,
    }
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.post(reverse("campaign_edit", args=[campaign.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(note_writes(queries)) == 1  # the 20 notes of variant B, in one batch
    assert set(campaign.requests.filter(variant="B").values_list("note", flat=True)) <= {
        f"Hey Q{i}" for i in range(40)
    }
    assert campaign.requests.filter(variant="A", note__startswith="Hi Q").count() == 20

    with CaptureQueriesContext(connection) as queries:
        owner_client.post(reverse("campaign_edit", args=[campaign.pk]), data)
    assert not note_writes(queries)


def test_a_re_render_writes_in_batches(make_campaign, monkeypatch):
    monkeypatch.setattr(Campaign, "NOTE_RENDER_BATCH", 7)
    campaign = make_campaign("Batches", Campaign.State.DRAFT)
    queue(campaign, 20)
    campaign.note_template = "Hello {first_name|there}"
    campaign.save()
    with CaptureQueriesContext(connection) as queries:
        campaign.render_queued_notes()
    assert len(note_writes(queries)) == 3  # 7 + 7 + 6
    assert campaign.requests.filter(note__startswith="Hello Q").count() == 20
