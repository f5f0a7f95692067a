"""Review: every invitation across campaigns, one invitation's whole story, and the CSV export.

Everyone logged in may look at all of it (the login itself is required by the middleware).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..csvexport import EXPORT_CHUNK_SIZE, csv_download
from people.timezones import shown_zone

from ..donotcontact import entry_blocking
from ..forms.review import CAMPAIGN_NAME_MATCHES, ReviewFilterForm, campaigns_named
from ..models import Campaign, ConnectionRequest
from ..rows import ReviewRows

PAGE_SIZE = 50
# Counts above this are shown as "more than": counting a million rows per view costs seconds.
COUNT_CAP = 1000
# A common word's matches are counted row by row, reading about COUNT_CAP ÷ (its share of the
# rows) of them: at a twentieth, 20k rows and 40 ms for 1,000 at a million rows. Its count
# stops sooner: it is known to be large already (a page of it was found among SEARCH_WINDOW rows).
COMMON_WORDS_COUNT_CAP = 100
BAD_CURSOR = "That page link is not one this page made (or it was cut short): here is the first page."
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


def review_filter(request: HttpRequest) -> ReviewFilterForm:
    """The filter form bound to the query string and validated, once per request (a search
    selects its rows three ways from it). Days are the viewer's: in the time zone the request
    shows times in (people.middleware)."""
    form = ReviewFilterForm(request.GET, time_zone=timezone.get_current_timezone_name())
    form.is_valid()  # errors are shown; the valid filters still apply
    return form


def filtered_requests(request: HttpRequest, form: ReviewFilterForm, search: str = "indexed") -> QuerySet:
    """The requests `form` (review_filter's) and ?mine= and ?response= select; `search`: how
    its words are looked for, see ReviewFilterForm.filter_requests."""
    # A follow-up is one to one with its invitation: joined, it costs no query per row.
    requests = ConnectionRequest.objects.select_related("prospect", "campaign", "followup", "sender")
    if mine_only(request):
        requests = requests.filter(campaign__in=Campaign.objects.owned_by(request.user))
    return by_response(form.filter_requests(requests, search), response_filter(request))


# A search for a common word matches a large share of the table, and through its indexes
# PostgreSQL would gather every match and sort them all (3 s at a million rows). So a page of a
# search is looked for first among the next SEARCH_WINDOW rows in Review's order, checked row
# by row; only when they hold less than a page of matches is the whole table searched through
# the indexes, and then the matches are few enough to sort.
SEARCH_WINDOW = 5000


def search_page(request: HttpRequest, form: ReviewFilterForm, after: Position | None) -> ReviewPage | None:
    """The page after `after` found within SEARCH_WINDOW rows; None when the window holds too
    few matches to tell (or runs out before a page)."""
    unsearched = filtered_requests(request, form, search="")
    end = nth_row_after(unsearched.select_related(None).only("pk", "submitted_at"), after, SEARCH_WINDOW)
    searched = filtered_requests(request, form, search="row by row")
    whole = end is None  # the window reached the end: it held every match
    if not whole:
        # As a range of Review's order up to the window's last row (its index bounds the
        # read), not a list of ids: any prefix of the order holds the first matches in it.
        if end.submitted_at is None:  # the window reached the rows never submitted
            searched = searched.filter(Q(submitted_at__isnull=False) | Q(pk__gte=end.pk))
        else:
            searched = searched.filter(submitted_at__gte=end.submitted_at)
    page = ReviewPage.of(searched, after, None)
    return page if whole or page.next_cursor else None


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


# --- Review's order, page by page ---------------------------------------------------------------
# Review is what was sent: submitted invitations newest first (submitted_at DESC, id DESC, which
# request_submitted_id_idx serves exactly), then those never submitted (skipped from the queue),
# newest first (id DESC, the same index's null range). A page starts after (or ends before) a
# position in that order, so page 1,000 costs what page 1 costs: no OFFSET, no COUNT.

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
CURSOR = re.compile(r"(n|[0-9]{1,17})\.([0-9]{1,18})")


@dataclass(frozen=True)
class Position:
    """A row's place in Review's order; written in the URL as "<microseconds>.<id>", or
    "n.<id>" for a row never submitted."""

    submitted_at: dt.datetime | None
    pk: int

    @classmethod
    def of(cls, row: ConnectionRequest) -> Position:
        return cls(row.submitted_at, row.pk)

    @classmethod
    def parse(cls, text: str) -> Position | None:
        """The position a cursor names; None if it is not one of ours."""
        match = CURSOR.fullmatch(text)
        if match is None or not 0 < int(match[2]) < 2**63:
            return None
        stamp, pk = match.groups()
        try:
            return cls(None if stamp == "n" else EPOCH + int(stamp) * MICROSECOND, int(pk))
        except OverflowError:
            return None

    @property
    def token(self) -> str:
        stamp = "n" if self.submitted_at is None else str((self.submitted_at - EPOCH) // MICROSECOND)
        return f"{stamp}.{self.pk}"


def rows_after(requests: QuerySet, position: Position | None, limit: int) -> list:
    """Up to `limit` rows after `position` (from the top without one), in Review's order."""
    return fill(*ranges_after(requests, position), limit)


def nth_row_after(requests: QuerySet, position: Position | None, n: int):
    """The n-th row after `position` in Review's order, None when there are fewer: read with
    OFFSET, so the database steps over the index entries and Python builds one row, not n."""
    first, then = ranges_after(requests, position)
    # Three reads whatever the rows, so that a search's queries do not depend on how many there are.
    row, in_first = first[n - 1 : n].first(), first[:n].count()
    rest = then[max(n - 1 - in_first, 0) :].first()
    return row or (rest if in_first < n else None)


def ranges_after(requests: QuerySet, position: Position | None) -> tuple[QuerySet, QuerySet]:
    """The rows after `position` in Review's order, as two index ranges read one after the
    other: the submitted ones, newest first, then those never submitted."""
    submitted = requests.filter(submitted_at__isnull=False).order_by("-submitted_at", "-id")
    # Ordered as the index is (submitted_at is null throughout): its null range, read backwards.
    never = requests.filter(submitted_at__isnull=True).order_by("-submitted_at", "-id")
    if position is not None and position.submitted_at is None:
        return submitted.none(), never.filter(pk__lt=position.pk)
    if position is not None:
        at = position.submitted_at
        submitted = submitted.filter(submitted_at__lte=at).exclude(submitted_at=at, pk__gte=position.pk)
    return submitted, never


def rows_before(requests: QuerySet, position: Position, limit: int) -> list:
    """Up to `limit` rows before `position`, nearest first (Review's order reversed)."""
    submitted = requests.filter(submitted_at__isnull=False).order_by("submitted_at", "id")
    never = requests.filter(submitted_at__isnull=True).order_by("submitted_at", "id")
    if position.submitted_at is None:
        return fill(never.filter(pk__gt=position.pk), submitted, limit)
    at = position.submitted_at
    submitted = submitted.filter(submitted_at__gte=at).exclude(submitted_at=at, pk__lte=position.pk)
    return fill(submitted, never.none(), limit)


def fill(first: QuerySet, then: QuerySet, limit: int) -> list:
    """`first`'s rows, topped up from `then`'s: two index range reads, each with a LIMIT (the
    second always runs, so that a page's queries do not depend on how many rows there are)."""
    rows = list(first[:limit])
    return rows + list(then[: max(limit - len(rows), 1)])[: limit - len(rows)]


@dataclass(frozen=True)
class ReviewPage:
    """One page of Review: its rows, and the cursors of the pages around it (None: none)."""

    object_list: list
    next_cursor: str | None
    previous_cursor: str | None
    is_first: bool

    @classmethod
    def of(cls, requests: QuerySet, after: Position | None, before: Position | None) -> ReviewPage:
        requests = requests.only(*ReviewRows.COLUMNS)  # what its rows show, not every column
        if before is not None:
            rows = rows_before(requests, before, PAGE_SIZE + 1)
            if len(rows) > PAGE_SIZE:
                rows = rows[:PAGE_SIZE][::-1]
                return cls(rows, Position.of(rows[-1]).token, Position.of(rows[0]).token, is_first=False)
            after = None  # back at the top: the first page, full
        rows = rows_after(requests, after, PAGE_SIZE + 1)
        more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        next_cursor = Position.of(rows[-1]).token if more else None
        previous_cursor = Position.of(rows[0]).token if rows and after is not None else None
        return cls(rows, next_cursor, previous_cursor, is_first=after is None)


def page_position(request: HttpRequest, name: str) -> Position | None:
    """The position in ?after= or ?before=; a message and None when it is not one of ours."""
    text = request.GET.get(name)
    if not text:
        return None
    position = Position.parse(text[:40])
    if position is None:
        messages.warning(request, BAD_CURSOR)
    return position


def in_review_order(requests: QuerySet, chunk_size: int) -> Iterator[ConnectionRequest]:
    """Every row of `requests` in Review's order, streamed: two index-ordered reads, no sort."""
    yield from requests.filter(submitted_at__isnull=False).order_by("-submitted_at", "-id").iterator(chunk_size)
    yield from requests.filter(submitted_at__isnull=True).order_by("-submitted_at", "-id").iterator(chunk_size)


@require_GET
def review(request: HttpRequest) -> TemplateResponse:
    form = review_filter(request)
    requests = filtered_requests(request, form)
    after, before = page_position(request, "after"), page_position(request, "before")
    page = search_page(request, form, after) if form.search_words and before is None else None
    count_cap = COUNT_CAP
    if page is None:
        page = ReviewPage.of(requests, after, before if after is None else None)
    elif page.next_cursor:
        # Common words: counted row by row, which stops at the cap soon.
        requests = filtered_requests(request, form, search="row by row")
        count_cap = COMMON_WORDS_COUNT_CAP
    now = timezone.now()
    for row in page.object_list:
        row.can_change = row.campaign.can_be_changed_by(request.user)  # the owner is an id: no query
        row.unanswered_too_long = row.is_old_unanswered(now)
    matching = requests.count_up_to(count_cap)
    unanswered_count = ConnectionRequest.objects.old_unanswered().count_up_to(COUNT_CAP)
    chosen_campaign = getattr(form, "cleaned_data", {}).get("campaign")
    context = {
        "form": form, "page": page, "mine": mine_only(request),
        "matching": min(matching, count_cap), "matching_more": matching > count_cap,
        "chosen_campaign": chosen_campaign,
        "response_filters": RESPONSE_FILTERS, "response_filter": response_filter(request),
        "unanswered_count": min(unanswered_count, COUNT_CAP), "unanswered_more": unanswered_count > COUNT_CAP,
        "unanswered_filter_on": bool(getattr(form, "cleaned_data", {}).get("old_unanswered")),
    }
    return TemplateResponse(request, "campaigns/review.html", context)


@require_GET
def review_campaign_names(request: HttpRequest) -> TemplateResponse:
    """The <option>s of Review's campaign box: the newest campaigns whose name holds what is
    typed (htmx fills the box's <datalist> with them as the person types)."""
    name = request.GET.get("campaign_name", "").strip()[:200]
    campaigns = Campaign.objects.filter(pk__in=campaigns_named(name)).order_by("-created_at", "-id") if name else []
    context = {"campaigns": campaigns, "limit": CAMPAIGN_NAME_MATCHES}
    return TemplateResponse(request, "campaigns/review.html#campaign-names", context)


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
    requests = filtered_requests(request, review_filter(request))
    # The viewer's zone, taken now: the stream is written after the request's zone is gone.
    time_zone = shown_zone()
    rows = (export_row(row, time_zone) for row in in_review_order(requests, EXPORT_CHUNK_SIZE))
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
