"""Logging in and out in a real browser: Debian's Chromium, driven by Playwright."""

import re

import pytest
from playwright.sync_api import expect

PASSWORD = "a long enough password"


@pytest.mark.browser
def test_log_in_and_out_in_the_browser(transactional_db, live_server, page, django_user_model):
    django_user_model.objects.create_user("maria", password=PASSWORD)

    page.goto(live_server.url + "/")

    # Sent to the login page, which will lead back home.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Home", exact=True)).to_be_visible()
    expect(page.locator("header")).to_contain_text("maria")
    log_out = page.get_by_role("button", name="Log out")
    expect(log_out).to_be_visible()

    log_out.click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
