"""The Users pages, for admins only: the team's people, their roles, whether they may log in,
their passwords and the senders they may use. And a person's own time zone, set from their
account page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.models import Sender
from campaigns.views.senders import staff_only

from . import models as people
from .forms import PasswordResetForm, RoleForm, SendersForm, TimeZoneForm, UserCreateForm
from .models import Profile, Role, role_of


def users_with_senders():
    working = Sender.objects.working().order_by("name", "pk")
    return get_user_model().objects.prefetch_related(Prefetch("senders", queryset=working, to_attr="working_senders"))


@require_http_methods(["GET"])
@staff_only
def user_list(request: HttpRequest) -> TemplateResponse:
    users = list(users_with_senders().order_by("-is_active", "username"))
    return TemplateResponse(request, "people/user_list.html", {
        "users": users, "admin_count": sum(1 for user in users if user.is_active and user.is_staff),
    })


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
@staff_only
def user_create(request: HttpRequest) -> HttpResponse:
    """Add someone. A typed password: redirect to their page. A generated one is shown in this
    very answer, once, like a new API token: never put in the session or a message to survive
    a redirect (the answer is `no-store`, campaigns.middleware)."""
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = people.create_user(
            request.user, username=data["username"], first_name=data["first_name"], last_name=data["last_name"],
            email=data["email"], role=data["role"], password=data["password"],
            senders=data["senders"] if data["role"] == Role.MEMBER else (),
        )
        added = f"{user.get_username()} added as {Role(data['role']).label.lower()}."
        if not data["password_given"]:
            return user_page(request, user, new_password=data["password"], said=added)
        messages.success(request, f"{added} Hand them their password privately.")
        return redirect("user_detail", user.pk)
    return TemplateResponse(request, "people/user_form.html", {"form": form}, status=400 if form.errors else 200)


def user_page(request: HttpRequest, user, *, status: int = 200, **extra) -> TemplateResponse:
    user = users_with_senders().get(pk=user.pk)
    is_self = user.pk == request.user.pk
    context = {
        "person": user,
        "role": role_of(user),
        "is_self": is_self,
        "role_form": extra.pop("role_form", None) or RoleForm(initial={"role": role_of(user)}),
        "role_refusal": people.role_refusal(request.user, user, Role.MEMBER) if user.is_staff else "",
        "deactivation_refusal": people.deactivation_refusal(request.user, user) if user.is_active else "",
        "senders_form": SendersForm(initial={"senders": user.working_senders}),
        "password_form": extra.pop("password_form", None) or PasswordResetForm(user),
        "history": people.history_of(user),
        **extra,
    }
    return TemplateResponse(request, "people/user_detail.html", context, status=status)


@require_http_methods(["GET"])
@staff_only
def user_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    return user_page(request, get_object_or_404(get_user_model(), pk=pk))


def apply(request: HttpRequest, user, change, *args) -> HttpResponse:
    """Run a people.* change, tell what happened (or why not), and go back to the person's page."""
    try:
        messages.success(request, change(request.user, user, *args))
    except ValueError as refusal:
        messages.error(request, str(refusal))
    return redirect("user_detail", user.pk)


@require_POST
@staff_only
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Admin or Member.")
        return redirect("user_detail", user.pk)
    return apply(request, user, people.set_role, form.cleaned_data["role"])


@require_POST
@staff_only
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (`active=0`) or reactivate (`active=1`)."""
    user = get_object_or_404(get_user_model(), pk=pk)
    active = request.POST.get("active")
    if active not in ("0", "1"):
        messages.error(request, "Choose whether to deactivate or reactivate.")
        return redirect("user_detail", user.pk)
    return apply(request, user, people.set_active, active == "1")


@require_POST
@staff_only
def user_senders(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    form = SendersForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose among the working senders.")
        return redirect("user_detail", user.pk)
    return apply(request, user, people.set_senders, form.cleaned_data["senders"])


@sensitive_post_parameters("password")
@require_POST
@staff_only
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a new password: a typed one redirects; a generated one is shown in this answer, once."""
    user = get_object_or_404(get_user_model(), pk=pk)
    form = PasswordResetForm(user, request.POST)
    if not form.is_valid():
        return user_page(request, user, password_form=form, status=400)
    people.set_password(request.user, user, form.cleaned_data["password"])
    said = f"{user.get_username()}'s password was reset: their open sessions ended."
    if not form.cleaned_data["password_given"]:
        return user_page(request, user, new_password=form.cleaned_data["password"], said=said)
    messages.success(request, f"{said} Hand them the new one privately.")
    return redirect("user_detail", user.pk)


# --- A person's own time zone (on /account/) -------------------------------------------------


def time_zone_form_for(request: HttpRequest, data=None) -> TimeZoneForm:
    own = Profile.objects.filter(user=request.user).values_list("time_zone", flat=True).first() or ""
    return TimeZoneForm(data, current=own)


@require_POST
def account_time_zone(request: HttpRequest) -> HttpResponse:
    form = time_zone_form_for(request, request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a time zone from the list.")
        return redirect(reverse("account") + "#time-zone")
    chosen = form.cleaned_data["time_zone"]
    Profile.set_time_zone(request.user, chosen)
    if chosen:
        messages.success(request, f"Times are now shown in {chosen}.")
    else:
        messages.success(request, "Times are now shown in the team's time zone.")
    return redirect(reverse("account") + "#time-zone")
