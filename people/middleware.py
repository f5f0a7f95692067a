"""Show every time in the zone of the person asking (listed in settings.MIDDLEWARE)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from .models import Profile
from .timezones import ViewerZone, show_times_in


def user_time_zone(get_response: Callable[[HttpRequest], HttpResponseBase]):
    """Activate the logged-in person's time zone (their own, else the team's) for the request:
    templates' |date, forms' dates and texts built during the view all follow it. Looked up
    (one query) only if the request shows a time. A streamed export takes the zone in its view
    (`shown_zone()`), since the stream outlives this request."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.time_zone = ViewerZone(functools.partial(Profile.time_zone_of, user))
            show_times_in(request.time_zone)
        else:
            show_times_in(None)
        try:
            return get_response(request)
        finally:
            show_times_in(None)

    return middleware
