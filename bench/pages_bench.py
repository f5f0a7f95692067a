"""Page latency: Home, a campaign page, Review and the campaign status poll, beside Django
admin's changelist of ConnectionRequest on the same data.

Two halves, run in different processes (see bench/run.py):
- `python -m bench.pages_bench seed N MAX_EVENTS PASSWORD`, inside the server's environment,
  grows the database to N connection requests with bulk_create (never rebuilding it);
- `measure()`, in the orchestrating process, logs in over HTTP like a browser and times pages
  served by gunicorn.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import random
import re
import statistics
import sys
import time
from http.cookies import SimpleCookie

import httpx

USERNAME = "bench"
CAMPAIGNS = 20
# Most rows sit in one campaign, the one the campaign page and the poll are timed on.
BIG_CAMPAIGN_SHARE = 0.7
BATCH = 5_000
# The state mix of a team that has been sending for a while.
STATE_MIX = [
    ("sent", 0.60), ("pending", 0.10), ("queued", 0.15), ("not_sent", 0.05),
    ("failed", 0.03), ("uncertain", 0.02), ("skipped", 0.05),
]
# The events a request in each state went through, oldest first.
STATE_PATHS = {
    "queued": [],
    "sent": [("queued", "submitting"), ("submitting", "pending"), ("pending", "sent")],
    "pending": [("queued", "submitting"), ("submitting", "pending")],
    "not_sent": [("queued", "submitting"), ("submitting", "pending"), ("pending", "not_sent")],
    "failed": [("queued", "submitting"), ("submitting", "failed")],
    "uncertain": [("queued", "submitting"), ("submitting", "uncertain")],
    "skipped": [("queued", "skipped")],
}
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


# --- Seeding, inside the server's environment -------------------------------------------------


def seed(total: int, max_events: int, password: str) -> dict:
    """Grow the database to `total` connection requests; returns the big campaign's id."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from campaigns.models import Campaign, ConnectionRequest, Event, Prospect, Sender

    started = time.perf_counter()
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = User.objects.create_superuser(USERNAME, "bench@example.com", password)
        Sender.get()  # the production pacing defaults
        states = ["active"] * 15 + ["paused"] * 2 + ["completed"] * 2 + ["archived"]
        for n, state in enumerate(states):
            Campaign.objects.create(
                name=f"Bench campaign {n:02d}" if n else "Bench big campaign", owner=user,
                note_template=NOTE_TEMPLATE, state=state, launched_at=timezone.now() - dt.timedelta(days=31),
            )
    campaigns = list(Campaign.objects.filter(owner=user).order_by("id"))
    big, others = campaigns[0], campaigns[1:]
    existing = ConnectionRequest.objects.count()
    now = timezone.now()
    states = [state for state, _ in STATE_MIX]
    weights = [weight for _, weight in STATE_MIX]
    for start in range(existing, total, BATCH):
        rng = random.Random(start)
        numbers = range(start, min(start + BATCH, total))
        prospects = Prospect.objects.bulk_create(Prospect(**prospect_fields(i, rng)) for i in numbers)
        requests, paths = [], []
        for i, prospect in zip(numbers, prospects):
            state = rng.choices(states, weights)[0]
            campaign = big if rng.random() < BIG_CAMPAIGN_SHARE else rng.choice(others)
            request = ConnectionRequest(
                campaign=campaign, prospect=prospect, state=state,
                note=f"Hi {prospect.first_name}, I came across your work at {prospect.company} and would be "
                     "glad to connect: we help sales teams like yours keep their outreach personal. Best, Ada",
            )
            times = request_times(request, state, now, rng, i)
            requests.append(request)
            paths.append((state, times))
        ConnectionRequest.objects.bulk_create(requests)
        events = []
        for request, (state, times) in zip(requests, paths):
            steps = STATE_PATHS[state][-max_events:] if max_events else []
            for (from_state, to_state), at in zip(steps, times[-len(steps):] if steps else []):
                events.append(Event(
                    connection_request=request, campaign_id=request.campaign_id,
                    from_state=from_state, to_state=to_state, cause=f"Bench: {to_state}", at=at,
                ))
        Event.objects.bulk_create(events)
    return {
        "campaign_id": big.pk,
        "requests": ConnectionRequest.objects.count(),
        "big_campaign_requests": big.requests.count(),
        "events": Event.objects.count(),
        "seconds": time.perf_counter() - started,
    }


def request_times(request, state: str, now: dt.datetime, rng: random.Random, i: int) -> list[dt.datetime]:
    """Fill the request's timestamps for its state; returns the times of its events, oldest first."""
    if state == "queued":
        return []
    if state == "skipped":
        return [now - dt.timedelta(days=rng.uniform(0, 30))]
    if state == "pending":
        # Mostly recent; a tenth clearly stale (8–20 days), none near the 7-day edge, so the
        # stale count, part of the poll's fingerprint, does not change while the bench runs.
        age = rng.uniform(0.1, 2) if rng.random() < 0.9 else rng.uniform(8, 20)
        submitted = now - dt.timedelta(days=age)
    else:
        submitted = now - dt.timedelta(days=rng.uniform(0.01, 30))
    request.submitted_at = submitted
    request.attempts = 1
    request.outx_task_id = f"bench-task-{i:09d}"
    request.claimed_by = "bench-worker"
    request.claimed_at = submitted
    accepted = submitted + dt.timedelta(seconds=rng.uniform(0.2, 2))
    if state == "pending":
        request.poll_count = rng.randint(1, 12)
        request.next_poll_at = now + dt.timedelta(minutes=rng.uniform(1, 10))
        return [submitted, accepted]
    if state == "failed":
        request.outx_task_id = None
        request.last_error = "OutX refused the request (400): Invalid profile_urn"
        return [submitted, accepted]
    if state == "uncertain":
        request.outx_task_id = None
        request.last_error = "The POST to OutX timed out after 20 s: it may or may not have arrived."
        return [submitted, accepted]
    completed = min(now, accepted + dt.timedelta(minutes=rng.uniform(1, 600)))
    request.completed_at = completed
    request.poll_count = rng.randint(1, 14)
    request.task_output = (
        {"sent": True, "profile_urn": request.prospect.profile_urn}
        if state == "sent" else {"sent": False, "reason": "Already invited or connected"}
    )
    return [submitted, accepted, completed]


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


PAGES = ["Home", "Campaign page", "Review", "Status poll, 204", "Status poll, 200", "Admin changelist"]


def measure(browser: Browser, campaign_id: int, timed: int, warm_up: int = 3) -> dict[str, dict]:
    """Each page `warm_up` times untimed then `timed` times, taking turns so drift hits all alike."""
    campaign_url = f"/campaigns/{campaign_id}/"
    poll_204 = status_url_on(browser.get(campaign_url))
    urls = {
        "Home": ("/", 200),
        "Campaign page": (campaign_url, 200),
        "Review": ("/review/", 200),
        "Status poll, 204": (poll_204, 204),
        # No fingerprint: the poll answers with the partial, as after any change.
        "Status poll, 200": (f"/campaigns/{campaign_id}/status/", 200),
        "Admin changelist": ("/admin/campaigns/connectionrequest/", 200),
    }
    times: dict[str, list[float]] = {page: [] for page in PAGES}
    sizes: dict[str, int] = {}
    for round_number in range(warm_up + timed):
        for page in PAGES:
            url, expected = urls[page]
            headers = {"HX_Request": "true"} if "poll" in page else {}
            started = time.perf_counter()
            answer = browser.get(url, **headers)
            elapsed = time.perf_counter() - started
            if page == "Status poll, 204" and answer.status_code == 200:
                # Something the fingerprint covers changed (working hours began or ended):
                # take the new fingerprint and leave this sample out.
                urls[page] = (status_url_on(browser.get(campaign_url)), 204)
                continue
            if answer.status_code != expected:
                raise RuntimeError(f"{page} {url} answered {answer.status_code}, not {expected}")
            sizes[page] = len(answer.content)
            if round_number >= warm_up:
                times[page].append(elapsed * 1000)
    return {page: {**percentiles(times[page]), "bytes": sizes[page]} for page in PAGES}


def percentiles(samples_ms: list[float]) -> dict:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": statistics.median(samples_ms), "p95": cuts[94], "n": len(samples_ms)}


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    if argv[0] == "seed":
        print(json.dumps(seed(int(argv[1]), int(argv[2]), argv[3])))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
