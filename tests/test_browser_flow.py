"""A user's day in a real browser: log in, write a campaign's note under the live counter,
add prospects, launch, watch invitations turn from queued to sent without reloading, find
the note on the review page and export it.

The worker is driven from the test (run_tick between steps) so the run is deterministic; the
page learns of each change only through its own htmx polling. With SCREENSHOTS=1 (`make
screenshots`) it saves the main pages under docs/screenshots/ for the README.
"""

import csv
import datetime as dt
import io
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from campaigns.models import Campaign
from campaigns.worker import run_tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
NOTE = "Hi {first_name|there}, I enjoyed your work at {company|your company} 😀 — would love to connect."


def shoot(page, name):
    if os.environ.get("SCREENSHOTS") != "1":
        return  # a plain test run leaves the working tree as it found it
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, live_server):
    User.objects.create_user("maya", password="a long demo password", is_staff=True)
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("a long demo password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()


def test_a_campaign_from_note_to_review(page, live_server, sandbox, pacing_off):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)

    # A new campaign, its note typed under the live counter.
    page.get_by_role("link", name="Campaigns").first.click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Founders in Lisbon")
    note = page.get_by_label("Note")
    note.fill("Hi 😀")
    expect(page.locator("#id_note_template_counter")).to_contain_text("5/300")
    note.fill("a" * 301)
    expect(page.locator("#id_note_template_counter")).to_contain_text("301/300")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("LinkedIn allows at most 300").first).to_be_visible()
    assert not Campaign.objects.exists()  # refused by the server, with the reason

    page.get_by_label("Note").fill(NOTE)
    # The note a prospect gets, with sample values before anyone is added: "Hi Alexandra, …".
    expect(page.locator("#id_note_template_counter")).to_contain_text("82/300 · with sample values")
    expect(page.get_by_text("The template as typed: 96/300")).to_be_visible()  # the live preview
    shoot(page, "note-editor")
    page.get_by_role("button", name="Save").click()
    campaign = Campaign.objects.get(name="Founders in Lisbon")

    # Prospects pasted as the URLs and URNs people copy.
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/prospects/add/")
    page.get_by_label("Profiles").fill(
        "urn:li:fsd_profile:ACoAABrowser0001\n"
        "ACoAABrowser0002\n"
        "urn:li:fsd_profile:ACoAABrowser0003\n"
        "not a profile\n"
    )
    page.get_by_role("button", name="Add prospects").click()
    expect(page.get_by_text("Added 3 prospects").first).to_be_visible()

    # Launch, and watch the rows change with no reload: the page polls by itself.
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Launch").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("tbody")).to_contain_text("Queued")
    page.evaluate("window.__notReloaded = true")
    run_tick()  # submits all three
    expect(page.locator("tbody")).to_contain_text("With OutX", timeout=15_000)
    run_tick(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=6))  # polls: sent
    for row in rows.all():
        expect(row).to_contain_text("Sent", timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True
    shoot(page, "campaign")

    # The review shows exactly what was sent; the CSV has it too.
    page.get_by_role("link", name="Review").first.click()
    page.get_by_label("Search").fill("enjoyed your work")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("I enjoyed your work at your company").first).to_be_visible()
    shoot(page, "review")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(exported) == 4  # the header and three invitations
    assert any("I enjoyed your work at your company 😀" in cell for row in exported for cell in row)

    page.get_by_role("link", name="Home").first.click()
    shoot(page, "home")
    page.get_by_role("link", name="Senders").first.click()
    shoot(page, "settings")  # the README's name for the admins' page

    if os.environ.get("SCREENSHOTS") == "1":  # the same pages on a phone, for the README
        page.set_viewport_size({"width": 390, "height": 844})
        for name, path in (("home-phone", "/"), ("campaign-phone", f"/campaigns/{campaign.pk}/"), ("review-phone", "/review/")):
            page.goto(live_server.url + path)
            shoot(page, name)
