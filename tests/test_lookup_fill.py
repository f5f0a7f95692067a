"""Profile look-ups fill the note's variables: a prospect known only by its URL gets its names,
company, title, headline and location from fetch-profile (never over what a person gave), and
the sandbox names the member as the slug does."""

import pytest

from campaigns import outx
from campaigns.importing import ProfileEntry, save_batch
from campaigns.lookups import apply_looked_up_profile
from campaigns.models import ConnectionRequest, Prospect
from outx_sandbox.extension import fake_profile, names_from_slug
from tests.helpers import run_until

pytestmark = pytest.mark.django_db(transaction=True)

SABINE = "https://www.linkedin.com/in/sabine-krueger-7a1b2c"


@pytest.mark.parametrize("slug, names", [
    ("sabine-krueger-7a1b2c", ("Sabine", "Krueger")),
    ("Sabine-Krueger-7A1B2C", ("Sabine", "Krueger")),
    ("jean-luc-picard", ("Jean", "Luc Picard")),
    ("ada-lovelace-0a1b2c3d", ("Ada", "Lovelace")),
    ("ada-lovelace-deadbeef99", ("Ada", "Lovelace")),
    ("zoë-müller-12", ("Zoë", "Müller")),
])
def test_the_sandbox_names_the_member_as_the_slug_does(slug, names):
    profile = fake_profile(slug)
    assert (profile["first_name"], profile["last_name"]) == names
    assert profile["name"] == " ".join(names)
    assert profile["headline"] == f"{profile['title']} at {profile['company']}"
    assert {"profile_urn", "profile_url", "location", "connections", "followers"} <= profile.keys()


@pytest.mark.parametrize("slug", ["williamhgates", "x-12345", "123456"])
def test_a_slug_without_a_readable_name_gets_a_believable_one(slug):
    first, last = names_from_slug(slug)
    assert first.isalpha() and first[0].isupper() and last and last[0].isupper()
    assert names_from_slug(slug) == (first, last)  # always the same


def test_a_short_single_name_is_kept_as_the_first_name():
    assert names_from_slug("ada")[0] == "Ada"


def test_the_client_reads_names_company_and_title():
    output = {"profile": {"profile_urn": "ACoAAB1", "first_name": " Sabine ", "last_name": "Krueger",
                         "name": "ignored", "company": "Hooli", "title": "CTO", "headline": "CTO at Hooli",
                         "location": "Berlin"}}
    profile = outx.TaskStatus("t", outx.COMPLETED, None, output, {}).profile()
    assert (profile.urn, profile.first_name, profile.last_name, profile.company, profile.title) == (
        "urn:li:fsd_profile:ACoAAB1", "Sabine", "Krueger", "Hooli", "CTO")
    only_name = outx.TaskStatus("t", outx.COMPLETED, None, {"name": "Mary Ann Lee", "company": 5}, {}).profile()
    assert (only_name.first_name, only_name.last_name, only_name.company, only_name.title) == ("Mary", "Ann Lee", "", "")


def test_a_look_up_through_the_sandbox_fills_the_note(sandbox, pacing_off, make_campaign):
    campaign = make_campaign(note_template="Hi {first_name}, how is {company}?")
    save_batch(campaign, [ProfileEntry(1, None, SABINE)])
    request = campaign.requests.get()
    assert request.note_problem  # nothing to fill the note with yet

    run_until([0, 6, 12, 18])
    prospect = Prospect.objects.get(profile_url=SABINE)
    fetched = fake_profile("sabine-krueger-7a1b2c")
    assert prospect.profile_urn == fetched["profile_urn"]
    assert (prospect.first_name, prospect.last_name, prospect.company, prospect.title, prospect.headline,
            prospect.location) == ("Sabine", "Krueger", fetched["company"], fetched["title"], fetched["headline"],
                                   fetched["location"])
    request.refresh_from_db()
    assert request.note == f"Hi Sabine, how is {fetched['company']}?" and request.note_problem == ""
    assert request.state in (ConnectionRequest.State.SENT, ConnectionRequest.State.PENDING, ConnectionRequest.State.QUEUED)


def test_a_look_up_never_overwrites_what_a_person_gave(make_campaign):
    campaign = make_campaign(note_template="Hi {first_name|there}")
    save_batch(campaign, [ProfileEntry(1, None, SABINE, first_name="Bina", company="Given Co")])
    prospect = Prospect.objects.get(profile_url=SABINE)
    profile = outx.Profile("urn:li:fsd_profile:ACoAASabine", "Sabine", "Krueger", "CTO at Hooli", "Berlin", "Hooli", "CTO")
    apply_looked_up_profile(prospect, profile)
    prospect.refresh_from_db()
    assert (prospect.first_name, prospect.last_name, prospect.company, prospect.title, prospect.headline) == (
        "Bina", "Krueger", "Given Co", "CTO", "CTO at Hooli")
    assert campaign.requests.get().note == "Hi Bina"


def test_a_look_up_that_finds_a_known_member_fills_what_they_lack(make_campaign):
    campaign = make_campaign()
    known = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAASabine", first_name="Sabine")
    save_batch(campaign, [ProfileEntry(1, None, SABINE)])
    url_only = Prospect.objects.get(profile_url=SABINE)
    apply_looked_up_profile(url_only, outx.Profile("urn:li:fsd_profile:ACoAASabine", "S", "Krueger", "", "", "Hooli", "CTO"))
    known.refresh_from_db()
    assert (known.first_name, known.last_name, known.company, known.title) == ("Sabine", "Krueger", "Hooli", "CTO")
