"""The buttons on each invitation's row, in a real browser. They all submit the page's one
hidden form, #row-actions (its CSRF token, and where the page stands), through the `form` and
`formaction` attributes, so the table does not repeat a token and five fields in every row:
- with JavaScript, htmx posts that form's fields plus the button's own and redraws the row;
- without it, the browser submits the same form to the button's URL, and the answer leads back
  to the page the person was on.
"""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import ConnectionRequest, DoNotContact
from tests.helpers import add_request, page_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

State = ConnectionRequest.State
PASSWORD = "a long demo password"


def log_in(page, url):
    page.goto(url)
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def maya(db):
    return User.objects.create_user("maya", password=PASSWORD, is_staff=True, is_superuser=True)


def test_row_buttons_redraw_their_row_with_javascript(page, live_server, maya, make_campaign):
    campaign = make_campaign(owner=maya)
    queued = add_request(campaign, State.QUEUED, first_name="Queued")
    sent = add_request(campaign, State.SENT, first_name="Sent")
    log_in(page, live_server.url + page_url(campaign))
    expect(page.get_by_role("heading", name=campaign.name)).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    page.get_by_role("button", name="Remove Queued").click()
    row = page.locator(f"#request-{queued.pk}")
    expect(row).to_contain_text("Removed before submission: Queued.")
    expect(row).to_contain_text("Skipped")
    page.get_by_role("button", name="Mark Sent as replied").click()
    expect(page.locator(f"#request-{sent.pk} .response-badge")).to_have_text("Replied")
    assert page.evaluate("window.__notReloaded") is True  # rows redrawn, the page never reloaded
    queued.refresh_from_db(), sent.refresh_from_db()
    assert (queued.state, sent.response) == (State.SKIPPED, "replied")

    # Review: the same buttons, the same one form, the row redrawn in place.
    page.goto(live_server.url + reverse("review") + "?q=Sent")
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("button", name="Clear the mark on Sent").click()
    expect(page.locator(f"#review-{sent.pk}")).to_contain_text("Mark cleared")
    assert page.evaluate("window.__notReloaded") is True
    sent.refresh_from_db()
    assert sent.response == ""


def test_row_buttons_work_without_javascript(browser, live_server, maya, make_campaign):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    campaign = make_campaign(owner=maya)
    queued = add_request(campaign, State.QUEUED, first_name="Queued")
    sent = add_request(campaign, State.SENT, first_name="Sent")
    log_in(page, live_server.url + page_url(campaign) + "?state=queued")
    expect(page.get_by_role("heading", name=campaign.name)).to_be_visible()

    page.get_by_role("button", name="Remove Queued").click()
    expect(page.get_by_text("Removed before submission: Queued.")).to_be_visible()
    assert "state=queued" in page.url  # back on the tab the button was pressed in
    queued.refresh_from_db()
    assert queued.state == State.SKIPPED

    page.goto(live_server.url + reverse("review") + "?q=Sent")
    page.get_by_role("button", name="Mark Sent as not interested").click()
    expect(page.get_by_text("Marked “Not interested”: Sent.", exact=False)).to_be_visible()
    assert "q=Sent" in page.url  # back on the same Review query
    sent.refresh_from_db()
    assert sent.response == "not_interested"

    # The invitation's own page: its reason field belongs to the same form.
    other = add_request(campaign, State.SENT, first_name="Other")
    page.goto(live_server.url + reverse("request_detail", args=[other.pk]))
    page.get_by_label("Reason").fill("Asked us to stop")
    page.get_by_role("button", name="Do not contact Other").click()
    expect(page.get_by_role("heading", name="Invitation to Other")).to_be_visible()
    assert DoNotContact.objects.filter(reason__contains="Asked us to stop").exists()
    context.close()
