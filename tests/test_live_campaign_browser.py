"""The campaign page left open, in a real browser (issue 13): it keeps asking, slowly, while a
sent invitation may still be accepted, so acceptances reach it without a reload, and says so
in its polite live region; its relative times ("submitted 3 minutes ago") stay right while the
poll answers "nothing changed".

The worker runs from the test (run_tick against the sandbox, as tests/test_browser_flow.py
does); the browser's clock is Playwright's, moved on by the test, so no test waits a minute.
"""

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign, ConnectionRequest
from campaigns.worker import run_tick
from tests.helpers import add_request, page_url, run_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

State = ConnectionRequest.State


def log_in(page, live_server, campaign):
    User.objects.create_user("maya", password="a long demo password")
    page.goto(live_server.url + page_url(campaign))
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("a long demo password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=campaign.name)).to_be_visible()


def test_acceptances_reach_the_open_page_which_polls_slowly_and_never_stops(
    page, live_server, switch, pacing_off, make_campaign
):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    campaign = make_campaign(prospects=2)
    run_until([0, 5])  # submitted, then sent
    add_request(campaign, State.SENT, first_name="Quiet")  # one OutX never reports accepted
    assert set(campaign.requests.values_list("state", flat=True)) == {State.SENT}
    polls = []
    page.on("response", lambda response: polls.append(response.status) if "/status/" in response.url else None)

    page.clock.install()
    log_in(page, live_server, campaign)
    status = page.locator("#campaign-status")
    expect(status).to_have_attribute("hx-trigger", "every 60s")  # only sent ones wait: slowly
    page.evaluate("window.__notReloaded = true")

    with page.expect_response(lambda response: "/status/" in response.url):
        page.clock.fast_forward("01:05")  # a minute on the page's clock: it asks, nothing changed
    assert polls == [204]
    run_until([6, 11])  # the newest connections are read: two accepted
    assert campaign.requests.filter(state=State.ACCEPTED).count() == 2

    page.clock.fast_forward("01:05")
    expect(page.locator("tbody")).to_contain_text("Accepted", timeout=10_000)
    expect(page.locator("#campaign-announcer")).to_have_text("2 invitations accepted.")
    expect(status).to_have_attribute("hx-trigger", "every 60s")  # "Quiet" may still accept: never stops
    assert polls[-1] == 200 and 286 not in polls
    assert page.evaluate("window.__notReloaded") is True

    # Once nothing sent waits for an answer, the page stops asking.
    ConnectionRequest.objects.filter(campaign=campaign, state=State.SENT).get().move_to(State.ACCEPTED, "Now a connection.")
    page.clock.fast_forward("01:05")
    expect(page.locator("#campaign-announcer")).to_have_text("1 invitation accepted.", timeout=10_000)
    expect(status).not_to_have_attribute("hx-trigger", re.compile(".*"))
    assert polls[-1] == 286


def test_relative_times_stay_right_while_nothing_changes(page, live_server, sandbox, pacing_off, make_campaign):
    campaign = make_campaign(prospects=1)
    run_tick(now=timezone.now())  # submitted: with OutX until the worker asks again
    row = campaign.requests.get()
    assert row.state == State.PENDING
    polls, refused = [], []
    page.on("response", lambda response: polls.append(response.status) if "/status/" in response.url else None)
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)

    page.clock.install()
    log_in(page, live_server, campaign)
    waiting = page.locator(f"#request-{row.pk} .request-waiting")
    expect(waiting).to_have_text("Waiting for OutX's extension to send it (submitted 0\xa0minutes ago)")

    with page.expect_response(lambda response: "/status/" in response.url):
        page.clock.fast_forward("03:00")  # the poll asks too, and hears "nothing changed"
    expect(waiting).to_have_text("Waiting for OutX's extension to send it (submitted 3\xa0minutes ago)")
    page.clock.fast_forward("58:00")
    expect(waiting).to_have_text("Waiting for OutX's extension to send it (submitted 1\xa0hour, 1\xa0minute ago)")
    assert polls and set(polls) == {204}  # the poll redrew nothing: the page's script kept the words right
    assert Campaign.objects.get().state == Campaign.State.ACTIVE
    assert refused == []  # the script is a static file the strict CSP allows
