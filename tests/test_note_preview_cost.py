"""The note preview, the campaign form's check of queued notes and the launch check ask the
database (QueuedNotes), not a render of every queued note: their cost does not grow with the
queue, and their answer is exactly what rendering every note gives."""

import itertools
import random

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from campaigns.forms.campaigns import CampaignForm
from campaigns.models import Campaign, ConnectionRequest, Prospect, QueuedNotes, Sender
from campaigns.notes import (
    NOTE_MAX_LENGTH,
    NoteTemplateError,
    check_note,
    full_name_length,
    note_value_length,
    render_note,
    template_shape,
)
from campaigns.views.notes import PROBLEMS_SHOWN, NotePreview
from tests.costs import measured, slack, vacuum_analyze

pytestmark = pytest.mark.django_db

SERIAL = itertools.count()

# Values a name, company or title may hold: empty and blank ones, emoji (2 units), the
# characters Python's strip() and JavaScript's trim() disagree on, line breaks inside.
VALUES = [
    "", " ", "\t", "\u3000", "\ufeff", "Ada", "Bartholomew", "😀", "Zoë 😀", "👨‍👩‍👧", "\u0085Bo",
    "\ufeffCy\ufeff", "\u001cDi\u001f", "A\r\nB", "  spaced  out  ", "José", "x" * 100,
]
COMPANIES = VALUES + ["C" * 200, "Initech 😀" * 20, "Globex\rLtd"]

# Templates covering what changes a note's length: fallbacks, empty fallbacks at either end,
# one that may render to white space only, a variable repeated, {full_name}, a template over
# the limit for some, an unknown variable, and braces spaced out.
TEMPLATES = [
    "Hi {first_name} at {company}",
    "Hi {first_name|there}, I saw your work at {company|your company}. {full_name|}",
    "{first_name|} {last_name|}",
    "  {first_name|}  {company|}  \r\n",
    "{full_name|}, {title|}\r\n",
    "Hello there {first_name|friend}, " + "x" * 230 + " {company|}",
    "{company}{company}{company}",
    "{title|\u0085} x {first_name| \ufeff }",
    "{ first_name | pal } and { last_name }",
    "a" * 280 + " {full_name}",
    "Hi {nickname|friend}",
    "",
    "   ",
]


def add_queued(campaign, rng: random.Random, count: int) -> None:
    """`count` queued invitations to prospects with names drawn from VALUES; about one in
    seven known only by URL (their name awaits the look-up), one in eleven unreadable."""
    prospects = []
    for _ in range(count):
        serial = next(SERIAL)
        kind = serial % 77
        prospects.append(Prospect(
            profile_urn=None if kind % 7 == 0 else f"urn:li:fsd_profile:ACoAACost{serial}",
            profile_url=f"https://www.linkedin.com/in/cost-{serial}",
            lookup_error="That profile is private." if kind % 11 == 0 else "",
            first_name=rng.choice(VALUES), last_name=rng.choice(VALUES),
            company=rng.choice(COMPANIES), title=rng.choice(VALUES),
        ))
    prospects = Prospect.objects.bulk_create(prospects)
    ConnectionRequest.objects.bulk_create(ConnectionRequest(sender=Sender.get(), campaign=campaign, prospect=p) for p in prospects)


def rendered_one_by_one(campaign, template) -> dict:
    """The preview as it was computed before QueuedNotes: every queued note rendered."""
    notes = campaign.rendered_notes(template)
    with_problem = [note for note in notes if note.problem]
    rendered = [note for note in notes if note.length]
    return summary(
        queued=len(notes),
        longest=max(rendered, key=lambda note: note.length, default=None),
        problems=with_problem[:PROBLEMS_SHOWN],
        problem_count=len(with_problem),
        blocking_count=sum(note.blocks_launch for note in with_problem),
    )


def summary(queued, longest, problems, problem_count, blocking_count) -> dict:
    def seen(note):
        return (note.request.pk, note.text, note.length, note.problem, note.blocks_launch)

    return {
        "queued": queued, "longest": longest and seen(longest), "problems": [seen(note) for note in problems],
        "problem_count": problem_count, "blocking_count": blocking_count,
    }


def previewed(campaign, template) -> dict:
    preview = NotePreview.of(template, campaign)
    return summary(
        preview.queued_count, preview.longest, preview.problems, preview.problem_count, preview.blocking_count
    )


@pytest.fixture
def campaign(owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    campaign.senders.add(Sender.get())  # so that its launch check speaks only of its notes
    return campaign


# --- The same answer as rendering every note ----------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_preview_equals_a_full_render_on_varied_names(campaign, template):
    add_queued(campaign, random.Random(7), 300)

    assert previewed(campaign, template) == rendered_one_by_one(campaign, template)


def test_the_varied_campaign_has_every_kind_of_note(campaign):
    """The comparison above is worth something: each outcome it compares occurs in it."""
    add_queued(campaign, random.Random(7), 300)

    outcomes = {template: rendered_one_by_one(campaign, template) for template in TEMPLATES}
    over = outcomes["Hello there {first_name|friend}, " + "x" * 230 + " {company|}"]
    assert over["longest"][2] > NOTE_MAX_LENGTH and 0 < over["blocking_count"] < over["queued"]
    missing = outcomes["Hi {first_name} at {company}"]
    assert missing["problem_count"] > missing["blocking_count"] > 0  # some wait for the look-up
    assert outcomes["{first_name|} {last_name|}"]["longest"] is not None
    assert outcomes["Hi {nickname|friend}"]["problem_count"] == 300


def test_ties_for_the_longest_go_to_the_first_queued(campaign):
    for name in ("Ann", "Bob", "Cy"):
        add_prospect(campaign, first_name=name)

    assert NotePreview.of("Hi {first_name}", campaign).longest.request.prospect.first_name == "Ann"


def test_a_variants_preview_covers_only_its_own_requests(campaign):
    campaign.note_template, campaign.note_template_b = "A {first_name}", "B {company}"
    campaign.save()
    add_queued(campaign, random.Random(3), 60)
    campaign.render_queued_notes()

    for label in ("A", "B"):
        notes = campaign.queued_notes("Hi {first_name} at {company}", variant=label)
        full = [n for n in campaign.rendered_notes("Hi {first_name} at {company}", variant=label) if n.blocks_launch]
        assert notes.counts["blocking"] == len(full) > 0
        assert [n.request.pk for n in notes.first_blocking(10)] == [n.request.pk for n in full[:10]]


# --- The cost does not grow with the queue ------------------------------------------------------


def preview_queries(client, campaign) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(
            reverse("note_preview", args=[campaign.pk]),
            {"note_template": "Hi {first_name} at {company}, {title|}"}, HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
    return len(captured)


def test_preview_queries_are_the_same_for_10_and_1000_queued(client, owner):
    client.force_login(owner)
    small = Campaign.objects.create(name="Small", owner=owner)
    large = Campaign.objects.create(name="Large", owner=owner)
    add_queued(small, random.Random(1), 10)
    add_queued(large, random.Random(1), 1000)
    preview_queries(client, small)  # the first request creates the session and the account

    assert preview_queries(client, small) == preview_queries(client, large)


def test_preview_of_1000_queued_renders_only_what_it_shows(campaign, monkeypatch):
    add_queued(campaign, random.Random(2), 1000)
    rendered = []
    original = render_note
    monkeypatch.setattr("campaigns.models.render_note", lambda *args: rendered.append(1) or original(*args))

    preview = NotePreview.of("Hi {first_name} at {company}", campaign)

    assert preview.queued_count == 1000 and preview.problem_count > PROBLEMS_SHOWN
    assert len(rendered) == PROBLEMS_SHOWN + 1  # the problems shown and the longest note


def form_check_queries(campaign) -> int:
    form = CampaignForm(
        {"name": "Renamed", "note_template": "Hi {first_name} at {company}", "note_template_b": "",
         "note_template_c": "", "followup_template": ""},
        instance=campaign,
    )
    with CaptureQueriesContext(connection) as captured:
        assert not form.is_valid()
    assert "queued prospects would get a note that cannot be sent:" in str(form.errors["note_template"])
    return len(captured)


def test_the_forms_check_of_queued_notes_does_not_grow_with_the_queue(owner):
    small = Campaign.objects.create(name="Small", owner=owner)
    large = Campaign.objects.create(name="Large", owner=owner)
    add_queued(small, random.Random(4), 10)
    add_queued(large, random.Random(4), 1000)

    assert form_check_queries(small) == form_check_queries(large)


def test_the_forms_check_lists_the_same_notes_as_a_full_render(campaign):
    add_queued(campaign, random.Random(5), 200)
    template = "Hi {first_name} at {company}"
    blocked = [note for note in campaign.rendered_notes(template) if note.blocks_launch]

    form = CampaignForm(
        {"name": "X", "note_template": template, "note_template_b": "", "note_template_c": "", "followup_template": ""},
        instance=campaign,
    )

    assert not form.is_valid()
    errors = list(form.errors["note_template"])
    assert errors[0] == f"{len(blocked)} queued prospects would get a note that cannot be sent:"
    assert errors[1:11] == [f"{note.request.prospect}: {note.problem}" for note in blocked[:10]]
    assert errors[11] == f"… and {len(blocked) - 10} more."


def launch_check_queries(campaign) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        problems = campaign.launch_problems()
    return len(captured), problems


def test_the_launch_check_does_not_grow_with_the_queue_and_lists_ten(owner):
    template = "Hi {first_name} at {company}"
    small = Campaign.objects.create(name="Small", owner=owner, note_template=template)
    large = Campaign.objects.create(name="Large", owner=owner, note_template=template)
    small.senders.add(Sender.get())
    large.senders.add(Sender.get())
    add_queued(small, random.Random(6), 10)
    add_queued(large, random.Random(6), 1000)
    small.render_queued_notes()  # as adding prospects does: each note's problem is stored
    large.render_queued_notes()

    small_queries, _ = launch_check_queries(small)
    large_queries, problems = launch_check_queries(large)

    assert small_queries == large_queries
    blocked = [note for note in large.rendered_notes() if note.blocks_launch]
    assert problems[:10] == [f"{note.request.prospect}: {note.problem}" for note in blocked[:10]]
    assert problems[10:] == [f"… and {len(blocked) - 10} more queued prospects whose note cannot be sent."]


def test_the_launch_check_merges_the_variants_in_queue_order(campaign):
    campaign.note_template, campaign.note_template_b = "A {company}", "B {title}"
    campaign.save()
    add_queued(campaign, random.Random(8), 100)
    campaign.render_queued_notes()
    blocked = [note for note in campaign.rendered_notes() if note.blocks_launch]
    assert {note.request.variant for note in blocked[:10]} == {"A", "B"}

    problems = campaign.launch_problems()

    assert problems[:10] == [f"{note.request.prospect}: {note.problem}" for note in blocked[:10]]
    assert problems[10:] == [f"… and {len(blocked) - 10} more queued prospects whose note cannot be sent."]


# --- The stored lengths follow the names however they are written -------------------------------


def add_prospect(campaign, **fields) -> Prospect:
    fields.setdefault("profile_urn", f"urn:li:fsd_profile:ACoAACost{next(SERIAL)}")
    prospect = Prospect.objects.create(**fields)
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect)
    return prospect


def stored_lengths(prospect) -> tuple:
    prospect = Prospect.objects.get(pk=prospect.pk)
    return (prospect.first_name_note_length, prospect.last_name_note_length,
            prospect.company_note_length, prospect.title_note_length)


def test_save_stores_the_lengths_as_a_note_counts_them():
    prospect = Prospect.objects.create(
        profile_urn="urn:li:fsd_profile:ACoAACostSave", first_name="  Zoë 😀 ", last_name="\u0085Bo",
        company="\ufeff", title="A\r\nB",
    )
    assert stored_lengths(prospect) == (6, 3, 0, 3)

    prospect.first_name = "Al"
    prospect.save(update_fields=["first_name"])  # the length goes with the name
    assert stored_lengths(prospect)[0] == 2


def test_bulk_writes_and_update_store_the_lengths():
    [prospect] = Prospect.objects.bulk_create(
        [Prospect(profile_urn="urn:li:fsd_profile:ACoAACostBulk", first_name="😀")]
    )
    assert stored_lengths(prospect)[0] == 2

    prospect.company = "Acme"
    Prospect.objects.bulk_update([prospect], ["company"])
    assert stored_lengths(prospect)[2] == 4

    Prospect.objects.filter(pk=prospect.pk).update(title=" CTO ", last_name="Lovelace")
    assert stored_lengths(prospect) == (2, 8, 4, 3)


def test_a_length_not_known_is_computed_when_next_needed(campaign):
    from django.db.models import F

    prospect = add_prospect(campaign, first_name="Ada", company="Initech")
    Prospect.objects.filter(pk=prospect.pk).update(first_name=F("company"))  # not known in Python
    assert stored_lengths(prospect)[0] is None

    preview = NotePreview.of("Hi {first_name}", campaign)

    assert preview.longest.text == "Hi Initech" and preview.longest.length == 10
    assert stored_lengths(prospect)[0] == 7


def test_an_import_and_a_look_up_store_the_lengths(campaign):
    from campaigns import outx
    from campaigns.importing import ProfileEntry, save_batch
    from campaigns.lookups import apply_looked_up_profile

    save_batch(campaign, [ProfileEntry(2, None, "https://www.linkedin.com/in/cost-import", first_name="Zoë 😀")])
    prospect = Prospect.objects.get(profile_url="https://www.linkedin.com/in/cost-import")
    assert stored_lengths(prospect) == (6, 0, 0, 0)

    profile = outx.Profile(urn="urn:li:fsd_profile:ACoAACostLookup", first_name="Zoë", last_name="Lovelace 😀",
                           headline="", location="")
    apply_looked_up_profile(prospect, profile)
    assert stored_lengths(prospect) == (6, 11, 0, 0)


def test_the_migration_fills_existing_rows():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("campaigns.migrations.0010_prospect_note_lengths")
    prospect = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAACostMigrate", first_name="😀", title="CTO")
    Prospect.objects.filter(pk=prospect.pk).update(
        first_name_note_length=None, last_name_note_length=None, company_note_length=None, title_note_length=None
    )

    migration.fill_note_lengths(apps, None)

    assert stored_lengths(prospect) == (2, 0, 0, 3)


# --- The length rule itself, against a render, on arbitrary text ----------------------------------

PIECES = st.sampled_from([
    "", " ", "\t", "\r\n", "\r", "\n", "a", "Hi ", " x ", "\u0085", "\ufeff", "\u001c", "😀", "{first_name}",
    "{last_name|}", "{full_name| }", "{company|Co}", "{title|\u0085}", "{first_name|\ufeff }", "{ company }",
    "{full_name}", "{title|}", "{last_name}", "{company|}", "{nickname}",
])
TEXT = st.text(alphabet=st.sampled_from(list(" \t\r\nab😀\u0085\ufeff\u001c\u001f\u3000é")), max_size=6)


@settings(max_examples=2000, deadline=None)
@given(st.lists(PIECES, max_size=8).map("".join), TEXT, TEXT, TEXT, TEXT)
def test_the_template_shape_gives_the_rendered_notes_length(template, first, last, company, title):
    prospect = Prospect(first_name=first, last_name=last, company=company, title=title)
    try:
        expected = check_note(render_note(template, prospect.note_values())).length
    except NoteTemplateError:
        expected = None
    lengths = {name: note_value_length(value) for name, value in
               (("first_name", first), ("last_name", last), ("company", company), ("title", title))}
    lengths["full_name"] = full_name_length(lengths["first_name"], lengths["last_name"])

    assert template_shape(template).note_length(lengths) == expected


class QueuedNotesInSqlTests(HypothesisTestCase):
    """The SQL side of the rule: each queued note's length as the database computes it."""

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(PIECES, max_size=8).map("".join),
        st.lists(st.tuples(TEXT, TEXT, TEXT, TEXT), min_size=1, max_size=6),
    )
    def test_each_notes_length_in_sql_is_the_rendered_length(self, template, names):
        from django.contrib.auth.models import User

        campaign = Campaign.objects.create(name="H", owner=User.objects.create_user(f"h{next(SERIAL)}"))
        for first, last, company, title in names:
            add_prospect(campaign, first_name=first, last_name=last, company=company, title=title)

        notes = campaign.queued_notes(template)
        in_sql = dict(notes.requests.values_list("pk", "note_length"))
        for note in campaign.rendered_notes(template):
            rendered = None if note.length == 0 and note.problem else note.length
            assert in_sql[note.request.pk] == rendered, (template, note.request.prospect.note_values())


def test_measuring_the_variants_too_does_not_grow_with_the_queue(client, owner):
    client.force_login(owner)
    small = Campaign.objects.create(name="Small", owner=owner)
    large = Campaign.objects.create(name="Large", owner=owner)
    add_queued(small, random.Random(9), 10)
    add_queued(large, random.Random(9), 1000)
    params = {"note_template": "Hi {first_name}", "note_template_b": "Hey {company|}", "note_template_c": "Yo {title|}"}

    def queries(campaign) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("note_preview", args=[campaign.pk]), params, HTTP_HX_REQUEST="true")
            assert response.status_code == 200
            assert response.content.decode().count("data-note-measure-for=") == 3
        return len(captured)

    queries(small)  # the first request creates the session and the account
    assert queries(small) == queries(large)


# --- A keystroke reads the window, however long the queue (tests/costs.py) ---------------------

# Work at 10,000 queued may exceed the work at a queue one longer than the window by this
# factor, and `slack()` more besides.
WORK_FACTOR = 1.5


def fill_queue(campaign, count: int, tag: str) -> None:
    """`count` queued invitations, written in bulk as an import leaves them; every third
    prospect without a company, so the template below has notes with a problem to list."""
    prospects = Prospect.objects.bulk_create(
        (Prospect(profile_urn=f"urn:li:fsd_profile:ACoAACostQ{tag}{i}", first_name=f"Pat{i}",
                  company="" if i % 3 == 0 else "Acme", title="CTO") for i in range(count)),
        batch_size=2000,
    )
    ConnectionRequest.objects.bulk_create(
        (ConnectionRequest(sender=Sender.get(), campaign=campaign, prospect=p) for p in prospects), batch_size=2000
    )


def keystroke_cost(client, campaign):
    """One keystroke of the editor: the preview of a template with a variable that some
    prospects lack, and a variant's measure for its counter."""
    params = {"note_template": "Hi {first_name} at {company}, {title|}", "note_template_b": "Hey {company|there}"}
    with measured() as cost:
        response = client.get(reverse("note_preview", args=[campaign.pk]), params, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert "Notes with a problem" in response.content.decode()
    return cost


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
def test_a_keystroke_costs_the_same_at_10_and_at_10000_queued(client, owner):
    """The same queries at every size, and no more work at 10,000 than at one more than the
    window: the queue past its first PREVIEW_WINDOW requests is never read (each measure would
    read 9,000 requests more), on SQLite and on PostgreSQL."""
    client.force_login(owner)
    window = QueuedNotes.PREVIEW_WINDOW
    sizes = {"10": 10, "window + 1": window + 1, "10,000": 10_000}
    campaigns = {name: Campaign.objects.create(name=f"Queue of {name}", owner=owner) for name in sizes}
    for name, count in sizes.items():
        fill_queue(campaigns[name], count, name)
    vacuum_analyze()  # as autovacuum leaves a queue: unvacuumed, PostgreSQL may read all of it
    for campaign in campaigns.values():
        keystroke_cost(client, campaign)  # warm: the session, the team's zone

    with transaction.atomic():  # PostgreSQL's rows read are counted per transaction
        costs = {name: keystroke_cost(client, campaign) for name, campaign in campaigns.items()}

    print({name: (cost.queries, cost.work) for name, cost in costs.items()})  # for the record
    assert costs["10"].queries == costs["window + 1"].queries == costs["10,000"].queries, costs["10,000"].sql
    assert costs["10,000"].work <= costs["window + 1"].work * WORK_FACTOR + slack(), (
        costs["window + 1"].work, costs["10,000"].work, costs["10,000"].costliest()
    )
