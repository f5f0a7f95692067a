"""The Content-Security-Policy and the other security headers on every main page, and a real
browser that reports no CSP violation on them, htmx polling included.

The policy allows no inline script or style, so the pages' HTML must carry none either:
scripts and stylesheets are files under /static/, and htmx is told not to add its own <style>.
"""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender

PASSWORD = "a long enough password"

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}


def parse_policy(header: str) -> dict[str, set[str]]:
    policy = {}
    for directive in header.split(";"):
        name, *sources = directive.split()
        policy[name] = set(sources)
    return policy


@pytest.fixture
def account(always_open):
    """Sending allowed at any moment, so an active campaign's page keeps polling."""
    return always_open


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("maya", password=PASSWORD)


@pytest.fixture
def campaign(admin_user, account):
    """An active campaign with a queued invitation: its page polls for changes."""
    campaign = Campaign.objects.create(
        name="Founders in Lisbon", owner=admin_user, state=Campaign.State.ACTIVE, note_template="Hi {first_name|there}"
    )
    prospect = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAAHeaders01", first_name="Ana")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect, note="Hi Ana")
    return campaign


def main_pages(campaign) -> dict[str, str]:
    return {
        "home": reverse("home"),
        "campaign list": reverse("campaign_list"),
        "campaign page": reverse("campaign_detail", args=[campaign.pk]),
        "campaign edit": reverse("campaign_edit", args=[campaign.pk]),
        "review": reverse("review"),
        "senders": reverse("sender_list"),
    }


# Anything the policy would block: an inline <script> (one without src), a <style> block, a
# style attribute, an on… handler, a javascript: URL.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
)


def assert_secure_headers(response):
    policy = parse_policy(response["Content-Security-Policy"])
    assert policy == POLICY
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_every_main_page_sends_the_policy_and_carries_nothing_inline(client, admin_user, campaign):
    client.force_login(admin_user)

    for name, url in main_pages(campaign).items():
        response = client.get(url)

        assert response.status_code == 200, name
        assert_secure_headers(response)
        html = response.content.decode()
        assert not INLINE.search(html), f"{name}: {INLINE.search(html)[0]!r}"
        assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, "allowEval": false}\'>' in html


@pytest.mark.django_db
def test_the_login_page_sends_the_policy(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert_secure_headers(response)
    assert not INLINE.search(response.content.decode())


@pytest.mark.django_db
def test_htmx_partials_send_the_policy_too(client, admin_user, campaign):
    client.force_login(admin_user)

    response = client.get(reverse("campaign_status", args=[campaign.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert_secure_headers(response)
    assert not INLINE.search(response.content.decode())


# --- In a real browser -----------------------------------------------------------------------

# An init script runs before the page's own and is not subject to its policy: it records
# every violation the browser reports, besides the console messages.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


class ViolationWatch:
    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))
        page.add_init_script(RECORD_VIOLATIONS)

    def assert_none(self, where: str) -> None:
        csp_messages = [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]
        assert csp_messages == [], where
        assert self.page.evaluate("window.__cspViolations") == [], where


@pytest.mark.browser
def test_no_policy_violations_in_the_browser(page, live_server, transactional_db, campaign):
    watch = ViolationWatch(page)

    page.goto(live_server.url + reverse("admin:login"))
    watch.assert_none("admin login")
    page.goto(live_server.url + reverse("login"))
    watch.assert_none("login")
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()

    for name, url in main_pages(campaign).items():
        page.goto(live_server.url + url)
        expect(page.locator("main")).to_be_visible()
        watch.assert_none(name)

    # The campaign page polls its status with htmx and swaps it in: no violation either.
    page.goto(live_server.url + reverse("campaign_detail", args=[campaign.pk]))
    status_url = reverse("campaign_status", args=[campaign.pk])
    for _ in range(2):
        with page.expect_response(lambda response: status_url in response.url, timeout=10_000) as polled:
            pass
        assert polled.value.status in {200, 204}
    watch.assert_none("campaign page, polling")

    # The note editor's live preview is an htmx request on load and on input.
    page.goto(live_server.url + reverse("campaign_edit", args=[campaign.pk]))
    with page.expect_response(lambda response: "/note-preview/" in response.url):
        page.get_by_label("Note").fill("Hello {first_name|there}")
    watch.assert_none("note editor")

    # Django's admin, and the sandbox's control page, on the same policy.
    other_pages = {
        "admin index": reverse("admin:index"),
        "admin changelist": reverse("admin:campaigns_connectionrequest_changelist"),
        "admin change form": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    }
    if settings.OUTX_SANDBOX:
        other_pages["sandbox control"] = "/outx-sandbox/"
    for name, url in other_pages.items():
        response = page.goto(live_server.url + url)
        assert response.status == 200, name
        watch.assert_none(name)
