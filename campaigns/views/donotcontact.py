"""The team's do-not-contact list: see and search it, add to it by pasting or from a CSV file,
export it, and (admins only) remove an entry.

Everyone logged in may look and add: keeping someone from being contacted is always safe.
Removing an entry lets invitations reach that person again, so only an admin may.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from people.timezones import shown_zone

from ..donotcontact import AddResult, add_entries, read_entry
from ..forms.donotcontact import EntriesCsvForm, PasteEntriesForm, SearchForm
from ..importing import CsvRow, CsvTable, compact
from ..models import DoNotContact
from ..params import parse_page
from ..textsearch import every_word_in
from ..csvexport import EXPORT_CHUNK_SIZE, csv_download
from .review import local_time

PAGE_SIZE = 50
EXPORT_COLUMNS = ["Value", "Kind", "Reason", "Added by", "Added at", "Profile URL", "Profile URN", "Company"]
# The columns a CSV's entries may be in, compacted (importing.compact), in the order a row's
# entry is taken from: the first of them with a value. An export of the list reads back.
ENTRY_HEADERS = (
    "entry", "entries", "linkedinurl", "linkedinprofileurl", "profileurl", "linkedinprofile", "profile",
    "linkedin", "url", "profileurn", "urn", "linkedincompanyurl", "companyurl", "companypage",
    "company", "companyname", "organization", "organisation", "account", "value",
)
REASON_HEADERS = ("reason", "why", "notes", "note", "comment", "comments")
# What a refused line or row keeps of its text on the page.
SHOWN_TEXT = 300
SEARCHED_FIELDS = ["value", "reason", "company_name", "profile_url", "profile_urn"]


def entries_listing(query: str) -> QuerySet:
    """The list, newest first, narrowed to entries matching every word of `query`."""
    entries = DoNotContact.objects.select_related("added_by").order_by("-created_at", "-id")
    return entries.filter(every_word_in(query, SEARCHED_FIELDS))


def list_context(request: HttpRequest) -> dict:
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(entries_listing(query), PAGE_SIZE).get_page(parse_page(request.GET.get("page")))
    return {
        "search": search, "query": query, "page": page,
        "total": DoNotContact.objects.count() if query else page.paginator.count,
        "can_remove": request.user.is_staff,
    }


@require_GET
def do_not_contact(request: HttpRequest) -> TemplateResponse:
    context = list_context(request)
    context["form"] = PasteEntriesForm()
    return TemplateResponse(request, "campaigns/do_not_contact.html", context)


@dataclass(frozen=True)
class Refused:
    number: int  # the line (paste) or row (CSV, the header is row 1)
    text: str
    reason: str


def refused_of(result: AddResult, numbers: list[int]) -> list[Refused]:
    """The refused lines or rows with their numbers (`numbers[i]` is the i-th text's)."""
    return [
        Refused(numbers[index] if 0 <= index < len(numbers) else 0, text[:SHOWN_TEXT], reason)
        for (text, reason), index in zip(result.rejected, result.rejected_at)
    ]


def count(n: int, singular: str, plural: str = "") -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def summary_of(result: AddResult, refused: list[Refused], what: str) -> str:
    """ "Added 3 entries; 1 already on the list; 2 lines refused. 4 queued invitations … skipped." """
    text = f"Added {count(len(result.added), 'entry', 'entries')}; {len(result.already):,} already on the list; "
    text += f"{count(len(refused), what)} refused."
    if result.skipped:
        text += f" {count(result.skipped, 'queued invitation')} to them {'was' if result.skipped == 1 else 'were'} skipped."
    return text


@require_http_methods(["GET", "POST"])
def do_not_contact_add(request: HttpRequest) -> TemplateResponse | HttpResponseRedirect:
    """Add pasted entries. Lines refused stay in the box, with their reasons, to be fixed."""
    if request.method == "GET":
        return HttpResponseRedirect(reverse("do_not_contact"))
    form = PasteEntriesForm(request.POST)
    context = list_context(request)
    if not form.is_valid():
        context["form"] = form
        return TemplateResponse(request, "campaigns/do_not_contact.html", context, status=400)
    lines = form.lines()
    result = add_entries(lines, request.user, form.cleaned_data["reason"])
    refused = refused_of(result, [index + 1 for index in range(len(lines))])
    summary = summary_of(result, refused, "line")
    if not refused:
        messages.success(request, summary)
        return HttpResponseRedirect(reverse("do_not_contact"))
    messages.warning(request, summary)
    # The refused lines, and only they, go back in the box; the reason stays as typed.
    kept = "\n".join(lines[item.number - 1] for item in refused if 0 < item.number <= len(lines))
    context.update({
        "form": PasteEntriesForm(initial={"entries": kept, "reason": form.cleaned_data["reason"]}),
        "refused": refused, "already": result.already,
    })
    return TemplateResponse(request, "campaigns/do_not_contact.html", context)


def entry_columns(table: CsvTable) -> tuple[list[int], int | None, list[CsvRow]]:
    """The columns holding entries (in ENTRY_HEADERS' order), the Reason column if any, and the
    rows to read. A file of a single column without a known header is a list of entries, its
    first line among them if it reads as one."""
    names = [compact(header) for header in table.headers]
    columns = [names.index(name) for name in ENTRY_HEADERS if name in names]
    reason = next((names.index(name) for name in REASON_HEADERS if name in names), None)
    rows = table.rows
    if not columns and len(table.headers) == 1:
        columns = [0]
        try:
            read_entry(table.headers[0])
            rows = [CsvRow(1, [table.headers[0]]), *rows]
        except ValueError:
            pass
    return columns, reason, rows


def cell(row: CsvRow, index: int | None) -> str:
    return row.cells[index].strip() if index is not None and index < len(row.cells) else ""


@require_http_methods(["GET", "POST"])
def do_not_contact_import(request: HttpRequest) -> TemplateResponse | HttpResponseRedirect:
    """Add the entries of a CSV file: the good rows are added, the bad ones listed with their
    row numbers and reasons."""
    template = "campaigns/do_not_contact_import.html"
    form = EntriesCsvForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        return TemplateResponse(request, template, {"form": form}, status=400 if request.method == "POST" else 200)
    table: CsvTable = form.cleaned_data["csv_file"]
    columns, reason_column, rows = entry_columns(table)
    if not columns:
        form.add_error("csv_file", (
            f"No column of entries: name it Entry (or LinkedIn URL, Profile, Company). "
            f"The file's columns: {', '.join(table.headers[:20])}."
        ))
        return TemplateResponse(request, template, {"form": form}, status=400)
    texts, reasons, numbers, refused = [], [], [], []
    for row in rows:
        text = next((value for value in (cell(row, index) for index in columns) if value), "")
        if not text:
            refused.append(Refused(row.number, "", "No entry in this row."))
            continue
        texts.append(text)
        reasons.append(cell(row, reason_column))
        numbers.append(row.number)
    result = add_entries(texts, request.user, form.cleaned_data["reason"], reasons=reasons)
    refused = sorted(refused + refused_of(result, numbers), key=lambda item: item.number)
    summary = summary_of(result, refused, "row")
    (messages.success if not refused else messages.warning)(request, summary)
    if not refused:
        return HttpResponseRedirect(reverse("do_not_contact"))
    context = {
        "form": EntriesCsvForm(), "refused": refused, "added": len(result.added), "already": result.already,
        "filename": request.FILES["csv_file"].name,
    }
    return TemplateResponse(request, template, context)


@require_GET
def do_not_contact_export(request: HttpRequest) -> StreamingHttpResponse:
    """The whole list (or what the search selects) as CSV, with a UTF-8 BOM so that Excel reads
    accents right; streamed, so a long list never sits in memory."""
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    # The viewer's zone, taken now: the stream is written after the request's zone is gone.
    time_zone = shown_zone()
    rows = (
        (
            entry.value, entry.get_kind_display(), entry.reason,
            entry.added_by.get_username() if entry.added_by else "", local_time(entry.created_at, time_zone),
            entry.profile_url or "", entry.profile_urn or "", entry.company_name,
        )
        for entry in entries_listing(query).iterator(chunk_size=EXPORT_CHUNK_SIZE)
    )
    today = timezone.now().astimezone(time_zone).date()
    return csv_download(f"do-not-contact-{today:%Y-%m-%d}.csv", EXPORT_COLUMNS, rows)


@require_POST
def do_not_contact_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an entry (admins only): the people it blocked may be invited again."""
    if not request.user.is_staff:
        raise PermissionDenied("Only an admin may remove an entry from the do-not-contact list.")
    entry = get_object_or_404(DoNotContact, pk=pk)
    value = entry.value
    entry.delete()
    if request.htmx:
        return HttpResponse("")  # the row swaps itself out
    messages.success(request, f"Removed “{value}” from the do-not-contact list.")
    return HttpResponseRedirect(reverse("do_not_contact"))
