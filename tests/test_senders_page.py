"""The senders' pages, for admins: the list, a new sender, a sender's page with its form, its
state and the OutX connection test, and retiring or deleting it (issue 11)."""

import datetime as dt
import re
import zoneinfo

import httpx
import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from campaigns import outx
from campaigns.models import Campaign, ConnectionRequest, Event, Sender
from people.timezones import canonical_time_zones
from tests.conftest import wait_for_sandbox_idle
from tests.helpers import add_request, words

pytestmark = pytest.mark.django_db

SenderState = Sender.State
State = ConnectionRequest.State
KEY = "sk-outx-new-team-key-4821"
OTHER_KEY = "sk-outx-other-team-key-9130"
SAFE_VALUES = {
    "daily_limit": "15",
    "weekly_limit": "80",
    "working_days": ["0", "2", "5"],
    "work_start": "08:30",
    "work_end": "17:15",
    "time_zone": "Europe/Paris",
    "min_spacing_seconds": "180",
    "max_spacing_seconds": "400",
    "hourly_action_limit": "40",
    "offline_recheck_seconds": "600",
    "stale_after_days": "10",
    "acceptance_check_minutes": "45",
    "acceptance_wait_days": "5",
}
LABELS = [
    "Name", "OutX API key", "Users",
    "Daily limit", "Weekly limit", "Working days", "Start of working hours", "End of working hours",
    "Time zone", "Minimum spacing (seconds)", "Maximum spacing (seconds)",
    "Hourly action limit", "Re-check while the extension is offline (seconds)", "Stale after (days)",
    "Acceptance check interval (minutes)", "Acceptance wait (days)",
]


@pytest.fixture
def grace(db):
    return User.objects.create_user("grace", is_staff=True)


@pytest.fixture
def admin_client(client, grace):
    client.force_login(grace)
    return client


@pytest.fixture
def user_client(client, ada):
    client.force_login(ada)
    return client


@pytest.fixture
def sender(db):
    """The first sender, with a stored key."""
    sender = Sender.get()
    sender.name = "Maria's LinkedIn"
    sender.set_api_key(OTHER_KEY)
    sender.save()
    return sender


class FakeOutx:
    """OutX answering every call with `status` (404 "not found" proves a key works), recording
    the keys it was sent."""

    def __init__(self):
        self.status, self.body = 404, {"success": False, "error": "Agent task not found"}
        self.keys_sent: list[str] = []

    def answer(self, status: int, error: str) -> None:
        self.status, self.body = status, {"success": False, "error": error}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.keys_sent.append(request.headers["x-api-key"])
        return httpx.Response(self.status, json=self.body)

    def get_client(self, *, api_key=None, **kwargs):
        return outx.OutxClient("https://outx.test", api_key or "", transport=httpx.MockTransport(self.handler))


@pytest.fixture
def fake_outx(monkeypatch):
    fake = FakeOutx()
    monkeypatch.setattr(outx, "get_client", fake.get_client)
    return fake


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def sender_data(sender=None, **changes) -> dict:
    """What the form posts: a new sender's (with KEY) unless `sender` is given (key left blank)."""
    data = {
        "name": "Paulo's LinkedIn" if sender is None else sender.name,
        "api_key": KEY if sender is None else "",
        "users": [],
        **SAFE_VALUES,
    }
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def page_of(sender) -> str:
    return reverse("sender_detail", args=[sender.pk])


def errors_of(html: str, field: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error shown for {field}"
    return match.group(1)


# --- Who may come in ------------------------------------------------------------------------------


def management_urls(sender) -> list[tuple[str, str]]:
    pk = [sender.pk]
    return [
        ("get", reverse("settings")),
        ("get", reverse("sender_create")), ("post", reverse("sender_create")),
        ("get", page_of(sender)), ("post", page_of(sender)),
        ("post", reverse("sender_state", args=pk)), ("post", reverse("sender_test_connection", args=pk)),
        ("get", reverse("sender_retire", args=pk)), ("post", reverse("sender_retire", args=pk)),
        ("get", reverse("sender_delete", args=pk)), ("post", reverse("sender_delete", args=pk)),
    ]


def test_members_are_refused_every_senders_page_even_their_own_senders(user_client, ada, sender, fake_outx):
    sender.users.add(ada)
    data = {**sender_data(sender, daily_limit="7", api_key=KEY), "action": "pause"}

    for method, url in management_urls(sender):
        response = getattr(user_client, method)(url, data)
        assert response.status_code == 403, f"{method} {url}"

    sender.refresh_from_db()
    assert (sender.daily_limit, sender.state, sender.retired_at) == (20, SenderState.ACTIVE, None)
    assert Sender.objects.count() == 1 and fake_outx.keys_sent == []


def test_the_senders_link_is_in_everyones_menu(admin_client, client, ada):
    html = admin_client.get(reverse("home")).content.decode()
    assert '<a href="/senders/">Senders</a>' in html
    assert ">Settings</a>" not in html

    client.force_login(ada)
    assert '<a href="/senders/">Senders</a>' in client.get(reverse("home")).content.decode()


def test_members_see_every_senders_figures_but_no_key_and_nothing_to_change(user_client, ada, sender):
    other = Sender.objects.create(name="Grace's LinkedIn", daily_limit=15)
    other.set_api_key("a-key-ada-never-sees-9876")
    other.save()
    sender.users.add(ada)

    html = user_client.get(reverse("sender_list")).content.decode()

    assert "Maria&#x27;s LinkedIn" in html and "Grace&#x27;s LinkedIn" in html and "0 of 15" in html
    assert "9876" not in html and "••••" not in html
    assert "New sender" not in html and reverse("sender_detail", args=[other.pk]) not in html


def test_old_settings_bookmarks_land_on_the_list(admin_client):
    response = admin_client.get("/settings/")

    assert response.status_code == 302 and response["Location"] == reverse("sender_list")
    assert admin_client.post("/settings/").status_code == 405


# --- The list -------------------------------------------------------------------------------------


def test_the_list_shows_each_sender_with_its_state_key_users_and_figures(admin_client, sender, ada, make_campaign):
    sender.users.add(ada, User.objects.create_user("bob"))
    sender.set_state(SenderState.LIMIT_REACHED, "LinkedIn invitation limit reached.")
    campaign = make_campaign(senders=[sender])
    add_request(campaign, State.SENT)
    add_request(campaign, State.PENDING)
    add_request(campaign, State.SENT, submitted_at=timezone.now() - dt.timedelta(days=3))
    add_request(campaign, State.QUEUED)  # not spent yet
    Sender.objects.create(name="Idle account", daily_limit=10, weekly_limit=50)
    retired = Sender.objects.create(name="Old account")
    retired.retire(User.objects.get(username="grace"))

    html = words(admin_client.get(reverse("sender_list")).content.decode())

    assert '<a class="button primary" href="/senders/new/">New sender</a>' in html
    row = html.split(f'<a href="{page_of(sender)}">Maria&#x27;s LinkedIn</a>')[1].split("</tr>")[0]
    assert "LinkedIn invitation limit reached" in row and "LinkedIn invitation limit reached." in row
    assert "<code>••••••••9130</code>" in row
    assert "ada, bob" in row
    assert "<td>2 of 20</td> <td>3 of 100</td>" in row
    idle = html.split(">Idle account</a>")[1].split("</tr>")[0]
    assert "Admins only" in idle and "<td>0 of 10</td> <td>0 of 50</td>" in idle
    assert "OUTX_API_KEY from the environment" in idle or "no key set" in idle
    current, retired_part = html.split('<h2 id="retired-heading">Retired</h2>')
    assert "Old account" not in current and f'<a href="{page_of(retired)}">Old account</a>, retired' in retired_part
    assert OTHER_KEY not in html


# --- A new sender ---------------------------------------------------------------------------------


def test_the_new_sender_form_has_every_field_with_its_label_and_never_a_key(admin_client, sender, ada):
    html = admin_client.get(reverse("sender_create")).content.decode()

    for label in LABELS:
        assert re.search(rf"<(label|legend)[^>]*>{re.escape(label)}</(label|legend)>", html), label
    assert re.search(r'<input type="password" name="api_key" autocomplete="new-password"[^>]*required', html)
    assert re.search(r'<input type="checkbox" name="users" value="\d+"[^>]*>\s*ada</label>', html)
    assert "grace (admin: may use every sender)" in html
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert re.search(rf'<input type="checkbox" name="working_days" value="\d"[^>]*>\s*{day}</label>', html)
    assert re.search(r'<input type="checkbox" name="working_days" value="4"[^>]*checked>', html)
    assert not re.search(r'<input type="checkbox" name="working_days" value="5"[^>]*checked>', html)
    assert '<input type="time" name="work_start" value="09:00"' in html
    zones = re.findall(r'<option value="([^"]+)"', html.split('name="time_zone"')[1].split("</select>")[0])
    # The short list (people.timezones): UTC, then the canonical Area/City zones by area.
    assert zones == ["UTC", *canonical_time_zones()]
    assert set(zones) <= zoneinfo.available_timezones() and "Factory" not in zones
    assert re.search(r'<input type="number" name="hourly_action_limit" value="50" min="1" max="1000"', html)
    for name, default in [("offline_recheck_seconds", 300), ("stale_after_days", 7),
                          ("acceptance_check_minutes", 30), ("acceptance_wait_days", 7)]:
        assert re.search(rf'<input type="number" name="{name}" value="{default}" min="0" max="\d+"', html), name
    assert ">Save</button>" in html


def test_an_admin_adds_a_sender_once_outx_takes_its_key(admin_client, sender, ada, fake_outx):
    response = admin_client.post(reverse("sender_create"), sender_data(users=[str(ada.pk)], api_key=f"  {KEY}\n"))

    new = Sender.objects.get(name="Paulo's LinkedIn")
    assert response.status_code == 302 and response["Location"] == page_of(new)
    assert messages_of(response) == ["Sender “Paulo's LinkedIn” added."]
    assert fake_outx.keys_sent == [KEY]  # asked once, stripped
    assert new.api_key == KEY and new.masked_key == "••••••••4821"
    assert list(new.users.all()) == [ada]
    assert (new.daily_limit, new.weekly_limit, new.working_days) == (15, 80, [0, 2, 5])
    assert (new.work_start, new.work_end, new.time_zone) == (dt.time(8, 30), dt.time(17, 15), "Europe/Paris")
    assert (new.min_spacing_seconds, new.max_spacing_seconds) == (180, 400)
    assert (new.hourly_action_limit, new.offline_recheck_seconds, new.stale_after_days) == (40, 600, 10)
    assert (new.acceptance_check_minutes, new.acceptance_wait_days) == (45, 5)
    assert new.state == SenderState.ACTIVE and not new.is_retired


@pytest.mark.django_db(transaction=True)
def test_a_new_sender_is_checked_against_the_sandbox_over_http(admin_client, sandbox, settings):
    settings.OUTX_API_KEY = ""  # the first sender (no stored key) must not hold the sandbox's key
    data = sender_data(api_key=settings.OUTX_SANDBOX_API_KEY)

    sandbox.wrong_key = True
    sandbox.save()
    refused = admin_client.post(reverse("sender_create"), data)
    assert refused.status_code == 200
    assert "OutX refused this key (Invalid API Key)" in errors_of(refused.content.decode(), "api_key")
    assert not Sender.objects.filter(name="Paulo's LinkedIn").exists()

    sandbox.wrong_key = False
    sandbox.save()
    assert admin_client.post(reverse("sender_create"), data).status_code == 302
    assert Sender.objects.get(name="Paulo's LinkedIn").api_key == settings.OUTX_SANDBOX_API_KEY


def test_a_key_outx_refuses_is_not_saved_and_the_reason_is_shown(admin_client, sender, fake_outx):
    fake_outx.answer(401, "Invalid API Key")

    response = admin_client.post(reverse("sender_create"), sender_data())
    html = response.content.decode()

    assert response.status_code == 200
    assert errors_of(html, "api_key") == (
        "<li>OutX refused this key (Invalid API Key): copy it again from the OutX team&#x27;s settings.</li>"
    )
    assert KEY not in html and 'name="api_key" autocomplete="new-password" required' in html
    assert Sender.objects.count() == 1


def test_a_key_cannot_be_saved_while_outx_is_unreachable(admin_client, sender, settings):
    settings.OUTX_BASE_URL = "http://127.0.0.1:9"  # nothing listens

    response = admin_client.post(reverse("sender_create"), sender_data())

    error = errors_of(response.content.decode(), "api_key")
    assert "Could not reach OutX at http://127.0.0.1:9 to check the key" in error
    assert "Nothing was saved: try again in a few minutes." in error
    assert Sender.objects.count() == 1


def test_outx_failing_otherwise_saves_nothing_either(admin_client, sender, fake_outx):
    fake_outx.answer(500, "Internal server error")

    response = admin_client.post(reverse("sender_create"), sender_data())

    assert "OutX could not check the key (Internal server error)" in errors_of(response.content.decode(), "api_key")
    assert Sender.objects.count() == 1


def test_a_key_that_works_while_the_extension_is_offline_is_saved_with_a_warning(admin_client, sender, fake_outx):
    fake_outx.answer(403, "Plugin installation required")

    response = admin_client.post(reverse("sender_create"), sender_data())

    assert response.status_code == 302
    assert messages_of(response) == [
        "OutX took the key, but no OutX extension of the team has been active in the last 48 hours.",
        "Sender “Paulo's LinkedIn” added.",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"api_key": ""}, "This field is required."),
        ({"api_key": "   "}, "This field is required."),
        ({"api_key": "sk-outx key with spaces"}, "characters an HTTP header cannot carry"),
        ({"api_key": "sk-outx-clé-4821-abcdef"}, "characters an HTTP header cannot carry"),
        ({"api_key": OTHER_KEY}, "This OutX team already has a sender: Maria&#x27;s LinkedIn. Two senders on one key"),
        ({"name": "maria's linkedin"}, "Another sender already has this name"),
    ],
)
def test_a_new_sender_is_refused_with_a_clear_message_and_outx_is_not_asked(
    admin_client, sender, fake_outx, changes, message
):
    response = admin_client.post(reverse("sender_create"), sender_data(**changes))
    html = response.content.decode()

    assert response.status_code == 200
    field = "name" if "name" in changes else "api_key"
    assert message in errors_of(html, field)
    assert Sender.objects.count() == 1 and fake_outx.keys_sent == []
    assert OTHER_KEY not in html and KEY not in html


def test_the_environments_key_is_refused_while_a_sender_uses_it(admin_client, fake_outx, settings):
    settings.OUTX_API_KEY = KEY
    first = Sender.get()  # carried over from a single-account install: no stored key

    response = admin_client.post(reverse("sender_create"), sender_data())

    assert (
        f"This OutX team already has a sender: {first.name} (it uses OUTX_API_KEY)."
        in errors_of(response.content.decode(), "api_key")
    )
    assert Sender.objects.count() == 1 and fake_outx.keys_sent == []

    first.retire(User.objects.get(username="grace"))  # a retired sender sends nothing
    assert admin_client.post(reverse("sender_create"), sender_data()).status_code == 302


def test_a_retired_senders_key_stays_taken(admin_client, sender, grace, fake_outx):
    sender.retire(grace)

    response = admin_client.post(reverse("sender_create"), sender_data(api_key=OTHER_KEY))

    assert "already has a sender: Maria&#x27;s LinkedIn (retired)." in errors_of(response.content.decode(), "api_key")


# --- A sender's page: its form --------------------------------------------------------------------


def test_a_senders_page_shows_its_form_filled_in_but_never_its_key(admin_client, sender):
    html = admin_client.get(page_of(sender)).content.decode()

    assert '<input type="text" name="name" value="Maria&#x27;s LinkedIn"' in html
    assert re.search(r'<input type="password" name="api_key" autocomplete="new-password" aria-describedby="[^"]+" id="id_api_key">', html)
    assert "Now: ••••••••9130. Leave blank to keep it" in html
    for label in LABELS:
        assert re.search(rf"<(label|legend)[^>]*>{re.escape(label)}</(label|legend)>", html), label
    for text in (">Save<", ">Test connection<", ">Pause sending<", ">Retire Maria&#x27;s LinkedIn<", ">Delete Maria&#x27;s LinkedIn<"):
        assert text in html
    assert OTHER_KEY not in html


def test_an_admin_saves_every_field_keeping_the_key(admin_client, sender, ada, fake_outx):
    response = admin_client.post(page_of(sender), sender_data(sender, name="Maria (sales)", users=[str(ada.pk)]))

    assert response.status_code == 302 and response["Location"] == page_of(sender)
    assert messages_of(response) == ["Sender saved."]
    sender.refresh_from_db()
    assert sender.name == "Maria (sales)" and list(sender.users.all()) == [ada]
    assert sender.api_key == OTHER_KEY and fake_outx.keys_sent == []  # blank keeps it; OutX not asked
    assert (sender.daily_limit, sender.weekly_limit, sender.working_days) == (15, 80, [0, 2, 5])
    assert (sender.work_start, sender.work_end, sender.time_zone) == (dt.time(8, 30), dt.time(17, 15), "Europe/Paris")
    assert (sender.min_spacing_seconds, sender.max_spacing_seconds) == (180, 400)
    assert (sender.hourly_action_limit, sender.offline_recheck_seconds, sender.stale_after_days) == (40, 600, 10)
    assert (sender.acceptance_check_minutes, sender.acceptance_wait_days) == (45, 5)


def test_saving_wakes_the_sender_for_the_worker(admin_client, sender):
    Sender.objects.filter(pk=sender.pk).update(next_due_at=timezone.now() + dt.timedelta(hours=5))

    admin_client.post(page_of(sender), sender_data(sender))

    sender.refresh_from_db()
    assert sender.next_due_at <= timezone.now()


def test_the_same_key_again_is_kept_without_asking_outx(admin_client, sender, fake_outx):
    response = admin_client.post(page_of(sender), sender_data(sender, api_key=OTHER_KEY + "\n"))

    assert response.status_code == 302 and fake_outx.keys_sent == []
    sender.refresh_from_db()
    assert sender.api_key == OTHER_KEY


def test_a_new_key_is_checked_then_replaces_the_old_one(admin_client, sender, fake_outx):
    fake_outx.answer(401, "Invalid API Key")
    refused = admin_client.post(page_of(sender), sender_data(sender, api_key=KEY))

    assert "OutX refused this key" in errors_of(refused.content.decode(), "api_key")
    sender.refresh_from_db()
    assert sender.api_key == OTHER_KEY and sender.daily_limit == 20  # nothing of the form was saved

    fake_outx.answer(404, "Agent task not found")
    assert admin_client.post(page_of(sender), sender_data(sender, api_key=KEY)).status_code == 302

    sender.refresh_from_db()
    assert sender.api_key == KEY and sender.masked_key == "••••••••4821"
    assert fake_outx.keys_sent == [KEY, KEY]


def test_the_sender_using_the_environments_key_may_store_it_without_asking_outx(admin_client, settings, fake_outx):
    settings.OUTX_API_KEY = KEY
    first = Sender.get()

    assert admin_client.post(page_of(first), sender_data(first, api_key=KEY)).status_code == 302

    first.refresh_from_db()
    assert not first.key_from_environment and first.api_key == KEY and fake_outx.keys_sent == []


def test_saving_leaves_the_senders_state_alone(admin_client, sender):
    sender.set_state(SenderState.LIMIT_REACHED, "LinkedIn invitation limit reached.")

    admin_client.post(page_of(sender), sender_data(sender))

    sender.refresh_from_db()
    assert sender.state == SenderState.LIMIT_REACHED
    assert sender.state_cause == "LinkedIn invitation limit reached."


def test_values_beyond_the_safe_defaults_are_saved_with_warnings(admin_client, sender):
    values = sender_data(
        sender, daily_limit="40", weekly_limit="250", min_spacing_seconds="5", hourly_action_limit="80"
    )

    response = admin_client.post(page_of(sender), values)

    assert response.status_code == 302
    shown = messages_of(response)
    assert "A daily limit above 20 is more than the safe default" in shown[0]
    assert shown[1] == "LinkedIn may restrict accounts sending more than ~100 invitations a week."
    assert "A minimum spacing under 120 seconds" in shown[2]
    assert "OutX advises about 50 LinkedIn actions an hour" in shown[3]
    assert shown[4] == "Sender saved."
    sender.refresh_from_db()
    assert (sender.daily_limit, sender.weekly_limit, sender.min_spacing_seconds) == (40, 250, 5)


def test_seconds_in_working_hours_are_kept_on_display(admin_client, sender):
    sender.work_end = dt.time(23, 59, 59)
    sender.save()

    assert 'value="23:59:59"' in admin_client.get(page_of(sender)).content.decode()


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
        ({"acceptance_wait_days": ""}, "acceptance_wait_days", "This field is required."),
        ({"name": ""}, "name", "This field is required."),
        ({"users": ["999999"]}, "users", "Select a valid choice. 999999 is not one of the available choices."),
    ],
)
def test_invalid_values_are_refused_with_a_clear_message_and_outx_is_not_asked(
    admin_client, sender, fake_outx, changes, field, message
):
    response = admin_client.post(page_of(sender), sender_data(sender, api_key=KEY, **changes))
    html = response.content.decode()

    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}</li></ul>' in html
    assert html.count(message) == 1  # said once, not by the form and the model both
    assert messages_of(response) == [] and fake_outx.keys_sent == []
    assert KEY not in html
    sender.refresh_from_db()
    assert (sender.daily_limit, sender.time_zone, sender.api_key) == (20, "UTC", OTHER_KEY)


# --- Removing a user --------------------------------------------------------------------------------


def test_a_member_removed_can_no_longer_launch_on_it_and_their_invitations_stay(admin_client, sender, ada, make_campaign):
    sender.users.add(ada)
    sent_campaign = make_campaign("Sent", owner=ada, senders=[sender])
    sent = [add_request(sent_campaign, State.SENT), add_request(sent_campaign, State.ACCEPTED)]
    draft = make_campaign("Draft", Campaign.State.DRAFT, owner=ada, prospects=1, senders=[sender])
    before = list(ConnectionRequest.objects.filter(pk__in=[r.pk for r in sent]).order_by("pk").values())

    admin_client.post(page_of(sender), sender_data(sender, users=[]))

    assert not sender.users.exists()
    with pytest.raises(PermissionDenied, match="Maria's LinkedIn"):
        draft.launch(ada)
    assert list(ConnectionRequest.objects.filter(pk__in=[r.pk for r in sent]).order_by("pk").values()) == before
    draft.refresh_from_db()
    assert draft.state == Campaign.State.DRAFT


# --- Pausing and resuming ---------------------------------------------------------------------------


def test_an_admin_pauses_and_resumes_one_sender(admin_client, sender):
    other = Sender.objects.create(name="Paulo's LinkedIn")
    url = reverse("sender_state", args=[sender.pk])

    response = admin_client.post(url, {"action": "pause"})

    assert response.status_code == 302 and response["Location"] == page_of(sender)
    sender.refresh_from_db()
    assert sender.state == SenderState.PAUSED and sender.state_cause == "Paused by grace"
    assert Sender.objects.get(pk=other.pk).state == SenderState.ACTIVE
    html = admin_client.get(page_of(sender)).content.decode()
    assert ">Resume sending<" in html and ">Pause sending<" not in html and "Paused by grace" in html

    response = admin_client.post(url, {"action": "resume"})

    assert messages_of(response) == ["Sending from Maria's LinkedIn resumed."]
    sender.refresh_from_db()
    assert sender.state == SenderState.ACTIVE and sender.state_cause == "Resumed by grace"
    assert list(Event.objects.filter(sender=sender).values_list("to_state", flat=True)) == ["paused", "active"]


def test_a_rejected_key_asks_for_the_fix_first_but_allows_resuming(admin_client, sender):
    sender.set_state(SenderState.INVALID_KEY, "OutX rejected the API key (Invalid API Key).")

    html = admin_client.get(page_of(sender)).content.decode()

    assert "OutX API key rejected" in html
    assert "fix the OutX API key (enter the right one below) first" in html
    assert ">Resume sending<" in html

    admin_client.post(reverse("sender_state", args=[sender.pk]), {"action": "resume"})

    sender.refresh_from_db()
    assert sender.state == SenderState.ACTIVE


def test_an_unknown_action_changes_nothing(admin_client, sender):
    response = admin_client.post(reverse("sender_state", args=[sender.pk]), {"action": "explode"})

    assert response.status_code == 302
    assert messages_of(response) == ["Choose whether to pause or resume sending."]
    sender.refresh_from_db()
    assert sender.state == SenderState.ACTIVE


# --- The OutX connection ----------------------------------------------------------------------------


def press_test_connection(client, sender, **params):
    """Press Test connection; return the messages and the sender's page that follows."""
    response = client.post(reverse("sender_test_connection", args=[sender.pk]), **params)
    assert response.status_code == 302 and response["Location"] == page_of(sender)
    return messages_of(response), client.get(page_of(sender)).content.decode()


@pytest.mark.django_db(transaction=True)
def test_connection_test_against_the_sandbox_uses_the_senders_own_key(admin_client, sandbox, settings):
    first = Sender.get()  # uses OUTX_API_KEY, the sandbox's key
    wrong = Sender.objects.create(name="Wrong team")
    wrong.set_api_key(KEY)
    wrong.save()

    shown, html = press_test_connection(admin_client, first)
    assert shown == ["OutX answered: the key works and the extension is online."]
    assert settings.OUTX_API_KEY not in html

    shown, html = press_test_connection(admin_client, wrong)
    assert shown == ["OutX rejected the API key (Invalid API Key)."]
    assert KEY not in html

    sandbox.extension_offline = True
    sandbox.save()
    shown, _ = press_test_connection(admin_client, first)
    assert shown == ["The key works, but no OutX extension has been active in the last 48 hours."]


@pytest.mark.django_db(transaction=True)
def test_connection_test_answers_htmx_with_the_result_alone(admin_client, sandbox, settings):
    response = admin_client.post(reverse("sender_test_connection", args=[Sender.get().pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 200
    assert html.strip().startswith('<div id="connection-result"')
    assert "OutX answered: the key works and the extension is online." in html
    assert "<form" not in html and settings.OUTX_API_KEY not in html
    assert messages_of(response) == []  # nothing left over for the next page


@pytest.mark.django_db(transaction=True)
def test_connection_test_reports_server_errors_and_timeouts(admin_client, sandbox, settings):
    first = Sender.get()
    sandbox.server_error_rate = 1.0
    sandbox.save()
    shown, _ = press_test_connection(admin_client, first)
    assert shown == ["OutX had a server error (Internal server error). Try again in a few minutes."]

    sandbox.server_error_rate, sandbox.latency_ms = 0.0, 600
    sandbox.save()
    settings.OUTX_READ_TIMEOUT = 0.2
    shown, _ = press_test_connection(admin_client, first)
    wait_for_sandbox_idle()  # the slow answer the client gave up on
    assert shown == ["OutX did not answer within 0.2 seconds. Try again in a few minutes."]


def test_connection_test_when_nothing_listens(admin_client, sender, settings):
    settings.OUTX_BASE_URL = "http://127.0.0.1:9"

    shown, html = press_test_connection(admin_client, sender)

    assert len(shown) == 1
    assert shown[0].startswith("Could not reach OutX at http://127.0.0.1:9: Could not connect to OutX:")
    assert OTHER_KEY not in html


def test_connection_test_without_a_key(admin_client, settings):
    settings.OUTX_API_KEY = ""

    shown, _ = press_test_connection(admin_client, Sender.get())

    assert shown == ["No OutX API key is set: an admin must set OUTX_API_KEY, or edit this sender and enter its key."]


def test_connection_test_with_a_key_that_cannot_be_decrypted(admin_client, sender, settings):
    from cryptography.fernet import Fernet

    settings.OUTREACH_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    shown, _ = press_test_connection(admin_client, sender)

    assert len(shown) == 1 and "cannot be decrypted with OUTREACH_ENCRYPTION_KEYS" in shown[0]


# --- Retiring -----------------------------------------------------------------------------------------


def test_retiring_asks_first_then_keeps_the_history_and_moves_the_queue(admin_client, sender, grace, make_campaign):
    other = Sender.objects.create(name="Paulo's LinkedIn")
    campaign = make_campaign(senders=[sender, other])
    sent = add_request(campaign, State.SENT, sender=sender)
    queued = add_request(campaign, State.QUEUED, sender=sender)
    url = reverse("sender_retire", args=[sender.pk])

    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and ">Retire</button>" in confirm.content.decode()
    sender.refresh_from_db()
    assert not sender.is_retired  # asking changes nothing

    response = admin_client.post(url)

    assert response.status_code == 302 and response["Location"] == page_of(sender)
    sender.refresh_from_db()
    assert sender.is_retired
    sent.refresh_from_db(), queued.refresh_from_db()
    assert sent.sender == sender and sent.state == State.SENT
    assert queued.sender == other
    html = admin_client.get(page_of(sender)).content.decode()
    assert "<strong>Retired</strong> since" in html
    assert 'name="daily_limit"' not in html and ">Pause sending<" not in html and "Retire Maria" not in html
    assert "has sent invitations or looked up profiles" in html  # and it cannot be deleted


def test_a_retired_sender_can_no_longer_be_changed_or_resumed(admin_client, sender, grace):
    sender.retire(grace)

    posts = [
        (page_of(sender), sender_data(sender, daily_limit="5"), "Maria&#x27;s LinkedIn is retired: it can no longer be changed."),
        (reverse("sender_state", args=[sender.pk]), {"action": "resume"}, "Maria&#x27;s LinkedIn is retired: it sends nothing."),
        (reverse("sender_retire", args=[sender.pk]), {}, "Maria&#x27;s LinkedIn was already retired."),
    ]

    for url, data, message in posts:
        response = admin_client.post(url, data, follow=True)
        assert response.redirect_chain == [(page_of(sender), 302)]
        assert message in response.content.decode()
    sender.refresh_from_db()
    assert sender.daily_limit == 20 and Event.objects.filter(sender=sender, to_state="retired").count() == 1


# --- Deleting ---------------------------------------------------------------------------------------


def test_a_sender_that_never_sent_is_deleted_after_asking(admin_client, sender):
    unused = Sender.objects.create(name="Never used")
    url = reverse("sender_delete", args=[unused.pk])

    assert ">Delete</button>" in admin_client.get(url).content.decode()
    assert Sender.objects.filter(pk=unused.pk).exists()

    response = admin_client.post(url)

    assert response.status_code == 302 and response["Location"] == reverse("sender_list")
    assert messages_of(response) == ["Sender “Never used” deleted."]
    assert not Sender.objects.filter(pk=unused.pk).exists()


@pytest.mark.parametrize(
    ("state", "reason"),
    [(State.QUEUED, "has queued invitations, so it cannot be deleted: retire it"),
     (State.SENT, "has sent invitations or looked up profiles, and they keep their sender: it cannot be deleted")],
)
def test_a_sender_with_invitations_cannot_be_deleted_only_retired(admin_client, sender, make_campaign, state, reason):
    add_request(make_campaign(senders=[sender]), state, sender=sender)
    url = reverse("sender_delete", args=[sender.pk])

    page = admin_client.get(page_of(sender)).content.decode()
    assert f'href="{url}"' not in page and reason in page and "Retire Maria" in page
    confirm = admin_client.get(url).content.decode()
    assert reason in confirm and "<button" not in confirm.split("<main")[1]

    response = admin_client.post(url)

    assert response.status_code == 302 and response["Location"] == page_of(sender)
    assert reason in messages_of(response)[0]
    assert Sender.objects.filter(pk=sender.pk).exists()
