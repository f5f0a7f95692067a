"""The profile search as a kind of OutX action: one page of OutX's search-profiles, run on a
person's request from one sender, and what the search's page shows of its results.

A search reads LinkedIn and changes nothing there, so one OutX may or may not have received is
simply asked again (`resend_when_unsure`). It is still a LinkedIn action on the sender's
account: it counts against the hourly budget and is spaced like the others (sending.py's
`search_decision`). The next page is another search, made by a person, never a burst.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from . import outx, pacing
from .donotcontact import company_key
from .importing import ProfileEntry
from .lifecycle import Kind, TickSummary
from .models import ConnectionRequest, DoNotContact, ProfileSearch, SearchResult, Sender, SenderConnection, TaskState, fit
from .sending import search_decision


# The random gap between two searches from one sender.
SEARCH_SPACING_SECONDS = (20, 40)


class Searches(Kind):
    model = ProfileSearch
    label = "Search"
    created_count = "searches"
    spacing_field = "next_search_at"
    resend_when_unsure = True
    abandoned_cause = "the worker stopped while asking OutX; it will be asked again."
    lost_cause = "OutX no longer knows the search ({message}); run it again."
    sent_cause = "OutX completed the search."

    def decision(self, account: Sender, now: dt.datetime, budget=None) -> pacing.Decision:
        return search_decision(account, now)

    def spacing(self, account: Sender) -> dt.timedelta:
        # A person pages through results as on LinkedIn itself, where a page every half
        # minute or so is ordinary: the sender's minutes-long gap between invitations would
        # keep them waiting. The hourly cap still bounds how many searches an hour may take.
        return dt.timedelta(seconds=random.uniform(*SEARCH_SPACING_SECONDS))

    def may_have_work(self, sender: Sender) -> bool:
        return ProfileSearch.objects.filter(sender=sender, state=TaskState.QUEUED).exists()

    def next_queued(self, sender: Sender, now: dt.datetime, summary: TickSummary) -> ProfileSearch | None:
        """The sender's oldest queued search whose requester may still use the sender."""
        for search in ProfileSearch.objects.filter(sender=sender, state=TaskState.QUEUED).select_related("requested_by").order_by("id")[:20]:
            user = search.requested_by
            if user is not None and user.is_active and sender.may_be_used_by(user):
                return search
            who = user.get_username() if user is not None else "Its requester"
            search.move_to(TaskState.SKIPPED, self.says(f"{who} may no longer use {sender.name}; not run."))
        return None

    def refuse_duplicate(self, item: ProfileSearch, summary: TickSummary) -> None:
        # No constraint makes a search a duplicate; should one ever, it is simply not run.
        item.move_to(TaskState.SKIPPED, self.says("the database refused to claim it; not run."))

    def post(self, client: outx.OutxClient, item: ProfileSearch) -> outx.TaskCreated:
        return client.search_profiles(**item.filters(), start=item.start, count=item.count)

    def finish(self, item: ProfileSearch, status: outx.TaskStatus, fields: dict, summary: TickSummary) -> None:
        """Store the profiles found and mark the search done; an output we cannot read, or a
        failed task, ends it not sent, with the reason."""
        found = status.search_results() if status.status == outx.COMPLETED else None
        if found is None:
            if status.status == outx.COMPLETED:
                reason = "OutX's answer held no list of profiles we could read"
            else:
                reason = f"OutX {status.status} the search: {outx.describe_output(status.task_output)}"
            item.move_to(TaskState.NOT_SENT, self.says(outx.clean_text(reason, 500)), task_output=status.stored_output, **fields)
            return
        found = found[: min(item.count, ProfileSearch.MAX_COUNT)]
        with transaction.atomic():
            moved = item.move_to(
                TaskState.SENT, self.says(f"OutX found {len(found)} profile{'' if len(found) == 1 else 's'}."),
                task_output=status.stored_output, **fields,
            )
            if moved:
                SearchResult.objects.bulk_create([result_row(item, position, profile) for position, profile in enumerate(found)])


SEARCHES = Searches()


def result_row(search: ProfileSearch, position: int, profile: outx.FoundProfile) -> SearchResult:
    texts = {
        name: fit(getattr(profile, name), SearchResult, name)
        for name in ("first_name", "last_name", "headline", "company", "title", "location")
    }
    return SearchResult(
        search=search, position=position, profile_urn=profile.urn or "", profile_url=profile.url or "", **texts
    )


# --- What the search's page shows ----------------------------------------------------------------


def why_waiting(search: ProfileSearch, now: dt.datetime) -> str:
    """Why the search has no results yet, from the rule the worker follows; "" once it ended."""
    if search.state == TaskState.QUEUED:
        sender = search.sender
        if sender.is_retired:
            return f"{sender.name} is retired: the search will not run."
        decision = search_decision(sender, now)
        if not decision.allowed:
            return decision.reason
        return "Queued: it runs at the worker's next pass on this sender."
    if search.state == TaskState.SUBMITTING:
        return "Asking OutX to run the search."
    if search.state == TaskState.PENDING:
        return "OutX created the task; waiting for its extension to run the search in LinkedIn."
    return ""


@dataclass(frozen=True)
class ResultRow:
    """One found profile and what the team already has to do with the person."""

    result: SearchResult
    invited: bool  # an invitation to them is on its way, or went out (any campaign, any sender)
    connected: bool  # already a connection of the search's sender
    blocked_by: DoNotContact | None  # the do-not-contact entry that blocks them

    @property
    def number(self) -> int:
        return self.result.position + 1


def result_rows(search: ProfileSearch, results: list[SearchResult]) -> list[ResultRow]:
    """The results with their flags, in three queries whatever their number."""
    urns = {result.profile_urn for result in results if result.profile_urn}
    urls = {result.profile_url for result in results if result.profile_url}
    companies = {company_key(result.company) for result in results} - {""}
    invited_urns, invited_urls = set(), set()
    connected_urns, connected_urls = set(), set()
    blocking: list[DoNotContact] = []
    if urns or urls:
        invited = (
            ConnectionRequest.objects.filter(state__in=ConnectionRequest.INVITED_STATES)
            .filter(Q(prospect__profile_urn__in=urns) | Q(prospect__profile_url__in=urls))
            .values_list("prospect__profile_urn", "prospect__profile_url")
        )
        for urn, url in invited:
            invited_urns.add(urn)
            invited_urls.add(url)
        connected = (
            SenderConnection.objects.filter(sender_id=search.sender_id)
            .filter(Q(profile_urn__in=urns) | Q(profile_url__in=urls))
            .values_list("profile_urn", "profile_url")
        )
        for urn, url in connected:
            connected_urns.add(urn)
            connected_urls.add(url)
    if urns or urls or companies:
        blocking = list(DoNotContact.objects.matching(urns=urns, urls=urls, company_keys=companies))
    by_urn = {entry.profile_urn: entry for entry in blocking if entry.profile_urn}
    by_url = {entry.profile_url: entry for entry in blocking if entry.profile_url}
    by_company = {entry.company_key: entry for entry in blocking if entry.company_key}

    def known(urn: str, url: str, urn_set: set, url_set: set) -> bool:
        return bool((urn and urn in urn_set) or (url and url in url_set))

    rows = []
    for result in results:
        urn, url = result.profile_urn, result.profile_url
        entry = by_urn.get(urn) if urn else None
        entry = entry or (by_url.get(url) if url else None) or by_company.get(company_key(result.company))
        rows.append(ResultRow(
            result,
            invited=known(urn, url, invited_urns, invited_urls),
            connected=known(urn, url, connected_urns, connected_urls),
            blocked_by=entry,
        ))
    return rows


def entries_for(results: list[SearchResult]) -> list[ProfileEntry]:
    """The results as the entries pasting and importing add (importing.save_batch), numbered
    as the page numbers them."""
    return [
        ProfileEntry(
            result.position + 1, result.profile_urn or None, result.profile_url or None,
            first_name=result.first_name, last_name=result.last_name, company=result.company,
            title=result.title, headline=result.headline, location=result.location,
        )
        for result in results
    ]


def next_page_refusal(search: ProfileSearch) -> str:
    """Why the search has no next page to ask for, or "" when it may have one."""
    if search.state != TaskState.SENT:
        return "The next page can be asked for once this search has its results."
    total = outx.TaskStatus("", outx.COMPLETED, None, search.task_output, {}).search_total()
    shown = search.results.count()
    if total is not None and search.start + search.count >= total:
        return "This is the last page of results."
    if total is None and shown < search.count:
        return "This is the last page of results."
    if search.start + search.count > 10_000:
        return "LinkedIn shows no results beyond the first 10,000."
    return ""


def start_next_page(search: ProfileSearch, user) -> tuple[ProfileSearch | None, str]:
    """The search for the page after `search`: the one already asked for, if any (a second
    click is not a second search), else a new queued one that wakes its sender. (None, why)
    when there is no next page."""
    existing = ProfileSearch.objects.filter(previous=search).order_by("id").first()
    if existing is not None:
        return existing, ""
    refusal = next_page_refusal(search)
    if refusal:
        return None, refusal
    following = ProfileSearch.objects.create(
        sender=search.sender, requested_by=user, **search.filters_as_stored(),
        start=search.start + search.count, count=search.count, previous=search,
    )
    queue(following)
    return following, ""


def queue(search: ProfileSearch) -> None:
    """A new search is waiting: its sender's next pass should come now, not at its next moment."""
    Sender.objects.filter(pk=search.sender_id).wake()
