"""Home: a card for each sender the person may use (its state, its budget against its caps, why
its next invitation waits), the team's total, the 30-day chart and the current campaigns.

Everyone sees the team's figures; the cards are the senders one may launch on. The page costs
a fixed number of queries plus a few per card (see `sender_card`), never more with more rows.
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

from ..charts import chart_width, daily_bars
from ..models import Campaign, ConnectionRequest, RequestTally, Sender
from ..sending import budget_used, submission_decision, team_budget_used, waiting_reason

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


def sender_card(sender: Sender, now: dt.datetime) -> SenderCard:
    """One sender's card, by the rules the worker follows: "may go out now" only when it has
    an invitation the worker would submit (`submittable`, so never one of a paused campaign)
    and pacing allows it. Costs 4 queries (budget 2, queued work 1, stale 1), and 1 more
    when it has nothing to send (what holds its queue up), or 2 or 3 when it has (its last
    hour's actions, and the weekly window when its cap is reached)."""
    used = sent_today, sent_this_week = budget_used(sender, now)
    may_send_now, waiting = False, NOTHING_QUEUED
    # The tallies first: a queue held in paused campaigns is not walked to find nothing.
    has_queued = RequestTally.objects.queued_in_active_campaigns(sender) and (
        ConnectionRequest.objects.submittable().filter(sender=sender).exists()
    )
    if has_queued:
        decision = submission_decision(sender, now, used)
        may_send_now, waiting = decision.allowed, waiting_reason(sender, decision)
    else:
        if count := RequestTally.objects.held_by_campaign(sender):
            waiting = (
                f"Nothing to send now: {count} queued invitation{'s' if count != 1 else ''} "
                f"{'waits' if count == 1 else 'wait'} in campaigns that do not send now (paused, draft or archived)."
            )
    stale_count = ConnectionRequest.objects.stale(sender, now).filter(sender=sender).count()
    return SenderCard(sender, sent_today, sent_this_week, has_queued, may_send_now, waiting, stale_count)


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

    context = {
        "cards": [sender_card(sender, now) for sender in working if sender.usable],
        "team": team_budget_used(working, now),
        "campaigns": campaigns[:HOME_CAMPAIGNS],
        "more_campaigns": len(campaigns) > HOME_CAMPAIGNS,
        "bars": invitations_per_day(shown_zone(), now),
        "chart_width": chart_width(CHART_DAYS),
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
