from django.db.models import Count, Q
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .models import Campaign, ConnectionRequest, SendingAccount
from .worker import budget_used, submission_decision


@require_GET
def home(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    account = SendingAccount.get()
    sent_today, sent_this_week = budget_used(account, now)
    campaigns = (
        Campaign.objects.exclude(state=Campaign.State.ARCHIVED)
        .select_related("owner")
        .annotate(
            total=Count("requests"),
            sent=Count("requests", filter=Q(requests__state__in=["sent", "accepted"])),
        )
    )
    context = {
        "account": account,
        "sent_today": sent_today,
        "sent_this_week": sent_this_week,
        "campaigns": campaigns,
        "next_submission": submission_decision(account, now),
        "stale_count": ConnectionRequest.objects.stale(account, now).count(),
    }
    return TemplateResponse(request, "campaigns/home.html", context)
