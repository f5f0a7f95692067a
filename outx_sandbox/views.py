"""The sandbox's control page: its teams, and for the team chosen its switches and the log of
every invitation it delivered."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .extension import complete_due_tasks
from .forms import AddTeamForm, SandboxSettingsForm
from .models import Delivery, SandboxSettings, SandboxTask, SentMessage

DELIVERIES_PER_PAGE = 100
# The name of the add-team form's button: the page's two forms post to the same URL.
ADD_TEAM = "add_team"


def require_staff(request: HttpRequest) -> None:
    # Anonymous users never get here: LoginRequiredMiddleware sends them to the login page.
    if not request.user.is_staff:
        raise PermissionDenied("The OutX sandbox is for staff only.")


def chosen_team(request: HttpRequest) -> SandboxSettings:
    """The team `?team=<id>` names; the default team when none is named."""
    default = SandboxSettings.get()  # made on first use, so there is always one to show
    team_id = request.GET.get("team", "")
    if not team_id:
        return default
    if not team_id.isdigit():
        raise Http404("No such sandbox team.")
    return get_object_or_404(SandboxSettings, pk=team_id)


def team_url(team: SandboxSettings) -> str:
    return f"{reverse('outx_sandbox:control')}?team={team.pk}"


@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    team = chosen_team(request)
    form = SandboxSettingsForm(instance=team)
    add_team_form = AddTeamForm()
    if request.method == "POST" and ADD_TEAM in request.POST:
        add_team_form = AddTeamForm(request.POST)
        if add_team_form.is_valid():
            new_team = add_team_form.save()
            messages.success(request, f"Team {new_team.name} added, every switch off.")
            return redirect(team_url(new_team))
    elif request.method == "POST":
        form = SandboxSettingsForm(request.POST, instance=team)
        if form.is_valid():
            form.save()
            messages.success(request, f"Switches of {team.name} saved.")
            return redirect(team_url(team))

    complete_due_tasks()  # so the log shows what the simulated extensions have done by now
    deliveries = Delivery.objects.of_team(team)
    page = Paginator(deliveries.with_times_delivered(), DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "team": team,
        "teams": SandboxSettings.objects.order_by("pk").annotate(delivered=Count("tasks__delivery")),
        "form": form,
        "add_team_form": add_team_form,
        "add_team": ADD_TEAM,
        "page": page,
        "delivery_count": deliveries.count(),
        # Across every team: our senders together must never invite one person twice.
        "duplicate_count": Delivery.objects.duplicate_count(),
        "pending_task_count": team.tasks.filter(status=SandboxTask.Status.PENDING).count(),
        "message_count": SentMessage.objects.filter(task__team=team).count(),
    }
    return TemplateResponse(request, "outx_sandbox/control.html", context)


@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    """Forget every team's tasks, deliveries and messages (for demos); the teams and their
    switches stay as they are."""
    require_staff(request)
    team = chosen_team(request)
    with transaction.atomic():
        deleted = SandboxTask.objects.count()
        SandboxTask.objects.all().delete()  # deliveries and messages go with their tasks
    messages.success(request, f"Sandbox reset: {deleted} tasks and everything they delivered deleted.")
    return redirect(team_url(team))
