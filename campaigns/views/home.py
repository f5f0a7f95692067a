"""Home: a card for each sender the person may use (its state, its budget against its caps, why
its next invitation waits), the team's total, the 30-day chart and the current campaigns.

Everyone sees the team's figures; the cards are the senders one may launch on. The page costs
a fixed number of queries whatever the number of senders and of rows (see `sender_cards`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from people.timezones import shown_zone

from ..charts import daily_bars
from ..models import Campaign, ConnectionRequest, RequestTally, Sender
from ..sending import (
    actions_of_senders_with_work, budgets_used, submission_decisions, team_total, waiting_reason,
)

HOME_CAMPAIGNS = 20
CHART_DAYS = 30
NOTHING_QUEUED = "Nothing queued for this sender."


@dataclass(frozen=True)
class SenderCard:
    sender: Sender
    sent_today: int
    sent_this_week: int
    has_queued: bool  # queued invitations it could send (SUBMIT_RULES hold)
    may_send_now: bool
    waiting: str  # why its next invitation waits; what holds its queue up when it has none to send
    stale_count: int


def sender_cards(senders: list[Sender], now: dt.datetime, used: dict[int, tuple[int, int]]) -> list[SenderCard]:
    """The senders' cards, by the rules the worker follows: "may go out now" only when it has
    an invitation the worker would submit (`submittable`, so never one of a paused campaign)
    and pacing allows it. `used`: their `budgets_used`. A fixed number of queries whatever the
    number of senders: their queued tallies and their stale counts, one query each; then, for
    those with invitations queued in active campaigns, whether one is submittable and their
    last hour's actions (one query), and when the weekly window frees a place for those at
    their cap (one)."""
    if not senders:
        return []
    queued = RequestTally.objects.queued_by_sender(sender.pk for sender in senders)
    stale = ConnectionRequest.objects.stale_counts(senders, now)
    # The tallies first: a queue held in paused campaigns is not walked to find nothing.
    actions = actions_of_senders_with_work([sender for sender in senders if queued.get(sender.pk, (False, 0))[0]], now)
    decisions = submission_decisions([sender for sender in senders if sender.pk in actions], now, used, actions)
    cards = []
    for sender in senders:
        may_send_now, waiting = False, NOTHING_QUEUED
        if decision := decisions.get(sender.pk):
            may_send_now, waiting = decision.allowed, waiting_reason(sender, decision)
        elif count := queued.get(sender.pk, (False, 0))[1]:
            waiting = (
                f"Nothing to send now: {count} queued invitation{'s' if count != 1 else ''} "
                f"{'waits' if count == 1 else 'wait'} in campaigns that do not send now (paused, draft or archived)."
            )
        sent_today, sent_this_week = used[sender.pk]
        cards.append(SenderCard(
            sender, sent_today, sent_this_week, sender.pk in decisions, may_send_now, waiting, stale.get(sender.pk, 0)
        ))
    return cards


@require_GET
def home(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    Sender.get()  # makes the first sender on an empty install
    usable = Sender.objects.usable_by(request.user).filter(pk=OuterRef("pk"))
    working = list(Sender.objects.working().annotate(usable=Exists(usable)).order_by("name", "pk"))
    # The newest few first, then their counts (tallies, prefetched for those only): one more
    # than shown says whether there are more, without counting them.
    campaigns = list(
        Campaign.objects.exclude(state=Campaign.State.ARCHIVED)
        .select_related("owner")
        .prefetch_related(Prefetch("senders", queryset=Sender.objects.order_by("name", "pk")))
        .with_request_counts()
        .order_by("-created_at", "-id")[: HOME_CAMPAIGNS + 1]
    )

    used = budgets_used(working, now)  # one query for the team's total and every card
    context = {
        "cards": sender_cards([sender for sender in working if sender.usable], now, used),
        "team": team_total(working, used),
        "campaigns": campaigns[:HOME_CAMPAIGNS],
        "more_campaigns": len(campaigns) > HOME_CAMPAIGNS,
        "bars": invitations_per_day(shown_zone(), now),
        "chart_time_zone": timezone.get_current_timezone_name(),
    }
    return TemplateResponse(request, "campaigns/home.html", context)


def invitations_per_day(tz: dt.tzinfo, now: dt.datetime):
    """Every sender's submissions per day over the last 30 days, days in the viewer's time
    zone `tz`: one query, a range of request_submitted_id_idx (the last 30 days' rows only)."""
    today = now.astimezone(tz).date()
    first_day = today - dt.timedelta(days=CHART_DAYS - 1)
    rows = (
        ConnectionRequest.objects.spending_budget()
        .filter(submitted_at__gte=dt.datetime.combine(first_day, dt.time(0), tzinfo=tz))
        .annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .values("day")
        .annotate(count=Count("id"))
        .order_by()
    )
    return daily_bars({row["day"]: row["count"] for row in rows}, today, CHART_DAYS)
