"""Personal API tokens: what a script or a Zapier/n8n flow shows the JSON API instead of a login.

A token is made on its owner's account page and shown once; only its SHA-256 digest and a short
prefix (to recognise it in the list) are stored. It acts as its owner, with exactly the rights
the pages give them, until it expires, is revoked, or its owner is made inactive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

TOKEN_PREFIX = "ob_"  # "outreach bearer": recognisable in a leaked log or a secret scanner
# 32 random bytes: 256 bits, as many as the digest keeps.
TOKEN_BYTES = 32
# What the list shows of a token: the marker and four characters of it ("ob_abcd…").
SHOWN_LENGTH = len(TOKEN_PREFIX) + 4
# Choices of lifetime, in days (None: never expires). Bounded: a year at most unless "never",
# which a person picks on purpose and can revoke.
EXPIRY_DAYS = (30, 90, 365, None)
# More live tokens than anyone needs (one per integration); the page refuses beyond it.
MAX_LIVE_TOKENS_PER_USER = 20
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_digest(raw: str) -> str:
    """The stored form of a token.

    A plain SHA-256 is right here, unlike for passwords: the token is 256 random bits, so no
    dictionary or brute force can invert its digest, and a slow, salted hash (PBKDF2, argon2)
    would protect nothing more while costing every API request its time. Being unsalted and
    deterministic, the digest is looked up by a unique index in one query.
    """
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def of_user(self, user) -> ApiTokenQuerySet:
        return self.filter(user=user)

    def live(self, now: dt.datetime) -> ApiTokenQuerySet:
        """Neither revoked nor expired."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for: “Zapier leads”, “n8n HubSpot sync”.")
    prefix = models.CharField(max_length=SHOWN_LENGTH, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.shown})"

    @property
    def shown(self) -> str:
        return f"{self.prefix}…"

    @classmethod
    def issue(cls, user, name: str, days: int | None, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
        """A new token for `user`, and the token itself: shown once, never stored."""
        now = now or timezone.now()
        raw = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:SHOWN_LENGTH], digest=token_digest(raw), created_at=now,
            expires_at=now + dt.timedelta(days=days) if days is not None else None,
        )
        return token, raw

    @classmethod
    def find(cls, raw: str) -> ApiToken | None:
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
            return None
        return cls.objects.select_related("user").filter(digest=token_digest(raw)).first()

    def refusal(self, now: dt.datetime) -> str:
        """Why this token may not be used now, or ""."""
        if self.revoked_at is not None:
            return "Token revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "Token expired"
        if not self.user.is_active:
            return "Token's user is inactive"
        return ""

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def revoke(self, now: dt.datetime | None = None) -> bool:
        """Revoke it for good; False if it already was."""
        now = now or timezone.now()
        revoked = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=now)
        if revoked:
            self.revoked_at = now
        return bool(revoked)

    def touch(self, now: dt.datetime) -> None:
        """Record a use, at most once per LAST_USED_RESOLUTION: a conditional UPDATE, so that
        a burst of requests (or several processes) writes the row once, not once a request."""
        if self.last_used_at is not None and self.last_used_at > now - LAST_USED_RESOLUTION:
            return
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        if ApiToken.objects.filter(stale, pk=self.pk).update(last_used_at=now):
            self.last_used_at = now
