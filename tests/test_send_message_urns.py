"""send-message takes both URN forms OutX documents: the person URN of OutX's own example
(`urn:li:person:…`) and the profile URN (`urn:li:fsd_profile:…`), in the sandbox and in the
product's client, which passes a person URN on as it is."""

import json

import httpx
import pytest

from campaigns import outx
from outx_sandbox.models import SandboxSettings, SentMessage
from tests.test_sandbox import assert_error, deliver, post, run_task, seconds_later, status_of

pytestmark = pytest.mark.django_db

URN = "urn:li:fsd_profile:ACoAAB1234"
PERSON_URN = "urn:li:person:ACoAAB1234"  # the same member, as OutX's example names one


@pytest.fixture
def switches():
    """The sandbox's settings: all switches off, tasks completing at once."""
    sandbox = SandboxSettings.get()
    sandbox.task_delay_seconds = 0
    sandbox.save()
    return sandbox


@pytest.fixture
def accepting(switches):
    switches.acceptance_rate = 1
    switches.acceptance_delay_seconds = 0
    switches.save()
    return switches


@pytest.mark.parametrize("recipient", [PERSON_URN, URN, "ACoAAB1234", f"  {PERSON_URN}\n"])
def test_the_sandbox_sends_a_message_to_a_connection_named_either_way(client, accepting, recipient):
    deliver(client, URN)
    with seconds_later(1):
        response = post(client, "send-message", {"recipient_urn": recipient, "message": "Thanks!"})
        assert response.status_code == 200, response.json()
        assert response.json()["message"] == "Send message task created successfully"
        data = status_of(client, response.json()["api_agent_task_id"])

    assert (data["status"], data["task_output"]) == ("completed", {"sent": True})
    message = SentMessage.objects.get()
    assert (message.recipient_urn, message.message) == (URN, "Thanks!")


def test_a_person_urn_of_someone_not_connected_is_accepted_and_the_task_fails(client, switches):
    data = run_task(client, "send-message", {"recipient_urn": "urn:li:person:ACoAAB9999", "message": "Hi"})

    assert data["status"] == "failed"
    assert "not a 1st-degree connection" in data["task_output"]["reason"]
    assert not SentMessage.objects.exists()


@pytest.mark.parametrize(
    "recipient",
    [
        "urn:li:person:",
        "urn:li:person:A",
        "urn:li:person:ACoA:B1234",
        "urn:li:person:urn:li:fsd_profile:ACoAAB1234",
        "urn:li:person:ACoAAB1234\nX",
        "urn:li:member:ACoAAB1234",
        "urn:li:person:" + "A" * 101,
    ],
)
def test_a_malformed_person_urn_is_refused_with_outx_text(client, switches, recipient):
    assert_error(post(client, "send-message", {"recipient_urn": recipient, "message": "Hi"}), 400,
                 "Missing or invalid 'recipient_urn'")


def recording_client(bodies: list) -> outx.OutxClient:
    def handler(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"success": True, "api_agent_task_id": "t-1", "message": "ok"})

    return outx.OutxClient("https://outx.test", "key-1", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (PERSON_URN, PERSON_URN),  # as it is: never rewritten into urn:li:fsd_profile:…
        (f" {PERSON_URN}\n", PERSON_URN),
        (URN, URN),
        ("ACoAAB1234", URN),
    ],
)
def test_the_client_sends_either_form_and_never_rewrites_a_person_urn(given, sent):
    bodies = []

    created = recording_client(bodies).send_message(given, "Thanks!")

    assert created.task_id == "t-1"
    assert bodies == [{"recipient_urn": sent, "message": "Thanks!"}]


@pytest.mark.django_db(transaction=True)
def test_the_client_messages_a_connection_by_person_urn_through_the_sandbox(outx_client, switch):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    outx_client.get_task_status(outx_client.send_connection_request(URN).task_id)

    status = outx_client.get_task_status(outx_client.send_message(PERSON_URN, "Thanks for connecting!").task_id)

    assert status.sent
    assert SentMessage.objects.get().recipient_urn == URN
