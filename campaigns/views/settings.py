"""Settings, for admins only: the sending account's pacing and state, and the OutX connection."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from .. import outx
from ..forms.settings import AccountActionForm, SendingAccountForm
from ..models import SendingAccount


def staff_only(view):
    """Answer 403 to anyone but an admin (the login itself is required by the middleware)."""

    @functools.wraps(view)
    def staff_view(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only admins may see or change the settings.")
        return view(request, *args, **kwargs)

    return staff_view


@require_http_methods(["GET", "POST"])
@staff_only
def settings_page(request: HttpRequest) -> HttpResponse:
    account = SendingAccount.get()
    if request.method == "POST":
        form = SendingAccountForm(request.POST, instance=account)
        if form.is_valid():
            form.save()
            for warning in form.safety_warnings():
                messages.warning(request, warning)
            messages.success(request, "Settings saved.")
            return redirect("settings")
    else:
        form = SendingAccountForm(instance=account)
    return TemplateResponse(request, "campaigns/settings.html", settings_context(form))


def settings_context(form: SendingAccountForm) -> dict:
    # Fresh from the database: a refused form has set its values on its own instance.
    account = SendingAccount.get()
    return {
        "form": form,
        "account": account,
        "account_needs_admin_fix": account.state in (SendingAccount.State.INVALID_KEY, SendingAccount.State.NO_ADMIN),
        "outx_base_url": settings.OUTX_BASE_URL,
        "outx_key_masked": masked(settings.OUTX_API_KEY),
    }


@require_POST
@staff_only
def test_connection(request: HttpRequest) -> HttpResponse:
    check = check_outx_connection()
    if request.htmx:
        return TemplateResponse(request, "campaigns/settings.html#connection-result", {"check": check})
    messages.add_message(request, check.level, check.text)
    return redirect("settings")


@require_POST
@staff_only
def resume_account(request: HttpRequest) -> HttpResponse:
    """Pause or resume sending, by the `action` the button sent (resume if none)."""
    form = AccountActionForm({"action": request.POST.get("action", "resume")})
    if not form.is_valid():
        messages.error(request, "Choose whether to pause or resume sending.")
        return redirect("settings")
    messages.success(request, form.apply(SendingAccount.get(), request.user))
    return redirect("settings")


# --- The OutX connection ----------------------------------------------------------------------


def masked(key: str) -> str:
    """The API key as the page may show it: enough to recognise it, never enough to use it."""
    if not key:
        return "not set"
    if len(key) < 10:
        return "•" * 8
    return f"{key[:2]}{'•' * 8}{key[-2:]}"


@dataclass(frozen=True)
class ConnectionCheck:
    level: int  # a django.contrib.messages level
    text: str

    @property
    def tag(self) -> str:
        return messages.DEFAULT_TAGS[self.level]


def without_key(text: str, key: str) -> str:
    """`text` with the key masked, also as error messages spell it: stripped of a stray line
    break or space (h11 names a header value it refuses as b'<key>\\n'), escaped by repr(),
    or in another case (a message may upper- or lower-case what it quotes)."""
    spellings = {key, key.strip(), repr(key)[1:-1], repr(key.encode())[2:-1]}
    for spelling in sorted(spellings, key=len, reverse=True):
        if spelling:
            text = re.sub(re.escape(spelling), lambda _: masked(key), text, flags=re.IGNORECASE)
    return text


# An error report (the admins' error mail, with DEBUG off) lists each frame's variables: hide
# them all, here and in the client's frames below, which hold the key.
@sensitive_variables()
def check_outx_connection() -> ConnectionCheck:
    """Ask OutX for a task nobody has: "unknown task" proves the key works and OutX answers."""
    key = settings.OUTX_API_KEY
    if not key:
        return ConnectionCheck(messages.ERROR, "No OutX API key is set: an admin must set OUTX_API_KEY.")
    try:
        with outx.get_client() as client:
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
