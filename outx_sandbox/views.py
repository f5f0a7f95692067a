"""The sandbox's control page: its switches, and the log of every invitation it delivered."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST

from .extension import complete_due_tasks
from .forms import SandboxSettingsForm
from .models import Delivery, SandboxSettings, SandboxTask, SentMessage

DELIVERIES_PER_PAGE = 100


def require_staff(request: HttpRequest) -> None:
    # Anonymous users never get here: LoginRequiredMiddleware sends them to the login page.
    if not request.user.is_staff:
        raise PermissionDenied("The OutX sandbox is for staff only.")


@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    sandbox = SandboxSettings.get()
    if request.method == "POST":
        form = SandboxSettingsForm(request.POST, instance=sandbox)
        if form.is_valid():
            form.save()
            messages.success(request, "Sandbox settings saved.")
            return redirect("outx_sandbox:control")
    else:
        form = SandboxSettingsForm(instance=sandbox)

    complete_due_tasks()  # so the log shows what the simulated extension has done by now
    deliveries = Delivery.objects.all()
    page = Paginator(deliveries.with_times_delivered(), DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "delivery_count": deliveries.count(),
        "duplicate_count": deliveries.duplicate_count(),
        "pending_task_count": SandboxTask.objects.filter(status=SandboxTask.Status.PENDING).count(),
        "message_count": SentMessage.objects.count(),
    }
    return TemplateResponse(request, "outx_sandbox/control.html", context)


@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    """Forget every task, delivery and message (for demos); the switches stay as they are."""
    require_staff(request)
    with transaction.atomic():
        deleted = SandboxTask.objects.count()
        SandboxTask.objects.all().delete()  # deliveries and messages go with their tasks
    messages.success(request, f"Sandbox reset: {deleted} tasks and everything they delivered deleted.")
    return redirect("outx_sandbox:control")
