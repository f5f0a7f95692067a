"""Adding prospects to a campaign: by pasting profiles, or by importing a CSV in two steps.

The uploaded CSV waits between the steps in the person's session (the database-backed session
engine holds a few MB comfortably), keyed by a random token; only the latest upload is kept,
and the rows are replaced by the import's result once imported.
"""

from __future__ import annotations

import secrets
import time

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
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
from ..models import Campaign

UPLOAD_SESSION_KEY = "prospect_import"
PASTE_REJECTED_SESSION_KEY = "prospects_add_rejected"
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
PREVIEW_ROWS = 20
# What a rejected line or row keeps of its text in the session: enough to recognise it.
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


def rejections_to_session(rejections: list[Rejection]) -> list[list]:
    return [[r.number, r.text[:REJECTED_TEXT_LIMIT], r.reason] for r in rejections]


def rejections_from_session(stored: list[list]) -> list[Rejection]:
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
                "campaign": campaign.pk, "rejected": rejections_to_session(rejected),
            }
            return redirect("prospects_add", pk=campaign.pk)
    else:
        form = PasteProfilesForm()
        stored = request.session.pop(PASTE_REJECTED_SESSION_KEY, None)
        if stored and stored.get("campaign") == campaign.pk:
            rejected = rejections_from_session(stored["rejected"])
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
            token = secrets.token_urlsafe(16)
            # One upload per session: a new one replaces any earlier, keeping the session small.
            request.session[UPLOAD_SESSION_KEY] = {
                "token": token,
                "campaign": campaign.pk,
                "stored_at": time.time(),
                "filename": request.FILES["csv_file"].name[:200],
                "table": table.to_json(),
            }
            return redirect("prospects_import_map", pk=campaign.pk, token=token)
    else:
        form = CsvUploadForm()
    return TemplateResponse(request, "campaigns/prospects_import.html", {"campaign": campaign, "form": form})


# --- CSV import, step 2: the columns, the preview, the import ----------------------------------


def stored_upload(request: HttpRequest, campaign: Campaign, token: str) -> dict | None:
    stored = request.session.get(UPLOAD_SESSION_KEY)
    if (
        not stored
        or stored.get("campaign") != campaign.pk
        or not secrets.compare_digest(stored.get("token", "").encode(), token.encode())
    ):
        return None
    if time.time() - stored.get("stored_at", 0) > UPLOAD_MAX_AGE_SECONDS:
        del request.session[UPLOAD_SESSION_KEY]
        return None
    return stored


@require_http_methods(["GET", "POST"])
def prospects_import_map(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    campaign = changeable_campaign(request, pk)
    if campaign.state == Campaign.State.ARCHIVED:
        return refuse_archived(request, campaign)
    template_name = "campaigns/prospects_import_map.html"
    stored = stored_upload(request, campaign, token)
    if stored is None:
        return TemplateResponse(request, template_name, {"campaign": campaign, "expired": True}, status=404)
    if "result" in stored:
        if request.method == "POST":  # a second click on Import: it is done already
            return redirect("prospects_import_map", pk=campaign.pk, token=token)
        result = {"imported": stored["result"]["imported"], "rejected": rejections_from_session(stored["result"]["rejected"])}
        return TemplateResponse(request, template_name, {"campaign": campaign, "result": result, "filename": stored["filename"]})

    table = CsvTable.from_json(stored["table"])
    if request.method == "POST":
        form = ColumnMappingForm(request.POST, headers=table.headers)
        if form.is_valid():
            entries, rejected = rows_to_prospects(table.rows, form.mapping())
            result, plan = save_batch(campaign, entries)
            rejections = plan.all_rejections(rejected)
            (messages.success if result.added else messages.warning)(
                request,
                f"Imported {plural(result.added, 'prospect')}; {plural(len(rejections), 'row')} rejected.",
            )
            if not rejections:
                del request.session[UPLOAD_SESSION_KEY]
                return redirect("campaign_detail", pk=campaign.pk)
            # The rows are no longer needed; the rejected ones stay listed on this page.
            request.session[UPLOAD_SESSION_KEY] = {
                **{key: stored[key] for key in ("token", "campaign", "stored_at", "filename")},
                "result": {"imported": result.added, "rejected": rejections_to_session(rejections)},
            }
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
        "filename": stored["filename"],
        "row_count": len(table.rows),
        "preview": preview,
        "preview_limit": PREVIEW_ROWS,
    }
    if request.htmx:
        template_name += "#preview"
    return TemplateResponse(request, template_name, context)
