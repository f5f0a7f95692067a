"""Who is calling the API: a personal token in `Authorization: Bearer <token>`, and how fast.

The API takes tokens only, never the session cookie. A browser attaches cookies to any request
a hostile page makes it send, so an API that took the session would need CSRF tokens, which
scripts and Zapier/n8n flows do not have; a browser never attaches an Authorization header by
itself, so bearer tokens keep CSRF out of the API entirely.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from .models import ApiToken

MISSING_TOKEN = "Missing token: send the header 'Authorization: Bearer <token>' (make a token on /account/)."
NOT_BEARER = "Send the token as 'Authorization: Bearer <token>'."
INVALID_TOKEN = "Invalid token"


class TokenAuth(HttpBearer):
    """A token of an active user, neither expired nor revoked; each refusal says which it is.

    The token's user becomes `request.user`, so every rule the pages apply to the person applies
    to their token, and the site's middleware marks the answer `Cache-Control: private, no-store`.
    """

    def __call__(self, request: HttpRequest) -> ApiToken:
        value = request.headers.get(self.header)
        if not value:
            raise AuthenticationError(message=MISSING_TOKEN)
        scheme, _, raw = value.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            raise AuthenticationError(message=NOT_BEARER)
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = ApiToken.find(token)
        if found is None:
            raise AuthenticationError(message=INVALID_TOKEN)
        now = timezone.now()
        if refusal := found.refusal(now):
            raise AuthenticationError(message=refusal)
        found.touch(now)
        request.user = found.user
        return found


class TokenRateThrottle(SimpleRateThrottle):
    """At most settings.API_RATE_LIMITS[kind] requests per token (ninja's sliding window, kept
    in Django's cache).

    ninja keeps one throttle object per operation and stores the request being judged on it
    (`key`, `history`, `now`), which gunicorn's threads would share: here they live per thread.
    The rate is read from the settings at each request, so a test or an operator's change of
    the settings applies without a restart of the module.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self.scope = f"api_{kind}"
        self._state = threading.local()
        self.rate = settings.API_RATE_LIMITS[kind]
        self.num_requests, self.duration = self.parse_rate(self.rate)

    # The per-request attributes SimpleRateThrottle reads and writes, kept per thread.
    key = property(lambda self: self._state.key, lambda self, value: setattr(self._state, "key", value))
    history = property(lambda self: self._state.history, lambda self, value: setattr(self._state, "history", value))
    now = property(lambda self: self._state.now, lambda self, value: setattr(self._state, "now", value))

    def get_cache_key(self, request: HttpRequest) -> str | None:
        token: Any = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return None  # refused before: authentication answers first
        # The digest is unique for good (never reused, unlike a row id after a reset).
        return self.cache_format % {"scope": self.scope, "ident": token.digest[:32]}

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_RATE_LIMITS[self.kind]
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


def check_rates() -> None:
    """Refuse a malformed API_RATE_LIMITS at start-up rather than at the first request."""
    from django.core.exceptions import ImproperlyConfigured

    for kind in ("read", "write"):
        rate = settings.API_RATE_LIMITS.get(kind)
        try:
            count, duration = SimpleRateThrottle.parse_rate(SimpleRateThrottle.__new__(SimpleRateThrottle), rate)
        except (ValueError, AttributeError):
            count = duration = None
        if not count or not duration:
            raise ImproperlyConfigured(f"API_RATE_LIMITS[{kind!r}] must look like '120/min', not {rate!r}.")
