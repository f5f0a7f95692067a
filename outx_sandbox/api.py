"""The sandbox's OutX API: the endpoints of docs/outx-api.md, answering exactly as it says.

Every endpoint first makes the checks OutX makes before it reads a request, in this order:
method, API key, the switched-on conditions (401, 403, 404), latency, server errors. Only
then does the endpoint validate its input and create a task for the simulated extension.

The API key picks the team (one OutX team, one LinkedIn account): every switch, limit and
connection is that team's, and a key sees only its own team's tasks.
"""

from __future__ import annotations

import json
import re
import random
import threading
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from campaigns.linkedin import PROFILE_ID, URN_PREFIX, InvalidProfile, normalise_profile_urn
from campaigns.notes import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH, js_trim, outx_note_length, utf16_length

from .extension import complete_due_tasks
from .models import SandboxSettings, SandboxTask

PLUGIN_REQUIRED = (
    "Plugin installation required: Please install the OutX browser extension on at least one "
    "team member's account to use the API. The plugin must have been active within the last 48 hours."
)
NO_ADMIN = "No admin user found in the team"
PERSON_URN_PREFIX = "urn:li:person:"
CONNECTIONS_MAX_COUNT = 100
# [ours] search-profiles: OutX documents the filters, not their bounds; these are the sandbox's.
SEARCH_TEXT_FILTERS = ("keywords", "title", "company", "first_name", "last_name")
SEARCH_TEXT_MAX = 500
SEARCH_MAX_COUNT = 100
SEARCH_NO_FILTER = "At least one search filter is required"
GEO_URN = re.compile(r"(?:urn:li:geo:)?([0-9]{1,20})")

SandboxView = Callable[[HttpRequest, SandboxSettings], HttpResponse]

# Calls being answered right now. A caller that gave up (a client time-out against the latency
# switch) leaves its call running here; tests wait for none before they reset the database.
_calls_in_flight = 0
_calls_lock = threading.Lock()


def calls_in_flight() -> int:
    return _calls_in_flight


def _count_call(delta: int) -> None:
    global _calls_in_flight
    with _calls_lock:
        _calls_in_flight += delta


def error(status: int, text: str) -> JsonResponse:
    return JsonResponse({"error": text}, status=status)


def task_created(task: SandboxTask, message: str) -> JsonResponse:
    return JsonResponse({"success": True, "api_agent_task_id": str(task.id), "message": message})


def outx_endpoint(method: str) -> Callable[[SandboxView], Callable[[HttpRequest], HttpResponse]]:
    """Make `view` an OutX endpoint: reached without a login or CSRF token, as an API is, and
    answering the checks OutX makes before it looks at the request's content. The view is
    given the team the API key belongs to."""

    def decorator(view: SandboxView) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        def endpoint(request: HttpRequest) -> HttpResponse:
            _count_call(+1)
            try:
                return answer(request)
            finally:
                _count_call(-1)

        def answer(request: HttpRequest) -> HttpResponse:
            if request.method != method:
                response = error(405, "Method not allowed")
                response["Allow"] = method
                return response
            key = request.headers.get("x-api-key", "")
            if not key:
                return error(401, "Missing API Key")
            team = SandboxSettings.for_key(key)
            if team is None or team.wrong_key:
                return error(401, "Invalid API Key")
            if team.extension_offline:
                return error(403, PLUGIN_REQUIRED)
            # Every POST is a LinkedIn action, and actions run from the team's oldest admin.
            if method == "POST" and team.no_admin:
                return error(404, NO_ADMIN)
            if team.latency_ms:
                time.sleep(team.latency_ms / 1000)
            # random() is in [0, 1): a rate of 0 never fails and a rate of 1 always does.
            if random.random() < team.server_error_rate:
                return error(500, "Internal server error")
            return view(request, team)

        return csrf_exempt(login_not_required(endpoint))

    return decorator


def json_object(request: HttpRequest) -> dict[str, Any] | None:
    """The posted JSON object; {} for an empty body; None if the body is not a JSON object."""
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def profile_urn_field(body: dict[str, Any] | None, name: str) -> str | None:
    """A profile URN field, normalised (OutX accepts the bare id too); None if missing or invalid."""
    value = (body or {}).get(name)
    if not isinstance(value, str):
        return None
    try:
        return normalise_profile_urn(value)
    except InvalidProfile:
        return None


def recipient_urn_field(body: dict[str, Any] | None) -> str | None:
    """send-message's `recipient_urn`, as the member's profile URN; None if missing or invalid.

    OutX's own example is a person URN (`urn:li:person:ACoAABCDEFG`), and its docs say a
    profile URN (or, as everywhere, the bare id) works too. Both URNs carry the member's id;
    the sandbox knows members by their profile URN (its connections, who may be messaged).
    """
    value = (body or {}).get("recipient_urn")
    if isinstance(value, str) and value.strip().startswith(PERSON_URN_PREFIX):
        member_id = value.strip()[len(PERSON_URN_PREFIX) :]
        return URN_PREFIX + member_id if PROFILE_ID.fullmatch(member_id) else None
    return profile_urn_field(body, "recipient_urn")


@outx_endpoint("POST")
def send_connection_request(request: HttpRequest, team: SandboxSettings) -> HttpResponse:
    body = json_object(request)
    profile_urn = profile_urn_field(body, "profile_urn")
    if profile_urn is None:
        return error(400, "Missing or invalid 'profile_urn'")
    task_input: dict[str, Any] = {"profile_urn": profile_urn}
    if "note" in body:
        note = body["note"]
        if not isinstance(note, str):  # null too: the note is optional, but present means a string
            return error(400, "Invalid 'note': must be a string")
        # Counted as OutX counts (JS trim, UTF-16 units). No CRLF normalising: OutX does none.
        if outx_note_length(note) > NOTE_MAX_LENGTH:
            return error(400, f"Invalid 'note': must be {NOTE_MAX_LENGTH} characters or fewer")
        task_input["note"] = note  # as sent; blank means no note, which the delivery records
    # One transaction, so that on SQLite (IMMEDIATE) two concurrent requests cannot both
    # take the last invitation under the limit.
    with transaction.atomic():
        complete_due_tasks()  # a due invitation that completes with sent: false must not count
        limit = team.weekly_invitation_limit
        if limit is not None:
            # LinkedIn's limit is per account: only this team's invitations count.
            created = team.tasks.invitations_counting_against_limit(timezone.now()).count()
            if created >= limit:
                return error(429, "LinkedIn invitation limit reached")
        task = SandboxTask.start(SandboxTask.TaskType.SEND_CONNECTION_REQUEST, task_input, team)
    return task_created(task, "Send connection request task created successfully")


@outx_endpoint("GET")
def get_task_status(request: HttpRequest, team: SandboxSettings) -> HttpResponse:
    task_id = request.GET.get("api_agent_task_id", "")
    if not task_id.strip():
        return error(400, "Missing or invalid 'api_agent_task_id'")
    try:
        task_uuid = uuid.UUID(task_id)
    except ValueError:
        return error(404, "Agent task not found")  # as OutX answers an id it never issued
    complete_due_tasks()
    task = team.tasks.filter(pk=task_uuid).first()
    if task is None:  # another team's task too: a key sees only its own team's
        return error(404, "Agent task not found")
    return JsonResponse({"success": True, "data": task.as_outx_json()})


@outx_endpoint("POST")
def fetch_profile(request: HttpRequest, team: SandboxSettings) -> HttpResponse:
    slug = (json_object(request) or {}).get("profile_slug")
    if not isinstance(slug, str) or not slug.strip():
        return error(400, "Missing or invalid 'profile_slug'")
    task = SandboxTask.start(SandboxTask.TaskType.FETCH_PROFILE, {"profile_slug": slug}, team)
    return task_created(task, "Profile fetch task created successfully")


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@outx_endpoint("POST")
def fetch_connections(request: HttpRequest, team: SandboxSettings) -> HttpResponse:
    # [ours] OutX documents the fields but not their errors; these texts follow its style.
    body = json_object(request)
    if body is None:
        return error(400, "Missing or invalid JSON body")
    task_input: dict[str, Any] = {"start": body.get("start", 0), "count": body.get("count", 40)}
    for name in ("keyword", "sort_type"):
        if body.get(name) is not None:
            if not isinstance(body[name], str):
                return error(400, f"Missing or invalid '{name}'")
            task_input[name] = body[name]
    if not is_count(task_input["start"]):
        return error(400, "Missing or invalid 'start'")
    if not is_count(task_input["count"]) or not 1 <= task_input["count"] <= CONNECTIONS_MAX_COUNT:
        return error(400, "Missing or invalid 'count'")
    task = SandboxTask.start(SandboxTask.TaskType.FETCH_CONNECTIONS, task_input, team)
    return task_created(task, "Fetch connections task created successfully")


@outx_endpoint("POST")
def search_profiles(request: HttpRequest, team: SandboxSettings) -> HttpResponse:
    body = json_object(request)
    if body is None:
        return error(400, "Missing or invalid JSON body")
    task_input: dict[str, Any] = {}
    for name in SEARCH_TEXT_FILTERS:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > SEARCH_TEXT_MAX:
            return error(400, f"Invalid '{name}': must be a string of at most {SEARCH_TEXT_MAX} characters")
        if value.strip():
            task_input[name] = value.strip()
    geo = body.get("geo_urn")
    if geo is not None:
        if isinstance(geo, str):
            geo = [geo]  # one URN on its own, as a person would write it
        ids = [GEO_URN.fullmatch(item.strip()) if isinstance(item, str) else None for item in geo] if isinstance(geo, list) else [None]
        if None in ids:
            return error(400, "Invalid 'geo_urn': must be an array of LinkedIn geographic URNs")
        if ids:
            task_input["geo_urn"] = sorted({match.group(1) for match in ids})
    if not task_input:
        return error(400, SEARCH_NO_FILTER)
    task_input["start"], task_input["count"] = body.get("start", 0), body.get("count", 25)
    if not is_count(task_input["start"]):
        return error(400, "Missing or invalid 'start'")
    if not is_count(task_input["count"]) or not 1 <= task_input["count"] <= SEARCH_MAX_COUNT:
        return error(400, "Missing or invalid 'count'")
    task = SandboxTask.start(SandboxTask.TaskType.SEARCH_PROFILES, task_input, team)
    return task_created(task, "Search profiles task created successfully")


@outx_endpoint("POST")
def send_message(request: HttpRequest, team: SandboxSettings) -> HttpResponse:
    body = json_object(request)
    recipient_urn = recipient_urn_field(body)
    if recipient_urn is None:
        return error(400, "Missing or invalid 'recipient_urn'")
    message = body.get("message")
    if not isinstance(message, str) or not js_trim(message):
        return error(400, "Missing or invalid 'message'")
    if utf16_length(message) > MESSAGE_MAX_LENGTH:  # JavaScript's length, as OutX measures
        return error(400, f"Message text is too long (max {MESSAGE_MAX_LENGTH} characters)")
    task_input = {"recipient_urn": recipient_urn, "message": message}
    task = SandboxTask.start(SandboxTask.TaskType.SEND_MESSAGE, task_input, team)
    return task_created(task, "Send message task created successfully")
