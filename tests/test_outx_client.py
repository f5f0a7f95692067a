"""The OutX client against the sandbox over real HTTP: every endpoint, every documented error.

The sandbox answers exactly as docs/outx-api.md says, so these tests pin both: the
client reads OutX's answers right, and the sandbox gives them with OutX's exact texts.
"""

import httpx
import pytest

from campaigns import outx
from tests.conftest import wait_for_sandbox_idle

pytestmark = pytest.mark.django_db(transaction=True)

URN = "urn:li:fsd_profile:ACoAAB1234"
PLUGIN_TEXT = (
    "Plugin installation required: Please install the OutX browser extension on at least one "
    "team member's account to use the API. The plugin must have been active within the last 48 hours."
)


def test_send_connection_request_creates_a_task_that_completes_sent(outx_client):
    created = outx_client.send_connection_request(URN, "Hi Ada, glad to connect 😀")
    assert created.message == "Send connection request task created successfully"
    status = outx_client.get_task_status(created.task_id)
    assert status.task_id == created.task_id
    assert status.status == outx.COMPLETED and status.sent
    assert status.task_output == {"sent": True}
    assert status.task_input["task_type"] == "agent_send_connection_request"
    assert status.task_input["profile_urn"] == URN
    assert status.task_input["note"] == "Hi Ada, glad to connect 😀"


def test_a_bare_profile_id_is_accepted(outx_client):
    created = outx_client.send_connection_request("ACoAAB1234")
    assert outx_client.get_task_status(created.task_id).task_input["profile_urn"] == URN


def test_a_task_is_pending_until_the_extension_acts(outx_client, switch):
    switch(task_delay_seconds=3600)
    status = outx_client.get_task_status(outx_client.send_connection_request(URN).task_id)
    assert status.status == outx.PENDING and status.task_output is None and not status.is_finished


def test_a_task_that_completes_without_sending(outx_client, switch):
    switch(not_sent_rate=1)
    status = outx_client.get_task_status(outx_client.send_connection_request(URN).task_id)
    assert status.is_finished and not status.sent
    assert status.task_output["sent"] is False


def test_a_note_of_exactly_300_units_with_emoji_is_accepted(outx_client):
    outx_client.send_connection_request(URN, "a" * 298 + "😀")


def test_the_sandbox_refuses_301_units_with_outx_text(live_server, sandbox):
    # Straight to the endpoint: the client itself would refuse before calling.
    response = httpx.post(
        f"{live_server.url}/outx-sandbox/linkedin-agent/send-connection-request",
        headers={"x-api-key": "sandbox-key"},
        json={"profile_urn": URN, "note": "a" * 299 + "😀"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid 'note': must be 300 characters or fewer"}


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({}, "Missing or invalid 'profile_urn'"),
        ({"profile_urn": 42}, "Missing or invalid 'profile_urn'"),
        ({"profile_urn": URN, "note": 5}, "Invalid 'note': must be a string"),
    ],
)
def test_documented_400s_reach_the_client_with_outx_reason(outx_client, body, text):
    with pytest.raises(outx.OutxBadRequest) as raised:
        outx_client._create_task("/linkedin-agent/send-connection-request", body)
    assert raised.value.message == text
    assert raised.value.may_have_reached_outx is False


def test_wrong_key(sandbox, settings):
    with outx.OutxClient(settings.OUTX_BASE_URL, "not-the-key") as client:
        with pytest.raises(outx.OutxUnauthorized, match="^Invalid API Key$"):
            client.send_connection_request(URN)


def test_missing_key(sandbox, settings):
    with outx.OutxClient(settings.OUTX_BASE_URL, "") as client:
        with pytest.raises(outx.OutxUnauthorized, match="^Missing API Key$"):
            client.get_task_status("t-1")


def test_wrong_key_switch(outx_client, switch):
    switch(wrong_key=True)
    with pytest.raises(outx.OutxUnauthorized, match="^Invalid API Key$"):
        outx_client.fetch_profile("williamhgates")


def test_extension_offline_answers_403_on_every_call(outx_client, switch):
    switch(extension_offline=True)
    for call in (
        lambda: outx_client.send_connection_request(URN),
        lambda: outx_client.get_task_status("00000000-0000-0000-0000-000000000000"),
        lambda: outx_client.fetch_profile("ada"),
        lambda: outx_client.fetch_connections(),
        lambda: outx_client.send_message(URN, "Hello"),
    ):
        with pytest.raises(outx.OutxExtensionOffline) as raised:
            call()
        assert raised.value.message == PLUGIN_TEXT and raised.value.status_code == 403


def test_no_admin(outx_client, switch):
    switch(no_admin=True)
    with pytest.raises(outx.OutxNoAdmin, match="^No admin user found in the team$"):
        outx_client.send_connection_request(URN)
    with pytest.raises(outx.OutxNoAdmin):
        outx_client.send_message(URN, "Hello")


def test_weekly_invitation_limit(outx_client, switch):
    switch(weekly_invitation_limit=2)
    outx_client.send_connection_request(URN)
    outx_client.send_connection_request(URN + "2")
    with pytest.raises(outx.OutxRateLimited, match="^LinkedIn invitation limit reached$") as raised:
        outx_client.send_connection_request(URN + "3")
    assert raised.value.may_have_reached_outx is False


def test_server_errors(outx_client, switch):
    switch(server_error_rate=1)
    with pytest.raises(outx.OutxServerError) as raised:
        outx_client.send_connection_request(URN)
    assert raised.value.status_code == 500
    assert raised.value.may_have_reached_outx is True  # on a POST: the worker must not resend


def test_slow_answers_time_out_as_uncertain(switch, settings):
    switch(latency_ms=1500)
    with outx.OutxClient(settings.OUTX_BASE_URL, settings.OUTX_API_KEY, read_timeout=0.5) as client:
        with pytest.raises(outx.OutxTimeout) as raised:
            client.send_connection_request(URN)
    assert raised.value.may_have_reached_outx is True
    wait_for_sandbox_idle()


def test_unknown_task(outx_client):
    with pytest.raises(outx.OutxTaskNotFound, match="^Agent task not found$"):
        outx_client.get_task_status("00000000-0000-0000-0000-000000000000")


def test_missing_task_id(outx_client):
    with pytest.raises(outx.OutxBadRequest, match="^Missing or invalid 'api_agent_task_id'$"):
        outx_client.get_task_status("")


def test_fetch_profile_gives_a_deterministic_urn(outx_client):
    first = outx_client.get_task_status(outx_client.fetch_profile("williamhgates").task_id)
    again = outx_client.get_task_status(outx_client.fetch_profile("williamhgates").task_id)
    other = outx_client.get_task_status(outx_client.fetch_profile("ada-lovelace").task_id)
    assert first.profile_urn and first.profile_urn.startswith("urn:li:fsd_profile:")
    assert first.profile_urn == again.profile_urn != other.profile_urn
    assert first.task_output["name"] == again.task_output["name"]


def test_fetch_profile_requires_a_slug(outx_client):
    with pytest.raises(outx.OutxBadRequest, match="^Missing or invalid 'profile_slug'$"):
        outx_client.fetch_profile("")


def test_fetch_connections_lists_accepted_invitees(outx_client, switch):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    outx_client.get_task_status(outx_client.send_connection_request(URN).task_id)
    listing = outx_client.get_task_status(outx_client.fetch_connections(sort_type="RECENTLY_ADDED").task_id)
    assert [c["profile_urn"] for c in listing.task_output["connections"]] == [URN]


def test_send_message_to_a_connection_and_to_a_stranger(outx_client, switch):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    outx_client.get_task_status(outx_client.send_connection_request(URN).task_id)
    to_connection = outx_client.get_task_status(outx_client.send_message(URN, "Thanks for connecting!").task_id)
    assert to_connection.sent
    to_stranger = outx_client.get_task_status(outx_client.send_message(URN + "9", "Hello").task_id)
    assert to_stranger.status == outx.FAILED and not to_stranger.sent


def test_send_message_errors_with_outx_texts(outx_client):
    with pytest.raises(outx.OutxBadRequest, match="^Missing or invalid 'recipient_urn'$"):
        outx_client._create_task("/linkedin-agent/send-message", {"message": "Hi"})
    with pytest.raises(outx.OutxBadRequest, match="^Missing or invalid 'message'$"):
        outx_client._create_task("/linkedin-agent/send-message", {"recipient_urn": URN, "message": " "})
    with pytest.raises(outx.OutxBadRequest, match=r"^Message text is too long \(max 10000 characters\)$"):
        outx_client._create_task("/linkedin-agent/send-message", {"recipient_urn": URN, "message": "a" * 10_001})


def test_wrong_method_is_not_the_documented_json(outx_client):
    with pytest.raises(outx.OutxBadResponse) as raised:
        outx_client._call("GET", "/linkedin-agent/send-connection-request")
    assert raised.value.status_code == 405
