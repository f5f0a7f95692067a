"""Adding prospects to a campaign: by pasting profiles, or by importing a CSV in two steps.

A paste adds what it can at once; the lines it refused come back in the box, alone, with
their reasons, to be fixed and added again (as Waalaxy and lemlist keep a failed import's rows).

The uploaded CSV waits between the steps in a PendingUpload row, named in the URL by its
random key and readable only by its uploader, for at most PendingUpload.LIFETIME. It stays out
of the session, which every request of its user (each status poll, too) loads and decodes.
Its preview checks every row before anything is imported: the counts, every row that will not
be added or whose note lacks a value, and those rows as a CSV to fix in a spreadsheet.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from ..csvexport import csv_download

from ..forms.prospects import ColumnMappingForm, CsvUploadForm, PasteProfilesForm
from ..importing import (
    CSV_FIELDS,
    DO_NOT_CONTACT,
    IN_CAMPAIGN,
    PREVIEW_LISTED_ROWS,
    PROBLEM_COLUMNS,
    REFUSED,
    REPEATED,
    CsvTable,
    NoteGap,
    Rejection,
    add_pasted_profiles,
    build_preview,
    counted,
    guess_mapping,
    note_gap_summaries,
    note_gaps,
    note_needs,
    outcome_summary,
    problem_rows,
    rows_to_prospects,
    save_batch,
)
from ..models import Campaign, PendingUpload
from ..notes import NOTE_VARIABLES

# What a rejected row keeps of its text once stored: enough to recognise it.
REJECTED_TEXT_LIMIT = 200


def changeable_campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign = get_object_or_404(Campaign.objects.select_related("owner"), pk=pk)
    if not campaign.can_be_changed_by(request.user):
        raise PermissionDenied("Only the campaign's owner or an admin may add prospects to it.")
    return campaign


def refuse_archived(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    messages.error(request, f"“{campaign.name}” is archived: prospects can no longer be added to it.")
    return redirect("campaign_detail", pk=campaign.pk)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return counted(count, singular, plural_form)


def rejections_to_json(rejections: list[Rejection]) -> list[list]:
    return [[r.number, r.text[:REJECTED_TEXT_LIMIT], r.reason] for r in rejections]


def rejections_from_json(stored: list[list]) -> list[Rejection]:
    return [Rejection(number, text, reason) for number, text, reason in stored]


# --- Paste ----------------------------------------------------------------------------------


def needed_variables(campaign: Campaign) -> NoteGap | None:
    """What the note needs without a fallback ({first_name} and {company}), as a prospect with
    none of the values lacks it; None when every variable has a fallback."""
    needs = note_needs(campaign)
    return NoteGap(tuple(name for name in NOTE_VARIABLES if name in needs)) if needs else None


@require_http_methods(["GET", "POST"])
def prospects_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = changeable_campaign(request, pk)
    if campaign.state == Campaign.State.ARCHIVED:
        return refuse_archived(request, campaign)
    refused: list[Rejection] = []
    if request.method == "POST":
        form = PasteProfilesForm(request.POST)
        if form.is_valid():
            result = add_pasted_profiles(campaign, form.cleaned_data["profiles"])
            (messages.success if result.added and not result.refused else messages.warning)(request, result.summary)
            for summary in note_gap_summaries(result.gaps.values(), "prospect added", "prospects added"):
                messages.warning(request, summary)
            if not result.refused:
                return redirect("campaign_detail", pk=campaign.pk)
            # Only the refused lines go back in the box, as typed; the others are in the campaign.
            form = PasteProfilesForm(initial={"profiles": result.kept_text})
            refused = result.refused
    else:
        form = PasteProfilesForm()
    context = {"campaign": campaign, "form": form, "rejected": refused, "needs": needed_variables(campaign)}
    return TemplateResponse(request, "campaigns/prospects_add.html", context)


# --- CSV import, step 1: the file -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def prospects_import(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = changeable_campaign(request, pk)
    if campaign.state == Campaign.State.ARCHIVED:
        return refuse_archived(request, campaign)
    if request.method == "POST":
        form = CsvUploadForm(request.POST, request.FILES)
        if form.is_valid():
            table: CsvTable = form.cleaned_data["csv_file"]
            upload = PendingUpload.store(
                owner=request.user,
                campaign=campaign,
                filename=request.FILES["csv_file"].name,
                table=table.to_json(),
                now=timezone.now(),
            )
            return redirect("prospects_import_map", pk=campaign.pk, token=upload.key)
    else:
        form = CsvUploadForm()
    context = {"campaign": campaign, "form": form, "lifetime_hours": PendingUpload.LIFETIME_HOURS}
    return TemplateResponse(request, "campaigns/prospects_import.html", context)


# --- CSV import, step 2: the columns, the preview, the import ----------------------------------


def uploaded_by(request: HttpRequest, campaign: Campaign, token: str) -> PendingUpload | None:
    """The requester's own upload `token` for this campaign: another person's, another
    campaign's or a missing one is None alike, so nobody learns whether it exists."""
    return PendingUpload.objects.of_uploader(request.user).filter(campaign=campaign, key=token).first()


@require_http_methods(["GET", "POST"])
def prospects_import_map(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    campaign = changeable_campaign(request, pk)
    if campaign.state == Campaign.State.ARCHIVED:
        return refuse_archived(request, campaign)
    template_name = "campaigns/prospects_import_map.html"
    upload = uploaded_by(request, campaign, token)
    now = timezone.now()
    if upload is None or upload.has_expired(now):
        # Left for the next upload to delete: a GET only reads.
        context = {
            "campaign": campaign,
            "gone": True,
            "expired": upload is not None,
            "lifetime_hours": PendingUpload.LIFETIME_HOURS,
        }
        return TemplateResponse(request, template_name, context, status=404)
    if upload.imported_at is not None:
        if request.method == "POST":  # a second click on Import: it is done already
            return redirect("prospects_import_map", pk=campaign.pk, token=token)
        result = {
            "imported": upload.result["imported"],
            "rejected": rejections_from_json(upload.result["rejected"]),
        }
        context = {"campaign": campaign, "result": result, "filename": upload.filename}
        return TemplateResponse(request, template_name, context)

    table = CsvTable.from_json(upload.table)
    if request.method == "POST":
        form = ColumnMappingForm(request.POST, headers=table.headers)
        if form.is_valid():
            with transaction.atomic():
                if not upload.claim_for_import(now):  # another click or tab imported it meanwhile
                    return redirect("prospects_import_map", pk=campaign.pk, token=token)
                entries, rejected = rows_to_prospects(table.rows, form.mapping())
                result, plan = save_batch(campaign, entries)
                rejections = plan.all_rejections(rejected)
                # The rejected rows stay listed on this page until the upload expires.
                upload.record_import(result.added, rejections_to_json(rejections))
            kinds = Counter(rejection.kind for rejection in rejections)
            summary = outcome_summary(
                result.added, kinds[IN_CAMPAIGN], kinds[REPEATED], kinds[REFUSED] + kinds[DO_NOT_CONTACT], "row"
            )
            (messages.success if result.added and not rejections else messages.warning)(request, summary)
            for gap_summary in note_gap_summaries(note_gaps(campaign, plan).values(), "prospect added", "prospects added"):
                messages.warning(request, gap_summary)
            if not rejections:
                return redirect("campaign_detail", pk=campaign.pk)
            return redirect("prospects_import_map", pk=campaign.pk, token=token)
    elif any(name in request.GET for name in CSV_FIELDS):
        form = ColumnMappingForm(request.GET, headers=table.headers)
    else:
        guessed = ColumnMappingForm.initial_from(guess_mapping(table.headers, table.rows))
        if "profile_url" in guessed or "profile_urn" in guessed:
            # The guess is usually right: preview it at once, so one click imports.
            form = ColumnMappingForm(guessed, headers=table.headers)
        else:
            form = ColumnMappingForm(initial=guessed, headers=table.headers)

    preview = problems_url = None
    if form.is_bound and form.is_valid():
        preview = build_preview(campaign, table, form.mapping())
        problems_url = reverse("prospects_import_problems", args=[campaign.pk, token])
        problems_url += "?" + urlencode(preview.mapping_fields())
    context = {
        "campaign": campaign,
        "form": form,
        "token": token,
        "filename": upload.filename,
        "expires_at": upload.created_at + PendingUpload.LIFETIME,
        "row_count": len(table.rows),
        "preview": preview,
        "problems_url": problems_url,
        "listed_rows": PREVIEW_LISTED_ROWS,
    }
    if request.htmx:
        template_name += "#preview"
    return TemplateResponse(request, template_name, context)


@require_GET
def prospects_import_problems(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The rows the preview lists (not added, or added with a warning), as the file had them,
    each after its row number and its problem: a CSV to fix in a spreadsheet and import again."""
    campaign = changeable_campaign(request, pk)
    upload = uploaded_by(request, campaign, token)
    if upload is None or upload.has_expired(timezone.now()) or upload.imported_at is not None:
        raise Http404("This upload is no longer available.")
    table = CsvTable.from_json(upload.table)
    form = ColumnMappingForm(request.GET, headers=table.headers)
    if not form.is_valid():
        return redirect("prospects_import_map", pk=campaign.pk, token=token)
    preview = build_preview(campaign, table, form.mapping())
    return csv_download(f"rows-to-fix-{campaign.pk}.csv", PROBLEM_COLUMNS + table.headers, problem_rows(preview, table))
