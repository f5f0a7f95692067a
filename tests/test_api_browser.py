"""The API's docs page in a real browser (Debian's Chromium, driven by Playwright): Swagger UI
from the package's own static files renders the endpoint list under the site's CSP."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough password"


def test_the_docs_page_renders_the_endpoints_under_the_csp(page, live_server, django_user_model):
    django_user_model.objects.create_user("maria", password=PASSWORD)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    failed = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(live_server.url) and not request.url.startswith("data:") else None)

    page.goto(live_server.url + "/api/v1/docs")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/api/v1/docs$"))  # part of the site
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(live_server.url + "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Outreach API")
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}/prospects", "/api/v1/invitations",
                 "/api/v1/invitations/{invitation_id}", "/api/v1/do-not-contact"):
        expect(page.locator(".opblock-summary-path", has_text=re.compile(rf"^{re.escape(path)}$")).first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    assert not [text for text in problems if "Content Security Policy" in text or "Refused" in text], problems
    # Every resource the pages asked for loaded. (The browser's own request for /favicon.ico,
    # which the login page names none of, is a console error Playwright shows no response for.)
    assert not failed, failed
    assert not [text for text in problems if not text.startswith("Failed to load resource")], problems
    assert not outside, outside
