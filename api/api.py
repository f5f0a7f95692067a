"""The JSON API, version 1, mounted at /api/v1/ (docs/api.md): campaigns, adding prospects,
invitations with their history, and the do-not-contact list.

Every operation needs a personal token (api/auth.py) and acts as the token's user, by the
rules the pages follow: everyone may read everything, only a campaign's owner or an admin adds
prospects to it, and anyone adds do-not-contact entries (only admins remove them, on the admin
pages). Adding goes through the very functions the pages use, so a bad row gets the reason
the CSV import page gives it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils import timezone
from django.views.decorators.http import require_GET
from ninja import NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError

from campaigns import donotcontact
from campaigns.forms.review import ReviewFilterForm
from campaigns.importing import ALREADY_IN_CAMPAIGN, CSV_FIELDS, CsvRow, rows_to_prospects, save_batch
from campaigns.models import Campaign, ConnectionRequest, DoNotContact, Sender
from campaigns.views.prospects import changeable_campaign

from . import schemas
from .auth import TokenAuth, TokenRateThrottle, check_rates
from .pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, cursor_page

check_rates()

# The pages' own views (docs, schema, the bare root) keep the login; every operation takes a token.
SITE_VIEWS = {"openapi-json", "openapi-view", "api-root"}
DUPLICATE_ROW = "Duplicate of row "


class OutreachAPI(NinjaAPI):
    def _get_urls(self) -> list:
        """The URL patterns, each API operation exempt from the site's LoginRequiredMiddleware:
        it answers 401 without a token instead of sending a script to the login page. The docs
        page and the schema stay behind the login, as part of the site."""
        urls, routes = [], set()
        for pattern in super()._get_urls():
            # ninja adds a pattern per operation; the first of a path dispatches every method.
            if isinstance(pattern, URLPattern) and str(pattern.pattern) in routes:
                continue
            routes.add(str(pattern.pattern))
            if isinstance(pattern, URLPattern) and pattern.name not in SITE_VIEWS:
                login_not_required(pattern.callback)
            elif isinstance(pattern, URLPattern):
                # The docs and the schema are read, never posted to (ninja answers any method).
                pattern.callback = require_GET(pattern.callback)
            urls.append(pattern)
        return urls


api = OutreachAPI(
    title="Outreach API",
    version="1",
    description=(
        "Campaigns, prospects, invitations and the do-not-contact list of this Outreach site. "
        "Authenticate with a personal token made on your account page: `Authorization: Bearer ob_…`. "
        "Lists are newest first, paged with `cursor` (pass the previous page's `next_cursor`)."
    ),
    urls_namespace="api",
    auth=TokenAuth(),
)

read_limit = TokenRateThrottle("read")
write_limit = TokenRateThrottle("write")
ERRORS = {401: schemas.Problem, 429: schemas.Problem}


# --- Errors: each a JSON {"detail": …} -------------------------------------------------------


@api.exception_handler(AuthenticationError)
def refused_token(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": exc.message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


# --- Campaigns ----------------------------------------------------------------------------------


def campaign_out(campaign: Campaign, user) -> dict:
    return {
        "id": campaign.pk, "name": campaign.name, "state": campaign.state, "owner": campaign.owner.get_username(),
        "created_at": campaign.created_at, "launched_at": campaign.launched_at,
        "counts": dict(campaign.request_counts.by_state),
        "senders": [{"id": sender.pk, "name": sender.name} for sender in campaign.senders.all()],
        "can_add_prospects": campaign.can_be_changed_by(user),
    }


@api.get(
    "/campaigns", response={200: schemas.CampaignPage, **ERRORS}, throttle=read_limit, url_name="campaigns",
    summary="List campaigns", tags=["campaigns"],
)
def list_campaigns(
    request: HttpRequest,
    cursor: str | None = None,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    archived: bool = Query(False, description="List the archived campaigns instead of the others, as the page does."),
):
    """Newest first, each with its invitations counted per state and its senders. Everyone sees
    every campaign, as on the Campaigns page."""
    from django.db.models import Prefetch

    campaigns = (
        Campaign.objects.visible_to(request.user).select_related("owner")
        .prefetch_related(Prefetch("senders", queryset=Sender.objects.order_by("name", "pk")))
        .with_request_counts()
    )
    if archived:
        campaigns = campaigns.filter(state=Campaign.State.ARCHIVED)
    else:
        campaigns = campaigns.exclude(state=Campaign.State.ARCHIVED)
    page, next_cursor = cursor_page(campaigns, cursor, limit)
    return {"items": [campaign_out(campaign, request.user) for campaign in page], "next_cursor": next_cursor}


@api.post(
    "/campaigns/{int:campaign_id}/prospects",
    response={200: schemas.ProspectsResult, 403: schemas.Problem, 404: schemas.Problem, 409: schemas.Problem, **ERRORS},
    throttle=write_limit, url_name="campaign_prospects", summary="Add prospects to a campaign", tags=["campaigns"],
)
def add_prospects(request: HttpRequest, campaign_id: int, body: schemas.ProspectsIn):
    """Queue an invitation to each person, as pasting or a CSV import does: each item is checked
    alone and answered `added`, `already` (in the campaign, or named twice in this request) or
    `refused` with the reason the CSV import page would give. Only the campaign's owner or an
    admin may add (403 otherwise)."""
    try:
        campaign = changeable_campaign(request, campaign_id)  # the pages' own check
    except Http404:
        raise HttpError(404, f"There is no campaign {campaign_id}.") from None
    if campaign.state == Campaign.State.ARCHIVED:
        raise HttpError(409, f"“{campaign.name}” is archived: prospects can no longer be added to it.")
    # Each item becomes a CSV row with every column mapped, so it meets the import's own checks.
    fields = list(CSV_FIELDS)
    mapping = {name: column for column, name in enumerate(fields)}
    rows = [
        CsvRow(index, [getattr(item, name, None) or "" for name in fields])
        for index, item in enumerate(body.prospects)
    ]
    with transaction.atomic():
        entries, rejected = rows_to_prospects(rows, mapping)
        _, plan = save_batch(campaign, entries)
        not_added = {rejection.number: rejection.reason for rejection in plan.all_rejections(rejected)}
    results = []
    for index in range(len(rows)):
        reason = not_added.get(index)
        if reason is None:
            results.append({"index": index, "status": "added", "reason": ""})
            continue
        if reason.startswith(DUPLICATE_ROW):
            # The import names rows of a file; here they are items of this request.
            earlier = reason.removeprefix(DUPLICATE_ROW).split(" ", 1)[0]
            reason = f"Duplicate of item {earlier} in this request."
        already = reason == ALREADY_IN_CAMPAIGN or reason.startswith("Duplicate of item ")
        results.append({"index": index, "status": "already" if already else "refused", "reason": reason})
    return tally(results)


def tally(results: list[dict]) -> dict:
    counts = {status: sum(1 for r in results if r["status"] == status) for status in ("added", "already", "refused")}
    return {**counts, "results": results}


# --- Invitations --------------------------------------------------------------------------------


class InvitationFilters(schemas.Schema):
    campaign: int | None = None
    state: str | None = None
    sender: int | None = None
    response: Literal["replied", "not_interested", "none"] | None = None
    submitted_after: dt.datetime | None = None
    submitted_before: dt.datetime | None = None
    q: str | None = None


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is UTC's, as everything the API answers is."""
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, dt.timezone.utc)


def invitation_out(invitation: ConnectionRequest) -> dict:
    prospect = invitation.prospect
    return {
        "id": invitation.pk, "state": invitation.state,
        "campaign": {"id": invitation.campaign_id, "name": invitation.campaign.name},
        "sender": {"id": invitation.sender_id, "name": invitation.sender.name} if invitation.sender_id else None,
        "prospect": {
            name: getattr(prospect, name)
            for name in ("id", "first_name", "last_name", "company", "title", "headline", "location",
                         "profile_url", "profile_urn")
        },
        "note": invitation.note, "variant": invitation.variant, "response": invitation.response,
        "created_at": invitation.created_at, "submitted_at": invitation.submitted_at,
        "completed_at": invitation.completed_at, "accepted_at": invitation.accepted_at,
        "responded_at": invitation.responded_at, "last_error": invitation.last_error,
    }


def events_out(events) -> list[dict]:
    return [{"at": e.at, "from": e.from_state, "to": e.to_state, "cause": e.cause} for e in events]


@api.get(
    "/invitations", response={200: schemas.InvitationPage, 422: dict, **ERRORS}, throttle=read_limit,
    url_name="invitations", summary="List invitations", tags=["invitations"],
)
def list_invitations(
    request: HttpRequest,
    filters: Query[InvitationFilters],
    cursor: str | None = None,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    """Every invitation, as on the Review page and by its filters: without `state`, those that
    left the queue (`state=queued` lists the queue). Newest first (highest id, so that a page
    walks the primary key's index at any size); `q` matches every word in name, company, title,
    headline, profile URL or note (the prospects' stored search text, as on Review)."""
    data = {name: str(value) for name in ("campaign", "state", "sender", "q")
            if (value := getattr(filters, name)) is not None}
    form = ReviewFilterForm(data)  # the Review page's own filters
    if not form.is_valid():
        raise ValidationError([
            {"type": "value_error", "loc": ["query", name], "msg": " ".join(messages)}
            for name, messages in form.errors.items()
        ])
    requests = ConnectionRequest.objects.visible_to(request.user).select_related("prospect", "campaign", "sender")
    requests = form.filter_requests(requests)
    if filters.response == "none":
        requests = requests.filter(response="")
    elif filters.response:
        requests = requests.filter(response=filters.response)
    if filters.submitted_after:
        requests = requests.filter(submitted_at__gte=aware(filters.submitted_after))
    if filters.submitted_before:
        requests = requests.filter(submitted_at__lt=aware(filters.submitted_before))
    page, next_cursor = cursor_page(requests, cursor, limit)
    return {"items": [invitation_out(invitation) for invitation in page], "next_cursor": next_cursor}


@api.get(
    "/invitations/{int:invitation_id}", response={200: schemas.InvitationDetail, 404: schemas.Problem, **ERRORS},
    throttle=read_limit, url_name="invitation", summary="One invitation with its history", tags=["invitations"],
    by_alias=True,
)
def get_invitation(request: HttpRequest, invitation_id: int):
    """The invitation, every state change it went through (oldest first, with the cause) and
    its follow-up message, if any: what its page on Review shows."""
    invitation = (
        ConnectionRequest.objects.visible_to(request.user).select_related("prospect", "campaign", "sender", "followup")
        .filter(pk=invitation_id).first()
    )
    if invitation is None:
        raise HttpError(404, f"There is no invitation {invitation_id}.")
    followup = getattr(invitation, "followup", None)
    return {
        **invitation_out(invitation),
        "history": events_out(invitation.events.filter(followup__isnull=True)),
        "followup": {
            "state": followup.state, "message": followup.message,
            "submitted_at": followup.submitted_at, "completed_at": followup.completed_at,
            "history": events_out(followup.events.all()),
        } if followup else None,
    }


# --- Do not contact -----------------------------------------------------------------------------


@api.get(
    "/do-not-contact", response={200: schemas.DoNotContactPage, **ERRORS}, throttle=read_limit,
    url_name="do_not_contact", summary="List the do-not-contact list", tags=["do-not-contact"],
)
def list_do_not_contact(
    request: HttpRequest, cursor: str | None = None, limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    """The team's entries, newest first."""
    entries = DoNotContact.objects.select_related("added_by")
    page, next_cursor = cursor_page(entries, cursor, limit)
    items = [
        {"id": entry.pk, "kind": entry.kind, "value": entry.value, "reason": entry.reason,
         "added_by": entry.added_by.get_username() if entry.added_by else None, "created_at": entry.created_at}
        for entry in page
    ]
    return {"items": items, "next_cursor": next_cursor}


@api.post(
    "/do-not-contact", response={200: schemas.EntriesResult, **ERRORS}, throttle=write_limit,
    url_name="do_not_contact", summary="Add do-not-contact entries", tags=["do-not-contact"],
)
def add_do_not_contact(request: HttpRequest, body: schemas.EntriesIn):
    """Add people (profile URL or URN) and companies (name or LinkedIn company page), each with
    its reason, as the list's page does: each entry `added`, `already` on the list, or `refused`
    with the reason. Removing entries is for admins, on the site."""
    results = []
    with transaction.atomic():
        for index, entry in enumerate(body.entries):
            if not entry.value.strip():
                results.append({"index": index, "status": "refused", "reason": "The entry is empty."})
                continue
            added = donotcontact.add_entries([entry.value], request.user, entry.reason)
            if added.added:
                results.append({"index": index, "status": "added", "reason": ""})
            elif added.already:
                results.append({"index": index, "status": "already", "reason": "Already on the do-not-contact list."})
            else:
                reason = added.rejected[0][1] if added.rejected else "Not added."
                results.append({"index": index, "status": "refused", "reason": reason})
    return tally(results)


