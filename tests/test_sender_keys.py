"""Senders' OutX keys at rest and in use (issue 11): a database dump alone reveals no key, only
OUTREACH_ENCRYPTION_KEYS reads them, `rotate_sender_keys` moves them to a new encryption key,
`check --deploy` asks for that setting, and no page, log or error report shows a key."""

from __future__ import annotations

import io
import logging

import httpx
import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from campaigns import keys, outx
from campaigns.checks import ENCRYPTION_KEYS
from campaigns.models import Sender
from tests.test_senders_page import SAFE_VALUES

KEY = "sk-outx-Distinctive-Zebra-7731"
LOGGERS = ("", "campaigns", "httpx", "httpcore", "django", "outx_sandbox")


def new_fernet_key() -> str:
    return Fernet.generate_key().decode()


def sender_with(key: str = KEY, name: str = "Maria's LinkedIn") -> Sender:
    sender = Sender.objects.create(name=name)
    sender.set_api_key(key)
    sender.save()
    return sender


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_user("grace", is_staff=True))
    return client


# --- At rest ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dump_of_the_database_holds_no_key():
    sender = sender_with()
    out = io.StringIO()

    call_command("dumpdata", "campaigns", stdout=out)

    dump = out.getvalue()
    assert sender.api_key_encrypted in dump  # the sender was dumped, its key encrypted
    assert KEY not in dump and KEY.lower() not in dump.lower()


@pytest.mark.django_db(transaction=True)
def test_the_database_files_bytes_and_the_senders_columns_hold_no_key():
    sender_with()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM campaigns_sender")
        rows = cursor.fetchall()

    texts = [value for row in rows for value in row if isinstance(value, (str, bytes))]
    assert texts and all(KEY not in (value if isinstance(value, str) else value.decode(errors="replace")) for value in texts)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        image = connection.connection.serialize()  # the database file, byte for byte
        assert b"Maria's LinkedIn" in image  # the row is in it
        assert KEY.encode() not in image


@pytest.mark.django_db
def test_another_encryption_key_cannot_read_a_stored_key(settings):
    settings.OUTREACH_ENCRYPTION_KEYS = [new_fernet_key()]
    sender = sender_with()
    assert Sender.objects.get(pk=sender.pk).api_key == KEY

    settings.OUTREACH_ENCRYPTION_KEYS = [new_fernet_key()]

    with pytest.raises(keys.UnreadableKey) as raised:
        Sender.objects.get(pk=sender.pk).api_key
    assert KEY not in str(raised.value) and sender.api_key_encrypted not in str(raised.value)


# --- Rotation ---------------------------------------------------------------------------------------


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_sender_keys", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rotating_lets_the_old_encryption_key_be_dropped(settings):
    old, new = new_fernet_key(), new_fernet_key()
    settings.OUTREACH_ENCRYPTION_KEYS = [old]
    maria, paulo = sender_with(), sender_with("sk-outx-second-team-0042", name="Paulo's LinkedIn")
    Sender.get()  # the first sender, without a stored key: nothing to rotate
    tokens_before = set(Sender.objects.values_list("api_key_encrypted", flat=True))

    settings.OUTREACH_ENCRYPTION_KEYS = [new, old]
    assert rotate().startswith("Re-encrypted 2 sender keys with the first key of OUTREACH_ENCRYPTION_KEYS.")

    settings.OUTREACH_ENCRYPTION_KEYS = [new]
    assert Sender.objects.get(pk=maria.pk).api_key == KEY
    assert Sender.objects.get(pk=paulo.pk).api_key == "sk-outx-second-team-0042"
    assert not tokens_before & set(Sender.objects.exclude(api_key_encrypted="").values_list("api_key_encrypted", flat=True))


@pytest.mark.django_db
def test_without_rotating_dropping_the_old_key_leaves_the_key_unreadable(settings):
    old, new = new_fernet_key(), new_fernet_key()
    settings.OUTREACH_ENCRYPTION_KEYS = [old]
    sender = sender_with()

    settings.OUTREACH_ENCRYPTION_KEYS = [new]

    with pytest.raises(keys.UnreadableKey):
        Sender.objects.get(pk=sender.pk).api_key


@pytest.mark.django_db
def test_keys_stored_before_the_setting_existed_move_to_it(settings):
    settings.OUTREACH_ENCRYPTION_KEYS = []  # development: derived from DJANGO_SECRET_KEY
    sender = sender_with()
    settings.OUTREACH_ENCRYPTION_KEYS = [new_fernet_key()]
    with pytest.raises(keys.UnreadableKey):
        Sender.objects.get(pk=sender.pk).api_key

    rotate()

    assert Sender.objects.get(pk=sender.pk).api_key == KEY


@pytest.mark.django_db
def test_a_key_nothing_can_read_stops_the_rotation_before_anything_changes(settings):
    kept, dropped = new_fernet_key(), new_fernet_key()
    settings.OUTREACH_ENCRYPTION_KEYS = [kept]
    readable = sender_with(name="Readable")  # rotated first (the lower pk), then rolled back
    settings.OUTREACH_ENCRYPTION_KEYS = [dropped]
    lost = sender_with("sk-outx-lost-team-key-5555", name="Lost")
    settings.OUTREACH_ENCRYPTION_KEYS = [new_fernet_key(), kept]
    before = list(Sender.objects.order_by("pk").values_list("api_key_encrypted", flat=True))

    with pytest.raises(CommandError, match=rf"sender Lost \(#{lost.pk}\) cannot be read") as raised:
        rotate()

    assert "Nothing was changed." in str(raised.value) and lost.pk > readable.pk
    assert list(Sender.objects.order_by("pk").values_list("api_key_encrypted", flat=True)) == before


@pytest.mark.django_db
def test_rotating_without_encryption_keys_is_refused(settings):
    settings.OUTREACH_ENCRYPTION_KEYS = []

    with pytest.raises(CommandError, match="OUTREACH_ENCRYPTION_KEYS is not set"):
        rotate()


# --- The deploy check ---------------------------------------------------------------------------


def deploy_check_ids() -> list[str]:
    return [message.id for message in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])]


def test_check_deploy_asks_for_encryption_keys_with_debug_off(settings):
    settings.DEBUG = False
    settings.OUTREACH_ENCRYPTION_KEYS = []

    assert ENCRYPTION_KEYS in deploy_check_ids()
    [warning] = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == ENCRYPTION_KEYS]
    assert warning.level == checks.WARNING and "OUTREACH_ENCRYPTION_KEYS is not set" in warning.msg


def test_check_deploy_is_content_once_they_are_set_or_in_development(settings):
    settings.DEBUG = False
    settings.OUTREACH_ENCRYPTION_KEYS = [new_fernet_key(), new_fernet_key()]
    assert ENCRYPTION_KEYS not in deploy_check_ids()

    settings.DEBUG, settings.OUTREACH_ENCRYPTION_KEYS = True, []
    assert ENCRYPTION_KEYS not in deploy_check_ids()


def test_check_deploy_refuses_a_key_that_is_not_a_fernet_key(settings):
    settings.DEBUG = False
    settings.OUTREACH_ENCRYPTION_KEYS = [new_fernet_key(), "not-a-key"]

    [error] = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == ENCRYPTION_KEYS]
    assert error.level == checks.ERROR and "1 of the keys" in error.msg


# --- In use: pages, logs, error reports -----------------------------------------------------------


def refusing_outx(monkeypatch, status: int = 401, quote_key: bool = True):
    """OutX answering `status`, its error quoting the key sent in another case, as a careless
    server might."""

    def handler(request):
        sent = request.headers["x-api-key"]
        return httpx.Response(status, json={"success": False, "error": f"Invalid API Key {sent.upper() if quote_key else ''}"})

    monkeypatch.setattr(
        outx, "get_client",
        lambda *, api_key=None, **kwargs: outx.OutxClient("https://outx.test", api_key or "", transport=httpx.MockTransport(handler)),
    )


def new_sender_data(**changes) -> dict:
    return {"name": "Paulo's LinkedIn", "api_key": KEY, "users": [], **SAFE_VALUES, **changes}


def assert_key_not_in(text: str) -> None:
    assert KEY.lower() not in text.lower()


@pytest.mark.django_db
def test_no_senders_page_shows_the_key_saved_or_refused(admin_client, monkeypatch):
    sender = sender_with()
    other = sender_with("sk-outx-second-team-0042", name="Paulo's LinkedIn")
    pages = [reverse("sender_list"), reverse("sender_detail", args=[sender.pk]), reverse("sender_create"),
             reverse("sender_retire", args=[sender.pk]), reverse("sender_delete", args=[sender.pk])]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert_key_not_in(html)
    assert "••••••••7731" in admin_client.get(reverse("sender_list")).content.decode()

    # After a failed save: another field wrong (OutX not asked), the key taken, OutX refusing.
    refusals = [
        (reverse("sender_create"), new_sender_data(name="Other", api_key="sk-outx-fresh-key-1234", daily_limit="0")),
        (reverse("sender_create"), new_sender_data(name="Other")),
        (reverse("sender_detail", args=[other.pk]), new_sender_data(api_key=KEY)),
    ]
    refusing_outx(monkeypatch)
    refusals.append((reverse("sender_create"), new_sender_data(name="Other", api_key="sk-outx-fresh-key-1234")))
    for url, data in refusals:
        response = admin_client.post(url, data)
        assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
        assert_key_not_in(response.content.decode())
        assert "sk-outx-fresh-key-1234" not in response.content.decode().lower()
    assert "OutX refused this key (Invalid API Key ••••••••1234)" in response.content.decode()


@pytest.mark.django_db
def test_no_log_holds_a_key_outx_refuses(admin_client, monkeypatch, caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    refusing_outx(monkeypatch)

    response = admin_client.post(reverse("sender_create"), new_sender_data())

    assert response.status_code == 200 and not Sender.objects.filter(name="Paulo's LinkedIn").exists()
    assert any(record.name == "httpx" for record in caplog.records)  # the call was logged, without the key
    for record in caplog.records:
        assert_key_not_in(record.getMessage())
        assert_key_not_in(repr(record.args))
    assert_key_not_in(caplog.text)


@pytest.mark.django_db(transaction=True)
def test_over_real_http_no_log_holds_a_refused_key(admin_client, sandbox, settings, caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    sandbox.wrong_key = True
    sandbox.save()

    response = admin_client.post(reverse("sender_create"), new_sender_data())

    assert "OutX refused this key (Invalid API Key)" in response.content.decode()
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    assert_key_not_in(caplog.text)
    assert_key_not_in(response.content.decode())


@pytest.mark.django_db
def test_an_unexpected_error_while_checking_a_key_is_reported_without_it(monkeypatch, caplog):
    def broken(self, task_id):
        raise RuntimeError("something unexpected")

    monkeypatch.setattr(outx.OutxClient, "get_task_status", broken)
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_user("root", is_staff=True))

    response = client.post(reverse("sender_create"), new_sender_data())

    assert response.status_code == 500
    assert_key_not_in(response.content.decode())
    [record] = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    # What AdminEmailHandler mails, and the debug page's content: frames, their variables, POST.
    reporter = ExceptionReporter(record.request, *record.exc_info, is_email=True)
    report = reporter.get_traceback_text() + reporter.get_traceback_html()
    assert "something unexpected" in report and "outx_refusal" in report and "api_key" in report
    assert_key_not_in(report)
