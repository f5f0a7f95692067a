"""Note variants in a real browser: a campaign with two note variants whose invitations are
accepted, its acceptance rate per variant, and its follow-up messages turning to Sent on the
page without a reload; and the variants' own live counters in the campaign form.

The worker is driven from the test (run_tick on a simulated clock, as tests/test_acceptance.py
and tests/test_followups.py do); the page learns of each change only by its own polling.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign, ConnectionRequest, FollowUp
from campaigns.worker import run_tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long test password"


def log_in(page, live_server):
    User.objects.create_user("maya", password=PASSWORD)
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    return User.objects.get(username="maya")


def test_variant_rates_and_follow_ups_update_live(page, live_server, switch, pacing_off, make_campaign):
    page.set_viewport_size({"width": 1280, "height": 900})
    owner = log_in(page, live_server)
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    campaign = make_campaign(
        "Two notes", owner=owner, note_template="A: hi {first_name}", note_template_b="B: hello {first_name}",
        followup_template="Thanks for connecting, {first_name}!", followup_delay_minutes=0, prospects=4,
    )

    start = timezone.now()
    for seconds in (0, 5, 6, 11, 12):  # submitted, sent, connections asked for, accepted, follow-ups submitted
        run_tick(now=start + dt.timedelta(seconds=seconds))
    assert set(campaign.requests.values_list("state", flat=True)) == {ConnectionRequest.State.ACCEPTED}
    assert set(FollowUp.objects.values_list("state", flat=True)) == {FollowUp.State.PENDING}

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    expect(page.locator(".campaign-acceptance")).to_contain_text("100% (4 of 4)")
    variants = page.locator("table.variants-table")
    expect(variants.get_by_role("row", name="A 2 2 100%")).to_be_visible()
    expect(variants.get_by_role("row", name="B 2 2 100%")).to_be_visible()
    followups = page.locator(".requests-table .request-followup")
    expect(followups).to_have_count(4)
    for followup in followups.all():
        expect(followup).to_have_text("Follow-up: With OutX")
    page.evaluate("window.__notReloaded = true")

    run_tick(now=start + dt.timedelta(seconds=17))  # the follow-ups' tasks are done: sent

    for followup in followups.all():
        expect(followup).to_have_text("Follow-up: Sent", timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator(".requests-table")).to_contain_text("Follow-up: Thanks for connecting, P0!")
    # Nothing left that changes by itself: the page stopped asking.
    expect(page.locator("#campaign-status")).not_to_have_attribute("hx-trigger", "every 3s", timeout=10_000)


def test_each_variant_has_its_own_live_counter(page, live_server, pacing_off, make_campaign):
    owner = log_in(page, live_server)
    campaign = make_campaign("Counters", Campaign.State.DRAFT, owner=owner, note_template="Hi")

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/edit/")
    page.get_by_label("Variant B").fill("Hello 😀")
    expect(page.locator("#id_note_template_b_counter")).to_have_text("8/300")
    expect(page.locator("#id_note_template_counter")).to_have_text("2/300")
    page.get_by_label("Variant C").fill("c" * 301)
    expect(page.locator("#id_note_template_c_counter")).to_contain_text("1 over the limit")
    page.get_by_label("Variant B").press("End")
    page.locator("#id_note_template_b").evaluate("textarea => textarea.setSelectionRange(6, 6)")
    page.locator('[data-note-insert-into="id_note_template_b"][data-note-insert="{first_name}"]').click()
    expect(page.get_by_label("Variant B")).to_have_value("Hello {first_name}😀")

    page.get_by_role("button", name="Save").click()  # variant C is too long: refused, with the reason
    expect(page.get_by_text("The template as typed is 301 characters long").first).to_be_visible()
    campaign.refresh_from_db()
    assert campaign.note_template_c == ""
