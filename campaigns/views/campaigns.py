"""Campaign pages: the list, create and edit, a campaign's page with its live status, and what
a person may do to a campaign or to one of its requests.

Everyone logged in may look at every campaign; only its owner or a staff user may change it,
and only someone allowed on every one of its senders may make it send (403 otherwise).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from ..donotcontact import put_prospect
from ..forms.campaigns import CampaignForm
from ..models import (
    OLD_INVITATION_AGE_TEXT, REQUEST_TABS, Campaign, ConnectionRequest, Event, FollowUp, RequestCounts,
    Sender,
)
from ..params import parse_page
from ..rows import RequestRows
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
    """What the campaign's live status shows of it as a whole, read from its counters and a
    few bounded index reads: the same cost at 10 rows and at a million."""

    counts: RequestCounts
    per_sender: dict[int, int]  # the campaign's invitations per sender id
    unsendable: int  # queued invitations whose note cannot be sent (models.UNSENDABLE)
    followups_moving: bool  # a follow-up queued, being submitted or with OutX
    followups_to_come: bool  # an accepted invitation still without its follow-up

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
        if campaign.is_rendering_notes:
            return FAST_POLL_SECONDS  # its progress
        sends = campaign.state == Campaign.State.ACTIVE
        # Follow-ups are queued only while the campaign is active and has a follow-up message.
        to_come = self.followups_to_come and sends and bool(campaign.followup_template)
        sendable_queued = self.counts.by_state[ConnectionRequest.State.QUEUED] - self.unsendable if sends else 0
        if self.counts.in_flight or self.followups_moving or to_come or sendable_queued > 0:
            return FAST_POLL_SECONDS
        if self.counts.awaiting_acceptance:
            return SLOW_POLL_SECONDS
        return None


def senders_of(campaign: Campaign) -> list[Sender]:
    """In one query, the senders the campaign's page speaks of: those it sends from now
    (`in_campaign`), and those its earlier invitations went out from (a request keeps its
    sender for life, even after its campaign dropped it or it retired), read off its tallies."""
    chosen = Campaign.senders.through.objects.filter(campaign=campaign, sender=OuterRef("pk"))
    used = Q(pk__in=campaign.senders.values("pk")) | Q(
        pk__in=campaign.tallies.filter(n__gt=0, sender_key__gt=0).values("sender_key")
    )
    return list(Sender.objects.filter(used).annotate(in_campaign=Exists(chosen)).order_by("name", "pk"))


def summarise(campaign: Campaign, senders: list[Sender]) -> CampaignSummary:
    """The counts from the campaign's tallies (kept by the database with every write, its
    follow-ups' too), and one read bounded by an index: the queued notes with a problem."""
    by_sender = campaign.request_counts_by_sender()
    followups = campaign.followup_counts
    queued = campaign.request_counts.by_state[ConnectionRequest.State.QUEUED]
    return CampaignSummary(
        counts=campaign.request_counts,
        per_sender={sender.pk: by_sender.get(sender.pk, 0) for sender in senders},
        unsendable=campaign.requests.unsendable().count() if queued else 0,
        followups_moving=any(followups[state] for state in OPEN_FOLLOWUP_STATES),
        # Every follow-up belongs to an accepted invitation: fewer follow-ups than accepted
        # invitations means one may still be written (or its invitee answered: no follow-up
        # then, and the page polls a little more often than it needs to).
        followups_to_come=sum(followups.values()) < campaign.request_counts.by_state[ConnectionRequest.State.ACCEPTED],
    )


# --- The live page's poll --------------------------------------------------------------------

# What the page shows also changes with time alone (working hours open, a sender's next slot,
# an invitation turning stale or unanswered too long): it is drawn again at least this often.
REDRAW_ACTIVE = dt.timedelta(minutes=1)
REDRAW_IDLE = dt.timedelta(minutes=5)


# What of the campaign's own row the poll compares: its version (its rows, follow-ups,
# prospects and senders' states: see campaigns/triggers.py), its last save, and the progress
# of a re-render of its notes (written by a task without a save).
POLL_FIELDS = ("version", "updated_at", "notes_rendered")


def poll_token(campaign: Campaign, now: dt.datetime) -> str:
    """What the page was drawn from, in its poll's URL: POLL_FIELDS, and until when the
    drawing holds. "<version>.<updated_at µs>.<notes rendered>.<redraw by, s>"."""
    redraw = REDRAW_ACTIVE if campaign.state == Campaign.State.ACTIVE else REDRAW_IDLE
    drawn = poll_values(*(getattr(campaign, name) for name in POLL_FIELDS))
    return ".".join(map(str, (*drawn, int((now + redraw).timestamp()))))


def poll_values(version: int, updated_at: dt.datetime, notes_rendered: int) -> tuple[int, int, int]:
    return version, microseconds(updated_at), notes_rendered


def page_still_current(token: str, row: tuple, now: dt.datetime) -> bool:
    """Whether the page drawn with `token` shows what the campaign's row (POLL_FIELDS) says now."""
    parts = token.split(".")
    if len(parts) != 4 or not all(part.isascii() and part.isdigit() and len(part) < 20 for part in parts):
        return False
    *drawn, redraw_by = map(int, parts)
    return tuple(drawn) == poll_values(*row) and now.timestamp() < redraw_by


def microseconds(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


# --- Why a request waits ------------------------------------------------------------------------


def explain_waiting(rows: Iterable[ConnectionRequest], campaign: Campaign, team: Sender, now: dt.datetime) -> None:
    """Give each row `.waiting` (why it is not moving), `.stale_warning` and `.unanswered_warning`,
    each "" if none, by the rules the worker itself follows (`ConnectionRequest.why_waiting`),
    each by its own sender (load the rows with their sender).

    A sender's own reason is the same for every queued request it sends, so it is asked once
    per sender. A queued row without a sender waits for one to be chosen; `team` (the first
    sender) only gives such a row a time zone. Old unanswered invitations are marked for
    withdrawal by hand; a skipped row annotated
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
        row.unanswered_warning = UNANSWERED_WARNING if row.is_old_unanswered(now) else ""
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


@dataclass(frozen=True)
class Position:
    """Where a page of a campaign's invitations starts: after or before the invitation with
    this id (the table lists them in the order they were added, which is the id's). No cursor:
    the first page. Page 1,000 costs what page 1 costs: an index range, never an offset."""

    after: int | None = None
    before: int | None = None

    @classmethod
    def read(cls, data: Mapping[str, str]) -> Position:
        """From a query string or a posted form; a cursor that is no id is no cursor."""
        after, before = id_param(data.get("after", "")), id_param(data.get("before", ""))
        return cls(after=after) if after is not None else cls(before=before)

    def params(self) -> dict[str, int]:
        return {key: value for key, value in (("after", self.after), ("before", self.before)) if value is not None}


def id_param(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


@dataclass(frozen=True)
class RequestsPage:
    """One page of the table: its rows, where it was asked from, and its neighbours' cursors."""

    rows: list
    position: Position
    next_position: Position | None
    previous_position: Position | None

    @classmethod
    def of(cls, requests, position: Position, size: int = REQUESTS_PER_PAGE) -> RequestsPage:
        """`requests` in id order; one query reads at most size + 1 rows."""
        if position.before is not None:
            rows = list(requests.filter(pk__lt=position.before).order_by("-pk")[: size + 1])
            if len(rows) > size:
                rows = rows[:size][::-1]
                return cls(rows, position, Position(after=rows[-1].pk), Position(before=rows[0].pk))
            position = Position()  # nothing further back: the first page, whole
        if position.after is not None:
            rows = list(requests.filter(pk__gt=position.after).order_by("pk")[: size + 1])
        else:
            rows = list(requests.order_by("pk")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return cls(
            rows, position,
            Position(after=rows[-1].pk) if more else None,
            Position(before=rows[0].pk) if rows and position.after is not None else None,
        )

    @property
    def is_first(self) -> bool:
        return self.position == Position()


def listing_params(data: Mapping[str, str]) -> tuple[str, Position]:
    """The request table's state filter and position, from a query string or a posted form.

    Total: a state that is no state means all of them, a cursor that is no id the first page.
    """
    state_filter = data.get("state", "")
    if state_filter not in ConnectionRequest.State.values:
        state_filter = ""
    return state_filter, Position.read(data)


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
    return id_param(data.get("sender", ""))


def campaign_page_url(
    campaign: Campaign, state_filter: str = "", position: Position = Position(), sender_filter: int | None = None,
    page_url: str = "",
) -> str:
    """The campaign's page with these filters; `page_url`, its path when already reversed."""
    params = {key: value for key, value in (("state", state_filter), ("sender", sender_filter)) if value}
    params.update(position.params())
    url = page_url or reverse("campaign_detail", args=[campaign.pk])
    return f"{url}?{urlencode(params)}" if params else url


def status_context(
    request: HttpRequest, campaign: Campaign, senders: list[Sender], now: dt.datetime, summary: CampaignSummary
) -> dict:
    """Everything the status partial shows: state, actions, counts, acceptance rates, the
    senders, and one page of requests with their follow-ups, filtered by state and sender."""
    state_filter, position = listing_params(request.GET)
    sender_filter = sender_param(request.GET)
    if sender_filter not in {sender.pk for sender in senders}:
        sender_filter = None  # not one of this campaign's: all of them
    requests = requests_listing(campaign)
    if state_filter:
        requests = requests.filter(state__in=REQUEST_TABS[state_filter])
    if sender_filter:
        requests = requests.filter(sender_id=sender_filter)
    page = RequestsPage.of(requests, position)
    team = Sender.get()  # the team's time zone, for the times shown
    explain_waiting(page.rows, campaign, team, now)

    can_change = campaign.can_be_changed_by(request.user)
    launch_problems = []
    if campaign.state in (Campaign.State.DRAFT, Campaign.State.PAUSED, Campaign.State.COMPLETED):
        # As Campaign.act checks it: a campaign that has run resumes despite unsendable notes.
        launch_problems = campaign.launch_problems(resuming=campaign.state != Campaign.State.DRAFT)
        if can_change:
            launch_problems = sender_problems(senders, request.user) + launch_problems
    token = poll_token(campaign, now)
    status_params = {
        "v": token, "seen": seen_param(campaign, summary.counts),
        "state": state_filter, "sender": sender_filter, **page.position.params(),
    }
    show_variants = len(campaign.variants()) > 1

    page_url = reverse("campaign_detail", args=[campaign.pk])  # once: a link per tab and per sender

    def listing_url(state: str = state_filter, sender: int | None = sender_filter, position: Position = Position()) -> str:
        return campaign_page_url(campaign, state, position, sender, page_url)

    return {
        "campaign": campaign,
        "account": team,
        "campaign_senders": [sender for sender in senders if sender.in_campaign],
        "now": now,
        "counts": summary.counts,
        "fingerprint": token,
        "poll_seconds": summary.poll_seconds(campaign),
        "status_url": reverse("campaign_status", args=[campaign.pk]) + "?" + urlencode(
            {key: value for key, value in status_params.items() if value}
        ),
        "rows": page.rows,
        "page_after": page.position.after or "",
        "page_before": page.position.before or "",
        "state_filter": state_filter,
        "sender_filter": sender_filter or "",
        # Each filter keeps the other; changing either starts again at the first page.
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
        "first_url": listing_url() if not page.is_first else "",
        "previous_url": listing_url(position=page.previous_position) if page.previous_position else "",
        "next_url": listing_url(position=page.next_position) if page.next_position else "",
        "can_change": can_change,
        "actions": allowed_actions(campaign) if can_change else [],
        "launch_problems": launch_problems,
        "show_variants": show_variants,
        "variant_rows": campaign.variant_stats() if show_variants else [],
        "unanswered_count": campaign.requests.old_unanswered(now).count_up_to(UNANSWERED_COUNT_CAP),
        "unanswered_cap": UNANSWERED_COUNT_CAP,
        "unsendable_count": summary.unsendable,
        "unsendable_reasons": campaign.unsendable_reasons() if summary.unsendable else [],
        "unanswered_review_url": reverse("review") + "?" + urlencode({"campaign": campaign.pk, "old_unanswered": "on"}),
    }


# The old unanswered invitations are counted up to this many ("More than 100"): a page must
# not read every invitation of a campaign to say how many a person may want to withdraw.
UNANSWERED_COUNT_CAP = 100


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


def requests_listing(campaign: Campaign):
    """The campaign's requests for its table, with prospect and follow-up in the same query,
    and `skip_reason`, the cause of its move to skipped (None for the other states): an index
    read per row shown (Event's (connection_request, at))."""
    skip_reason = (
        Event.objects.filter(connection_request=OuterRef("pk"), to_state=ConnectionRequest.State.SKIPPED)
        .order_by("-at", "-id").values("cause")[:1]
    )
    return (
        campaign.requests.select_related("prospect", "followup", "sender")
        .only(*RequestRows.COLUMNS)
        .annotate(skip_reason=Subquery(skip_reason))
        .order_by("pk")
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
        if campaign.is_rendering_notes:  # a long queue: a task renders its notes
            messages.info(
                request, f"{campaign.notes_render_progress}: its invitations wait until each queued one has its sender and its note."
            )
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
    context = status_context(request, campaign, senders, now, summarise(campaign, senders))
    return TemplateResponse(request, "campaigns/campaign_detail.html", context)


@require_GET
def campaign_status(request: HttpRequest, pk: int) -> TemplateResponse | HttpResponse:
    """The live part of the campaign page, for its poll: 204 when nothing changed since the
    page was drawn (`poll_token`: one row read, the campaign's); otherwise the part again,
    polling as often as `CampaignSummary.poll_seconds` says, with what changed for the live
    region; 286 (stop polling) with the last update once nothing can change."""
    now = timezone.now()
    row = Campaign.objects.filter(pk=pk).values_list(*POLL_FIELDS).first()
    if row is None:
        raise Http404("No such campaign.")
    if page_still_current(request.GET.get("v", ""), row, now):
        return HttpResponse(status=204)
    campaign = get_campaign(pk)  # everyone logged in may view; the login middleware checked
    senders = senders_of(campaign)
    summary = summarise(campaign, senders)
    live = summary.poll_seconds(campaign) is not None
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
    state_filter, position = listing_params(request.POST)
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
            "state_filter": state_filter, "sender_filter": sender_filter or "",
            "page_after": position.after or "", "page_before": position.before or "",
            "row_message": outcome, "show_variants": len(campaign.variants()) > 1,
        }
        return TemplateResponse(request, "campaigns/campaign_detail.html#request-row", context)
    (messages.success if changed else messages.error)(request, outcome)
    return HttpResponseRedirect(campaign_page_url(campaign, state_filter, position, sender_filter))


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
    state_filter, position = listing_params(request.POST)
    sender_filter = sender_param(request.POST)
    if request.htmx and origin in ("campaign", "review"):
        row = changeable_request(request, row.pk)  # afresh, its follow-up too
        team = Sender.get()
        now = timezone.now()
        if origin == "review":
            row.can_change = True
            row.unanswered_too_long = row.is_old_unanswered(now)
            context = {"connection_request": row, "account": team, "row_message": outcome}
            return TemplateResponse(request, "campaigns/review.html#review-row", context)
        campaign = row.campaign
        explain_waiting([row], campaign, team, now)
        context = {
            "row": row, "campaign": campaign, "account": team, "now": now, "can_change": True,
            "state_filter": state_filter, "sender_filter": sender_filter or "",
            "page_after": position.after or "", "page_before": position.before or "",
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
    return HttpResponseRedirect(campaign_page_url(row.campaign, state_filter, position, sender_filter))


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
        reason = row.default_do_not_contact_reason(request.user)
    _, added = put_prospect(row.prospect, request.user, reason)
    outcome = f"{row.prospect} is on the do-not-contact list {'now' if added else 'already'}."
    return answer_row(request, row, outcome, True)
