"""The sandbox's control page: staff choose a team, set its switches and read its delivery
log, and add teams."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from outx_sandbox.models import Delivery, SandboxSettings, SandboxTask

pytestmark = pytest.mark.django_db

URN = "urn:li:fsd_profile:ACoAAB1234"
OTHER_URN = "urn:li:fsd_profile:ACoAAB5678"
CONTROL = reverse("outx_sandbox:control")

ALL_SWITCHES = {
    "extension_offline": "on",
    "wrong_key": "on",
    "no_admin": "on",
    "weekly_invitation_limit": "50",
    "latency_ms": "200",
    "server_error_rate": "0.1",
    "not_sent_rate": "0.2",
    "task_delay_seconds": "5",
    "acceptance_rate": "0.5",
    "acceptance_delay_seconds": "60",
}


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_user("admin", password="x", is_staff=True))
    return client


def delivered(profile_urn: str, minutes_ago: int, note: str = "", team: SandboxSettings | None = None) -> Delivery:
    moment = timezone.now() - dt.timedelta(minutes=minutes_ago)
    task = SandboxTask.objects.create(
        team=team or SandboxSettings.get(),
        task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST,
        task_input={"profile_urn": profile_urn},
        status=SandboxTask.Status.COMPLETED,
        task_output={"sent": True},
        created_at=moment,
        complete_after=moment,
    )
    return Delivery.objects.create(task=task, profile_urn=profile_urn, note=note, delivered_at=moment)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(CONTROL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_non_staff_users_are_refused(client):
    client.force_login(User.objects.create_user("member", password="x"))
    assert client.get(CONTROL).status_code == 403
    assert client.post(CONTROL, ALL_SWITCHES).status_code == 403
    assert client.post(reverse("outx_sandbox:reset")).status_code == 403
    assert SandboxSettings.get().extension_offline is False


def test_staff_see_every_switch_with_its_label(staff_client):
    response = staff_client.get(CONTROL)
    html = response.content.decode()
    assert response.status_code == 200
    for label in ["Extension offline (403)", "Wrong API key (401)", "No admin in the team (404)",
                  "Weekly invitation limit (429)", "Latency (ms)", "Share of server errors (500)",
                  "Share of invitations not sent", "Task delay (seconds)", "Share of invitations accepted",
                  "Acceptance delay (seconds)"]:
        assert f">{label}:</label>" in html
    assert "No invitations delivered yet by Sandbox team." in html


def test_staff_change_the_switches(staff_client):
    response = staff_client.post(CONTROL, ALL_SWITCHES, follow=True)
    assert response.redirect_chain == [(f"{CONTROL}?team={SandboxSettings.get().pk}", 302)]
    assert "Switches of Sandbox team saved." in response.content.decode()
    sandbox = SandboxSettings.get()
    assert (sandbox.extension_offline, sandbox.wrong_key, sandbox.no_admin) == (True, True, True)
    assert (sandbox.weekly_invitation_limit, sandbox.latency_ms, sandbox.task_delay_seconds) == (50, 200, 5)
    assert (sandbox.server_error_rate, sandbox.not_sent_rate, sandbox.acceptance_rate) == (0.1, 0.2, 0.5)
    assert sandbox.acceptance_delay_seconds == 60

    # Unticked boxes and an empty limit switch things off again.
    staff_client.post(CONTROL, {**ALL_SWITCHES, "extension_offline": "", "wrong_key": "", "weekly_invitation_limit": ""})
    sandbox = SandboxSettings.get()
    assert (sandbox.extension_offline, sandbox.wrong_key, sandbox.weekly_invitation_limit) == (False, False, None)


def test_a_rate_outside_zero_to_one_is_refused(staff_client):
    response = staff_client.post(CONTROL, {**ALL_SWITCHES, "server_error_rate": "1.5"})
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 1.0." in response.content.decode()
    assert SandboxSettings.get().server_error_rate == 0


def test_duplicates_are_marked_and_counted(staff_client):
    delivered(URN, minutes_ago=30, note="First")
    delivered(OTHER_URN, minutes_ago=20, note="Only one")
    delivered(URN, minutes_ago=10, note="Second")
    html = staff_client.get(CONTROL).content.decode()
    assert '<span class="stat-value duplicate" id="duplicate-count">1</span>' in html
    assert html.count('<tr class="duplicate">') == 2
    assert html.count("Duplicate: invited 2 times") == 2
    # Newest first.
    assert html.index("Second") < html.index("Only one") < html.index("First")


def test_the_log_is_paginated(staff_client):
    for n in range(101):
        delivered(f"urn:li:fsd_profile:ACoAAB{n:04}", minutes_ago=n)
    first = staff_client.get(CONTROL).content.decode()
    second = staff_client.get(CONTROL, {"page": 2}).content.decode()
    assert "Page 1 of 2" in first and "ACoAAB0000" in first and "ACoAAB0100" not in first
    assert "ACoAAB0100" in second


def test_the_page_completes_due_tasks(staff_client):
    now = timezone.now()
    SandboxTask.objects.create(
        task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST, task_input={"profile_urn": URN, "note": "Hi"},
        created_at=now, complete_after=now - dt.timedelta(seconds=1),
    )
    html = staff_client.get(CONTROL).content.decode()
    assert URN in html
    assert Delivery.objects.get().note == "Hi"


def test_reset_deletes_tasks_and_deliveries_but_keeps_the_switches(staff_client):
    staff_client.post(CONTROL, ALL_SWITCHES)
    delivered(URN, minutes_ago=1)
    assert staff_client.get(reverse("outx_sandbox:reset")).status_code == 405
    response = staff_client.post(reverse("outx_sandbox:reset"), follow=True)
    assert response.redirect_chain == [(f"{CONTROL}?team={SandboxSettings.get().pk}", 302)]
    assert "Sandbox reset" in response.content.decode()
    assert not SandboxTask.objects.exists() and not Delivery.objects.exists()
    assert SandboxSettings.get().extension_offline is True


# --- Teams -------------------------------------------------------------------------------------


def team_page(client, team: SandboxSettings, **params) -> str:
    response = client.get(CONTROL, {"team": team.pk, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_lists_the_teams_and_shows_the_chosen_one(staff_client):
    default = SandboxSettings.get()
    team_b = SandboxSettings.objects.create(name="Team B", api_key="sandbox-key-b")
    html = staff_client.get(CONTROL).content.decode()
    assert '<strong aria-current="page">Sandbox team</strong>' in html
    assert f'<a href="?team={team_b.pk}">Team B</a>' in html
    assert "<code>••••••••ey-b</code>" in html and "sandbox-key-b" not in html  # masked, as the product does

    html = team_page(staff_client, team_b)
    assert '<h2 id="team-heading">Team B</h2>' in html
    assert '<code id="team-key">••••••••ey-b</code>' in html
    assert f'<a href="?team={default.pk}">Sandbox team</a>' in html
    assert f'action="{CONTROL}?team={team_b.pk}" class="card" id="switches"' in html


def test_an_unknown_team_is_not_found(staff_client):
    assert staff_client.get(CONTROL, {"team": 999}).status_code == 404
    assert staff_client.get(CONTROL, {"team": "b"}).status_code == 404


def test_staff_switch_the_chosen_team_only(staff_client):
    team_b = SandboxSettings.objects.create(name="Team B", api_key="sandbox-key-b")
    response = staff_client.post(f"{CONTROL}?team={team_b.pk}", ALL_SWITCHES, follow=True)
    assert response.redirect_chain == [(f"{CONTROL}?team={team_b.pk}", 302)]
    assert "Switches of Team B saved." in response.content.decode()
    team_b.refresh_from_db()
    assert (team_b.extension_offline, team_b.weekly_invitation_limit, team_b.task_delay_seconds) == (True, 50, 5)
    assert (team_b.name, team_b.api_key) == ("Team B", "sandbox-key-b")  # the switches form leaves them
    default = SandboxSettings.get()
    assert (default.extension_offline, default.weekly_invitation_limit, default.latency_ms) == (False, None, 0)


def test_each_team_shows_its_own_delivery_log_and_duplicates_count_across_teams(staff_client):
    team_b = SandboxSettings.objects.create(name="Team B", api_key="sandbox-key-b")
    delivered(URN, minutes_ago=10, note="From the default team")
    delivered(OTHER_URN, minutes_ago=5, note="From team B", team=team_b)
    delivered(URN, minutes_ago=1, note="Team B again", team=team_b)

    default_html = team_page(staff_client, SandboxSettings.get())
    b_html = team_page(staff_client, team_b)

    assert "From the default team" in default_html and "From team B" not in default_html
    assert "From team B" in b_html and "From the default team" not in b_html
    assert '<span class="stat-value" id="delivery-count">1</span>' in default_html
    assert '<span class="stat-value" id="delivery-count">2</span>' in b_html
    # One person invited by two teams is still invited twice by our senders.
    for html in (default_html, b_html):
        assert '<span class="stat-value duplicate" id="duplicate-count">1</span>' in html
    assert b_html.count("Duplicate: invited 2 times") == 1


def test_staff_add_a_team_with_its_switches_off(staff_client):
    response = staff_client.post(
        CONTROL, {"add_team": "1", "new_team-name": "Team C", "new_team-api_key": " sandbox-key-c "}, follow=True
    )
    team_c = SandboxSettings.objects.get(name="Team C")
    assert response.redirect_chain == [(f"{CONTROL}?team={team_c.pk}", 302)]
    assert "Team Team C added, every switch off." in response.content.decode()
    assert team_c.api_key == "sandbox-key-c"
    assert (team_c.extension_offline, team_c.weekly_invitation_limit, team_c.acceptance_rate) == (False, None, 0.4)
    assert SandboxSettings.for_key("sandbox-key-c") == team_c


def test_a_key_another_team_has_is_refused(staff_client):
    SandboxSettings.objects.create(name="Team B", api_key="sandbox-key-b")
    response = staff_client.post(
        CONTROL, {"add_team": "1", "new_team-name": "Copy", "new_team-api_key": "sandbox-key-b"}
    )
    assert response.status_code == 200
    assert "Sandbox team with this API key already exists." in response.content.decode()
    assert not SandboxSettings.objects.filter(name="Copy").exists()


def test_a_team_needs_a_name_and_a_key_and_its_form_leaves_the_switches_alone(staff_client):
    response = staff_client.post(CONTROL, {"add_team": "1", "new_team-name": "", "new_team-api_key": "", **ALL_SWITCHES})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("This field is required.") == 2
    assert "<details open>" in html
    assert SandboxSettings.objects.count() == 1
    assert SandboxSettings.get().extension_offline is False


def test_reset_keeps_every_team(staff_client):
    team_b = SandboxSettings.objects.create(name="Team B", api_key="sandbox-key-b", extension_offline=True)
    delivered(URN, minutes_ago=1, team=team_b)
    response = staff_client.post(f"{reverse('outx_sandbox:reset')}?team={team_b.pk}")
    assert response["Location"] == f"{CONTROL}?team={team_b.pk}"
    assert not SandboxTask.objects.exists()
    assert SandboxSettings.objects.get(pk=team_b.pk).extension_offline is True
