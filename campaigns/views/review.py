"""Review: every invitation across campaigns, one invitation's whole story, and the CSV export.

Everyone logged in may look at all of it (the login itself is required by the middleware).
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..csvexport import EXPORT_CHUNK_SIZE, csv_download
from people.timezones import shown_zone

from ..donotcontact import entry_blocking
from ..forms.review import ReviewFilterForm
from ..models import Campaign, ConnectionRequest
from ..params import parse_page

PAGE_SIZE = 50
EXPORT_COLUMNS = [
    "Submitted at", "Completed at", "State", "Campaign", "First name", "Last name", "Company",
    "Title", "Profile URL", "Profile URN", "Note", "OutX task id", "Last error",
    "Variant", "Accepted at", "Follow-up state", "Follow-up message",
    # New columns go last, so that a sheet or script reading the export by position still works.
    "Sender", "Response", "Responded at",
]
# The answer filter (?response=): what a person marked on the invitations.
RESPONSE_FILTERS = [
    ("", "Any answer or none"),
    *ConnectionRequest.Response.choices,
    ("any", "Replied or not interested"),
    ("none", "Not marked"),
]


def filtered_requests(request: HttpRequest) -> tuple[ReviewFilterForm, QuerySet]:
    """The filter form bound to the query string, and the requests it selects. Days are the
    viewer's: in the time zone the request shows times in (people.middleware)."""
    form = ReviewFilterForm(request.GET, time_zone=timezone.get_current_timezone_name())
    form.is_valid()  # errors are shown; the valid filters still apply
    # A follow-up is one to one with its invitation: joined, it costs no query per row.
    requests = ConnectionRequest.objects.select_related("prospect", "campaign", "followup", "sender")
    if mine_only(request):
        requests = requests.filter(campaign__in=Campaign.objects.owned_by(request.user))
    return form, by_response(form.filter_requests(requests), response_filter(request))


def mine_only(request: HttpRequest) -> bool:
    """?mine=1: only the invitations of the campaigns the person owns."""
    return request.GET.get("mine") == "1"


def response_filter(request: HttpRequest) -> str:
    """The answer filter asked for; "" (all) when it is none of RESPONSE_FILTERS."""
    value = request.GET.get("response", "")
    return value if value in dict(RESPONSE_FILTERS) else ""


def by_response(requests: QuerySet, value: str) -> QuerySet:
    if value == "any":
        return requests.exclude(response="")
    if value == "none":
        return requests.filter(response="")
    return requests.filter(response=value) if value else requests


@require_GET
def review(request: HttpRequest) -> TemplateResponse:
    form, requests = filtered_requests(request)
    unanswered = ConnectionRequest.objects.old_unanswered().filter(pk=OuterRef("pk"))
    requests = requests.annotate(unanswered_too_long=Exists(unanswered))
    page = Paginator(requests, PAGE_SIZE).get_page(parse_page(request.GET.get("page")))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.can_change = row.campaign.can_be_changed_by(request.user)  # the owner is an id: no query
    context = {
        "form": form, "page": page, "mine": mine_only(request),
        "response_filters": RESPONSE_FILTERS, "response_filter": response_filter(request),
        "unanswered_count": ConnectionRequest.objects.old_unanswered().count(),
        "unanswered_filter_on": bool(getattr(form, "cleaned_data", {}).get("old_unanswered")),
    }
    return TemplateResponse(request, "campaigns/review.html", context)


@require_GET
def request_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    connection_request = get_object_or_404(
        ConnectionRequest.objects.select_related("prospect", "campaign", "followup", "sender", "responded_by"), pk=pk
    )
    followup = getattr(connection_request, "followup", None)  # None when it has none
    context = {
        "can_change": connection_request.campaign.can_be_changed_by(request.user),
        "blocking_entry": entry_blocking(connection_request.prospect),
        "connection_request": connection_request,
        "prospect": connection_request.prospect,
        # Oldest first, by Event's ordering; the follow-up's own events are shown with it.
        "events": connection_request.events.filter(followup__isnull=True),
        "task_output_json": output_json(connection_request.task_output),
        "followup": followup,
        "followup_events": followup.events.all() if followup else [],
        "followup_output_json": output_json(followup.task_output) if followup else None,
        "unanswered_too_long": ConnectionRequest.objects.old_unanswered().filter(pk=pk).exists(),
    }
    return TemplateResponse(request, "campaigns/request_detail.html", context)


def output_json(task_output) -> str | None:
    return None if task_output is None else json.dumps(task_output, indent=2, ensure_ascii=False)


@require_GET
def review_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered requests as CSV, streamed row by row so a large export never sits in memory."""
    _, requests = filtered_requests(request)
    # The viewer's zone, taken now: the stream is written after the request's zone is gone.
    time_zone = shown_zone()
    rows = (export_row(row, time_zone) for row in requests.iterator(chunk_size=EXPORT_CHUNK_SIZE))
    today = timezone.now().astimezone(time_zone).date()
    # With the UTF-8 byte-order mark, so that Excel reads accents right; every cell formula-safe.
    return csv_download(f"invitations-{today:%Y-%m-%d}.csv", EXPORT_COLUMNS, rows)


def export_row(connection_request: ConnectionRequest, time_zone: zoneinfo.ZoneInfo) -> list[str]:
    prospect = connection_request.prospect
    followup = getattr(connection_request, "followup", None)
    cells = [
        local_time(connection_request.submitted_at, time_zone),
        local_time(connection_request.completed_at, time_zone),
        connection_request.get_state_display(),
        connection_request.campaign.name,
        prospect.first_name,
        prospect.last_name,
        prospect.company,
        prospect.title,
        prospect.profile_url or "",
        prospect.profile_urn or "",
        connection_request.note,
        connection_request.outx_task_id or "",
        connection_request.last_error,
        connection_request.variant,
        local_time(connection_request.accepted_at, time_zone),
        followup.get_state_display() if followup else "",
        followup.message if followup else "",
        connection_request.sender.name if connection_request.sender else "",
        connection_request.get_response_display() if connection_request.response else "",
        local_time(connection_request.responded_at, time_zone),
    ]
    return cells  # csv_download makes each spreadsheet-safe


def local_time(moment: dt.datetime | None, time_zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(time_zone).isoformat(sep=" ", timespec="seconds") if moment else ""
