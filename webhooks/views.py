"""Webhook endpoints, for admins only: add one, see its secret once, its delivery log, send a
delivery again, enable, disable, rotate the secret, delete."""

from __future__ import annotations

import functools
import time

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import EndpointForm
from .models import ATTEMPTS_PER_ROUND, WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELIVERIES_PER_PAGE = 25
# The log shows each delivery's latest tries; older ones stay in the database.
ATTEMPTS_SHOWN = 10
# The session remembers which endpoint's secret the next page view shows, never the secret:
# the page reads it (encrypted) from the database, once.
SHOW_SECRET_KEY = "webhooks_show_secret_of"


def staff_only(view):
    """Answer 403 to anyone but an admin (the login itself is required by the middleware)."""

    @functools.wraps(view)
    def staff_view(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only admins may see or change webhooks.")
        return view(request, *args, **kwargs)

    return staff_view


# ... and only on a page seen this soon after: a flag left behind shows nothing later.
SHOW_SECRET_SECONDS = 600


def show_secret_once(request: HttpRequest, endpoint: WebhookEndpoint) -> None:
    request.session[SHOW_SECRET_KEY] = [endpoint.pk, time.time()]


def secret_to_show(request: HttpRequest, endpoint: WebhookEndpoint) -> str:
    """The endpoint's secret if this view is the one right after it was made; else ""."""
    flag = request.session.get(SHOW_SECRET_KEY)
    if not isinstance(flag, list) or len(flag) != 2 or flag[0] != endpoint.pk:
        return ""
    del request.session[SHOW_SECRET_KEY]
    if time.time() - flag[1] > SHOW_SECRET_SECONDS:
        return ""
    return endpoint.secret()


@require_GET
@staff_only
def webhook_list(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "webhooks/webhook_list.html", {
        "endpoints": WebhookEndpoint.objects.order_by("created_at", "pk"),
    })


@require_http_methods(["GET", "POST"])
@staff_only
def webhook_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            endpoint = form.save(commit=False)
            endpoint.created_by = request.user
            endpoint.set_new_secret()
            endpoint.save()
            show_secret_once(request, endpoint)
            messages.success(request, "Endpoint added. Copy its signing secret now: it is shown only this once.")
            return redirect("webhook_detail", endpoint.pk)
    else:
        form = EndpointForm()
    return TemplateResponse(request, "webhooks/webhook_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@staff_only
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An endpoint's page: its secret (once), its settings form, its state and delivery log."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        form = EndpointForm(request.POST, instance=endpoint)
        if form.is_valid():
            form.save()
            messages.success(request, "Endpoint saved.")
            return redirect("webhook_detail", endpoint.pk)
        endpoint = WebhookEndpoint.objects.get(pk=pk)  # fresh: the refused form changed its own
    else:
        form = EndpointForm(instance=endpoint)
    # Three queries whatever the page: the count, the page of deliveries with their messages,
    # and the latest tries of each (a sliced prefetch, one windowed query).
    recent_attempts = WebhookAttempt.objects.order_by("-at", "-id")[:ATTEMPTS_SHOWN]
    log = (
        endpoint.deliveries.select_related("message")
        .prefetch_related(Prefetch("attempts", queryset=recent_attempts, to_attr="recent_attempts"))
        .order_by("-created_at", "-id")
    )
    page = Paginator(log, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "webhooks/webhook_detail.html", {
        "endpoint": endpoint,
        "form": form,
        "secret": secret_to_show(request, endpoint),
        "page": page,
        "attempts_per_round": ATTEMPTS_PER_ROUND,
        "attempts_shown": ATTEMPTS_SHOWN,
    })


@require_POST
@staff_only
def webhook_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    endpoint.rotate_secret()
    show_secret_once(request, endpoint)
    messages.success(
        request, "New signing secret made. Copy it now: it is shown only this once, and the old one no longer signs."
    )
    return redirect("webhook_detail", endpoint.pk)


@require_POST
@staff_only
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    endpoint.enable()
    messages.success(request, "Endpoint enabled: its waiting deliveries go out now.")
    return redirect("webhook_detail", endpoint.pk)


@require_POST
@staff_only
def webhook_disable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    endpoint.disable(f"Disabled by {request.user.get_username()}.")
    messages.success(request, "Endpoint disabled: it gets no new events, and its waiting deliveries wait.")
    return redirect("webhook_detail", endpoint.pk)


@require_POST
@staff_only
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    endpoint.delete()
    messages.success(request, f"Endpoint {endpoint.url} deleted, with its delivery log.")
    return redirect("webhook_list")


@require_POST
@staff_only
def webhook_send_again(request: HttpRequest, pk: int) -> HttpResponse:
    """A new try of the same message (same webhook-id) now, and a fresh round of retries."""
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    if not delivery.send_again():
        messages.error(request, "This delivery is being sent right now; look again in a moment.")
    elif not delivery.endpoint.enabled:
        messages.warning(request, "Queued again; it waits until the endpoint is enabled.")
    else:
        # Imported here: the delivery module brings httpx, which no other page needs.
        from . import delivery as deliveries

        state = deliveries.deliver_now(delivery)
        delivery.refresh_from_db()
        if state == WebhookDelivery.State.DELIVERED:
            messages.success(request, f"Sent again: the receiver answered {delivery.last_status_code}.")
        else:
            messages.warning(
                request,
                f"Sent again, not delivered ({delivery.last_error or delivery.last_status_code}); retried by the worker.",
            )
    return redirect("webhook_detail", delivery.endpoint_id)
