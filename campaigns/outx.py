"""The OutX API client: one small module on httpx, speaking exactly docs/outx-api.md.

Each call returns a typed result or raises one typed error per case, so the worker can give
every answer a defined effect. The client never retries anything by itself: OutX has no
idempotency key, so a POST sent twice may be an invitation sent twice.

`OutxError.may_have_reached_outx` tells whether OutX may have acted on a request that
failed: False only when the connection was never made (nothing was sent).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .linkedin import normalise_profile_url, normalise_profile_urn
from .notes import MESSAGE_MAX_LENGTH, check_note, js_trim, utf16_length

if TYPE_CHECKING:
    import httpx

# httpx is imported where a client is made or a call fails, not here: the pages import this
# module for its constants and errors, and httpx (with idna, httpcore, h11) costs each web worker
# ~1.5 MiB that only a call to OutX needs (bench/memory_bench.py).

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
    """An answer that is not the documented JSON (or an undocumented HTTP status)."""


class OutxUnreadableAnswer(OutxBadResponse):
    """OutX answered 200, but with something we cannot read: not JSON, not the documented
    shape, or values out of bounds. The one item it concerns is quarantined for a person."""


# --- OutX's answers are input: what we keep of them --------------------------------------

# A task id is stored in a 100-character column; OutX's are UUIDs.
TASK_ID = re.compile(r"[\x21-\x7e]{1,100}")
TEXT_MAX = 500  # a reason or message from OutX, as we keep and show it
OUTPUT_MAX_CHARS = 20_000  # a task's output as we store it, in JSON text
BODY_MAX_BYTES = 2_000_000  # no documented answer comes near this
JSON_MAX_DEPTH = 20
# Neither PostgreSQL nor UTF-8 can hold a NUL or a lone surrogate; other control characters
# (but tab and line breaks) would only confuse a page or a log line.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str, limit: int = TEXT_MAX) -> str:
    """Text from OutX as we may store and show it: storable, no control characters, at most
    `limit` characters (cut with an ellipsis)."""
    text = CONTROL.sub(" ", UNSTORABLE.sub("\ufffd", value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_json(value: Any, depth: int = 0) -> Any:
    """A JSON value from OutX as any database column can store it: storable strings, finite
    numbers, at most JSON_MAX_DEPTH levels deep."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dict, list)) and depth >= JSON_MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {UNSTORABLE.sub("\ufffd", str(key)): clean_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item, depth + 1) for item in value]
    return value  # None, bool, int


def bounded_output(output: Any) -> Any:
    """A clean output (clean_json) as we store it: no larger than OUTPUT_MAX_CHARS of JSON (a
    larger one is kept as the start of its text, marked as cut)."""
    text = json.dumps(output, ensure_ascii=False)
    if len(text) <= OUTPUT_MAX_CHARS:
        return output
    return {"cut_at_characters": OUTPUT_MAX_CHARS, "start": text[:OUTPUT_MAX_CHARS]}


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskCreated:
    task_id: str
    message: str


@dataclass(frozen=True)
class Profile:
    """A completed fetch-profile's output, checked: the URN normalised (None if it is not a
    profile URN) and the texts cleaned."""

    urn: str | None
    first_name: str
    last_name: str
    headline: str
    location: str
    company: str = ""
    title: str = ""


# What we keep of each text of a found or fetched profile: the lengths of the columns
# (Prospect, SearchResult) it may go to.
PROFILE_TEXT_LIMITS = {
    "first_name": 100, "last_name": 100, "headline": 300, "company": 200, "title": 200, "location": 200,
}


@dataclass(frozen=True)
class FoundProfile:
    """One profile of a completed search-profiles output, checked: the URN and URL normalised
    (None when missing or not what they claim to be; never both None), the texts cleaned and
    cut to the columns that keep them."""

    urn: str | None
    url: str | None
    first_name: str = ""
    last_name: str = ""
    headline: str = ""
    company: str = ""
    title: str = ""
    location: str = ""


# search-profiles: what the client sends, and what it reads back ([ours] in docs/outx-api.md).
SEARCH_TEXT_FILTERS = {"keywords": 200, "title": 200, "company": 200, "first_name": 100, "last_name": 100}
SEARCH_MAX_GEO_URNS = 10
SEARCH_MAX_START = 10_000
SEARCH_MAX_COUNT = 50  # ProfileSearch.MAX_COUNT: the most one page of ours asks for
# However long OutX's list, only this many entries are looked at for the readable ones.
SEARCH_MAX_SCANNED = 1_000
SEARCH_MAX_TOTAL = 1_000_000
GEO_URN = re.compile(r"(?:urn:li:geo:)?([0-9]{1,20})")
GEO_URN_PREFIX = "urn:li:geo:"


def geo_id(value: Any) -> str | None:
    """The id of a LinkedIn geographic URN (`103644278`), from the id or the full
    `urn:li:geo:103644278`; None when it is neither."""
    if not isinstance(value, str):
        return None
    match = GEO_URN.fullmatch(value.strip())
    return match.group(1) if match else None


@dataclass(frozen=True)
class Connection:
    """One entry of a completed fetch-connections output, checked: each value None when it
    is missing or not what it claims to be."""

    profile_urn: str | None
    profile_url: str | None
    connected_at: dt.datetime | None


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    status: str  # one of KNOWN_STATUSES; an unknown status reads as pending
    task_input: dict[str, Any] | None
    task_output: Any  # cleaned (clean_json); what we read
    raw: dict[str, Any] = field(repr=False)

    @property
    def stored_output(self) -> Any:
        """The output as we keep it on the item: bounded (bounded_output)."""
        return bounded_output(self.task_output)

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
        """From a completed fetch-profile task: the URN, normalised, or None."""
        return self.profile().urn

    def profile(self) -> Profile:
        """A completed fetch-profile's output: at the top level or under `profile`."""
        output = self.task_output if isinstance(self.task_output, dict) else {}
        nested = output.get("profile")
        profile = nested if isinstance(nested, dict) else output
        urn = profile.get("profile_urn", output.get("profile_urn"))
        try:
            urn = normalise_profile_urn(urn) if isinstance(urn, str) and urn else None
        except ValueError:  # InvalidProfile, or anything else the parser refuses
            logger.warning("OutX task %s answered a profile URN we cannot use: %r", self.task_id, urn[:200])
            urn = None
        texts = read_profile_texts(profile)
        return Profile(urn, **texts)

    def search_results(self) -> list[FoundProfile] | None:
        """A completed search-profiles' profiles: at most SEARCH_MAX_COUNT, each checked
        (read_found_profile); an entry that names nobody we could invite is left out. None
        when the output holds no list at all: under `profiles`, `results` or `people`, or the
        output itself."""
        entries = search_entries(self.task_output)
        if entries is None:
            return None
        found: list[FoundProfile] = []
        for entry in entries[:SEARCH_MAX_SCANNED]:
            profile = read_found_profile(entry)
            if profile is not None:
                found.append(profile)
                if len(found) >= SEARCH_MAX_COUNT:
                    break
        return found

    def search_total(self) -> int | None:
        """How many profiles the search matched in all, as OutX counts them ([ours]: `total`);
        None when it says nothing we can read."""
        output = self.task_output
        total = output.get("total") if isinstance(output, dict) else None
        if isinstance(total, int) and not isinstance(total, bool) and 0 <= total <= SEARCH_MAX_TOTAL:
            return total
        return None

    def connections(self) -> list[Connection] | None:
        """A completed fetch-connections' entries, or None when its output holds no list.
        An entry that is not an object, or whose values cannot be read, keeps only what can."""
        output = self.task_output
        entries = output.get("connections") if isinstance(output, dict) else None
        if not isinstance(entries, list):
            return None
        return [read_connection(entry) for entry in entries if isinstance(entry, dict)]


def clean_text_or_empty(value: Any, limit: int = TEXT_MAX) -> str:
    """A text OutX gave where text is expected, cleaned (and stripped); "" for anything else."""
    return clean_text(value.strip(), limit) if isinstance(value, str) else ""


def read_profile_texts(profile: dict) -> dict[str, str]:
    """The names and texts of one profile OutX described, cleaned and cut to our columns.
    First and last name from `first_name`/`last_name`, else split from `name` at its first
    space ("Mary Ann Lee" is Mary, Ann Lee: a guess, as good as any)."""
    first, last = profile.get("first_name"), profile.get("last_name")
    if not (isinstance(first, str) and first.strip()) and not (isinstance(last, str) and last.strip()):
        name = profile.get("name")
        first, _, last = name.strip().partition(" ") if isinstance(name, str) else ("", "", "")
    given = {
        "first_name": first, "last_name": last, "headline": profile.get("headline"),
        "company": profile.get("company"), "title": profile.get("title"), "location": profile.get("location"),
    }
    return {name: clean_text_or_empty(value, PROFILE_TEXT_LIMITS[name]) for name, value in given.items()}


def search_entries(output: Any) -> list | None:
    """The list of profiles in a search-profiles output, wherever OutX put it; None if none."""
    if isinstance(output, list):
        return output
    if isinstance(output, dict):
        for key in ("profiles", "results", "people"):
            if isinstance(output.get(key), list):
                return output[key]
        nested = output.get("data")
        if isinstance(nested, dict):
            return search_entries(nested)
    return None


def read_profile_keys(urn: Any, url: Any) -> tuple[str | None, str | None]:
    """A profile's URN and URL as OutX gave them, each normalised, or None where it is missing
    or the parser refuses it."""

    def normalised(value: Any, normalise: Callable[[str], str]) -> str | None:
        try:
            return normalise(value) if isinstance(value, str) and value else None
        except ValueError:  # InvalidProfile, or anything else the parser refuses
            return None

    return normalised(urn, normalise_profile_urn), normalised(url, normalise_profile_url)


def read_found_profile(entry: Any) -> FoundProfile | None:
    """One entry of a search's list, checked: None if it is not an object or names nobody (no
    URN and no profile URL we can read)."""
    if not isinstance(entry, dict):
        return None
    urn, url = read_profile_keys(entry.get("profile_urn", entry.get("urn")), entry.get("profile_url", entry.get("url")))
    if urn is None and url is None:
        return None
    return FoundProfile(urn, url, **read_profile_texts(entry))


def read_connection(entry: dict) -> Connection:
    urn, url = read_profile_keys(entry.get("profile_urn"), entry.get("profile_url"))
    return Connection(urn, url, read_moment(entry.get("connected_at")))


def read_moment(value: Any) -> dt.datetime | None:
    """An ISO 8601 moment from OutX, in UTC when it names no zone; None when it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:  # well-formed but impossible, such as month 13
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.timezone.utc)
    return moment


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
        import httpx

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
        if not isinstance(task, dict) or task.get("id") != task_id:
            raise OutxUnreadableAnswer("OutX answered a task status without the task asked for.", body=data)
        status = task.get("status")
        if status not in KNOWN_STATUSES:
            logger.warning("OutX task %s has unknown status %r; treating it as pending", task_id, str(status)[:100])
            status = PENDING
        task_input = task.get("task_input")
        return TaskStatus(
            task_id=task_id,
            status=status,
            task_input=clean_json(task_input) if isinstance(task_input, dict) else None,
            task_output=clean_json(task.get("task_output")),
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

    def search_profiles(
        self,
        *,
        keywords: str = "",
        title: str = "",
        company: str = "",
        first_name: str = "",
        last_name: str = "",
        geo_urns: list[str] | tuple[str, ...] = (),
        start: int = 0,
        count: int = 25,
    ) -> TaskCreated:
        """Create a search-profiles task for one page of results. The filters are checked
        here, before any call (OutX would refuse some with a 400; the rest we bound)."""
        body: dict[str, Any] = {}
        given = {"keywords": keywords, "title": title, "company": company, "first_name": first_name, "last_name": last_name}
        for name, value in given.items():
            if not isinstance(value, str):
                raise OutxBadRequest(f"The search filter {name!r} must be text.")
            value = value.strip()
            if len(value) > SEARCH_TEXT_FILTERS[name]:
                raise OutxBadRequest(f"The search filter {name!r} is longer than {SEARCH_TEXT_FILTERS[name]} characters.")
            if value:
                body[name] = value
        if isinstance(geo_urns, str) or not isinstance(geo_urns, (list, tuple)):
            raise OutxBadRequest("The geographic filter must be a list of LinkedIn geographic URNs.")
        if len(geo_urns) > SEARCH_MAX_GEO_URNS:
            raise OutxBadRequest(f"At most {SEARCH_MAX_GEO_URNS} geographic URNs per search.")
        ids = []
        for value in geo_urns:
            found = geo_id(value)
            if found is None:
                raise OutxBadRequest(f"{str(value)[:100]!r} is not a LinkedIn geographic URN (urn:li:geo:<digits>).")
            if found not in ids:
                ids.append(found)
        if ids:
            body["geo_urn"] = ids
        if not body:
            raise OutxBadRequest("At least one search filter is required.")
        for name, value, high in (("start", start, SEARCH_MAX_START), ("count", count, SEARCH_MAX_COUNT)):
            low = 1 if name == "count" else 0
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise OutxBadRequest(f"The search's {name} must be a whole number from {low} to {high}.")
        body["start"], body["count"] = start, count
        return self._create_task("/linkedin-agent/search-profiles", body)

    def send_message(self, recipient_urn: str, message: str) -> TaskCreated:
        # Counted as OutX (JavaScript) counts: UTF-16 code units.
        if not js_trim(message):
            raise OutxBadRequest("The message is blank.")
        if utf16_length(message) > MESSAGE_MAX_LENGTH:
            raise OutxBadRequest(f"The message is longer than {MESSAGE_MAX_LENGTH} characters.")
        # OutX takes a person URN (its own example) as well as a profile URN: a person URN goes
        # as it is, never rewritten into a profile URN; a profile URN or bare id is normalised.
        urn = recipient_urn.strip()
        if not re.fullmatch(r"urn:li:person:[A-Za-z0-9_-]{2,100}", urn):
            urn = normalise_profile_urn(urn)
        body = {"recipient_urn": urn, "message": message}
        return self._create_task("/linkedin-agent/send-message", body)

    # Plumbing -----------------------------------------------------------------------------

    def _create_task(self, path: str, body: dict[str, Any]) -> TaskCreated:
        data = self._call("POST", path, json=body)
        task_id = data.get("api_agent_task_id")
        if not isinstance(task_id, str) or not TASK_ID.fullmatch(task_id):
            # A 200 without a task id we can use: OutX may have created one we cannot see.
            raise OutxUnreadableAnswer("OutX answered without a task id we can read.", body=data)
        return TaskCreated(task_id=task_id, message=clean_text_or_empty(data.get("message")))

    def _call(self, method: str, path: str, **kwargs) -> dict[str, Any]:
        if not self.key_is_usable:
            error = OutxConnectionError(
                "OUTX_API_KEY has characters an HTTP header cannot carry (a space, a line break inside, "
                "an accented letter); nothing was sent to OutX."
            )
            error.may_have_reached_outx = False
            raise error
        status, body = self._send(method, path, **kwargs)
        try:
            data = json.loads(body) if body is not None else None
        except (ValueError, RecursionError):
            data = None
        if status == 200 and isinstance(data, dict) and data.get("success") is True:
            return data
        text = clean_text(body.decode("utf-8", "replace"), 1000) if body is not None else "(more than 2 MB)"
        if status == 200:
            raise OutxUnreadableAnswer("OutX answered 200 with a body that is not the documented JSON.", status_code=status, body=text)

        reason = data.get("error") if isinstance(data, dict) else None
        reason = clean_text(reason) if isinstance(reason, str) and reason.strip() else None
        if status == 404:
            error_class = OutxTaskNotFound if path.endswith("get-task-status") else OutxNoAdmin
        elif status in ERRORS_BY_STATUS:
            error_class = ERRORS_BY_STATUS[status]
        elif status >= 500:
            error_class = OutxServerError
        else:
            error_class = OutxBadResponse
        message = reason or f"OutX answered HTTP {status}."
        raise error_class(message, status_code=status, body=clean_json(data) if data is not None else text)

    def _send(self, method: str, path: str, **kwargs) -> tuple[int, bytes | None]:
        """Make one HTTP call: its status and body (None when larger than BODY_MAX_BYTES), or
        the OutxError that says whether it may have reached OutX."""
        import httpx

        try:
            with self.http.stream(method, path, **kwargs) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > BODY_MAX_BYTES:
                        return response.status_code, None
                return response.status_code, bytes(body)
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


def describe_output(output) -> str:
    """A finished task's output in words, for the cause of a not-sent state."""
    if isinstance(output, dict):
        for key in ("reason", "error", "message"):
            if output.get(key):
                return clean_text(str(output[key]))
    if isinstance(output, str) and output:
        return clean_text(output)
    return clean_text(f"output {output!r}")


def client_for(sender, **kwargs) -> OutxClient:
    """The client that acts as `sender`: the configured OutX, with the sender's own key."""
    return get_client(api_key=sender.api_key, **kwargs)


def get_client(*, api_key: str | None = None, **kwargs) -> OutxClient:
    """The client for the configured OutX (or the sandbox standing in for it), with `api_key`
    or else OUTX_API_KEY."""
    return OutxClient(
        settings.OUTX_BASE_URL,
        settings.OUTX_API_KEY if api_key is None else api_key,
        connect_timeout=settings.OUTX_CONNECT_TIMEOUT,
        read_timeout=settings.OUTX_READ_TIMEOUT,
        **kwargs,
    )
