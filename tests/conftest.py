"""Shared fixtures: the browser, the sending account's pacing, the sandbox over real HTTP and
its switches, an OutX client pointed at it, the users and a campaign factory."""

import os
import shutil
import time

import pytest

# Playwright's sync API runs an event loop in the test's thread; Django's ORM then refuses to
# run there unless told this is deliberate. Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's Chromium: `playwright install` cannot download a browser here."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make test does, as root).")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def always_open(db):
    """The sending account inside working hours at any moment (every day, all day); the rest
    of its pacing as it is."""
    import datetime as dt

    from campaigns.models import Sender

    account = Sender.get()
    account.working_days = [0, 1, 2, 3, 4, 5, 6]
    account.work_start, account.work_end = dt.time(0, 0), dt.time(23, 59, 59)
    account.save()
    return account


@pytest.fixture
def pacing_off(always_open):
    """The sending account with pacing off: always open, no spacing, room in every cap, the
    newest connections read every minute. Tests move their own clock through it."""
    account = always_open
    account.min_spacing_seconds = account.max_spacing_seconds = 0
    account.daily_limit = account.weekly_limit = account.hourly_action_limit = 1000
    account.acceptance_check_minutes = 1
    account.save()
    return account


@pytest.fixture
def owner(db):
    """The user who owns the campaigns `make_campaign` makes unless told otherwise."""
    from django.contrib.auth.models import User

    return User.objects.create_user("owner", password="x")


@pytest.fixture
def ada(db):
    """A team member the views tests log in as (the pages show her name: "Launched by ada")."""
    from django.contrib.auth.models import User

    return User.objects.create_user("ada")


@pytest.fixture
def ada_client(client, ada):
    """Ada, a member, logged in and allowed to send from the team's first sender."""
    from campaigns.models import Sender

    Sender.get().users.add(ada)
    client.force_login(ada)
    return client


@pytest.fixture
def owner_client(client, owner):
    """A browser-less client logged in as the `owner` fixture."""
    client.force_login(owner)
    return client


@pytest.fixture
def make_campaign(request, db):
    """Make a campaign: `make_campaign(name, state, owner=, note_template=, prospects=N, **fields)`.

    By default an active campaign named "Lisbon founders", owned by the `owner` fixture, with
    the note "Hi {first_name|there}" and nobody in it. With `prospects=N`, N queued invitations
    to prospects P{start} … P{start + N - 1} (of Acme) with their variants and notes rendered;
    the same number is the same person in every campaign. Other fields go to the campaign.
    """
    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender

    def make(name="Lisbon founders", state=Campaign.State.ACTIVE, *, owner=None,
             note_template="Hi {first_name|there}", prospects=0, start=0, senders=None, **fields):
        if owner is None:
            owner = request.getfixturevalue("owner")
        campaign = Campaign.objects.create(name=name, owner=owner, state=state, note_template=note_template, **fields)
        campaign.senders.set(senders if senders is not None else [Sender.get()])
        for i in range(start, start + prospects):
            prospect, _ = Prospect.objects.get_or_create(
                profile_urn=f"urn:li:fsd_profile:ACoAAProspect{i:04d}",
                defaults={"first_name": f"P{i}", "company": "Acme"},
            )
            ConnectionRequest.objects.create(campaign=campaign, prospect=prospect)
        if prospects:
            campaign.spread_queued_over_senders()
            campaign.render_queued_notes()
        return campaign

    return make


@pytest.fixture
def sandbox(live_server, settings):
    """The OutX sandbox served over real HTTP, completing tasks at once, all switches off.

    The product's settings point at it, exactly as `make run` points at its own sandbox.
    """
    from outx_sandbox.models import SandboxSettings

    settings.OUTX_BASE_URL = f"{live_server.url}/outx-sandbox"
    settings.OUTX_API_KEY = settings.OUTX_SANDBOX_API_KEY
    sandbox_settings = SandboxSettings.get()
    sandbox_settings.task_delay_seconds = 0
    sandbox_settings.save()
    yield sandbox_settings
    wait_for_sandbox_idle()


@pytest.fixture
def switch(sandbox):
    """Set a sandbox team's switches and save them: `switch(latency_ms=1500, not_sent_rate=1)`
    for the default team (the `sandbox` fixture), `switch(team=team_b, extension_offline=True)`
    for another."""

    def set_switches(team=None, **fields):
        team = team or sandbox
        for name, value in fields.items():
            if not hasattr(team, name):
                raise AttributeError(f"The sandbox has no switch {name!r}.")
            setattr(team, name, value)
        team.save()

    return set_switches


@pytest.fixture
def make_team(sandbox):
    """Add a simulated OutX team to the served sandbox: `make_team("Team B", "sandbox-key-b",
    **switches)`, completing tasks at once like the default team."""
    from outx_sandbox.models import SandboxSettings

    def make(name, api_key, **switches):
        return SandboxSettings.objects.create(name=name, api_key=api_key, **{"task_delay_seconds": 0, **switches})

    return make


def wait_for_sandbox_idle(timeout: float = 15) -> None:
    """Wait until the live server answers no sandbox call.

    The live server shares the test's SQLite connection; a call the client gave up on (the
    latency switch against a short time-out) must not still be writing when the test goes on
    or its database is reset."""
    from outx_sandbox.api import calls_in_flight

    deadline = time.monotonic() + timeout
    while calls_in_flight() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def outx_client(sandbox):
    from campaigns.outx import get_client

    with get_client() as client:
        yield client


# --- Shared by the note-render and sender tests (test_rerender_task, test_sender_spread_task,
# test_senders_worker) -------------------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    """The tasks enqueued, as (campaign id, version, after id), instead of a broker."""
    from campaigns.models import Campaign

    calls = []
    monkeypatch.setattr(Campaign, "enqueue_note_render",
                        lambda self, version, after_id=0: calls.append((self.pk, version, after_id)))
    return calls


@pytest.fixture
def long_queue(monkeypatch):
    """Any queue longer than 5 counts as long."""
    from campaigns.models import Campaign

    monkeypatch.setattr(Campaign, "NOTES_RENDERED_IN_REQUEST", 5)


@pytest.fixture
def stand_in(monkeypatch):
    """Every sender's client talks to a stand-in for OutX (tests.test_senders_worker.OutxByKey),
    with the sender's own key."""
    import httpx

    from campaigns import outx
    from tests.test_senders_worker import OutxByKey

    fake = OutxByKey()
    monkeypatch.setattr(
        outx, "client_for",
        lambda sender, **kwargs: outx.OutxClient("http://outx.test", sender.api_key, transport=httpx.MockTransport(fake.handle)),
    )
    return fake
