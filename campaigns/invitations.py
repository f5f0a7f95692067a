"""The invitation as a kind of OutX action: what differs from the shared life in lifecycle.py.

Pacing is the sender's: a daily and a rolling weekly cap, working hours, random spacing and
OutX's hourly advice, shared by every campaign it sends for, with campaigns taking turns.
Nobody with a pending, sent, accepted or uncertain invitation from any of our senders is
invited again (and the database refuses it, should two senders race for one person); nor
anyone on the do-not-contact list, nor a connection of the sender, checked just before the POST.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from . import outx, pacing
from .donotcontact import blocked_reason, company_key, entry_blocking
from .lifecycle import Kind, TickSummary, allowed
from .models import Campaign, ConnectionRequest, DoNotContact, Prospect, Sender, SenderConnection
from .notes import check_note
from .sending import Budget, read_budget, submission_decision

# The least step between two campaigns' turns.
TURN_STEP = dt.timedelta(microseconds=1)


class Invitations(Kind):
    model = ConnectionRequest
    label = "Invitation"
    created_count = "submitted"
    reports_to_summary = True
    abandoned_cause = (
        "the worker stopped while submitting this invitation; OutX may or may not have received it. "
        "It will not be sent again unless a person retries it."
    )
    lost_cause = (
        "OutX no longer knows task {task_id} ({message}); whether the invitation went out is unknown. "
        "A person should check LinkedIn."
    )
    sent_cause = "LinkedIn invitation sent (OutX task completed)."

    def decision(self, account: Sender, now: dt.datetime, budget: Budget | None = None) -> pacing.Decision:
        return submission_decision(account, now, budget=budget)

    def reading(self, sender: Sender, now: dt.datetime) -> Budget:
        return read_budget(sender, now)

    def may_have_work(self, sender: Sender) -> bool:
        return ConnectionRequest.objects.submittable().filter(sender=sender).exists()

    def pick(
        self, sender: Sender, now: dt.datetime, summary: TickSummary, budget: Budget | None
    ) -> tuple[Sender | None, ConnectionRequest | None]:
        """The sender's next fair request, read with its sender's row, which the same query
        locks (one query where a lock and a pick were two); then the pacing decides."""
        request = next_fair_request(sender, lock=True)
        if request is None:
            return None, None  # nothing to send, or another worker holds the sender
        account = request.sender
        if budget is not None and not budget.holds(account, now):
            budget.read_again(account, now)  # another pass may have spent: count again, under the lock
        if not allowed(self, account, now, summary, budget):
            return account, None
        return account, self.sendable(request, summary) or self.next_queued(account, now, summary)

    def next_queued(self, sender: Sender, now: dt.datetime, summary: TickSummary) -> ConnectionRequest | None:
        """The sender's next fair request, skipping (with the reason) any that must not be sent."""
        while (request := next_fair_request(sender)) is not None:
            if self.sendable(request, summary):
                return request
        return None

    def sendable(self, request: ConnectionRequest, summary: TickSummary) -> ConnectionRequest | None:
        """`request`, unless its note cannot be sent: then it is skipped, saying why. Whether its
        prospect may be invited is checked by the claim itself (claim_condition), and a second
        invitation to one person is refused by the database (refuse_duplicate)."""
        checked = check_note(request.note)
        if not checked.within_limit:
            request.move_to(ConnectionRequest.State.SKIPPED, checked.error)
            summary.skipped += 1
            return None
        return request

    def claim_condition(self, item: ConnectionRequest, account: Sender) -> Q:
        # Checked at the claim, before the POST, and not only at import: an entry added or a
        # connection seen after the prospect was queued still stops the invitation.
        prospect = item.prospect
        return may_invite(account.pk, prospect.profile_urn or "", prospect.profile_url or "", company_key(prospect.company))

    def refused_claim(self, item: ConnectionRequest, account: Sender, summary: TickSummary) -> bool:
        return skip_if_must_not_invite(item, account, summary)

    def refuse_duplicate(self, item: ConnectionRequest, summary: TickSummary) -> None:
        if not skip_if_already_invited(item, summary):
            raise RuntimeError(f"Invitation {item.pk} was refused as a duplicate, yet nobody else invites its prospect.")

    def post(self, client: outx.OutxClient, item: ConnectionRequest) -> outx.TaskCreated:
        return client.send_connection_request(item.prospect.profile_urn, item.note)

    def after_claim(self, item: ConnectionRequest, now: dt.datetime, budget: Budget | None = None) -> None:
        # Campaigns take turns: the one that submitted least recently goes next. Each turn is
        # later than every earlier one (the pass's reading knows the latest), even when claims
        # share a moment (a simulated clock), or the lowest campaign id would take every turn.
        latest = budget.latest_turn if budget is not None else None
        turn = max(now, latest + TURN_STEP) if latest is not None else now
        if budget is not None:
            budget.latest_turn = turn
        Campaign.objects.filter(pk=item.campaign_id).update(last_submission_at=turn)


# Stand-ins for the values of may_invite's SQL, each found among the compiled parameters and
# replaced by the prospect's own: nothing else in that SQL can equal them.
URN, URL, COMPANY, SENDER = "\x00urn", "\x00url", "\x00company", -7_301_994_211


def may_invite(sender_id: int, urn: str, url: str, company: str) -> Q:
    """The claim's condition: no do-not-contact entry and no connection of the sender matches
    the prospect (DoNotContact.objects.matching, SenderConnection.objects.of_prospect, the rules
    the pages show). Its SQL is compiled once per shape (which of the values are given), not
    once per claim: building it cost more than running it."""
    sql, params = blocking_sql(connections[ConnectionRequest.objects.db], bool(urn), bool(url), bool(company))
    if not sql:
        return Q()
    values = {URN: urn, URL: url, COMPANY: company, SENDER: sender_id}
    params = [values.get(param, param) if isinstance(param, (str, int)) else param for param in params]
    return Q(RawSQL(sql, params, output_field=BooleanField()))


@functools.lru_cache(maxsize=64)
def blocking_sql(connection, has_urn: bool, has_url: bool, has_company: bool) -> tuple[str, tuple]:
    """may_invite's SQL for one shape, with the stand-ins as values: "NOT EXISTS (…) AND …"
    ("" when nothing can match)."""
    urn, url, company = (URN if has_urn else ""), (URL if has_url else ""), (COMPANY if has_company else "")
    blocking = (
        DoNotContact.objects.matching(urns=[urn], urls=[url], company_keys=[company]),
        SenderConnection.objects.of_prospect(SENDER, Prospect(profile_urn=urn or None, profile_url=url or None)),
    )
    parts, params = [], []
    for queryset in blocking:
        try:
            sql, values = queryset.query.exists().get_compiler(connection=connection).as_sql()
        except EmptyResultSet:
            continue  # nothing to match by: it blocks nobody
        parts.append(f"NOT EXISTS ({sql})")
        params.extend(values)
    # Each stand-in must reach the SQL as itself: were a rule to transform it (a pattern, a
    # case fold), may_invite would compare the prospect with nothing and block nobody.
    for stand_in, given in ((URN, has_urn), (URL, has_url), (COMPANY, has_company), (SENDER, has_urn or has_url)):
        if given and stand_in not in params:
            raise RuntimeError(f"The claim's do-not-contact condition lost its {stand_in!r} value.")
    return " AND ".join(parts), tuple(params)


def skip_if_already_invited(request: ConnectionRequest, summary: TickSummary) -> bool:
    """Skip `request` if its prospect has (or may have) an invitation from any of our senders,
    naming the sender and campaign that invited; returns whether it was skipped."""
    earlier = ConnectionRequest.objects.already_inviting(request.prospect_id).exclude(pk=request.pk)
    earlier = earlier.select_related("campaign", "sender").first()
    if earlier is None:
        return False
    by = f" by {earlier.sender.name}" if earlier.sender else ""
    request.move_to(
        ConnectionRequest.State.SKIPPED,
        f"Already invited{by} in campaign “{earlier.campaign.name}” ({earlier.state_in_words}).",
    )
    summary.skipped += 1
    return True


def skip_if_must_not_invite(request: ConnectionRequest, sender: Sender, summary: TickSummary) -> bool:
    """Skip `request` if its prospect is on the do-not-contact list, or already a connection of
    the sender that would invite them, with the reason; returns whether it was skipped."""
    entry = entry_blocking(request.prospect)
    if entry is not None:
        reason = blocked_reason(entry)
    else:
        connection = SenderConnection.objects.of_prospect_first(sender, request.prospect)
        if connection is None:
            return False
        connection.sender = sender  # named in the reason: no query
        reason = connection.skip_reason
    request.move_to(ConnectionRequest.State.SKIPPED, reason)
    summary.skipped += 1
    return True


def next_fair_request(sender: Sender, *, lock: bool = False) -> ConnectionRequest | None:
    """The sender's oldest submittable request of the campaign that submitted least recently,
    in one query: the campaign is picked from the campaigns table (the active ones, by their
    last turn), never by sorting the queue. `lock`: also lock the sender's row (skip_locked:
    None if another worker holds it), for a claim; the sender must be active."""
    requests = fair_requests(sender.pk, lock, connections[ConnectionRequest.objects.db])
    return next(iter(requests._chain()), None)


@functools.lru_cache(maxsize=1024)
def fair_requests(sender_id: int, lock: bool, connection) -> QuerySet:
    """next_fair_request's query (its first row), built and compiled once per sender and
    connection (each thread has its own): it holds no moment, and compiling it took about ten
    times as long as running it, once per submission."""
    submittable = ConnectionRequest.objects.submittable().filter(sender_id=sender_id)
    turn = (
        Campaign.objects.filter(state=Campaign.State.ACTIVE)
        .filter(Exists(submittable.filter(campaign=OuterRef("pk"))))
        .order_by(F("last_submission_at").asc(nulls_first=True), "pk")
        .values("pk")[:1]
    )
    requests = submittable.filter(campaign_id=Subquery(turn)).select_related("prospect", "sender").order_by("created_at", "id")
    if lock:
        # The join to the sender is an inner one (a condition on its row), as a lock needs.
        requests = requests.filter(sender__state=Sender.State.ACTIVE).select_for_update(skip_locked=True, of=("sender",))
    return compiled_once(requests[:1], connection)


def compiled_once(queryset: QuerySet, connection) -> QuerySet:
    """`queryset` with its SQL compiled for `connection` now, and reused by every copy: only
    for a query that holds no moment and no value that changes."""
    frozen = queryset._chain()
    compiler = frozen.query.get_compiler(connection=connection)
    sql = compiler.as_sql()  # also fills what reading the rows needs (columns, related objects)
    compiler.as_sql = lambda *args, **kwargs: sql
    # Copies of a query copy its attributes: each copy's rows are read through this compiler.
    frozen.query.get_compiler = lambda *args, **kwargs: compiler
    return frozen


INVITATIONS = Invitations()
