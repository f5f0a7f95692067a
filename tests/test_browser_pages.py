"""Every page a user reaches, in a real browser at 1280x800 and at 390x844 (a phone), with
realistic data: a 60-character URN nobody can break, a long company name, a 300-character
note. On each page:

- the page never scrolls sideways: `document.documentElement.scrollWidth` fits the viewport
  (a wide table scrolls inside its own box, never the page);
- every link of the main navigation can be reached and clicked (on a phone, after opening
  the Menu disclosure);
- axe-core (bundled by axe-playwright-python) reports no violation.

One logged-in browser context per viewport walks all of PAGES and collects every failure, so a
run reports them all at once: page, viewport, axe rule ids and the offending selectors.
A page added later is one more line in PAGES.

axe-core is added to every page as a Playwright init script (through the DevTools protocol),
which the site's strict Content-Security-Policy does not block: the pages are checked under the
real policy, with no bypass_csp.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from api.models import ApiToken
from campaigns.importing import read_csv
from campaigns.models import (
    Campaign, ConnectionRequest, DoNotContact, PendingUpload, ProfileSearch, Prospect, SearchResult, Sender, TaskState,
)
from webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough password"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LONG_URN = "urn:li:fsd_profile:ACoAAB" + "x7Qz" * 6 + "LongUrnEnd1"  # 60 characters, no break
assert len(LONG_URN) == 60
LONG_URL = "https://www.linkedin.com/in/" + "a-very-long-profile-slug-" * 4 + "9f8e7d6c5b"
LONG_COMPANY = "Internationale Gesellschaft für Angewandte Unternehmensberatung und Softwareentwicklung mbH"
LONG_NOTE = ("Hi there, I read your piece on pricing for developer tools and the way you framed usage-based plans "
             "for small teams stayed with me. We run a similar product in Lisbon and I would value comparing notes "
             "on what worked for you and what did not; no pitch, just curious. With warm regards, Maya Lindqvist.")
assert len(LONG_NOTE) == 300

# Every page a user reaches: (name, URL built from the world below). The lead extends this.
PAGES: list[tuple[str, Callable[[SimpleNamespace], str]]] = [
    ("home", lambda w: reverse("home")),
    ("campaign list", lambda w: reverse("campaign_list")),
    ("new campaign", lambda w: reverse("campaign_create")),
    ("campaign detail", lambda w: reverse("campaign_detail", args=[w.campaign.pk])),
    ("campaign edit", lambda w: reverse("campaign_edit", args=[w.campaign.pk])),
    ("add prospects", lambda w: reverse("prospects_add", args=[w.campaign.pk])),
    ("CSV import", lambda w: reverse("prospects_import", args=[w.campaign.pk])),
    ("CSV import mapping", lambda w: reverse("prospects_import_map", args=[w.campaign.pk, w.upload_key])),
    ("review", lambda w: reverse("review")),
    ("request detail", lambda w: reverse("request_detail", args=[w.long_request.pk])),
    ("search", lambda w: reverse("search")),
    ("search detail", lambda w: reverse("search_detail", args=[w.search.pk])),
    ("do not contact", lambda w: reverse("do_not_contact")),
    ("do not contact import", lambda w: reverse("do_not_contact_import")),
    ("senders", lambda w: reverse("sender_list")),
    ("sender detail", lambda w: reverse("sender_detail", args=[w.sender.pk])),
    ("new sender", lambda w: reverse("sender_create")),
    ("webhooks", lambda w: reverse("webhook_list")),
    ("webhook detail and log", lambda w: reverse("webhook_detail", args=[w.endpoint.pk])),
    ("new webhook", lambda w: reverse("webhook_create")),
    ("account", lambda w: reverse("account")),
    ("password change", lambda w: reverse("password_change")),
    ("users", lambda w: reverse("user_list")),
    ("user detail", lambda w: reverse("user_detail", args=[w.member.pk])),
    ("new user", lambda w: reverse("user_create")),
]
if settings.OUTX_SANDBOX:
    PAGES.append(("OutX sandbox", lambda w: reverse("outx_sandbox:control")))
# Pages seen logged out, in a context of their own.
LOGGED_OUT_PAGES: list[tuple[str, Callable[[SimpleNamespace], str]]] = [
    ("login", lambda w: reverse("login")),
]


def build_world() -> SimpleNamespace:
    """An admin, and something on every page, with the values that break layouts."""
    admin = User.objects.create_user("maya", password=PASSWORD, is_staff=True, is_superuser=True)
    member = User.objects.create_user(
        "a.very.long.username.from.the.sales.team@internationale-gesellschaft.example", first_name="Ana",
    )
    sender = Sender.get()
    sender.users.add(admin, member)
    campaign = Campaign.objects.create(
        name="Founders in Lisbon who read our pricing essay", owner=admin, state=Campaign.State.PAUSED,
        # {company} without a fallback: the prospect without a company makes a launch problem.
        note_template="Hi {first_name|there}, I saw your work at {company}. Would love to connect.",
    )
    campaign.senders.set([sender])
    now = timezone.now()
    long_one = Prospect.objects.create(profile_urn=LONG_URN, profile_url=LONG_URL, company=LONG_COMPANY)
    long_request = ConnectionRequest.objects.create(
        campaign=campaign, prospect=long_one, sender=sender, state=ConnectionRequest.State.SENT,
        note=LONG_NOTE, submitted_at=now - dt.timedelta(hours=3), outx_task_id="task-" + "0" * 40,
        task_output={"sent": True, "profile_urn": LONG_URN, "message": LONG_NOTE},
    )
    for i in range(12):
        prospect = Prospect.objects.create(
            profile_urn=f"urn:li:fsd_profile:ACoAABPages{i:04d}",
            first_name=f"Person{i}", last_name="Example",
            company="" if i == 0 else LONG_COMPANY if i % 3 == 0 else "Acme",
        )
        state = ConnectionRequest.State.QUEUED if i < 6 else ConnectionRequest.State.SENT
        ConnectionRequest.objects.create(
            campaign=campaign, prospect=prospect, sender=sender, state=state,
            note=LONG_NOTE if state == ConnectionRequest.State.SENT else "",
            submitted_at=now - dt.timedelta(days=i) if state == ConnectionRequest.State.SENT else None,
        )
    campaign.render_queued_notes()
    assert campaign.launch_problems(), "the paused campaign must show launch problems"

    upload = PendingUpload.objects.create(
        owner=admin, campaign=campaign, filename="prospects-with-a-rather-long-file-name-from-sales-navigator.csv",
        table=read_csv(
            (
                "LinkedIn URL,First name,Company,A column with a very long header name that nobody reads\n"
                f"{LONG_URL},Ana,{LONG_COMPANY},{LONG_URN}\n"
            ).encode()
        ).to_json(),
    )
    DoNotContact.objects.create(
        kind=DoNotContact.Kind.PROFILE, value=LONG_URN, profile_urn=LONG_URN + "Dnc", reason=LONG_NOTE[:200],
        added_by=admin,
    )
    search = ProfileSearch.objects.create(
        sender=sender, requested_by=admin, company=LONG_COMPANY, count=2, state=TaskState.SENT, task_output={"total": 10},
    )
    SearchResult.objects.create(
        search=search, position=0, profile_urn=LONG_URN + "Found", profile_url=LONG_URL, first_name="Found",
        headline=LONG_NOTE[:250], company=LONG_COMPANY, title="Head of Everything", location="Lisbon",
    )
    SearchResult.objects.create(search=search, position=1, profile_urn="urn:li:fsd_profile:ACoAABFound2", first_name="Two")
    ApiToken.issue(admin, "Zapier for the CRM sync", 30)
    endpoint = WebhookEndpoint(
        url="https://hooks.example.com/crm/" + "incoming-webhook-path-" * 3, events=[EventType.values[0]],
        created_by=admin, description="CRM",
    )
    endpoint.set_new_secret()
    endpoint.save()
    message = WebhookMessage.objects.create(type=EventType.values[0], payload={"type": EventType.values[0], "data": {}})
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message=message, state=WebhookDelivery.State.FAILED, attempt_count=1,
    )
    WebhookAttempt.objects.create(delivery=delivery, at=now, status_code=500, error="Server error " + "x" * 80)
    return SimpleNamespace(
        admin=admin, member=member, sender=sender, campaign=campaign, long_request=long_request, upload_key=upload.key,
        search=search, endpoint=endpoint,
    )


def log_in(page, live_server):
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Home", exact=True)).to_be_visible()


def overflow_problem(page) -> str | None:
    """The page's width against the viewport's, and the widest culprits when it overflows."""
    widths = page.evaluate(
        """() => {
          const vw = window.innerWidth, doc = document.documentElement;
          if (doc.scrollWidth <= vw) return {scroll: doc.scrollWidth, viewport: vw, wide: []};
          // Inside a box that scrolls or clips, an element may be wider: unless it is positioned
          // out of that box (an absolute element escapes an unpositioned scroller).
          const clipped = e => {
            if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return false;
            for (let a = e.parentElement; a; a = a.parentElement)
              if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= vw + 1) return true;
            return false;
          };
          const describe = (e, right, text) => e.tagName.toLowerCase()
            + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' right=' + Math.round(right)
            + (text ? ' ' + JSON.stringify(text.trim().slice(0, 40)) : '');
          const wide = [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > vw + 1 && !clipped(e)).slice(-5)
            .map(e => describe(e, e.getBoundingClientRect().right));
          // Text that overflows its own box (an unbreakable word) widens the page too.
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let node; (node = walker.nextNode()) && wide.length < 10;) {
            const range = document.createRange();
            range.selectNodeContents(node);
            const right = range.getBoundingClientRect().right;
            if (right > vw + 1 && !clipped(node.parentElement)) wide.push(describe(node.parentElement, right, node.textContent));
          }
          return {scroll: doc.scrollWidth, viewport: vw, wide};
        }"""
    )
    if widths["scroll"] <= widths["viewport"]:
        return None
    return f"page is {widths['scroll']} px wide in a {widths['viewport']} px viewport; too wide: {widths['wide']}"


# The links of the main navigation, the account link and Log out.
NAVIGATION = "nav[aria-label='Main'] a, .site-header .who, .site-header .logout button"


def navigation_problems(page) -> list[str]:
    """Each navigation link shown, inside the viewport, and the first thing under its centre,
    so a tap there lands on it; on a phone after opening the Menu disclosure, as a user does."""
    menu = page.locator(".site-menu > summary")
    opened = menu.is_visible()
    if opened:
        menu.click()
    problems = page.evaluate(
        """selector => {
          const links = [...document.querySelectorAll(selector)];
          if (links.length < 3) return [`only ${links.length} navigation links found`];
          const problems = [];
          for (const link of links) {
            const name = JSON.stringify(link.textContent.trim()), box = link.getBoundingClientRect();
            if (!link.checkVisibility({visibilityProperty: true}) || !box.width || !box.height) {
              problems.push(`${name} is not visible`); continue;
            }
            if (box.left < 0 || box.right > window.innerWidth + 1 || box.top < 0 || box.bottom > window.innerHeight) {
              problems.push(`${name} lies outside the viewport (${Math.round(box.left)}, ${Math.round(box.top)})`); continue;
            }
            const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
            if (!link.contains(hit)) problems.push(`${name} is covered by ${hit && hit.outerHTML.slice(0, 80)}`);
          }
          return problems;
        }""",
        NAVIGATION,
    )
    return problems  # the menu stays open: the next page load closes it


def axe_problems(page) -> list[str]:
    # axe.min.js is already in the page (new_context below), so this only runs it.
    violations = page.evaluate("axe.run(document, {resultTypes: ['violations']})")["violations"]
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']} at " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:6])
        for v in violations
    ]


def check_pages(page, live_server, world, pages, viewport_name, failures, *, logged_in=True):
    for name, url_of in pages:
        response = page.goto(live_server.url + url_of(world))
        where = f"{name} ({url_of(world)}) at {viewport_name}"
        if response is None or response.status != 200:
            failures.append(f"{where}: HTTP {response and response.status}")
            continue
        if problem := overflow_problem(page):
            failures.append(f"{where}: {problem}")
        failures.extend(f"{where}: {problem}" for problem in axe_problems(page))
        if logged_in:  # last: on a phone it leaves the menu open
            failures.extend(f"{where}: navigation: {problem}" for problem in navigation_problems(page))


def new_context(browser, viewport):
    """A browser context whose every page has axe-core loaded (the copy axe-playwright-python
    bundles), before the page's own scripts, as an init script: like page.evaluate, it is not
    bound by the page's CSP, and it is compiled once per page load, not once per check."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(Axe().axe_script)
    return context


@pytest.mark.parametrize("viewport_name", VIEWPORTS)
def test_every_page_fits_the_screen_and_passes_axe(viewport_name, browser, live_server, sandbox):
    world = build_world()
    failures: list[str] = []
    viewport = VIEWPORTS[viewport_name]

    anonymous = new_context(browser, viewport)
    page = anonymous.new_page()
    check_pages(page, live_server, world, LOGGED_OUT_PAGES, viewport_name, failures, logged_in=False)
    # The favicon, for anyone: the SVG the pages name, and /favicon.ico that browsers ask for.
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server.url + icon).headers["content-type"].startswith("image/svg+xml")
    favicon = page.request.get(live_server.url + "/favicon.ico")
    assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/")
    anonymous.close()

    context = new_context(browser, viewport)
    page = context.new_page()
    log_in(page, live_server)
    check_pages(page, live_server, world, PAGES, viewport_name, failures)

    # One row of links on a desktop; on a phone "Menu" opens them and Log out can be tapped.
    page.goto(live_server.url + reverse("home"))
    menu = page.get_by_text("Menu", exact=True)
    if viewport_name == "desktop":
        expect(menu).to_be_hidden()
        tops = {round(link.bounding_box()["y"]) for link in page.locator(NAVIGATION).all()}
        assert len(tops) == 1, f"the navigation takes {len(tops)} rows at 1280 px"
    else:
        expect(page.get_by_role("button", name="Log out")).to_be_hidden()
        menu.click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    context.close()

    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures)
