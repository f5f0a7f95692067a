"""Pages and polls under load, beside two floors measured in the same run: a bare Django view
answering 204 (bench/urls.py) and Django admin's changelist of ConnectionRequest.

The data is bench/data.py's, built inside the server's environment; this module logs in over
HTTP like a browser behind a TLS proxy, finds each page's URL as a person would reach it (the
status poll from the campaign page's hx-get, far pages by following "Next"), then loads each
URL with bench/load.py at concurrency 1 and 8.
"""

from __future__ import annotations

import html
import random
import re
import time
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import httpx

from bench import load
from bench.load import percentiles

USERNAME = "bench"
# Far pages: "Next" followed this many times at most, and for at most this long.
FAR_HOPS, FAR_SECONDS = 1000, 20.0
SEARCH = "hopper"  # a last name a twentieth of the prospects have
EDITED_TEMPLATE = (
    "Hello {{first_name|there}}, your work at {{company|your company}} caught my eye: we help sales teams "
    "keep their outreach personal, and I would be glad to connect. Ada ({n})"
)
PREVIEW_TEMPLATE = (
    "Hi {first_name}, I came across your work as {title|a leader} at {company|your company} and would "
    "be glad to connect: we help sales teams like yours keep their outreach personal. Best, Ada"
)
NOTE_TEMPLATE = (
    "Hi {first_name|there}, I came across your work at {company|your company} and would be glad "
    "to connect: we help sales teams like yours keep their outreach personal. Best, Ada"
)
FIRST_NAMES = ["Ada", "Grace", "Alan", "Maya", "Noor", "Luis", "Chen", "Amara", "Jonas", "Ines",
               "Kofi", "Sofia", "Ravi", "Elena", "Tomás", "Yuki", "Omar", "Lena", "Ivan", "Zoé"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Okafor", "Haddad", "García", "Wang", "Diallo",
              "Berg", "Moreau", "Mensah", "Rossi", "Patel", "Petrova", "Silva", "Sato", "Khan",
              "Novak", "Ivanov", "Dubois"]
TITLES = ["Head of Sales", "Account Executive", "VP Marketing", "Founder", "CTO",
          "Sales Development Representative", "Growth Lead", "Customer Success Manager"]
CITIES = ["Paris", "Berlin", "London", "Lisbon", "Madrid", "Amsterdam", "Milan", "Warsaw"]


def prospect_fields(i: int, rng: random.Random) -> dict[str, str]:
    """The i-th invented prospect: a URN, a profile URL and details, as an import would give them."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = f"{rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark'])} {i % 997} {rng.choice(['GmbH', 'Ltd', 'SAS', 'Inc'])}"
    title = rng.choice(TITLES)
    return {
        "profile_urn": f"urn:li:fsd_profile:ACoAAB{i:010d}xQ7sBxW2mZr8Tn",
        "profile_url": f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{i:x}",
        "first_name": first,
        "last_name": last,
        "company": company,
        "title": title,
        "headline": f"{title} at {company}",
        "location": f"{rng.choice(CITIES)}, Europe",
    }


# --- Measuring, from outside over HTTP ---------------------------------------------------------


class Browser:
    """An httpx client that logs in like a browser behind a TLS proxy.

    With DEBUG off the site is HTTPS only. In production a proxy ends TLS and tells gunicorn
    with X-Forwarded-Proto (trusted from 127.0.0.1), so this client sends that header as the
    proxy would, and keeps its cookies by hand: they are marked Secure, and a cookie jar would
    not send them back over the benchmark's plain HTTP on loopback.
    """

    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url, timeout=120, headers={"X-Forwarded-Proto": "https"})
        self.https_origin = base_url.replace("http://", "https://", 1)
        self.cookies: dict[str, str] = {}

    def get(self, url: str, **headers: str) -> httpx.Response:
        return self._keep(self.http.get(url, headers=self._headers(headers)))

    def post(self, url: str, data: dict, **headers: str) -> httpx.Response:
        return self._keep(self.http.post(url, data=data, headers=self._headers(headers)))

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {key.replace("_", "-"): value for key, value in extra.items()}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return headers

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response

    def log_in(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        referer = f"{self.https_origin}/accounts/login/"  # checked by CSRF on HTTPS
        answer = self.post(
            "/accounts/login/", {"username": username, "password": password, "csrfmiddlewaretoken": token},
            Referer=referer,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"Logging in as {username} failed: {answer.status_code}\n{answer.text[:2000]}")

    def close(self) -> None:
        self.http.close()


def status_url_on(page: httpx.Response) -> str:
    """The status poll's URL as the campaign page gives it, with the fingerprint `v`."""
    match = re.search(r'hx-get="([^"]+/status/[^"]*)"', page.text)
    if not match:
        raise RuntimeError("The campaign page does not poll: is the big campaign active with queued rows?")
    return html.unescape(match.group(1))




def next_url_on(page: httpx.Response) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next"', page.text)
    return html.unescape(match.group(1)) if match else None


def far_page(browser: Browser, url: str) -> tuple[str, int]:
    """The page reached by following "Next" from `url` up to FAR_HOPS times in FAR_SECONDS, and
    how many pages in it is (1 = the first)."""
    deadline, hops = time.perf_counter() + FAR_SECONDS, 0
    while hops < FAR_HOPS and time.perf_counter() < deadline:
        following = next_url_on(browser.get(url))
        if not following:
            break
        url = following if following.startswith("/") else re.sub(r"\?.*$", "", url) + following
        hops += 1
    return url, hops + 1


PAGES = [
    "Bare 204 view (floor)", "Status poll, nothing changed (204)", "Home", "Campaign list",
    "Big campaign page", "Big campaign, far page", "Paused campaign page", "Review", "Review ?q=",
    "Review, far page", "Note preview, one keystroke", "Admin changelist of ConnectionRequest",
]


def page_urls(browser: Browser, big_id: int, paused_id: int) -> dict[str, tuple[str, dict, int, str]]:
    """Each page: (path, extra headers, expected status, a note on what it is)."""
    big = f"/campaigns/{big_id}/"
    htmx = {"HX-Request": "true"}
    big_far, big_depth = far_page(browser, big)
    review_far, review_depth = far_page(browser, "/review/")
    preview = f"/campaigns/{paused_id}/note-preview/?" + urlencode({"note_template": PREVIEW_TEMPLATE})
    return {
        "Bare 204 view (floor)": ("/bench/204/", {}, 204, ""),
        "Status poll, nothing changed (204)": (status_url_on(browser.get(big)), htmx, 204, ""),
        "Home": ("/", {}, 200, ""),
        "Campaign list": ("/campaigns/", {}, 200, ""),
        "Big campaign page": (big, {}, 200, ""),
        "Big campaign, far page": (big_far, {}, 200, f"page {big_depth}"),
        "Paused campaign page": (f"/campaigns/{paused_id}/", {}, 200, ""),
        "Review": ("/review/", {}, 200, ""),
        "Review ?q=": (f"/review/?q={SEARCH}", {}, 200, f"q={SEARCH}"),
        "Review, far page": (review_far, {}, 200, f"page {review_depth}"),
        "Note preview, one keystroke": (preview, htmx, 200, "paused campaign's queue"),
        "Admin changelist of ConnectionRequest": ("/admin/campaigns/connectionrequest/", {}, 200, ""),
    }


def measure(browser: Browser, big_id: int, paused_id: int, c1_seconds: float = 5.0,
            c8_seconds: float = 5.0, concurrencies=(1, 8)) -> dict[str, dict]:
    """Every page at each concurrency. At 1: two warm-up requests, then as many as fit in
    `c1_seconds` (15 to 200); at 8: for `c8_seconds`."""
    urls = page_urls(browser, big_id, paused_id)
    base = str(browser.http.base_url).rstrip("/")
    results: dict[str, dict] = {}
    for page in PAGES:
        path, extra, expect, note = urls[page]
        headers = {**browser._headers({}), "X-Forwarded-Proto": "https", **extra}
        timings, tries = [], 0
        while len(timings) < 2 and tries < 4:
            tries += 1
            started = time.perf_counter()
            answer = browser.get(path, **{k.replace("-", "_"): v for k, v in extra.items()})
            if answer.status_code == expect:
                timings.append(time.perf_counter() - started)
        if len(timings) < 2:
            # Recorded, not fatal: one broken page should not cost the other figures.
            results[page] = {"url": path, "note": note, "error": f"answered {answer.status_code}, not {expect}"}
            continue
        figures: dict = {"url": path, "bytes": len(answer.content), "note": note}
        for concurrency in concurrencies:
            if concurrency == 1:
                count = max(15, min(200, int(c1_seconds / max(min(timings), 0.001))))
                figures["c1"] = load.measure(base + path, headers, 1, requests=count, expect=expect)
            else:
                figures[f"c{concurrency}"] = load.measure(base + path, headers, concurrency,
                                                          seconds=c8_seconds, expect=expect)
        results[page] = figures
    return results


# --- Edits over HTTP, as a person makes them ------------------------------------------------------


class FormReader(HTMLParser):
    """The fields of the first POST form with a given action, as a browser would submit them."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.done = action, False, False
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and (a.get("method") or "").lower() == "post" and (
            a.get("action") in (None, "", self.action)
        ):
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ("on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))

    def handle_data(self, data):
        if self.textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value[1:] if value.startswith("\n") else value)  # as browsers read it
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def submit_form(browser: Browser, url: str, changes: dict[str, str]) -> tuple[float, httpx.Response]:
    """GET the form at `url`, change some fields, POST it back: (seconds the POST took, answer)."""
    reader = FormReader(url)
    reader.feed(browser.get(url).text)
    fields: dict[str, list[str]] = {}
    for name, value in reader.fields:
        if name not in changes:
            fields.setdefault(name, []).append(value)
    fields.update({name: [value] for name, value in changes.items()})
    referer = f"{browser.https_origin}{url}"
    started = time.perf_counter()
    answer = browser._keep(browser.http.post(url, data=fields, headers=browser._headers({"Referer": referer})))
    return time.perf_counter() - started, answer


def add_profiles(browser: Browser, campaign_id: int, count: int, first: int) -> float:
    """Paste `count` new profile URNs into a campaign's "Add prospects" form: seconds the POST took."""
    urns = "\n".join(f"urn:li:fsd_profile:ACoAddBench{first + n:09d}" for n in range(count))
    seconds, answer = submit_form(browser, f"/campaigns/{campaign_id}/prospects/add/", {"profiles": urns})
    if answer.status_code != 302:
        raise RuntimeError(f"Adding profiles answered {answer.status_code}:\n{answer.text[:2000]}")
    return seconds


def edit_note(browser: Browser, campaign_id: int, template: str) -> float:
    """Change the campaign's note in its edit form: seconds the POST took."""
    seconds, answer = submit_form(browser, f"/campaigns/{campaign_id}/edit/", {"note_template": template})
    if answer.status_code != 302:  # 200 is the form again, with an error: nothing was saved
        errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)</', answer.text, re.S)
        raise RuntimeError(f"Editing the note answered {answer.status_code}: {errors or answer.text[:2000]}")
    return seconds


def edits(browser: Browser, empty_id: int, queued_id: int, runs: int = 3) -> dict:
    """Adding 10 prospects to an empty campaign and to one with a long queue (alternating, `runs`
    each, median), then one note edit on the long queue."""
    empty, queued = [], []
    for run in range(runs):
        empty.append(add_profiles(browser, empty_id, 10, 2 * run * 10 + 1))
        queued.append(add_profiles(browser, queued_id, 10, (2 * run + 1) * 10 + 1))
    note = edit_note(browser, queued_id, EDITED_TEMPLATE.format(n=random.randint(1, 999)))
    return {
        "add_empty_s": percentiles(empty)["p50"], "add_queued_s": percentiles(queued)["p50"],
        "note_edit_s": note,
    }
