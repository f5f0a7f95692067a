"""Settings, for admins: the sending account's pacing and state, and the OutX connection test."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.urls import reverse

from campaigns.models import Event, SendingAccount
from tests.conftest import wait_for_sandbox_idle

pytestmark = pytest.mark.django_db

AccountState = SendingAccount.State
SAFE_VALUES = {
    "daily_limit": "15",
    "weekly_limit": "80",
    "working_days": ["0", "2", "5"],
    "work_start": "08:30",
    "work_end": "17:15",
    "time_zone": "Europe/Paris",
    "min_spacing_seconds": "180",
    "max_spacing_seconds": "400",
}
LABELS = [
    "Daily limit", "Weekly limit", "Working days", "Start of working hours", "End of working hours",
    "Time zone", "Minimum spacing (seconds)", "Maximum spacing (seconds)",
]


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_user("grace", is_staff=True))
    return client


@pytest.fixture
def user_client(client):
    client.force_login(User.objects.create_user("ada"))
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Who may come in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url_name"),
    [("get", "settings"), ("post", "settings"), ("post", "settings_test_connection"),
     ("post", "settings_resume_account")],
)
def test_non_staff_users_are_refused(user_client, method, url_name):
    account = SendingAccount.get()
    data = {**SAFE_VALUES, "action": "pause"}

    response = getattr(user_client, method)(reverse(url_name), data)

    assert response.status_code == 403
    account.refresh_from_db()
    assert account.daily_limit == 20 and account.state == AccountState.ACTIVE


def test_the_settings_link_is_in_an_admins_menu(admin_client):
    assert 'href="/settings/"' in admin_client.get(reverse("home")).content.decode()


def test_the_settings_link_is_not_in_a_users_menu(user_client):
    assert 'href="/settings/"' not in user_client.get(reverse("home")).content.decode()


# --- Pacing ------------------------------------------------------------------------------------


def test_settings_page_shows_the_pacing_form_with_its_labels(admin_client):
    response = admin_client.get(reverse("settings"))
    html = response.content.decode()

    assert response.status_code == 200
    for label in LABELS:
        assert re.search(rf"<(label|legend)[^>]*>{re.escape(label)}</(label|legend)>", html), label
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert re.search(rf'<input type="checkbox" name="working_days" value="\d"[^>]*>\s*{day}</label>', html)
    assert re.search(r'<input type="checkbox" name="working_days" value="4"[^>]*checked>', html)
    assert not re.search(r'<input type="checkbox" name="working_days" value="5"[^>]*checked>', html)
    assert '<input type="time" name="work_start" value="09:00"' in html
    assert '<input type="time" name="work_end" value="18:00"' in html
    zones = re.findall(r'<option value="([^"]+)"', html.split('name="time_zone"')[1].split("</select>")[0])
    assert zones == sorted(zoneinfo.available_timezones())
    assert '<option value="UTC" selected>' in html
    for text in ("Settings", ">Save<", ">Test connection<", ">Pause sending<"):
        assert text in html


def test_an_admin_saves_every_field(admin_client):
    response = admin_client.post(reverse("settings"), SAFE_VALUES)

    assert response.status_code == 302 and response["Location"] == reverse("settings")
    assert messages_of(response) == ["Settings saved."]
    account = SendingAccount.get()
    assert account.daily_limit == 15
    assert account.weekly_limit == 80
    assert account.working_days == [0, 2, 5]
    assert account.work_start == dt.time(8, 30)
    assert account.work_end == dt.time(17, 15)
    assert account.time_zone == "Europe/Paris"
    assert account.min_spacing_seconds == 180
    assert account.max_spacing_seconds == 400


def test_saving_leaves_the_accounts_state_alone(admin_client):
    account = SendingAccount.get()
    account.set_state(AccountState.LIMIT_REACHED, "LinkedIn invitation limit reached.")

    admin_client.post(reverse("settings"), SAFE_VALUES)

    account.refresh_from_db()
    assert account.state == AccountState.LIMIT_REACHED
    assert account.state_cause == "LinkedIn invitation limit reached."


def test_values_beyond_the_safe_defaults_are_saved_with_warnings(admin_client):
    values = {**SAFE_VALUES, "daily_limit": "40", "weekly_limit": "250", "min_spacing_seconds": "5"}

    response = admin_client.post(reverse("settings"), values)

    assert response.status_code == 302
    shown = messages_of(response)
    assert "A daily limit above 20 is more than the safe default" in shown[0]
    assert shown[1] == "LinkedIn may restrict accounts sending more than ~100 invitations a week."
    assert "A minimum spacing under 120 seconds" in shown[2]
    assert shown[3] == "Settings saved."
    account = SendingAccount.get()
    assert (account.daily_limit, account.weekly_limit, account.min_spacing_seconds) == (40, 250, 5)


def test_seconds_in_working_hours_are_kept_on_display(admin_client):
    account = SendingAccount.get()
    account.work_end = dt.time(23, 59, 59)
    account.save()

    assert 'value="23:59:59"' in admin_client.get(reverse("settings")).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"daily_limit": "150", "weekly_limit": "100"}, "daily_limit",
         "The daily limit cannot be more than the weekly limit."),
        ({"min_spacing_seconds": "300", "max_spacing_seconds": "60"}, "max_spacing_seconds",
         "The maximum spacing cannot be less than the minimum spacing."),
        ({"work_start": "18:00", "work_end": "09:00"}, "work_end", "Working hours must end after they start."),
        ({"work_start": "09:00", "work_end": "09:00"}, "work_end", "Working hours must end after they start."),
        ({"working_days": []}, "working_days", "Choose at least one working day."),
        ({"daily_limit": "0"}, "daily_limit", "Ensure this value is greater than or equal to 1."),
        ({"weekly_limit": "0"}, "weekly_limit", "Ensure this value is greater than or equal to 1."),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone",
         "Select a valid choice. Mars/Olympus_Mons is not one of the available choices."),
        ({"work_start": "25:00"}, "work_start", "Enter a valid time."),
        ({"min_spacing_seconds": "-1"}, "min_spacing_seconds", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_invalid_settings_are_refused_with_a_clear_message(admin_client, changes, field, message):
    response = admin_client.post(reverse("settings"), {**SAFE_VALUES, **changes})
    html = response.content.decode()

    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}</li></ul>' in html
    assert html.count(message) == 1  # said once, not by the form and the model both
    assert messages_of(response) == []
    account = SendingAccount.get()
    assert account.daily_limit == 20 and account.time_zone == "UTC"


# --- Pausing and resuming ----------------------------------------------------------------------


def test_an_admin_pauses_and_resumes_sending(admin_client):
    response = admin_client.post(reverse("settings_resume_account"), {"action": "pause"})

    assert response.status_code == 302 and response["Location"] == reverse("settings")
    account = SendingAccount.get()
    assert account.state == AccountState.PAUSED and account.state_cause == "Paused by grace"
    html = admin_client.get(reverse("settings")).content.decode()
    assert ">Resume sending<" in html and ">Pause sending<" not in html
    assert "Paused by grace" in html

    response = admin_client.post(reverse("settings_resume_account"), {"action": "resume"})

    assert messages_of(response) == ["Sending resumed."]
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE and account.state_cause == "Resumed by grace"
    assert list(Event.objects.filter(account=account).values_list("to_state", flat=True)) == ["paused", "active"]


def test_a_rejected_key_asks_for_the_fix_first_but_allows_resuming(admin_client):
    SendingAccount.get().set_state(AccountState.INVALID_KEY, "OutX rejected the API key (Invalid API Key).")

    html = admin_client.get(reverse("settings")).content.decode()

    assert "OutX API key rejected" in html
    assert "fix the API key (OUTX_API_KEY) first" in html
    assert ">Resume sending<" in html

    admin_client.post(reverse("settings_resume_account"), {"action": "resume"})

    assert SendingAccount.get().state == AccountState.ACTIVE


def test_an_unknown_action_changes_nothing(admin_client):
    response = admin_client.post(reverse("settings_resume_account"), {"action": "explode"})

    assert response.status_code == 302
    assert messages_of(response) == ["Choose whether to pause or resume sending."]
    assert SendingAccount.get().state == AccountState.ACTIVE


# --- The OutX connection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [("sk-live-0123456789abcdef", "sk••••••••ef"), ("short", "••••••••"), ("", "not set")],
)
def test_the_key_is_shown_masked(admin_client, settings, key, shown):
    settings.OUTX_API_KEY = key
    settings.OUTX_BASE_URL = "https://api.outx.ai"

    html = admin_client.get(reverse("settings")).content.decode()

    assert shown in html
    assert "https://api.outx.ai" in html
    if key:
        assert key not in html


def test_connection(client, **params):
    """Press Test connection; return the messages and the settings page that follows."""
    response = client.post(reverse("settings_test_connection"), **params)
    assert response.status_code == 302 and response["Location"] == reverse("settings")
    return messages_of(response), client.get(reverse("settings")).content.decode()


test_connection.__test__ = False  # a helper, not a test


@pytest.mark.django_db(transaction=True)
def test_connection_test_against_the_sandbox(admin_client, sandbox, settings):
    shown, html = test_connection(admin_client)

    assert shown == ["OutX answered: the key works and the extension is online."]
    assert settings.OUTX_API_KEY not in html

    sandbox.extension_offline = True
    sandbox.save()
    shown, _ = test_connection(admin_client)
    assert shown == ["The key works, but no OutX extension has been active in the last 48 hours."]

    sandbox.wrong_key = True
    sandbox.save()
    shown, html = test_connection(admin_client)
    assert shown == ["OutX rejected the API key (Invalid API Key)."]
    assert settings.OUTX_API_KEY not in html


@pytest.mark.django_db(transaction=True)
def test_connection_test_answers_htmx_with_the_result_alone(admin_client, sandbox, settings):
    response = admin_client.post(reverse("settings_test_connection"), HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 200
    assert html.strip().startswith('<div id="connection-result"')
    assert "OutX answered: the key works and the extension is online." in html
    assert "<form" not in html and settings.OUTX_API_KEY not in html
    assert messages_of(response) == []  # nothing left over for the next page


@pytest.mark.django_db(transaction=True)
def test_connection_test_reports_server_errors_and_timeouts(admin_client, sandbox, settings):
    sandbox.server_error_rate = 1.0
    sandbox.save()
    shown, _ = test_connection(admin_client)
    assert shown == ["OutX had a server error (Internal server error). Try again in a few minutes."]

    sandbox.server_error_rate, sandbox.latency_ms = 0.0, 600
    sandbox.save()
    settings.OUTX_READ_TIMEOUT = 0.2
    shown, _ = test_connection(admin_client)
    wait_for_sandbox_idle()  # the slow answer the client gave up on
    assert shown == ["OutX did not answer within 0.2 seconds. Try again in a few minutes."]


def test_connection_test_when_nothing_listens(admin_client, settings):
    settings.OUTX_BASE_URL = "http://127.0.0.1:9"
    settings.OUTX_API_KEY = "sk-live-0123456789abcdef"

    shown, html = test_connection(admin_client)

    assert len(shown) == 1
    assert shown[0].startswith("Could not reach OutX at http://127.0.0.1:9: Could not connect to OutX:")
    assert "sk-live-0123456789abcdef" not in html


def test_connection_test_without_a_key(admin_client, settings):
    settings.OUTX_API_KEY = ""

    shown, _ = test_connection(admin_client)

    assert shown == ["No OutX API key is set: an admin must set OUTX_API_KEY."]
