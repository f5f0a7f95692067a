"""A person's own account page: their API tokens, made and revoked here. Only ever their own:
another person's token is a 404, whoever asks (admins revoke others' tokens in the admin)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from people.views import time_zone_form_for

from .forms import TokenForm
from .models import MAX_LIVE_TOKENS_PER_USER, ApiToken


def account_context(request: HttpRequest, form: TokenForm, **extra) -> dict:
    now = timezone.now()
    tokens = list(ApiToken.objects.of_user(request.user))
    for token in tokens:
        token.state_now = token.state(now)
    return {
        "form": form, "tokens": tokens, "max_tokens": MAX_LIVE_TOKENS_PER_USER,
        "time_zone_form": time_zone_form_for(request),
        "docs_url": reverse("api:openapi-view"), "api_root": request.build_absolute_uri("/api/v1/"), **extra,
    }


@require_GET
def account(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(request, "api/account.html", account_context(request, TokenForm()))


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Make a token and show it in this very answer, once: it is stored only as a digest, so it
    cannot be shown again, and it is never put in the session or a message to survive a
    redirect. The answer is `no-store` (the site's middleware), so the browser keeps no copy."""
    form = TokenForm(request.POST)
    live = ApiToken.objects.of_user(request.user).live(timezone.now()).count()
    if form.is_valid() and live >= MAX_LIVE_TOKENS_PER_USER:
        form.add_error(None, f"You have {live} tokens in use, the most allowed: revoke one you no longer use first.")
    if not form.is_valid():
        return TemplateResponse(request, "api/account.html", account_context(request, form), status=400)
    token, raw = ApiToken.issue(request.user, form.cleaned_data["name"], form.cleaned_data["expires"])
    context = account_context(request, TokenForm(), new_token=token, new_token_value=raw)
    return TemplateResponse(request, "api/account.html", context)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.of_user(request.user), pk=pk)
    if token.revoke():
        messages.success(request, f"Token “{token.name}” ({token.shown}) revoked: it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("account")
