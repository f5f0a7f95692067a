import datetime as dt
import zoneinfo

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..charts import chart_width, daily_bars
from ..models import Campaign, ConnectionRequest, SendingAccount
from ..sending import budget_used, submission_decision

HOME_CAMPAIGNS = 20
CHART_DAYS = 30


@require_GET
def home(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    account = SendingAccount.get()
    used = sent_today, sent_this_week = budget_used(account, now)
    campaigns = (
        Campaign.objects.exclude(state=Campaign.State.ARCHIVED)
        .select_related("owner")
        .with_request_counts()
        .order_by("-created_at", "-id")[:HOME_CAMPAIGNS]  # an aggregate drops Meta.ordering
    )

    context = {
        "account": account,
        "sent_today": sent_today,
        "sent_this_week": sent_this_week,
        "campaigns": campaigns,
        "more_campaigns": Campaign.objects.exclude(state=Campaign.State.ARCHIVED).count() > HOME_CAMPAIGNS,
        "next_submission": submission_decision(account, now, used),
        "stale_count": ConnectionRequest.objects.stale(account, now).count(),
        "bars": invitations_per_day(account, now),
        "chart_width": chart_width(CHART_DAYS),
    }
    return TemplateResponse(request, "campaigns/home.html", context)


def invitations_per_day(account: SendingAccount, now: dt.datetime):
    """Submissions per day over the last 30 days, in the team's time zone: one query."""
    tz = zoneinfo.ZoneInfo(account.time_zone)
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
