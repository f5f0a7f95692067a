"""The client's answer to every fault the sandbox cannot easily produce, through httpx.MockTransport.

The happy paths and OutX's documented errors run against the sandbox over real HTTP
(test_outx_client.py); here are timeouts, refused and broken connections, and bodies that
are not the documented JSON.
"""

import json

import httpx
import pytest

from campaigns import outx

URN = "urn:li:fsd_profile:ACoAAB1234"


def client_answering(handler) -> outx.OutxClient:
    return outx.OutxClient("https://outx.test", "key-1", transport=httpx.MockTransport(handler))


def raising(exception_class):
    def handler(request):
        raise exception_class("boom", request=request)

    return handler


def test_the_request_carries_the_key_json_and_normalised_fields():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"success": True, "api_agent_task_id": "t-1", "message": "ok"})

    created = client_answering(handler).send_connection_request("ACoAAB1234", "  Hi Ada,\r\nglad to connect. ")
    assert created == outx.TaskCreated(task_id="t-1", message="ok")
    request = seen[0]
    assert request.url == "https://outx.test/linkedin-agent/send-connection-request"
    assert request.headers["x-api-key"] == "key-1"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"profile_urn": URN, "note": "Hi Ada,\nglad to connect."}


def test_a_blank_note_is_left_out():
    bodies = []

    def handler(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"success": True, "api_agent_task_id": "t-1", "message": "ok"})

    client_answering(handler).send_connection_request(URN, " \n ")
    assert bodies == [{"profile_urn": URN}]


def test_an_overlong_note_is_refused_before_calling():
    calls = []
    client = client_answering(lambda request: calls.append(request))
    with pytest.raises(outx.OutxBadRequest, match="301 characters"):
        client.send_connection_request(URN, "a" * 301)
    assert calls == []


@pytest.mark.parametrize(
    ("exception_class", "error_class", "may_have_reached"),
    [
        (httpx.ConnectTimeout, outx.OutxTimeout, False),
        (httpx.ConnectError, outx.OutxConnectionError, False),
        (httpx.ReadTimeout, outx.OutxTimeout, True),
        (httpx.WriteTimeout, outx.OutxTimeout, True),
        (httpx.RemoteProtocolError, outx.OutxConnectionError, True),
        (httpx.ReadError, outx.OutxConnectionError, True),
    ],
)
def test_transport_faults_say_whether_outx_may_have_acted(exception_class, error_class, may_have_reached):
    with pytest.raises(error_class) as raised:
        client_answering(raising(exception_class)).send_connection_request(URN, "Hi")
    assert raised.value.may_have_reached_outx is may_have_reached


def test_a_refused_connection_to_a_real_closed_port():
    client = outx.OutxClient("http://127.0.0.1:9", "key", connect_timeout=2)
    with pytest.raises(outx.OutxConnectionError) as raised:
        client.get_task_status("t-1")
    assert raised.value.may_have_reached_outx is False


def test_the_post_is_never_retried():
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(outx.OutxTimeout):
        client_answering(handler).send_connection_request(URN, "Hi")
    assert len(calls) == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"success": False}),
        httpx.Response(200, json={"success": True, "message": "no task id"}),
        httpx.Response(200, json={"success": True, "api_agent_task_id": 42}),
    ],
)
def test_a_body_that_is_not_the_documented_json(response):
    with pytest.raises(outx.OutxBadResponse):
        client_answering(lambda request: response).send_connection_request(URN, "Hi")


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (500, {"error": "Internal server error"}, outx.OutxServerError),
        (502, "<html>Bad gateway</html>", outx.OutxServerError),
        (503, None, outx.OutxServerError),
        (405, {"error": "Method not allowed"}, outx.OutxBadResponse),
        (418, {"error": "teapot"}, outx.OutxBadResponse),
    ],
)
def test_server_errors_and_undocumented_statuses(status, body, error_class):
    def handler(request):
        if isinstance(body, dict):
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=body or "")

    with pytest.raises(error_class) as raised:
        client_answering(handler).send_connection_request(URN, "Hi")
    assert raised.value.status_code == status
    assert raised.value.may_have_reached_outx is True


def test_an_error_without_the_error_field_still_reads_plainly():
    with pytest.raises(outx.OutxUnauthorized, match="OutX answered HTTP 401."):
        client_answering(lambda request: httpx.Response(401, text="")).get_task_status("t-1")


def status_answer(status, output=None):
    return httpx.Response(
        200,
        json={"success": True, "data": {"id": "t-1", "status": status, "task_input": {"task_type": "x"}, "task_output": output}},
    )


def test_an_unknown_task_status_reads_as_pending(caplog):
    result = client_answering(lambda request: status_answer("queued_somewhere")).get_task_status("t-1")
    assert result.status == outx.PENDING and not result.is_finished
    assert "unknown status 'queued_somewhere'" in caplog.text


@pytest.mark.parametrize(
    ("status", "output", "finished", "sent"),
    [
        ("pending", None, False, False),
        ("processing", None, False, False),
        ("completed", {"sent": True}, True, True),
        ("completed", {"sent": False, "reason": "already invited"}, True, False),
        ("completed", {"sent": "true"}, True, False),  # only a JSON true means sent
        ("completed", None, True, False),
        ("failed", "Extension crashed", True, False),
    ],
)
def test_task_status_outcomes(status, output, finished, sent):
    result = client_answering(lambda request: status_answer(status, output)).get_task_status("t-1")
    assert (result.is_finished, result.sent, result.task_output) == (finished, sent, output)


def test_status_without_the_task_is_a_bad_response():
    with pytest.raises(outx.OutxBadResponse):
        client_answering(lambda request: httpx.Response(200, json={"success": True})).get_task_status("t-1")


def test_profile_urn_read_from_top_level_or_nested_profile():
    nested = client_answering(lambda request: status_answer("completed", {"profile": {"profile_urn": URN}}))
    assert nested.get_task_status("t-1").profile_urn == URN
    top = client_answering(lambda request: status_answer("completed", {"profile_urn": URN, "name": "Ada"}))
    assert top.get_task_status("t-1").profile_urn == URN
    empty = client_answering(lambda request: status_answer("completed", {"name": "Ada"}))
    assert empty.get_task_status("t-1").profile_urn is None


def test_send_message_refuses_blank_and_overlong_before_calling():
    client = client_answering(lambda request: pytest.fail("must not call OutX"))
    with pytest.raises(outx.OutxBadRequest):
        client.send_message(URN, "   ")
    with pytest.raises(outx.OutxBadRequest):
        client.send_message(URN, "a" * 10_001)
    with pytest.raises(outx.OutxBadRequest):
        client.send_message(URN, "😀" * 5_001)  # 10,002 UTF-16 code units


def test_fetch_connections_caps_count_at_100():
    bodies = []

    def handler(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"success": True, "api_agent_task_id": "t-2", "message": "ok"})

    client_answering(handler).fetch_connections(sort_type="RECENTLY_ADDED", count=500)
    assert bodies == [{"start": 0, "count": 100, "sort_type": "RECENTLY_ADDED"}]
