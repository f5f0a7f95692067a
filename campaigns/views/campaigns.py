"""Campaign pages: the list, create and edit, a campaign's page with its live status, and what
a person may do to a campaign or to one of its requests.

Everyone logged in may look at every campaign; only its owner or a staff user may change it,
and only someone allowed on every one of its senders may make it send (403 otherwise).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from .. import pacing
from ..donotcontact import put_prospect
from ..forms.campaigns import CampaignForm
from ..models import (
    OLD_INVITATION_AGE_TEXT, REQUEST_TABS, UNSENDABLE, Campaign, ConnectionRequest, Event, FollowUp, RequestCounts,
    Sender,
)
from ..params import parse_page
from ..sending import submission_decision, waiting_reason

CAMPAIGNS_PER_PAGE = 25
REQUESTS_PER_PAGE = 50

# Follow-up states the worker moves on by itself.
OPEN_FOLLOWUP_STATES = (FollowUp.State.QUEUED, FollowUp.State.SUBMITTING, FollowUp.State.PENDING)
UNANSWERED_WARNING = f"Unanswered for over {OLD_INVITATION_AGE_TEXT}"
NO_SENDER_REASON = "Waiting for a sender: choose one in Edit."
# How often the live page asks for news (CampaignSummary.poll_seconds).
FAST_POLL_SECONDS = 3
SLOW_POLL_SECONDS = 60


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign's counts, and a fingerprint of everything its live status shows."""

    counts: RequestCounts
    fingerprint: str
    open_followups: int  # queued, submitting or pending
    followups_to_come: int  # accepted invitations without a follow-up yet
    per_sender: dict[int, int]  # the campaign's invitations per sender id
    unsendable: int  # queued invitations whose note cannot be sent (models.UNSENDABLE)

    def poll_seconds(self, campaign: Campaign) -> int | None:
        """How often the live page asks what changed, by what may still change without a
        person acting on this page; None once nothing can (the status view then answers 286).

        Often while the worker moves something on soon: an invitation or a follow-up being
        submitted or with OutX (in any campaign state: OutX is asked until it answers), queued
        invitations it can send while the campaign sends, a follow-up still to be written.
        Slowly while only sent invitations wait: any of them may be accepted days or weeks
        later, or never, and the acceptance check reads them a few times an hour in every
        campaign, even a paused or archived one. So a campaign stops being polled only when
        nothing is in flight and nothing sent waits for an acceptance."""
        sends = campaign.state == Campaign.State.ACTIVE
        # Follow-ups are queued only while the campaign is active and has a follow-up message.
        to_come = self.followups_to_come if sends and campaign.followup_template else 0
        sendable_queued = self.counts.by_state[ConnectionRequest.State.QUEUED] - self.unsendable if sends else 0
        if self.counts.in_flight + self.open_followups + to_come + sendable_queued > 0:
            return FAST_POLL_SECONDS
        if self.counts.awaiting_acceptance:
            return SLOW_POLL_SECONDS
        return None


def senders_of(campaign: Campaign) -> list[Sender]:
    """In one query, the senders the campaign's page speaks of: those it sends from now
    (`in_campaign`), and those its earlier invitations went out from (a request keeps its
    sender for life, even after its campaign dropped it or it retired)."""
    chosen = Campaign.senders.through.objects.filter(campaign=campaign, sender=OuterRef("pk"))
    used = Q(pk__in=campaign.senders.values("pk")) | Q(pk__in=campaign.requests.values("sender_id"))
    return list(Sender.objects.filter(used).annotate(in_campaign=Exists(chosen)).order_by("name", "pk"))


def summarise(campaign: Campaign, senders: list[Sender], now: dt.datetime) -> CampaignSummary:
    """Counts and fingerprint in one aggregate query, cheap enough for every poll; it grows
    with the campaign's senders (`senders_of`), never with its rows.

    Worker updates that skip `updated_at` (profile look-ups, re-rendered notes) still show up
    in the looked-up and note-problem counts; a sender's row changes with every submission.
    A follow-up is joined one to one, so its changes count without repeating a request.
    """
    per_sender = {}
    for sender in senders:
        stale_before = now - dt.timedelta(days=sender.stale_after_days)
        per_sender[f"sender_{sender.pk}"] = Count("id", filter=Q(sender_id=sender.pk))
        per_sender[f"stale_{sender.pk}"] = Count(
            "id", filter=Q(sender_id=sender.pk, state=ConnectionRequest.State.PENDING, submitted_at__lt=stale_before)
        )
    values = campaign.requests.aggregate(
        **RequestCounts.annotations(),
        **per_sender,
        latest_change=Max("updated_at"),
        looked_up=Count("id", filter=Q(prospect__profile_urn__isnull=False)),
        lookups_failed=Count("id", filter=~Q(prospect__lookup_error="")),
        note_problems=Count("id", filter=~Q(note_problem="")),
        unsendable=Count("id", filter=UNSENDABLE),
        without_sender=Count("id", filter=Q(sender__isnull=True)),
        followups=Count("followup"),
        followups_changed=Max("followup__updated_at"),
        open_followups=Count("followup", filter=Q(followup__state__in=OPEN_FOLLOWUP_STATES)),
        # A marked answer means no follow-up will ever be written (followups.queue_due_followups).
        followups_to_come=Count(
            "id", filter=Q(state=ConnectionRequest.State.ACCEPTED, followup__isnull=True, response="")
        ),
    )
    seen = (
        campaign.state, campaign.updated_at,
        [
            (sender.pk, sender.in_campaign, sender.state, sender.updated_at, within_working_hours(sender, now))
            for sender in senders
        ],
        sorted(values.items()),
    )
    fingerprint = hashlib.sha256(repr(seen).encode()).hexdigest()[:20]
    return CampaignSummary(
        RequestCounts.from_values(values), fingerprint, values["open_followups"], values["followups_to_come"],
        {sender.pk: values[f"sender_{sender.pk}"] for sender in senders}, values["unsendable"],
    )


def within_working_hours(account: Sender, now: dt.datetime) -> bool:
    # Why queued requests wait changes when working hours open or close, with no row changing.
    try:
        return pacing.next_working_moment(account, now) <= now
    except ValueError:
        return False


# --- Why a request waits ------------------------------------------------------------------------


def explain_waiting(rows: Iterable[ConnectionRequest], campaign: Campaign, team: Sender, now: dt.datetime) -> None:
    """Give each row `.waiting` (why it is not moving), `.stale_warning` and `.unanswered_warning`,
    each "" if none, by the rules the worker itself follows (`ConnectionRequest.why_waiting`),
    each by its own sender (load the rows with their sender).

    A sender's own reason is the same for every queued request it sends, so it is asked once
    per sender. A queued row without a sender waits for one to be chosen; `team` (the first
    sender) only gives such a row a time zone. Rows annotated `unanswered_too_long` (see
    `requests_listing`) are marked for withdrawal by hand; a skipped row annotated
    `skip_reason` says why it left the queue.
    """

    @functools.cache
    def sender_reason(sender_id: int) -> str:
        sender = senders[sender_id]
        return waiting_reason(sender, submission_decision(sender, now)) or "Next in line"

    senders = {row.sender_id: row.sender for row in rows if row.sender_id}
    for row in rows:
        row.campaign = campaign  # the page's own copy: no query per row
        if row.sender_id is None:
            row.waiting = row.why_waiting(team, now, lambda: NO_SENDER_REASON)
            row.stale_warning = ""
        else:
            row.waiting = row.why_waiting(row.sender, now, functools.partial(sender_reason, row.sender_id))
            row.stale_warning = row.why_stale(row.sender, now)
        row.unanswered_warning = UNANSWERED_WARNING if getattr(row, "unanswered_too_long", False) else ""
        if row.state == ConnectionRequest.State.SKIPPED:
            row.waiting = getattr(row, "skip_reason", None) or ""  # why it left the queue, in its own words


def sender_problems(senders: list[Sender], user) -> list[str]:
    """Whether `user` may not use one of the campaign's senders (`senders_of` it), so that
    launching or resuming would answer 403 — said before the button is pressed, with what
    `Campaign.check_senders_usable_by` would refuse. (No sender at all: launch_problems.)"""
    chosen = [sender for sender in senders if sender.in_campaign]
    usable = set(Sender.objects.usable_by(user).values_list("pk", flat=True))
    refused = ", ".join(sender.name for sender in chosen if sender.pk not in usable)
    if refused:
        return [f"You may not send from {refused}: an admin may add you to it, or choose another sender in Edit."]
    return []


# --- What a person may do to a campaign -----------------------------------------------------------


@dataclass(frozen=True)
class CampaignAction:
    """A button on the campaign page for one of the person-made moves in `Campaign.MOVES`."""

    name: str  # also the Campaign method that takes it
    target: str

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @property
    def done(self) -> str:  # for the message: "Launched “Lisbon founders”."
        return Campaign.ACTIONS_DONE[self.name]

    @property
    def needs_launch_check(self) -> bool:
        return self.target == Campaign.State.ACTIVE


CAMPAIGN_ACTIONS = {name: CampaignAction(name, target) for (_, target), name in Campaign.MOVES.items() if name}


def allowed_actions(campaign: Campaign) -> list[CampaignAction]:
    return [CAMPAIGN_ACTIONS[name] for name in campaign.actions()]


# --- What a person may do to one request ----------------------------------------------------------


@dataclass(frozen=True)
class RequestAction:
    name: str
    from_state: str
    done: str
    on_followup: bool = False  # acts on the request's follow-up message, not the invitation
    method: str = ""  # the model method; the action's name when empty

    def target(self, row: ConnectionRequest):
        return getattr(row, "followup", None) if self.on_followup else row


REQUEST_ACTIONS = {
    action.name: action
    for action in (
        RequestAction("retry", ConnectionRequest.State.UNCERTAIN, "Put back in the queue"),
        RequestAction("close", ConnectionRequest.State.UNCERTAIN, "Closed without resending"),
        RequestAction("remove", ConnectionRequest.State.QUEUED, "Removed before submission"),
        RequestAction("followup-retry", FollowUp.State.UNCERTAIN, "Follow-up put back in the queue", True, "retry"),
        RequestAction("followup-close", FollowUp.State.UNCERTAIN, "Follow-up closed without resending", True, "close"),
    )
}


# --- Shared by the campaign page and its live status ----------------------------------------------


def get_campaign(pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("owner"), pk=pk)


def get_changeable_campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign = get_campaign(pk)
    if not campaign.can_be_changed_by(request.user):
        raise PermissionDenied("Only the campaign's owner or an admin may change it.")
    return campaign


def listing_params(data: Mapping[str, str]) -> tuple[str, int]:
    """The request table's state filter and page, from a query string or a posted form.

    Total: a state that is no state means all of them, a page that is no number means page 1.
    """
    state_filter = data.get("state", "")
    if state_filter not in ConnectionRequest.State.values:
        state_filter = ""
    return state_filter, parse_page(data.get("page"))


def state_filter_problem(data: Mapping[str, str]) -> str:
    """Why the state filter asked for is left out; empty when it is fine or not asked for."""
    asked = data.get("state", "")
    if not asked or asked in ConnectionRequest.State.values:
        return ""
    if len(asked) > 40:
        asked = asked[:40] + "…"
    states = ", ".join(str(label) for label in ConnectionRequest.State.labels)
    return f"“{asked}” is not an invitation state, so all invitations are shown. Filter by one of: {states}."


def sender_param(data: Mapping[str, str]) -> int | None:
    """The sender filter's id as asked (`?sender=<id>`); None when it is no id."""
    value = data.get("sender", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def campaign_page_url(
    campaign: Campaign, state_filter: str = "", page: int = 1, sender_filter: int | None = None
) -> str:
    params = {key: value for key, value in (("state", state_filter), ("sender", sender_filter)) if value}
    if page != 1:
        params["page"] = page
    url = reverse("campaign_detail", args=[campaign.pk])
    return f"{url}?{urlencode(params)}" if params else url


def status_context(
    request: HttpRequest, campaign: Campaign, senders: list[Sender], now: dt.datetime, summary: CampaignSummary
) -> dict:
    """Everything the status partial shows: state, actions, counts, acceptance rates, the
    senders, and one page of requests with their follow-ups, filtered by state and sender."""
    state_filter, page_number = listing_params(request.GET)
    sender_filter = sender_param(request.GET)
    if sender_filter not in {sender.pk for sender in senders}:
        sender_filter = None  # not one of this campaign's: all of them
    requests = requests_listing(campaign, now)
    if state_filter:
        requests = requests.filter(state__in=REQUEST_TABS[state_filter])
    if sender_filter:
        requests = requests.filter(sender_id=sender_filter)
    page = Paginator(requests, REQUESTS_PER_PAGE).get_page(page_number)
    page.object_list = list(page.object_list)
    team = Sender.get()  # the team's time zone, for the times shown
    explain_waiting(page.object_list, campaign, team, now)

    can_change = campaign.can_be_changed_by(request.user)
    launch_problems = []
    if campaign.state in (Campaign.State.DRAFT, Campaign.State.PAUSED, Campaign.State.COMPLETED):
        # As Campaign.act checks it: a campaign that has run resumes despite unsendable notes.
        launch_problems = campaign.launch_problems(resuming=campaign.state != Campaign.State.DRAFT)
        if can_change:
            launch_problems = sender_problems(senders, request.user) + launch_problems
    status_params = {
        "v": summary.fingerprint, "seen": seen_param(campaign, summary.counts),
        "state": state_filter, "sender": sender_filter, "page": page.number,
    }
    show_variants = len(campaign.variants()) > 1

    def listing_url(state: str = state_filter, sender: int | None = sender_filter, page_number: int = 1) -> str:
        return campaign_page_url(campaign, state, page_number, sender)

    return {
        "campaign": campaign,
        "account": team,
        "campaign_senders": [sender for sender in senders if sender.in_campaign],
        "now": now,
        "counts": summary.counts,
        "fingerprint": summary.fingerprint,
        "poll_seconds": summary.poll_seconds(campaign),
        "status_url": reverse("campaign_status", args=[campaign.pk]) + "?" + urlencode(
            {key: value for key, value in status_params.items() if value}
        ),
        "page_obj": page,
        "page_number": page.number,
        "state_filter": state_filter,
        "sender_filter": sender_filter or "",
        # Each filter keeps the other; changing either starts again at page 1.
        "all_states_url": listing_url(state=""),
        # A tab for each state some invitation is in, and the one shown even when it empties.
        "state_links": [
            (state, label, count, listing_url(state=state))
            for state, label, count in summary.counts.per_state()
            if count or state == state_filter
        ],
        "all_senders_url": listing_url(sender=None),
        "sender_links": [
            (sender, summary.per_sender[sender.pk], listing_url(sender=sender.pk)) for sender in senders
        ] if len(senders) > 1 else [],
        "previous_url": listing_url(page_number=page.previous_page_number()) if page.has_previous() else "",
        "next_url": listing_url(page_number=page.next_page_number()) if page.has_next() else "",
        "can_change": can_change,
        "actions": allowed_actions(campaign) if can_change else [],
        "launch_problems": launch_problems,
        "show_variants": show_variants,
        "variant_rows": campaign.variant_stats() if show_variants else [],
        "unanswered_count": campaign.requests.old_unanswered(now).count(),
        "unsendable_count": summary.unsendable,
        "unsendable_reasons": campaign.unsendable_reasons() if summary.unsendable else [],
        "unanswered_review_url": reverse("review") + "?" + urlencode({"campaign": campaign.pk, "old_unanswered": "on"}),
    }


# --- What the live page announces ---------------------------------------------------------------

# What a screen reader hears when the counts move on between two polls, in this order: each a
# number of invitations that reached one of these states since, and the words for it.
ANNOUNCED_CHANGES = (
    ("submitted to OutX", ("pending", "sent", "accepted", "not_sent", "uncertain")),
    ("sent", ("sent", "accepted")),
    ("accepted", ("accepted",)),
    ("not sent", ("not_sent",)),
    ("skipped", ("skipped",)),
    ("refused by OutX", ("failed",)),
    ("uncertain: check LinkedIn", ("uncertain",)),
)


def seen_param(campaign: Campaign, counts: RequestCounts) -> str:
    """What the page shows, in its poll's URL, so the next change can be announced against it:
    "active.3-0-2-5-0-1-0-0-0", the state and the count per request state."""
    return f"{campaign.state}." + "-".join(str(counts.by_state[state]) for state in ConnectionRequest.State.values)


def read_seen_param(value: str) -> tuple[str, dict[str, int]] | None:
    """`seen_param` read back; None for anything else (an old page, a hand-made URL)."""
    state, _, numbers = value.partition(".")
    parts = numbers.split("-")
    states = ConnectionRequest.State.values
    if state not in Campaign.State.values or len(parts) != len(states):
        return None
    if not all(part.isascii() and part.isdigit() and len(part) < 10 for part in parts):
        return None
    return state, dict(zip(states, map(int, parts), strict=True))


def announcement(seen: str, campaign: Campaign, counts: RequestCounts) -> str:
    """What changed since the page's last update, in a sentence for its polite live region:
    "2 invitations sent, 1 accepted." "" when nothing worth saying did (or the page is unknown)."""
    before = read_seen_param(seen)
    if before is None:
        return ""
    state_before, counts_before = before
    news = []
    for words, states in ANNOUNCED_CHANGES:
        more = sum(counts.by_state[state] - counts_before[state] for state in states)
        if more > 0:
            news.append(f"{more} {words}" if news else f"{more} invitation{'s' if more != 1 else ''} {words}")
    sentence = ", ".join(news) + "." if news else ""
    if campaign.state != state_before:
        sentence = f"The campaign is {campaign.get_state_display().lower()} now. {sentence}".strip()
    return sentence


def requests_listing(campaign: Campaign, now: dt.datetime):
    """The campaign's requests for its table, with prospect and follow-up in the same query, each
    marked `unanswered_too_long` when it is an invitation a person may want to withdraw, and
    with `skip_reason`, the cause of its move to skipped (None for the other states)."""
    unanswered = ConnectionRequest.objects.old_unanswered(now).filter(pk=OuterRef("pk"))
    skip_reason = (
        Event.objects.filter(connection_request=OuterRef("pk"), to_state=ConnectionRequest.State.SKIPPED)
        .order_by("-at", "-id").values("cause")[:1]
    )
    return (
        campaign.requests.select_related("prospect", "followup", "sender")
        .annotate(unanswered_too_long=Exists(unanswered), skip_reason=Subquery(skip_reason))
        .order_by("created_at", "id")
    )


# --- Views ------------------------------------------------------------------------------------------


@require_GET
def campaign_list(request: HttpRequest) -> TemplateResponse:
    show_archived = request.GET.get("show") == "archived"
    campaigns = (
        Campaign.objects.select_related("owner")
        .prefetch_related(Prefetch("senders", queryset=Sender.objects.order_by("name", "pk")))
        .with_request_counts()
        .order_by("-created_at", "-id")  # an aggregate drops Meta.ordering
    )
    if show_archived:
        campaigns = campaigns.filter(state=Campaign.State.ARCHIVED)
    else:
        campaigns = campaigns.exclude(state=Campaign.State.ARCHIVED)
    mine = request.GET.get("mine") == "1"  # "My campaigns", kept in the URL
    if mine:
        campaigns = campaigns.owned_by(request.user)
    page = Paginator(campaigns, CAMPAIGNS_PER_PAGE).get_page(parse_page(request.GET.get("page")))
    context = {"page_obj": page, "show_archived": show_archived, "mine": mine}
    return TemplateResponse(request, "campaigns/campaign_list.html", context)


@transaction.atomic
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> TemplateResponse | HttpResponseRedirect:
    form = CampaignForm(request.POST or None, user=request.user)
    form.check_chosen_senders()
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.owner = request.user
        campaign.save_edited(senders=form.cleaned_data["senders"])
        messages.success(request, f"Campaign “{campaign.name}” created. Add prospects to it next.")
        return HttpResponseRedirect(reverse("campaign_detail", args=[campaign.pk]))
    return TemplateResponse(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> TemplateResponse | HttpResponseRedirect:
    campaign = get_changeable_campaign(request, pk)
    form = CampaignForm(request.POST or None, instance=campaign, user=request.user)
    form.check_chosen_senders()
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.save_edited(senders=form.cleaned_data["senders"])
        messages.success(request, f"Campaign “{campaign.name}” saved.")
        return HttpResponseRedirect(reverse("campaign_detail", args=[campaign.pk]))
    # The form's instance holds the posted values by now; the page names the saved campaign.
    saved = get_campaign(pk)
    return TemplateResponse(request, "campaigns/campaign_form.html", {"form": form, "campaign": saved})


@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    campaign = get_campaign(pk)
    senders = senders_of(campaign)
    now = timezone.now()
    problem = state_filter_problem(request.GET)
    if problem:
        messages.warning(request, problem)
    context = status_context(request, campaign, senders, now, summarise(campaign, senders, now))
    return TemplateResponse(request, "campaigns/campaign_detail.html", context)


@require_GET
def campaign_status(request: HttpRequest, pk: int) -> TemplateResponse | HttpResponse:
    """The live part of the campaign page, for its poll: 204 when nothing changed since the
    fingerprint the page sent; otherwise the part again, polling as often as
    `CampaignSummary.poll_seconds` says, with what changed for the live region; 286 (stop
    polling) with the last update once nothing can change."""
    campaign = get_campaign(pk)  # everyone logged in may view; the login middleware checked
    senders = senders_of(campaign)
    now = timezone.now()
    summary = summarise(campaign, senders, now)
    live = summary.poll_seconds(campaign) is not None
    if live and request.GET.get("v") == summary.fingerprint:
        return HttpResponse(status=204)
    context = status_context(request, campaign, senders, now, summary)
    context["announcement"] = announcement(request.GET.get("seen", ""), campaign, summary.counts)
    return TemplateResponse(
        request, "campaigns/campaign_detail.html#status", context, status=200 if live else HTMX_STOP_POLLING
    )


@require_POST
def campaign_skip_unsendable(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Skip, at once, every queued invitation of the campaign whose note cannot be sent as it
    stands (its owner or an admin): they leave the queue, counted, each with its reason."""
    campaign = get_changeable_campaign(request, pk)
    skipped = campaign.skip_unsendable(request.user)
    if skipped:
        messages.success(
            request, f"Skipped {skipped} invitation{'s' if skipped != 1 else ''} whose note cannot be sent."
        )
    else:
        messages.info(request, "Nothing to skip: every queued invitation's note can be sent now.")
    return HttpResponseRedirect(reverse("campaign_detail", args=[campaign.pk]))


@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    if action not in CAMPAIGN_ACTIONS:
        raise Http404(f"No campaign action {action!r}.")
    move = CAMPAIGN_ACTIONS[action]
    page_url = reverse("campaign_detail", args=[pk])
    with transaction.atomic():
        # Locked, so two people pressing at once cannot both launch or pause.
        campaign = get_object_or_404(Campaign.objects.select_for_update(), pk=pk)
        if not campaign.can_be_changed_by(request.user):
            raise PermissionDenied("Only the campaign's owner or an admin may change it.")
        if action not in campaign.actions():
            messages.error(
                request,
                f"The campaign is {campaign.get_state_display().lower()}: it cannot be {move.done.lower()}.",
            )
            return HttpResponseRedirect(page_url)
        # Launch, pause, resume or archive. Making it send from a sender this person may not
        # use raises PermissionDenied before anything changes: 403.
        problems = getattr(campaign, action)(request.user)
        if problems:
            messages.error(request, f"Not {move.done.lower()}: fix these first.")
            for problem in problems:
                messages.error(request, problem)
            return HttpResponseRedirect(page_url)
    messages.success(request, f"{move.done} “{campaign.name}”.")
    return HttpResponseRedirect(page_url)


@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> TemplateResponse | HttpResponseRedirect:
    if action not in REQUEST_ACTIONS:
        raise Http404(f"No request action {action!r}.")
    act = REQUEST_ACTIONS[action]
    row = get_object_or_404(ConnectionRequest.objects.select_related("campaign__owner", "prospect", "sender"), pk=pk)
    campaign = row.campaign
    if not campaign.can_be_changed_by(request.user):
        raise PermissionDenied("Only the campaign's owner or an admin may change its requests.")
    # Read before acting: where to go back to must never fail once the change is made.
    state_filter, page_number = listing_params(request.POST)
    sender_filter = sender_param(request.POST)

    target = act.target(row)
    if target is None:
        raise Http404("This invitation has no follow-up.")
    changed = target.state == act.from_state and getattr(target, act.method or act.name)(request.user)
    if changed:
        outcome = f"{act.done}: {row.prospect}."
    else:
        target.refresh_from_db(fields=["state"])  # someone else may have moved it meanwhile
        what = "follow-up to" if act.on_followup else "invitation to"
        outcome = f"Nothing changed: the {what} {row.prospect} is {target.state_in_words} now."

    if request.htmx:
        team = Sender.get()
        now = timezone.now()
        explain_waiting([row], campaign, team, now)
        context = {
            "row": row, "campaign": campaign, "account": team, "now": now, "can_change": True,
            "state_filter": state_filter, "sender_filter": sender_filter or "", "page_number": page_number,
            "row_message": outcome, "show_variants": len(campaign.variants()) > 1,
        }
        return TemplateResponse(request, "campaigns/campaign_detail.html#request-row", context)
    (messages.success if changed else messages.error)(request, outcome)
    return HttpResponseRedirect(campaign_page_url(campaign, state_filter, page_number, sender_filter))


# --- A person's marks on one invitation: the invitee's answer, and "do not contact" -----------------

# Where a row's button was pressed, and so what to answer: the row again (htmx) or that page.
ORIGINS = ("campaign", "review", "detail")


def changeable_request(request: HttpRequest, pk: int) -> ConnectionRequest:
    """The invitation, if the person may change its campaign (its owner, or an admin): 403 otherwise."""
    row = get_object_or_404(
        ConnectionRequest.objects.select_related("campaign__owner", "prospect", "sender", "followup"), pk=pk
    )
    if not row.campaign.can_be_changed_by(request.user):
        raise PermissionDenied("Only the campaign's owner or an admin may change its invitations.")
    return row


def answer_row(request: HttpRequest, row: ConnectionRequest, outcome: str, changed: bool) -> HttpResponse:
    """After a mark: the row, redrawn with the outcome, for htmx; otherwise a message and the
    page the button was on."""
    origin = request.POST.get("origin", "")
    origin = origin if origin in ORIGINS else "campaign"
    state_filter, page_number = listing_params(request.POST)
    sender_filter = sender_param(request.POST)
    if request.htmx and origin in ("campaign", "review"):
        row = changeable_request(request, row.pk)  # afresh, its follow-up too
        team = Sender.get()
        now = timezone.now()
        if origin == "review":
            row.can_change = True
            row.unanswered_too_long = ConnectionRequest.objects.old_unanswered(now).filter(pk=row.pk).exists()
            context = {"connection_request": row, "account": team, "row_message": outcome}
            return TemplateResponse(request, "campaigns/review.html#review-row", context)
        campaign = row.campaign
        explain_waiting([row], campaign, team, now)
        context = {
            "row": row, "campaign": campaign, "account": team, "now": now, "can_change": True,
            "state_filter": state_filter, "sender_filter": sender_filter or "", "page_number": page_number,
            "row_message": outcome, "show_variants": len(campaign.variants()) > 1,
        }
        return TemplateResponse(request, "campaigns/campaign_detail.html#request-row", context)
    (messages.success if changed else messages.error)(request, outcome)
    if origin == "detail":
        return HttpResponseRedirect(reverse("request_detail", args=[row.pk]))
    if origin == "review":
        query = request.POST.get("review_query", "")
        # Only a query string of the review itself: never a redirect elsewhere.
        return HttpResponseRedirect(reverse("review") + ("?" + query if query and "/" not in query and "\\" not in query else ""))
    return HttpResponseRedirect(campaign_page_url(row.campaign, state_filter, page_number, sender_filter))


@require_POST
def request_response(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark what the invitee answered on LinkedIn: `response` is "replied", "not_interested",
    or "" to clear the mark. OutX cannot read the inbox, so a person tells us."""
    row = changeable_request(request, pk)
    response = request.POST.get("response", "")
    try:
        changed = row.mark_response(response, request.user)
    except ValueError as refusal:
        return answer_row(request, row, str(refusal), False)
    if not changed:
        return answer_row(request, row, f"Nothing changed: the invitation to {row.prospect} was changed meanwhile.", False)
    if not response:
        outcome = f"Mark cleared: {row.prospect}."
    else:
        outcome = f"Marked “{ConnectionRequest.Response(response).label}”: {row.prospect}."
        if response == ConnectionRequest.Response.NOT_INTERESTED:
            outcome += " They are on the do-not-contact list now."
    return answer_row(request, row, outcome, True)


@require_POST
def request_do_not_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Put the invitation's prospect on the do-not-contact list, with the reason given or one
    naming the campaign and the person; their queued invitations are skipped at once."""
    row = changeable_request(request, pk)
    reason = " ".join(request.POST.get("reason", "").split())[:500]
    if not reason:
        reason = f"Added from campaign “{row.campaign.name}” by {request.user.get_username()}."
    _, added = put_prospect(row.prospect, request.user, reason)
    outcome = f"{row.prospect} is on the do-not-contact list {'now' if added else 'already'}."
    return answer_row(request, row, outcome, True)
