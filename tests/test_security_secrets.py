"""The OutX API key never leaves the server: not in a page, a log line, a stored error, an
exception's message, or Django's error report. (A sender's stored key: tests/test_sender_keys.py.)

The key is set to a distinctive value; then every GET page is fetched as an admin, the worker
runs against an OutX that fails in every way it can (with every logger at DEBUG, httpx and
httpcore included), and an unexpected error is reported as Django reports it.
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from campaigns import outx
from campaigns.models import Campaign, ConnectionRequest, Event, Prospect, Sender
from campaigns.worker import run_tick
from tests.conftest import wait_for_sandbox_idle
from tests.test_login_required import all_pages
from tests.test_security_permissions import build_world, concrete_url

KEY = "sk-outx-7Q3f9a1Ce5b2d4F6"
URN = "urn:li:fsd_profile:ACoAASecret{}"
LOGGERS = ("", "campaigns", "httpx", "httpcore", "django", "outx_sandbox")

State = ConnectionRequest.State


def without_key(text: str) -> bool:
    return KEY not in text


# --- Pages ------------------------------------------------------------------------------------


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_no_page_shows_the_key(db, settings):
    settings.OUTX_API_KEY = settings.OUTX_SANDBOX_API_KEY = KEY
    world = build_world()
    world.spare.set_api_key(KEY.swapcase())  # a stored key too, beside the environment's
    world.spare.save()
    client = world.staff_client
    statuses = {}

    for sample, _ in all_pages():
        url = concrete_url(sample, world)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            statuses[url] = response.status_code
            assert without_key(body_of(response)) and KEY.swapcase() not in body_of(response), url
            assert all(without_key(value) for value in response.headers.values()), url

    # The walk did render the pages, the key's own section included.
    assert sum(status == 200 for status in statuses.values()) >= 40
    assert "OUTX_API_KEY from the environment" in client.get(reverse("sender_detail", args=[world.account.pk])).content.decode()
    assert "••••••••D4f6" in client.get(reverse("sender_detail", args=[world.spare.pk])).content.decode()


# --- The worker against a failing OutX ---------------------------------------------------------


def answering(status: int, body: dict | str):
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, dict):
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=body)

    return handler


def raising(exception_class: type[Exception]):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception_class("OutX is not answering", request=request)

    return handler


FAULTS = {
    "401": answering(401, {"error": "Invalid API Key"}),
    "403": answering(403, {"error": "Plugin installation required"}),
    "404": answering(404, {"error": "No admin user found in the team"}),
    "429": answering(429, {"error": "Weekly invitation limit reached"}),
    "500": answering(500, {"error": "Internal server error"}),
    "502 html": answering(502, "<html><body>Bad gateway</body></html>"),
    "read timeout": raising(httpx.ReadTimeout),
    "connect timeout": raising(httpx.ConnectTimeout),
    "refused": raising(httpx.ConnectError),
    "dropped": raising(httpx.RemoteProtocolError),
}


@pytest.fixture
def busy_account(pacing_off):
    """Something for every kind of call: a queued invitation, a task to poll, a profile to look up."""
    account = pacing_off
    owner = User.objects.create_user("ada")
    campaign = Campaign.objects.create(name="Q4", owner=owner, state=Campaign.State.ACTIVE, note_template="Hi")
    now = timezone.now()
    ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, prospect=Prospect.objects.create(profile_urn=URN.format(1)), note="Hi",
    )
    ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, prospect=Prospect.objects.create(profile_urn=URN.format(2)), note="Hi",
        state=State.PENDING, outx_task_id="task-2", submitted_at=now - dt.timedelta(minutes=5),
        next_poll_at=now - dt.timedelta(seconds=1),
    )
    ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, prospect=Prospect.objects.create(profile_url="https://www.linkedin.com/in/secret-three"),
    )
    return account


def assert_nothing_stored_holds_the_key() -> None:
    assert all(without_key(cause) for cause in Event.objects.values_list("cause", flat=True))
    assert all(without_key(error) for error in ConnectionRequest.objects.values_list("last_error", flat=True))
    assert all(without_key(error) for error in Prospect.objects.values_list("lookup_error", flat=True))
    assert without_key(Sender.get().state_cause)


def assert_no_log_holds_the_key(caplog) -> None:
    for record in caplog.records:
        assert without_key(record.getMessage()), record.name
        assert without_key(repr(record.args)), record.name
        assert without_key(record.exc_text or ""), record.name
    assert without_key(caplog.text)


def debug_everywhere(caplog) -> None:
    # The settings quiet httpx to WARNING; here every logger speaks.
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


@pytest.mark.parametrize("fault", FAULTS)
def test_the_worker_keeps_the_key_out_of_logs_errors_and_events(busy_account, caplog, fault):
    debug_everywhere(caplog)
    keys_sent = []

    def handler(request):
        keys_sent.append(request.headers["x-api-key"])
        return FAULTS[fault](request)

    client = outx.OutxClient("https://outx.test", KEY, transport=httpx.MockTransport(handler))
    now = timezone.now()
    summaries = [run_tick(now=now + dt.timedelta(minutes=minutes), client=client) for minutes in (0, 10)]

    assert keys_sent and set(keys_sent) == {KEY}  # the key was in play
    assert ConnectionRequest.objects.exclude(last_error="").exists() or Sender.get().state_cause
    assert all(without_key(summary.line()) for summary in summaries)  # django-q2 stores the line
    assert_nothing_stored_holds_the_key()
    if fault[0].isdigit():
        assert any(record.name == "httpx" for record in caplog.records)  # httpx's own lines were seen
    assert_no_log_holds_the_key(caplog)


@pytest.mark.django_db(transaction=True)
def test_over_real_http_neither_httpx_nor_httpcore_logs_the_key(sandbox, busy_account, settings, caplog):
    settings.OUTX_API_KEY = settings.OUTX_SANDBOX_API_KEY = KEY
    sandbox.api_key = KEY  # the sandbox's team answers to the key
    sandbox.save()
    settings.OUTX_READ_TIMEOUT = 0.5
    debug_everywhere(caplog)
    now = timezone.now()

    run_tick(now=now)  # the sandbox takes the key: a submission and a look-up are made
    sandbox.server_error_rate = 1
    sandbox.save()
    run_tick(now=now + dt.timedelta(minutes=10))
    sandbox.server_error_rate, sandbox.latency_ms = 0, 1500
    sandbox.save()
    run_tick(now=now + dt.timedelta(minutes=20))  # read time-outs
    wait_for_sandbox_idle()
    sandbox.latency_ms, sandbox.wrong_key = 0, True
    sandbox.save()
    run_tick(now=now + dt.timedelta(hours=1))

    assert Sender.get().state == Sender.State.INVALID_KEY
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    assert any(record.name == "httpx" for record in caplog.records)
    assert_nothing_stored_holds_the_key()
    assert_no_log_holds_the_key(caplog)


# --- The client's own errors ------------------------------------------------------------------


CALLS = {
    "send_connection_request": lambda client: client.send_connection_request(URN.format(1), "Hi"),
    "get_task_status": lambda client: client.get_task_status("task-1"),
    "fetch_profile": lambda client: client.fetch_profile("ada"),
    "fetch_connections": lambda client: client.fetch_connections(),
    "send_message": lambda client: client.send_message(URN.format(1), "Hello"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_the_clients_errors_never_carry_the_key(fault):
    client = outx.OutxClient("https://outx.test", KEY, transport=httpx.MockTransport(FAULTS[fault]))

    for call in CALLS.values():
        with pytest.raises(outx.OutxError) as raised:
            call(client)
        error = raised.value
        assert without_key(str(error)) and without_key(error.message) and without_key(repr(error))
        assert without_key(repr(error.body))
        # httpx's own exception is not chained on: a traceback would show it.
        assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


@pytest.mark.django_db(transaction=True)
def test_a_key_with_a_stray_line_break_stays_out_of_the_error(sandbox, settings):
    with pytest.raises(outx.OutxError) as raised:
        outx.OutxClient(settings.OUTX_BASE_URL, KEY + "\n").get_task_status("task-1")

    assert without_key(raised.value.message)


@pytest.mark.django_db(transaction=True)
def test_the_connection_test_masks_a_key_with_a_stray_line_break(sandbox, settings):
    settings.OUTX_API_KEY = KEY + "\n"
    client = Client()
    client.force_login(User.objects.create_user("root", is_staff=True))

    response = client.post(reverse("sender_test_connection", args=[Sender.get().pk]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "OutX rejected the API key" in html  # the line break is trimmed; the sandbox's key differs
    assert without_key(html)


# --- Django's error reports -------------------------------------------------------------------


def test_error_reports_mask_the_key_settings(settings):
    settings.OUTX_API_KEY = settings.OUTX_SANDBOX_API_KEY = KEY

    safe = SafeExceptionReporterFilter().get_safe_settings()

    # Cleansed by name: OUTX_API_KEY matches Django's API/KEY pattern.
    assert safe["OUTX_API_KEY"] == SafeExceptionReporterFilter.cleansed_substitute
    assert safe["OUTX_SANDBOX_API_KEY"] == SafeExceptionReporterFilter.cleansed_substitute
    assert without_key(repr(safe))


def test_an_unexpected_error_in_the_connection_test_is_reported_without_the_key(db, settings, monkeypatch, caplog):
    settings.OUTX_API_KEY = KEY

    def broken(self, task_id):
        raise RuntimeError("something unexpected")

    monkeypatch.setattr(outx.OutxClient, "get_task_status", broken)
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_user("root", is_staff=True))

    response = client.post(reverse("sender_test_connection", args=[Sender.get().pk]))

    assert response.status_code == 500
    assert without_key(response.content.decode())
    [record] = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    # What AdminEmailHandler mails, and the debug page's content: frames, their variables, settings.
    reporter = ExceptionReporter(record.request, *record.exc_info, is_email=True)
    report = reporter.get_traceback_text() + reporter.get_traceback_html()
    assert "something unexpected" in report and "check_outx_connection" in report
    assert without_key(report)
    assert without_key(record.getMessage())


@pytest.mark.parametrize("bad_key", [KEY[:4] + "\n" + KEY[4:], KEY + "\u00a0é"])
def test_a_key_no_header_can_carry_is_reported_without_it_and_sends_nothing(bad_key):
    calls = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(200))
    with pytest.raises(outx.OutxConnectionError) as raised:
        outx.OutxClient("https://outx.test", bad_key, transport=transport).send_connection_request(
            "urn:li:fsd_profile:ACoAAB1234"
        )
    assert without_key(raised.value.message) and "OUTX_API_KEY" in raised.value.message
    assert raised.value.may_have_reached_outx is False and calls == []


def test_error_reports_hide_the_broker_and_database_urls(settings):
    settings.REDIS_URL = "redis://:hunter2@redis.internal:6379/0"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": settings.REDIS_URL}
    safe = safe_settings()
    assert "hunter2" not in str(safe["REDIS_URL"]) and "hunter2" not in str(safe["Q_CLUSTER"])


def safe_settings():
    from django.views.debug import get_default_exception_reporter_filter

    return get_default_exception_reporter_filter().get_safe_settings()
