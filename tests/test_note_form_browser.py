"""The campaign form in a real browser: the new campaign's live preview with sample values, the
counter agreeing with it, and focus on the first thing to fix after a refused save."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from campaigns.models import Campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long test password"


def open_new_campaign(page, live_server, is_staff=True):
    User.objects.create_user("maya", password=PASSWORD, is_staff=is_staff)  # staff may send from any sender
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    page.goto(live_server.url + "/campaigns/new/")
    return page


@pytest.fixture
def new_campaign_page(page, live_server):
    return open_new_campaign(page, live_server)


def test_a_new_campaign_previews_the_notes_sample_prospects_get(new_campaign_page):
    page = new_campaign_page
    preview = page.locator("#id_note_template_preview")
    counter = page.locator("#id_note_template_counter")

    page.get_by_label("Note").fill("Hi {first_name|there}, how is {company}?")

    expect(preview).to_contain_text("Nobody is queued yet, so here are the notes two sample prospects would get.")
    expect(preview.locator(".rendered-note", has_text="Alexandra Johnson")).to_contain_text(
        "Hi Alexandra, how is Northwind Traders?"
    )
    # The one without a company shows what a missing fallback does, before any prospect is added.
    expect(preview.locator(".rendered-note", has_text="Sam Lee")).to_contain_text("No value for {company}")
    expect(preview).to_contain_text("The note: 39/300, with sample values.")
    expect(preview).to_contain_text("The template as typed: 40/300")
    expect(counter).to_have_text("39/300 · with sample values")

    # Typing on: the preview follows, and the counter says what it says.
    page.get_by_label("Note").fill("Hi {first_name|there}, " + "x" * 290)
    expect(preview).to_contain_text("The note: 304/300, with sample values: 4 over the limit")
    expect(counter).to_have_text(re.compile(r"^304/300 · with sample values · 4 over the limit"))


def test_a_variants_counter_is_measured_by_the_same_preview(new_campaign_page):
    page = new_campaign_page
    page.get_by_label("Variant B").fill("Hey {first_name} from {company|your team}")

    # "Hey Alexandra from Northwind Traders", the longer of the two sample notes.
    expect(page.locator("#id_note_template_b_counter")).to_have_text("36/300 · with sample values")
    expect(page.locator('data[data-note-measure-for="note_template_b"]')).to_have_attribute("value", "36")


def test_focus_goes_to_the_first_field_to_fix_after_a_refused_save(new_campaign_page):
    page = new_campaign_page
    page.get_by_label("Name").fill("Lisbon")
    page.get_by_label("Note").fill("a" * 301)
    # Also refused, further down, by the server only: 91 days is more than the 90 allowed.
    page.get_by_label("Follow-up delay", exact=True).fill("91")
    page.get_by_label("Unit of the follow-up delay").select_option("days")

    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("The template as typed is 301 characters long").first).to_be_visible()
    assert not Campaign.objects.exists()
    note = page.get_by_label("Note")
    expect(note).to_be_focused()
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_have_attribute(
        "aria-describedby", "id_note_template_hint id_note_template_counter id_note_template_error"
    )
    delay = page.get_by_label("Follow-up delay", exact=True)
    expect(delay).to_have_attribute("aria-invalid", "true")
    expect(delay).to_have_attribute("aria-describedby", "id_followup_delay_minutes_helptext id_followup_delay_minutes_error")
    expect(page.locator("#id_followup_delay_minutes_error")).to_contain_text("Enter at most 129600 minutes (90 days).")


def test_a_page_without_errors_keeps_focus_where_it_was(new_campaign_page):
    expect(new_campaign_page.locator("body")).to_be_focused()


def test_an_error_with_no_field_to_focus_is_focused_itself(page, live_server):
    """A member given no sender yet: the senders' error comes first, and has no checkbox."""
    page = open_new_campaign(page, live_server, is_staff=False)
    page.get_by_label("Name").fill("Lisbon")
    page.get_by_label("Note").fill("Hi")

    page.get_by_role("button", name="Save").click()

    error = page.locator("#id_senders_error")
    expect(error).to_contain_text("Choose at least one sender")
    expect(error).to_be_focused()
    assert error.get_attribute("tabindex") == "-1"
