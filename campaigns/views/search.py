"""Find prospects: run OutX's search from one of the person's senders, watch its results arrive,
and add the people found to a campaign, the same way pasted profiles are added.

A search and its results are seen only by the person who ran it, or an admin (404 for anyone
else, so nobody learns that it exists). A member searches only from a sender they may use, and
adds only to a campaign they may change (403 otherwise).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from ..forms.search import AddResultsForm, SearchForm
from ..importing import save_batch
from ..models import Campaign, ProfileSearch, Sender, TaskState
from ..searches import entries_for, next_page_refusal, queue, result_rows, start_next_page, why_waiting
from .prospects import plural

ADD_REJECTED_SESSION_KEY = "search_add_rejected"
RECENT_SEARCHES = 10
# States the worker still moves on by itself: the page polls while the search is in one.
LIVE_STATES = (TaskState.QUEUED, TaskState.SUBMITTING, TaskState.PENDING)
ENDED_WITHOUT_RESULTS = (TaskState.NOT_SENT, TaskState.FAILED, TaskState.SKIPPED, TaskState.UNCERTAIN)


def get_search_for_user(request: HttpRequest, pk: int) -> ProfileSearch:
    """The search, if the requester may see it; 404 otherwise, as for one that does not exist."""
    search = ProfileSearch.objects.select_related("sender", "requested_by").filter(pk=pk).first()
    if search is None or not search.may_be_seen_by(request.user):
        raise Http404("No such search.")
    return search


def campaigns_to_add_to(user):
    """The campaigns the person may add prospects to: theirs (an admin's: all), not archived,
    as the paste page allows."""
    return Campaign.objects.changeable_by(user).exclude(state=Campaign.State.ARCHIVED).order_by("name", "pk")


@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SearchForm(request.POST, user=request.user)
        form.check_sender()
        if form.is_valid():
            profile_search = form.save_for(request.user)
            queue(profile_search)
            return redirect("search_detail", pk=profile_search.pk)
    else:
        form = SearchForm(user=request.user)
    context = {
        "form": form,
        "has_sender": Sender.objects.usable_by(request.user).exists(),
        "recent": ProfileSearch.objects.filter(requested_by=request.user).select_related("sender").order_by("-id")[:RECENT_SEARCHES],
    }
    return TemplateResponse(request, "campaigns/search.html", context)


def detail_context(request: HttpRequest, profile_search: ProfileSearch) -> dict:
    results = list(profile_search.results.all())
    live = profile_search.state in LIVE_STATES
    return {
        "search": profile_search,
        "live": live,
        "waiting": why_waiting(profile_search, timezone.now()),
        "rows": result_rows(profile_search, results),
        "campaigns": list(campaigns_to_add_to(request.user)) if results else [],
        "next_refusal": "" if live else next_page_refusal(profile_search),
        "following": ProfileSearch.objects.filter(previous=profile_search).order_by("id").first(),
        "first_number": profile_search.start + 1,
        # Why a search that ended without results did: the cause of its last move.
        "outcome": (
            profile_search.events.order_by("-at", "-id").values_list("cause", flat=True).first()
            if profile_search.state in ENDED_WITHOUT_RESULTS else ""
        ),
    }


@require_GET
def search_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    profile_search = get_search_for_user(request, pk)
    context = detail_context(request, profile_search)
    stored = request.session.pop(ADD_REJECTED_SESSION_KEY, None)
    context["rejected"] = stored["rejected"] if stored and stored.get("search") == profile_search.pk else []
    return TemplateResponse(request, "campaigns/search_detail.html", context)


@require_GET
def search_status(request: HttpRequest, pk: int) -> TemplateResponse:
    """The live part of the search's page, for its poll: 286 (stop polling) with the last
    update once the search has ended."""
    profile_search = get_search_for_user(request, pk)
    context = detail_context(request, profile_search)
    status = 200 if context["live"] else HTMX_STOP_POLLING
    return TemplateResponse(request, "campaigns/search_detail.html#status", context, status=status)


@require_POST
def search_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the chosen found profiles (or all of the page) to a campaign, through the very code
    that adds pasted profiles: the same checks, the same reasons per row."""
    profile_search = get_search_for_user(request, pk)
    posted = request.POST.get("campaign", "")
    campaign = Campaign.objects.filter(pk=posted).first() if posted.isdigit() else None
    if campaign is not None and not campaign.can_be_changed_by(request.user):
        raise PermissionDenied("Only the campaign's owner or an admin may add prospects to it.")
    if campaign is not None and campaign.state == Campaign.State.ARCHIVED:
        messages.error(request, f"“{campaign.name}” is archived: prospects can no longer be added to it.")
        return redirect("search_detail", pk=profile_search.pk)
    form = AddResultsForm(request.POST, search=profile_search, campaigns=campaigns_to_add_to(request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("search_detail", pk=profile_search.pk)
    campaign = form.cleaned_data["campaign"]
    results = profile_search.results.all()
    if form.cleaned_data["add"] == "selected":
        results = results.filter(pk__in=form.cleaned_data["results"])
    results = list(results)
    names = {result.position + 1: str(result) for result in results}
    result, plan = save_batch(campaign, entries_for(results))
    rejected = [
        [number, names.get(number, ""), reason]
        for number, reason in sorted(plan.statuses().items())
        if reason not in ("ok", "known")
    ]
    summary = (
        f"Added {plural(result.added, 'prospect')} to “{campaign.name}”; "
        f"{plural(len(rejected), 'person', 'people')} not added."
    )
    (messages.success if result.added else messages.warning)(request, summary)
    if rejected:
        request.session[ADD_REJECTED_SESSION_KEY] = {"search": profile_search.pk, "rejected": rejected}
    return redirect("search_detail", pk=profile_search.pk)


@require_POST
def search_next(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page is another search on the same sender, asked for once (a second click
    opens the one already asked for)."""
    profile_search = get_search_for_user(request, pk)
    if not profile_search.sender.may_be_used_by(request.user):
        raise PermissionDenied(f"You may not search from {profile_search.sender.name}.")
    following, refusal = start_next_page(profile_search, request.user)
    if following is None:
        messages.warning(request, refusal)
        return redirect("search_detail", pk=profile_search.pk)
    return redirect("search_detail", pk=following.pk)
