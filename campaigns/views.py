from django.db.models import Count, Q
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .models import Campaign, ConnectionRequest, SendingAccount


@require_GET
def home(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    account = SendingAccount.get()
    submitted = ConnectionRequest.objects.filter(submitted_at__isnull=False)
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
        "sent_today": submitted.filter(submitted_at__gte=now - timezone.timedelta(days=1)).count(),
        "sent_this_week": submitted.filter(submitted_at__gte=now - timezone.timedelta(days=7)).count(),
        "campaigns": campaigns,
    }
    return TemplateResponse(request, "campaigns/home.html", context)
