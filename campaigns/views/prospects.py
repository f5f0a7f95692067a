"""Adding prospects to a campaign: by pasting profiles, or by importing a CSV in two steps.

The uploaded CSV waits between the steps in a PendingUpload row, named in the URL by its
random key and readable only by its uploader, for at most PendingUpload.LIFETIME. It stays out
of the session, which every request of its user (each status poll, too) loads and decodes.
The rejected lines of a paste do stay in the session: at most 1,000 lines of 200 characters,
shown by the very next page (the redirect's target), which removes them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ..forms.prospects import ColumnMappingForm, CsvUploadForm, PasteProfilesForm
from ..importing import (
    CSV_FIELDS,
    CsvTable,
    Rejection,
    build_preview,
    guess_mapping,
    parse_pasted_profiles,
    rows_to_prospects,
    save_batch,
)
from ..models import Campaign, PendingUpload

PASTE_REJECTED_SESSION_KEY = "prospects_add_rejected"
PREVIEW_ROWS = 20
# What a rejected line or row keeps of its text once stored: enough to recognise it.
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
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def rejections_to_json(rejections: list[Rejection]) -> list[list]:
    return [[r.number, r.text[:REJECTED_TEXT_LIMIT], r.reason] for r in rejections]


def rejections_from_json(stored: list[list]) -> list[Rejection]:
    return [Rejection(number, text, reason) for number, text, reason in stored]


# --- Paste ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def prospects_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = changeable_campaign(request, pk)
    if campaign.state == Campaign.State.ARCHIVED:
        return refuse_archived(request, campaign)
    rejected: list[Rejection] = []
    if request.method == "POST":
        form = PasteProfilesForm(request.POST)
        if form.is_valid():
            entries, rejected = parse_pasted_profiles(form.cleaned_data["profiles"])
            result, _ = save_batch(campaign, entries)
            rejected = sorted(rejected + result.rejected, key=lambda rejection: rejection.number)
            summary = (
                f"Added {plural(result.added, 'prospect')}; {plural(len(rejected), 'line')} rejected; "
                f"{result.in_campaign:,} already in this campaign."
            )
            (messages.success if result.added else messages.warning)(request, summary)
            if not rejected:
                return redirect("campaign_detail", pk=campaign.pk)
            # Shown once on the next page, so the person can fix the lines and paste them again.
            request.session[PASTE_REJECTED_SESSION_KEY] = {
                "campaign": campaign.pk, "rejected": rejections_to_json(rejected),
            }
            return redirect("prospects_add", pk=campaign.pk)
    else:
        form = PasteProfilesForm()
        stored = request.session.pop(PASTE_REJECTED_SESSION_KEY, None)
        if stored and stored.get("campaign") == campaign.pk:
            rejected = rejections_from_json(stored["rejected"])
    context = {"campaign": campaign, "form": form, "rejected": rejected}
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
            (messages.success if result.added else messages.warning)(
                request,
                f"Imported {plural(result.added, 'prospect')}; {plural(len(rejections), 'row')} rejected.",
            )
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

    preview = None
    if form.is_bound and form.is_valid():
        preview = build_preview(campaign, table, form.mapping(), limit=PREVIEW_ROWS)
    context = {
        "campaign": campaign,
        "form": form,
        "token": token,
        "filename": upload.filename,
        "expires_at": upload.created_at + PendingUpload.LIFETIME,
        "row_count": len(table.rows),
        "preview": preview,
        "preview_limit": PREVIEW_ROWS,
    }
    if request.htmx:
        template_name += "#preview"
    return TemplateResponse(request, template_name, context)
