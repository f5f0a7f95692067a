"""The OutX sandbox answers exactly as docs/outx-api.md says, and simulates the extension.

Through Django's test client, for speed; one test at the end goes over real HTTP with the
product's own client, as the product will.
"""

import datetime as dt
import json
import uuid
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
from django.conf import settings
from django.utils import timezone

from outx_sandbox.api import PLUGIN_REQUIRED
from outx_sandbox.extension import complete_task, fake_profile, hash_share
from outx_sandbox.models import Delivery, SandboxSettings, SandboxTask, SentMessage

pytestmark = pytest.mark.django_db

API = "/outx-sandbox/linkedin-agent/"
URN = "urn:li:fsd_profile:ACoAAB1234"
OTHER_URN = "urn:li:fsd_profile:ACoAAB5678"
VECTORS = json.loads((Path(__file__).parent / "data" / "note-vectors.json").read_text())["cases"]

ENDPOINTS = [
    ("post", "send-connection-request"),
    ("get", "get-task-status"),
    ("post", "fetch-profile"),
    ("post", "fetch-connections"),
    ("post", "send-message"),
]
POST_ENDPOINTS = [name for method, name in ENDPOINTS if method == "post"]


@pytest.fixture
def switches():
    """The sandbox's settings: all switches off, tasks completing at once."""
    sandbox = SandboxSettings.get()
    sandbox.task_delay_seconds = 0
    sandbox.save()
    return sandbox


def call(client, method, endpoint, body=None, *, key=None, params=None):
    headers = {} if key == "" else {"x-api-key": key or settings.OUTX_SANDBOX_API_KEY}
    if method == "get":
        return client.get(API + endpoint, params or {}, headers=headers)
    data = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return getattr(client, method)(API + endpoint, data=data, content_type="application/json", headers=headers)


def post(client, endpoint, body=None, **kwargs):
    return call(client, "post", endpoint, body, **kwargs)


def status_of(client, task_id, *, key=None):
    response = call(client, "get", "get-task-status", params={"api_agent_task_id": task_id}, key=key)
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def invite(client, profile_urn=URN, *, key=None, **fields):
    response = post(client, "send-connection-request", {"profile_urn": profile_urn, **fields}, key=key)
    assert response.status_code == 200, response.json()
    return response.json()["api_agent_task_id"]


def run_task(client, endpoint, body, *, key=None):
    """Create a task and read it back (with the default delay of 0 it completes at once)."""
    response = post(client, endpoint, body, key=key)
    assert response.status_code == 200, response.json()
    return status_of(client, response.json()["api_agent_task_id"], key=key)


@contextmanager
def seconds_later(seconds):
    with patch("django.utils.timezone.now", return_value=timezone.now() + dt.timedelta(seconds=seconds)):
        yield


def assert_error(response, status, text):
    assert response.status_code == status
    assert response.json() == {"error": text}


# --- Checks every endpoint makes --------------------------------------------------------------


@pytest.mark.parametrize("method,endpoint", ENDPOINTS)
def test_every_endpoint_wants_the_right_key(client, switches, method, endpoint):
    assert_error(call(client, method, endpoint, key=""), 401, "Missing API Key")
    assert_error(call(client, method, endpoint, key="not-the-key"), 401, "Invalid API Key")


@pytest.mark.parametrize("method,endpoint", ENDPOINTS)
def test_a_wrong_method_answers_405_in_json(client, switches, method, endpoint):
    wrong = "get" if method == "post" else "post"
    response = call(client, wrong, endpoint)
    assert_error(response, 405, "Method not allowed")
    assert response["Allow"] == method.upper()


@pytest.mark.parametrize("method,endpoint", ENDPOINTS)
def test_wrong_key_switch_refuses_even_the_right_key(client, switches, method, endpoint):
    switches.wrong_key = True
    switches.save()
    assert_error(call(client, method, endpoint), 401, "Invalid API Key")


@pytest.mark.parametrize("method,endpoint", ENDPOINTS)
def test_extension_offline_answers_403_with_outx_text(client, switches, method, endpoint):
    switches.extension_offline = True
    switches.save()
    assert_error(call(client, method, endpoint), 403, PLUGIN_REQUIRED)
    assert PLUGIN_REQUIRED.startswith("Plugin installation required: Please install the OutX browser extension")


def test_no_admin_refuses_actions_but_not_status_reads(client, switches):
    task_id = invite(client)
    switches.no_admin = True
    switches.save()
    for endpoint in POST_ENDPOINTS:
        assert_error(post(client, endpoint, {}), 404, "No admin user found in the team")
    assert status_of(client, task_id)["id"] == task_id


def test_checks_come_in_outx_order(client, switches):
    switches.wrong_key = switches.extension_offline = switches.no_admin = True
    switches.server_error_rate = 1
    switches.save()
    assert_error(call(client, "get", "send-connection-request"), 405, "Method not allowed")
    assert_error(post(client, "send-connection-request", key=""), 401, "Missing API Key")
    assert_error(post(client, "send-connection-request"), 401, "Invalid API Key")
    switches.wrong_key = False
    switches.save()
    assert_error(post(client, "send-connection-request"), 403, PLUGIN_REQUIRED)
    switches.extension_offline = False
    switches.save()
    assert_error(post(client, "send-connection-request"), 404, "No admin user found in the team")
    switches.no_admin = False
    switches.save()
    # Server errors come before validation: even an invalid body gets the 500.
    assert_error(post(client, "send-connection-request"), 500, "Internal server error")


def test_server_errors_create_no_task_and_rate_zero_never_fails(client, switches):
    switches.server_error_rate = 1
    switches.save()
    for _ in range(5):
        assert_error(post(client, "send-connection-request", {"profile_urn": URN}), 500, "Internal server error")
    assert not SandboxTask.objects.exists()
    switches.server_error_rate = 0
    switches.save()
    for _ in range(5):
        invite(client)


def test_latency_delays_the_answer(client, switches):
    switches.latency_ms = 250
    switches.save()
    with patch("outx_sandbox.api.time.sleep") as sleep:
        invite(client)
    sleep.assert_called_once_with(0.25)


# --- send-connection-request --------------------------------------------------------------------


def test_send_connection_request_answers_the_documented_success(client, switches):
    response = post(client, "send-connection-request", {"profile_urn": URN, "note": "Hi Ada"})
    body = response.json()
    assert response.status_code == 200
    assert body == {
        "success": True,
        "api_agent_task_id": body["api_agent_task_id"],
        "message": "Send connection request task created successfully",
    }
    assert uuid.UUID(body["api_agent_task_id"])


@pytest.mark.parametrize(
    "body,error",
    [
        ({}, "Missing or invalid 'profile_urn'"),
        ({"profile_urn": 123}, "Missing or invalid 'profile_urn'"),
        ({"profile_urn": None}, "Missing or invalid 'profile_urn'"),
        ({"profile_urn": ""}, "Missing or invalid 'profile_urn'"),
        ({"profile_urn": "urn:li:member:1"}, "Missing or invalid 'profile_urn'"),
        ("{not json", "Missing or invalid 'profile_urn'"),
        ('["urn:li:fsd_profile:ACoAAB1234"]', "Missing or invalid 'profile_urn'"),
        ({"profile_urn": URN, "note": 5}, "Invalid 'note': must be a string"),
        ({"profile_urn": URN, "note": None}, "Invalid 'note': must be a string"),
        ({"profile_urn": URN, "note": ["hi"]}, "Invalid 'note': must be a string"),
        ({"profile_urn": URN, "note": "x" * 301}, "Invalid 'note': must be 300 characters or fewer"),
    ],
)
def test_send_connection_request_validation(client, switches, body, error):
    assert_error(post(client, "send-connection-request", body), 400, error)
    assert not SandboxTask.objects.exists()


@pytest.mark.parametrize("case", VECTORS, ids=[case["name"] for case in VECTORS])
def test_note_is_counted_as_outx_counts(client, switches, case):
    response = post(client, "send-connection-request", {"profile_urn": URN, "note": case["text"]})
    assert response.status_code == (200 if case["within_300"] else 400)


def test_crlf_is_not_normalised_because_outx_does_not(client, switches):
    note = "ab\r\n" * 75 + "x"  # 301 units as sent; 226 if CRLF were counted as LF
    assert_error(post(client, "send-connection-request", {"profile_urn": URN, "note": note}), 400,
                 "Invalid 'note': must be 300 characters or fewer")


def test_bare_id_is_normalised_and_blank_note_means_no_note(client, switches):
    task_id = invite(client, "ACoAAB1234", note="  \n ")
    data = status_of(client, task_id)
    assert data["task_input"] == {
        "task_type": "agent_send_connection_request", "profile_urn": URN, "note": "  \n ",
    }
    delivery = Delivery.objects.get()
    assert (delivery.profile_urn, delivery.note) == (URN, "")


# --- get-task-status and the simulated extension -----------------------------------------------


@pytest.mark.parametrize(
    "params,status,error",
    [
        ({}, 400, "Missing or invalid 'api_agent_task_id'"),
        ({"api_agent_task_id": ""}, 400, "Missing or invalid 'api_agent_task_id'"),
        ({"api_agent_task_id": "not-a-uuid"}, 404, "Agent task not found"),
        ({"api_agent_task_id": str(uuid.uuid4())}, 404, "Agent task not found"),
    ],
)
def test_get_task_status_errors(client, switches, params, status, error):
    assert_error(call(client, "get", "get-task-status", params=params), status, error)


def test_task_completes_at_once_with_no_delay(client, switches):
    task_id = invite(client, note=" Hi Ada ")
    assert status_of(client, task_id) == {
        "id": task_id,
        "status": "completed",
        "task_input": {"task_type": "agent_send_connection_request", "profile_urn": URN, "note": " Hi Ada "},
        "task_output": {"sent": True},
    }
    delivery = Delivery.objects.get()
    assert (delivery.profile_urn, delivery.note, str(delivery.task_id)) == (URN, "Hi Ada", task_id)


def test_task_stays_pending_until_its_delay_has_passed(client, switches):
    switches.task_delay_seconds = 30
    switches.save()
    task_id = invite(client)
    data = status_of(client, task_id)
    assert (data["status"], data["task_output"]) == ("pending", None)
    with seconds_later(29):
        assert status_of(client, task_id)["status"] == "pending"
    assert not Delivery.objects.exists()
    with seconds_later(31):
        data = status_of(client, task_id)
    assert (data["status"], data["task_output"]) == ("completed", {"sent": True})
    assert Delivery.objects.get().delivered_at == SandboxTask.objects.get().complete_after


def test_a_delivery_is_logged_once_however_often_the_status_is_read(client, switches):
    task_id = invite(client)
    stale = SandboxTask.objects.get()  # what a second, concurrent reader loaded: still pending
    assert status_of(client, task_id)["status"] == "completed"
    assert status_of(client, task_id)["status"] == "completed"
    assert complete_task(stale) is False
    assert Delivery.objects.count() == 1


def test_not_sent_rate_one_completes_every_request_with_sent_false(client, switches):
    switches.not_sent_rate = 1
    switches.save()
    output = status_of(client, invite(client))["task_output"]
    assert output["sent"] is False
    assert output["reason"]
    assert not Delivery.objects.exists()


def test_not_sent_rate_is_a_share_decided_by_the_task_id(client, switches):
    switches.not_sent_rate = 0.5
    switches.save()
    task_ids = [invite(client, f"ACoAAB{n:04}") for n in range(20)]
    sent = {task_id: status_of(client, task_id)["task_output"]["sent"] for task_id in task_ids}
    assert sent == {task_id: hash_share("not-sent", task_id) >= 0.5 for task_id in task_ids}
    assert 0 < sum(sent.values()) < 20


# --- The weekly invitation limit --------------------------------------------------------------


def test_weekly_limit_answers_429_once_reached(client, switches):
    switches.weekly_invitation_limit = 2
    switches.save()
    invite(client, URN)
    invite(client, OTHER_URN)
    assert_error(post(client, "send-connection-request", {"profile_urn": URN}), 429, "LinkedIn invitation limit reached")
    # Validation comes first: an invalid request still gets its 400.
    assert_error(post(client, "send-connection-request", {}), 400, "Missing or invalid 'profile_urn'")
    assert SandboxTask.objects.count() == 2


def test_weekly_limit_counts_pending_invitations(client, switches):
    switches.weekly_invitation_limit = 1
    switches.task_delay_seconds = 60
    switches.save()
    invite(client)
    assert post(client, "send-connection-request", {"profile_urn": OTHER_URN}).status_code == 429


def test_weekly_limit_ignores_invitations_not_sent(client, switches):
    switches.weekly_invitation_limit = 1
    switches.not_sent_rate = 1
    switches.save()
    assert status_of(client, invite(client))["task_output"]["sent"] is False  # LinkedIn never saw it
    switches.not_sent_rate = 0
    switches.save()
    invite(client, OTHER_URN)
    assert post(client, "send-connection-request", {"profile_urn": URN}).status_code == 429


def test_weekly_limit_is_a_rolling_seven_days(client, switches):
    switches.weekly_invitation_limit = 1
    switches.save()
    invite(client)
    assert post(client, "send-connection-request", {"profile_urn": OTHER_URN}).status_code == 429
    with seconds_later(7 * 24 * 3600 + 1):
        invite(client, OTHER_URN)


def test_weekly_limit_zero_refuses_the_first(client, switches):
    switches.weekly_invitation_limit = 0
    switches.save()
    assert post(client, "send-connection-request", {"profile_urn": URN}).status_code == 429


# --- fetch-profile ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"profile_slug": ""}, {"profile_slug": "  "}, {"profile_slug": 7}, "nope"])
def test_fetch_profile_wants_a_slug(client, switches, body):
    assert_error(post(client, "fetch-profile", body), 400, "Missing or invalid 'profile_slug'")


def test_fetch_profile_is_deterministic(client, switches):
    response = post(client, "fetch-profile", {"profile_slug": "williamhgates"})
    assert response.json()["message"] == "Profile fetch task created successfully"
    first = status_of(client, response.json()["api_agent_task_id"])
    again = run_task(client, "fetch-profile", {"profile_slug": "williamhgates"})
    assert first["task_input"] == {"task_type": "agent_fetch_profile", "profile_slug": "williamhgates"}
    assert first["task_output"] == again["task_output"] == fake_profile("williamhgates")
    profile = first["task_output"]
    assert profile["profile_urn"].startswith("urn:li:fsd_profile:ACoAA")
    assert profile["profile_url"] == "https://www.linkedin.com/in/williamhgates"
    assert {"name", "headline", "location", "connections", "followers"} <= profile.keys()
    assert fake_profile("ada-lovelace")["profile_urn"] != profile["profile_urn"]
    invite(client, profile["profile_urn"])  # the URN is one send-connection-request accepts


# --- fetch-connections --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,error",
    [
        ("{", "Missing or invalid JSON body"),
        ({"count": 101}, "Missing or invalid 'count'"),
        ({"count": 0}, "Missing or invalid 'count'"),
        ({"count": "10"}, "Missing or invalid 'count'"),
        ({"start": -1}, "Missing or invalid 'start'"),
        ({"start": True}, "Missing or invalid 'start'"),
        ({"keyword": 5}, "Missing or invalid 'keyword'"),
        ({"sort_type": []}, "Missing or invalid 'sort_type'"),
    ],
)
def test_fetch_connections_validation(client, switches, body, error):
    assert_error(post(client, "fetch-connections", body), 400, error)


def deliver(client, *urns, key=None):
    for urn in urns:
        assert status_of(client, invite(client, urn, key=key), key=key)["task_output"] == {"sent": True}


def test_fetch_connections_lists_invitees_who_accepted_after_the_delay(client, switches):
    switches.acceptance_rate = 1
    switches.acceptance_delay_seconds = 20
    switches.save()
    deliver(client, URN)
    data = run_task(client, "fetch-connections", {})
    assert data["task_input"] == {"task_type": "agent_fetch_connections", "start": 0, "count": 40}
    assert data["task_output"]["connections"] == []
    with seconds_later(21):
        connections = run_task(client, "fetch-connections", {"sort_type": "RECENTLY_ADDED"})["task_output"]["connections"]
    delivered_at = Delivery.objects.get().delivered_at
    assert connections == [{
        "profile_urn": URN,
        "name": connections[0]["name"],
        "headline": "",
        "profile_url": "https://www.linkedin.com/in/ACoAAB1234",
        "connected_at": (delivered_at + dt.timedelta(seconds=20)).isoformat(),
    }]


def test_fetch_connections_newest_first_with_names_from_fetched_profiles(client, switches):
    switches.acceptance_rate = 1
    switches.acceptance_delay_seconds = 0
    switches.save()
    profile = run_task(client, "fetch-profile", {"profile_slug": "ada"})["task_output"]
    deliver(client, URN)
    with seconds_later(5):
        deliver(client, profile["profile_urn"])
    with seconds_later(10):
        output = run_task(client, "fetch-connections", {"sort_type": "RECENTLY_ADDED"})["task_output"]
        first_page = run_task(client, "fetch-connections", {"sort_type": "RECENTLY_ADDED", "count": 1})["task_output"]
        found = run_task(client, "fetch-connections", {"keyword": profile["name"].split()[1]})["task_output"]
    assert [c["profile_urn"] for c in output["connections"]] == [profile["profile_urn"], URN]
    assert output["connections"][0]["name"] == profile["name"]
    assert output["connections"][0]["profile_url"] == "https://www.linkedin.com/in/ada"
    assert (first_page["total"], len(first_page["connections"])) == (2, 1)
    assert profile["profile_urn"] in [c["profile_urn"] for c in found["connections"]]


def test_acceptance_rate_zero_means_nobody_accepts(client, switches):
    switches.acceptance_rate = 0
    switches.acceptance_delay_seconds = 0
    switches.save()
    deliver(client, URN, OTHER_URN)
    with seconds_later(60):
        assert run_task(client, "fetch-connections", {})["task_output"]["connections"] == []


# --- send-message -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,error",
    [
        ({"message": "Hi"}, "Missing or invalid 'recipient_urn'"),
        ({"recipient_urn": 5, "message": "Hi"}, "Missing or invalid 'recipient_urn'"),
        ("[]", "Missing or invalid 'recipient_urn'"),
        ({"recipient_urn": URN}, "Missing or invalid 'message'"),
        ({"recipient_urn": URN, "message": " \n "}, "Missing or invalid 'message'"),
        ({"recipient_urn": URN, "message": 5}, "Missing or invalid 'message'"),
        ({"recipient_urn": URN, "message": "x" * 10_001}, "Message text is too long (max 10000 characters)"),
        ({"recipient_urn": URN, "message": "😀" * 5_001}, "Message text is too long (max 10000 characters)"),
    ],
)
def test_send_message_validation(client, switches, body, error):
    assert_error(post(client, "send-message", body), 400, error)


def test_send_message_to_an_accepted_connection_is_sent(client, switches):
    switches.acceptance_rate = 1
    switches.acceptance_delay_seconds = 0
    switches.save()
    deliver(client, URN)
    with seconds_later(1):
        response = post(client, "send-message", {"recipient_urn": "ACoAAB1234", "message": "x" * 10_000})
        assert response.json()["message"] == "Send message task created successfully"
        data = status_of(client, response.json()["api_agent_task_id"])
    assert (data["status"], data["task_output"]) == ("completed", {"sent": True})
    assert SentMessage.objects.get().recipient_urn == URN


def test_send_message_to_someone_not_connected_fails_with_a_reason(client, switches):
    switches.acceptance_rate = 0
    switches.save()
    deliver(client, URN)  # invited, but never accepts
    data = run_task(client, "send-message", {"recipient_urn": URN, "message": "Hi"})
    assert data["status"] == "failed"
    assert data["task_output"]["sent"] is False
    assert "not a 1st-degree connection" in data["task_output"]["reason"]
    assert not SentMessage.objects.exists()


# --- Teams: each key is one OutX team, one LinkedIn account -------------------------------------

KEY_B = "sandbox-key-b"


@pytest.fixture
def team_b(switches):
    """A second team, every switch at its default but completing tasks at once."""
    return SandboxSettings.objects.create(name="Team B", api_key=KEY_B, task_delay_seconds=0)


def test_the_default_team_has_the_sandbox_key_and_is_made_on_first_use():
    assert not SandboxSettings.objects.exists()
    default = SandboxSettings.get()
    assert (default.name, default.api_key) == ("Sandbox team", settings.OUTX_SANDBOX_API_KEY)
    assert SandboxSettings.get() == default
    assert SandboxSettings.objects.count() == 1


def test_for_key_finds_the_team_of_a_key_and_nothing_else(team_b):
    assert SandboxSettings.for_key(KEY_B) == team_b
    assert SandboxSettings.for_key(settings.OUTX_SANDBOX_API_KEY) == SandboxSettings.get()
    for near_miss in ["", "sandbox-key-B", "sandbox-key-b ", "sandbox-key-", "not-a-key"]:
        assert SandboxSettings.for_key(near_miss) is None, near_miss


def test_the_default_key_works_before_any_team_exists(client):
    assert not SandboxSettings.objects.exists()
    response = post(client, "fetch-profile", {"profile_slug": "ada"})
    assert response.status_code == 200
    assert SandboxTask.objects.get().team == SandboxSettings.get()


def test_each_key_calls_as_its_own_team(client, team_b):
    task_id = invite(client, key=KEY_B)
    assert SandboxTask.objects.get().team == team_b
    assert status_of(client, task_id, key=KEY_B)["status"] == "completed"
    assert Delivery.objects.of_team(team_b).get().profile_urn == URN
    assert not Delivery.objects.of_team(SandboxSettings.get()).exists()


@pytest.mark.parametrize(
    ("switch", "status", "text"),
    [
        ({"wrong_key": True}, 401, "Invalid API Key"),
        ({"extension_offline": True}, 403, PLUGIN_REQUIRED),
        ({"no_admin": True}, 404, "No admin user found in the team"),
        ({"server_error_rate": 1}, 500, "Internal server error"),
        ({"weekly_invitation_limit": 0}, 429, "LinkedIn invitation limit reached"),
    ],
)
def test_a_switch_on_one_team_answers_that_team_only(client, team_b, switch, status, text):
    for name, value in switch.items():
        setattr(team_b, name, value)
    team_b.save()
    assert_error(post(client, "send-connection-request", {"profile_urn": URN}, key=KEY_B), status, text)
    invite(client, OTHER_URN)  # the default team goes on


def test_the_weekly_limit_counts_the_team_s_own_invitations(client, switches, team_b):
    team_b.weekly_invitation_limit = 1
    team_b.save()
    invite(client, URN)
    invite(client, OTHER_URN)  # the default team's invitations are another account's
    invite(client, URN, key=KEY_B)
    assert post(client, "send-connection-request", {"profile_urn": OTHER_URN}, key=KEY_B).status_code == 429
    invite(client, "urn:li:fsd_profile:ACoAAB9999")


def test_each_team_s_extension_takes_its_own_delay_and_not_sent_rate(client, switches, team_b):
    team_b.task_delay_seconds = 30
    team_b.not_sent_rate = 1
    team_b.save()
    slow = invite(client, URN, key=KEY_B)
    fast = invite(client, OTHER_URN)
    assert status_of(client, fast)["status"] == "completed"
    assert status_of(client, slow, key=KEY_B)["status"] == "pending"
    with seconds_later(31):
        assert status_of(client, slow, key=KEY_B)["task_output"]["sent"] is False
    assert [d.profile_urn for d in Delivery.objects.all()] == [OTHER_URN]


def test_a_key_reads_only_its_own_team_s_tasks(client, team_b):
    theirs = invite(client)
    assert_error(call(client, "get", "get-task-status", params={"api_agent_task_id": theirs}, key=KEY_B),
                 404, "Agent task not found")
    assert status_of(client, theirs)["id"] == theirs


def test_complete_due_tasks_completes_every_team_s_tasks_with_its_own_settings(switches, team_b):
    from outx_sandbox.extension import complete_due_tasks

    team_b.not_sent_rate = 1
    team_b.save()
    SandboxTask.start(SandboxTask.TaskType.SEND_CONNECTION_REQUEST, {"profile_urn": URN}, switches)
    SandboxTask.start(SandboxTask.TaskType.SEND_CONNECTION_REQUEST, {"profile_urn": OTHER_URN}, team_b)
    assert complete_due_tasks() == 2
    outputs = {task.team_id: task.task_output["sent"] for task in SandboxTask.objects.all()}
    assert outputs == {switches.pk: True, team_b.pk: False}


def test_connections_are_each_team_s_own(client, switches, team_b):
    for team in (switches, team_b):
        team.acceptance_rate = 1
        team.acceptance_delay_seconds = 0
        team.save()
    deliver(client, URN)
    deliver(client, OTHER_URN, key=KEY_B)
    with seconds_later(1):
        mine = run_task(client, "fetch-connections", {})["task_output"]["connections"]
        theirs = run_task(client, "fetch-connections", {}, key=KEY_B)["task_output"]["connections"]
        # B's account is not connected to the default team's invitee: no message.
        refused = run_task(client, "send-message", {"recipient_urn": URN, "message": "Hi"}, key=KEY_B)
        sent = run_task(client, "send-message", {"recipient_urn": OTHER_URN, "message": "Hi"}, key=KEY_B)
    assert [c["profile_urn"] for c in mine] == [URN]
    assert [c["profile_urn"] for c in theirs] == [OTHER_URN]
    assert (refused["status"], sent["status"]) == ("failed", "completed")
    assert SentMessage.objects.get().task.team == team_b


def test_a_profile_is_the_same_whichever_team_fetches_it(client, team_b):
    mine = run_task(client, "fetch-profile", {"profile_slug": "ada-lovelace"})["task_output"]
    theirs = run_task(client, "fetch-profile", {"profile_slug": "Ada-Lovelace"}, key=KEY_B)["task_output"]
    assert mine == theirs == fake_profile("ada-lovelace")


def test_duplicates_count_across_teams(client, team_b):
    deliver(client, URN)
    deliver(client, URN, key=KEY_B)
    assert Delivery.objects.of_team(team_b).duplicate_count() == 0
    assert Delivery.objects.duplicate_count() == 1


# --- Over real HTTP, through the product's client ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_product_client_sends_an_invitation_through_the_sandbox(outx_client):
    created = outx_client.send_connection_request(URN, "Hi Ada,\r\nglad to connect.")
    status = outx_client.get_task_status(created.task_id)
    assert status.sent
    assert Delivery.objects.get().note == "Hi Ada,\nglad to connect."
