"""The OutX API client: one small module on httpx, speaking exactly docs/outx-api.md.

Each call returns a typed result or raises one typed error per case, so the worker can give
every answer a defined effect. The client never retries anything by itself: OutX has no
idempotency key, so a POST sent twice may be an invitation sent twice.

`OutxError.may_have_reached_outx` tells whether OutX may have acted on a request that
failed: False only when the connection was never made (nothing was sent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from .linkedin import normalise_profile_urn
from .notes import MESSAGE_MAX_LENGTH, check_note, js_trim, utf16_length

logger = logging.getLogger(__name__)

# Task statuses. The docs name pending and completed; OutX's MCP client also knows these two.
PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
KNOWN_STATUSES = frozenset({PENDING, PROCESSING, COMPLETED, FAILED})

# An id no task has: asking for it costs nothing and tells whether OutX answers normally.
PROBE_TASK_ID = "00000000-0000-0000-0000-000000000000"


# --- Errors -------------------------------------------------------------------------------


class OutxError(Exception):
    """Any failed call. `message` is what to show a person."""

    status_code: int | None = None
    may_have_reached_outx = True

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.body = body


class OutxBadRequest(OutxError):
    """400: OutX refused the request; `message` is OutX's reason."""

    status_code = 400
    may_have_reached_outx = False  # refused outright: no task was created


class OutxUnauthorized(OutxError):
    """401: the API key is missing or wrong. Stop calling until an admin fixes it."""

    status_code = 401
    may_have_reached_outx = False


class OutxExtensionOffline(OutxError):
    """403: no team member's OutX extension has been active in the last 48 hours."""

    status_code = 403
    may_have_reached_outx = False


class OutxNotFound(OutxError):
    status_code = 404
    may_have_reached_outx = False


class OutxNoAdmin(OutxNotFound):
    """404 on an action: the OutX team has no admin, so there is no account to act from."""


class OutxTaskNotFound(OutxNotFound):
    """404 on a status call: unknown task id, or another team's task."""


class OutxRateLimited(OutxError):
    """429: LinkedIn blocked further invitations from the sending account for now."""

    status_code = 429
    may_have_reached_outx = False


class OutxServerError(OutxError):
    """5xx (or another undocumented status): OutX failed; it may or may not have acted."""


class OutxTimeout(OutxError):
    """No answer in time. A connect timeout means nothing was sent."""


class OutxConnectionError(OutxError):
    """The connection was refused or dropped."""


class OutxBadResponse(OutxError):
    """An answer that is not the documented JSON."""


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskCreated:
    task_id: str
    message: str


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    status: str  # one of KNOWN_STATUSES; an unknown status reads as pending
    task_input: dict[str, Any] | None
    task_output: Any
    raw: dict[str, Any] = field(repr=False)

    @property
    def is_finished(self) -> bool:
        return self.status in (COMPLETED, FAILED)

    @property
    def sent(self) -> bool:
        """Whether a connection request (or message) task reports it was sent."""
        return (
            self.status == COMPLETED
            and isinstance(self.task_output, dict)
            and self.task_output.get("sent") is True
        )

    @property
    def profile_urn(self) -> str | None:
        """From a completed fetch-profile task: the URN, top-level or under `profile`."""
        output = self.task_output
        if not isinstance(output, dict):
            return None
        urn = output.get("profile_urn")
        if urn is None and isinstance(output.get("profile"), dict):
            urn = output["profile"].get("profile_urn")
        return urn if isinstance(urn, str) and urn else None


# --- The client ---------------------------------------------------------------------------

ERRORS_BY_STATUS: dict[int, type[OutxError]] = {
    400: OutxBadRequest,
    401: OutxUnauthorized,
    403: OutxExtensionOffline,
    429: OutxRateLimited,
}


class OutxClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ):
        # A key pasted or read from a file often ends in a line break; no key has one.
        api_key = api_key.strip()
        # A key with characters no HTTP header can carry is refused here, before any call: httpx
        # would fail later with a message quoting the header, key and all.
        self.key_is_usable = all(0x21 <= ord(char) <= 0x7E for char in api_key)
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"x-api-key": api_key if self.key_is_usable else "", "Accept": "application/json"},
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> OutxClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Endpoints ----------------------------------------------------------------------------

    def send_connection_request(self, profile_urn: str, note: str = "") -> TaskCreated:
        """Create the task that sends one invitation. Never retried here."""
        body: dict[str, Any] = {"profile_urn": normalise_profile_urn(profile_urn)}
        checked = check_note(note)
        if not checked.within_limit:
            # Refuse before calling: OutX would answer 400 anyway.
            raise OutxBadRequest(checked.error)
        if checked.text:
            body["note"] = checked.text
        return self._create_task("/linkedin-agent/send-connection-request", body)

    def get_task_status(self, task_id: str) -> TaskStatus:
        data = self._call("GET", "/linkedin-agent/get-task-status", params={"api_agent_task_id": task_id})
        task = data.get("data")
        if not isinstance(task, dict) or not isinstance(task.get("id"), str):
            raise OutxBadResponse("OutX answered a task status without the task.", body=data)
        status = task.get("status")
        if status not in KNOWN_STATUSES:
            logger.warning("OutX task %s has unknown status %r; treating it as pending", task_id, status)
            status = PENDING
        task_input = task.get("task_input")
        return TaskStatus(
            task_id=task["id"],
            status=status,
            task_input=task_input if isinstance(task_input, dict) else None,
            task_output=task.get("task_output"),
            raw=data,
        )

    def check_connection(self) -> None:
        """Whether the key works and OutX answers normally: asks for a task nobody has, which
        OutX answers "not found". Raises the OutxError of any other answer."""
        try:
            self.get_task_status(PROBE_TASK_ID)
        except OutxTaskNotFound:
            pass
        # A task with the all-zero id should not exist, but any answer proves the key works.

    def fetch_profile(self, profile_slug: str) -> TaskCreated:
        return self._create_task("/linkedin-agent/fetch-profile", {"profile_slug": profile_slug})

    def fetch_connections(
        self,
        *,
        keyword: str | None = None,
        sort_type: str | None = None,
        start: int = 0,
        count: int = 40,
    ) -> TaskCreated:
        body: dict[str, Any] = {"start": start, "count": min(count, 100)}
        if keyword:
            body["keyword"] = keyword
        if sort_type:
            body["sort_type"] = sort_type
        return self._create_task("/linkedin-agent/fetch-connections", body)

    def send_message(self, recipient_urn: str, message: str) -> TaskCreated:
        # Counted as OutX (JavaScript) counts: UTF-16 code units.
        if not js_trim(message):
            raise OutxBadRequest("The message is blank.")
        if utf16_length(message) > MESSAGE_MAX_LENGTH:
            raise OutxBadRequest(f"The message is longer than {MESSAGE_MAX_LENGTH} characters.")
        body = {"recipient_urn": normalise_profile_urn(recipient_urn), "message": message}
        return self._create_task("/linkedin-agent/send-message", body)

    # Plumbing -----------------------------------------------------------------------------

    def _create_task(self, path: str, body: dict[str, Any]) -> TaskCreated:
        data = self._call("POST", path, json=body)
        task_id = data.get("api_agent_task_id")
        if not isinstance(task_id, str) or not task_id:
            # A 200 without a task id: OutX may have created one we cannot see.
            raise OutxBadResponse("OutX answered without a task id.", body=data)
        return TaskCreated(task_id=task_id, message=str(data.get("message", "")))

    def _call(self, method: str, path: str, **kwargs) -> dict[str, Any]:
        if not self.key_is_usable:
            error = OutxConnectionError(
                "OUTX_API_KEY has characters an HTTP header cannot carry (a space, a line break inside, "
                "an accented letter); nothing was sent to OutX."
            )
            error.may_have_reached_outx = False
            raise error
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.ConnectTimeout:
            error = OutxTimeout("OutX did not accept the connection in time.")
            error.may_have_reached_outx = False
            raise error from None
        except httpx.TimeoutException:
            raise OutxTimeout("OutX did not answer in time.") from None
        except httpx.ConnectError as exc:
            error = OutxConnectionError(f"Could not connect to OutX: {exc}")
            error.may_have_reached_outx = False
            raise error from None
        except httpx.LocalProtocolError:
            # Refused before sending; httpx's message may quote a header, so it is left out.
            error = OutxConnectionError("The request to OutX could not be built; nothing was sent.")
            error.may_have_reached_outx = False
            raise error from None
        except httpx.TransportError as exc:
            raise OutxConnectionError(f"The connection to OutX broke: {exc}") from None

        try:
            data = response.json()
        except ValueError:
            data = None
        status = response.status_code

        if status == 200 and isinstance(data, dict) and data.get("success") is True:
            return data
        if status == 200:
            raise OutxBadResponse("OutX answered 200 with a body that is not the documented JSON.", status_code=status, body=response.text[:1000])

        reason = data.get("error") if isinstance(data, dict) else None
        if not isinstance(reason, str):
            reason = None
        if status == 404:
            error_class = OutxTaskNotFound if path.endswith("get-task-status") else OutxNoAdmin
        elif status in ERRORS_BY_STATUS:
            error_class = ERRORS_BY_STATUS[status]
        elif status >= 500:
            error_class = OutxServerError
        else:
            error_class = OutxBadResponse
        message = reason or f"OutX answered HTTP {status}."
        raise error_class(message, status_code=status, body=data if data is not None else response.text[:1000])


def describe_output(output) -> str:
    """A finished task's output in words, for the cause of a not-sent state."""
    if isinstance(output, dict):
        for key in ("reason", "error", "message"):
            if output.get(key):
                return str(output[key])
    if isinstance(output, str) and output:
        return output
    return f"output {output!r}"


def get_client(**kwargs) -> OutxClient:
    """The client for the configured OutX (or the sandbox standing in for it)."""
    return OutxClient(
        settings.OUTX_BASE_URL,
        settings.OUTX_API_KEY,
        connect_timeout=settings.OUTX_CONNECT_TIMEOUT,
        read_timeout=settings.OUTX_READ_TIMEOUT,
        **kwargs,
    )
