"""Senders, for admins only: the LinkedIn accounts invitations go out from, each with its OutX
key, its users, its pacing and state; the OutX connection test; retiring and deleting."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import keys, outx
from ..forms.senders import AccountActionForm, SenderForm, without_key
from ..models import Sender
from ..sending import actions_last_hour, budget_used


def staff_only(view):
    """Answer 403 to anyone but an admin (the login itself is required by the middleware)."""

    @functools.wraps(view)
    def staff_view(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only admins may see or change the senders.")
        return view(request, *args, **kwargs)

    return staff_view


@require_GET
@staff_only
def settings_redirect(request: HttpRequest) -> HttpResponse:
    """The Settings page became the senders' pages: old bookmarks land on the list."""
    return redirect("sender_list")


# --- The list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderFigures:
    """A sender with its invitations today and this week, against its caps."""

    sender: Sender
    sent_today: int
    sent_this_week: int


def figures_of(sender: Sender) -> SenderFigures:
    return SenderFigures(sender, *budget_used(sender, timezone.now()))


@require_GET
def sender_list(request: HttpRequest) -> HttpResponse:
    """Every sender's figures, for everyone (members see them all, and launch on their own);
    keys, users and the pages that change a sender are for admins."""
    senders = list(Sender.objects.prefetch_related("users").order_by("name", "pk"))
    return TemplateResponse(request, "campaigns/sender_list.html", {
        "working": [figures_of(sender) for sender in senders if not sender.is_retired],
        "retired": [sender for sender in senders if sender.is_retired],
    })


# --- Adding and changing one ------------------------------------------------------------------


def say_saved(request: HttpRequest, form: SenderForm, text: str) -> None:
    for warning in form.safety_warnings():
        messages.warning(request, warning)
    messages.success(request, text)


@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
@staff_only
def sender_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SenderForm(request.POST)
        if form.is_valid():
            sender = form.save()
            say_saved(request, form, f"Sender “{sender.name}” added.")
            return redirect("sender_detail", sender.pk)
    else:
        form = SenderForm()
    return TemplateResponse(request, "campaigns/sender_form.html", {"form": form})


@sensitive_post_parameters("api_key")
@require_http_methods(["GET", "POST"])
@staff_only
def sender_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A sender's page: its state and figures, the connection test, its form and its end."""
    sender = get_object_or_404(Sender, pk=pk)
    form = None
    if sender.is_retired:
        if request.method == "POST":
            messages.error(request, f"{sender.name} is retired: it can no longer be changed.")
            return redirect("sender_detail", sender.pk)
    elif request.method == "POST":
        form = SenderForm(request.POST, instance=sender)
        if form.is_valid():
            form.save()
            say_saved(request, form, "Sender saved.")
            return redirect("sender_detail", sender.pk)
    else:
        form = SenderForm(instance=sender)
    # Fresh from the database: a refused form has set its values on its own instance.
    sender = Sender.objects.prefetch_related("users").get(pk=pk)
    return TemplateResponse(request, "campaigns/sender_detail.html", {
        "form": form,
        "sender": sender,
        "figures": figures_of(sender),
        "actions_last_hour": actions_last_hour(sender, timezone.now()),
        "needs_admin_fix": sender.state in (Sender.State.INVALID_KEY, Sender.State.NO_ADMIN),
        "deletion_refusal": sender.deletion_refusal(),
        "outx_base_url": settings.OUTX_BASE_URL,
    })


# --- Its state, its connection ----------------------------------------------------------------


@require_POST
@staff_only
def sender_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause or resume the sender, by the `action` the button sent (resume if none)."""
    sender = get_object_or_404(Sender, pk=pk)
    form = AccountActionForm({"action": request.POST.get("action", "resume")})
    if sender.is_retired:
        messages.error(request, f"{sender.name} is retired: it sends nothing.")
    elif not form.is_valid():
        messages.error(request, "Choose whether to pause or resume sending.")
    else:
        messages.success(request, form.apply(sender, request.user))
    return redirect("sender_detail", sender.pk)


@require_POST
@staff_only
def sender_test_connection(request: HttpRequest, pk: int) -> HttpResponse:
    sender = get_object_or_404(Sender, pk=pk)
    check = check_outx_connection(sender)
    if request.htmx:
        return TemplateResponse(request, "campaigns/sender_detail.html#connection-result", {"check": check})
    messages.add_message(request, check.level, check.text)
    return redirect("sender_detail", sender.pk)


@dataclass(frozen=True)
class ConnectionCheck:
    level: int  # a django.contrib.messages level
    text: str

    @property
    def tag(self) -> str:
        return messages.DEFAULT_TAGS[self.level]


# An error report (the admins' error mail, with DEBUG off) lists each frame's variables: hide
# them all, here and in the client's frames below, which hold the key.
@sensitive_variables()
def check_outx_connection(sender: Sender) -> ConnectionCheck:
    """Ask OutX for a task nobody has, with the sender's key: "unknown task" proves the key
    works and OutX answers."""
    try:
        key = sender.api_key
    except keys.UnreadableKey as error:
        return ConnectionCheck(messages.ERROR, str(error))
    if not key.strip():
        if sender.key_from_environment:
            text = "No OutX API key is set: an admin must set OUTX_API_KEY, or edit this sender and enter its key."
        else:
            text = "This sender has no OutX API key: edit it and enter its key."
        return ConnectionCheck(messages.ERROR, text)
    try:
        with outx.client_for(sender) as client:
            client.check_connection()
    except outx.OutxUnauthorized as error:
        level, text = messages.ERROR, f"OutX rejected the API key ({error.message})."
    except outx.OutxExtensionOffline:
        level, text = messages.WARNING, "The key works, but no OutX extension has been active in the last 48 hours."
    except outx.OutxTimeout:
        level, text = messages.ERROR, (
            f"OutX did not answer within {settings.OUTX_READ_TIMEOUT:g} seconds. Try again in a few minutes."
        )
    except outx.OutxConnectionError as error:
        level, text = messages.ERROR, f"Could not reach OutX at {settings.OUTX_BASE_URL}: {error.message}"
    except outx.OutxServerError as error:
        level, text = messages.ERROR, f"OutX had a server error ({error.message}). Try again in a few minutes."
    except outx.OutxError as error:
        level, text = messages.ERROR, f"OutX answered something unexpected: {error.message}"
    else:
        level, text = messages.SUCCESS, "OutX answered: the key works and the extension is online."
    # Belt and braces: an error's text must never carry the key to the page.
    return ConnectionCheck(level, without_key(text, key))


# --- Its end: retiring, or deleting one that never sent ----------------------------------------


@require_http_methods(["GET", "POST"])
@staff_only
def sender_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask first (GET), then retire (POST)."""
    sender = get_object_or_404(Sender, pk=pk)
    if sender.is_retired:
        messages.info(request, f"{sender.name} was already retired.")
        return redirect("sender_detail", sender.pk)
    if request.method == "POST":
        sender.retire(request.user)
        messages.success(
            request, f"{sender.name} is retired: it sends nothing more, and its queued invitations moved to "
            "their campaigns' other senders.",
        )
        return redirect("sender_detail", sender.pk)
    return TemplateResponse(request, "campaigns/sender_confirm.html", {"sender": sender, "action": "retire"})


@require_http_methods(["GET", "POST"])
@staff_only
def sender_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask first (GET), then delete (POST) a sender that never sent or looked up anything."""
    sender = get_object_or_404(Sender, pk=pk)
    refusal = sender.deletion_refusal()
    if request.method == "POST":
        if not refusal:
            try:
                sender.delete()
            except ProtectedError:  # something was queued on it since the check
                refusal = sender.deletion_refusal() or f"{sender.name} is in use: it cannot be deleted."
            else:
                messages.success(request, f"Sender “{sender.name}” deleted.")
                return redirect("sender_list")
        messages.error(request, refusal)
        return redirect("sender_detail", sender.pk)
    return TemplateResponse(
        request, "campaigns/sender_confirm.html", {"sender": sender, "action": "delete", "refusal": refusal}
    )
