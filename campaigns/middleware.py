"""Middleware of our own (listed in settings.MIDDLEWARE)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control


def private_no_store(get_response: Callable[[HttpRequest], HttpResponseBase]):
    """`Cache-Control: private, no-store` on every response to a logged-in user.

    Every such page, partial and export shows the team's prospects and invitations: no shared
    cache may keep them, and no browser may keep them on disk for the next person at the
    machine. The login page and static files (WhiteNoise answers those before this runs) go to
    anyone and keep their own caching.
    """

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware
