"""Shared fixtures: the sandbox over real HTTP, an OutX client pointed at it, the browser."""

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

    from campaigns.models import SendingAccount

    account = SendingAccount.get()
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
