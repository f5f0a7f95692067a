"""The sandbox's control page: staff set the switches and read the delivery log."""

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


def delivered(profile_urn: str, minutes_ago: int, note: str = "") -> Delivery:
    moment = timezone.now() - dt.timedelta(minutes=minutes_ago)
    task = SandboxTask.objects.create(
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
    assert "No invitations delivered yet." in html


def test_staff_change_the_switches(staff_client):
    response = staff_client.post(CONTROL, ALL_SWITCHES, follow=True)
    assert response.redirect_chain == [(CONTROL, 302)]
    assert "Sandbox settings saved." in response.content.decode()
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
    assert response.redirect_chain == [(CONTROL, 302)]
    assert "Sandbox reset" in response.content.decode()
    assert not SandboxTask.objects.exists() and not Delivery.objects.exists()
    assert SandboxSettings.get().extension_offline is True
