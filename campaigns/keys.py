"""Senders' OutX API keys at rest: encrypted with cryptography's Fernet, keyed from the
environment, never from the database.

OUTREACH_ENCRYPTION_KEYS holds one or more Fernet keys, newest first, separated by commas.
Values are encrypted with the first and read with any of them (MultiFernet), so a key is
rotated by putting a new one first, running `manage.py rotate_sender_keys`, then dropping
the old one. Without the variable (development only; `check --deploy` says so), one key is
derived from DJANGO_SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

# cryptography is imported where a key is read or written, not here: campaigns.models imports
# this module, and loading cryptography's Rust bindings costs each web worker ~7 MiB that no
# page needs (bench/memory_bench.py).


class UnreadableKey(Exception):
    """A stored key none of the configured encryption keys can read."""


def derived_key(secret: str) -> bytes:
    """A Fernet key from a secret (development's fallback when no key is configured)."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"outreach sender keys\0" + secret.encode()).digest())


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    keys = tuple(settings.OUTREACH_ENCRYPTION_KEYS) or (derived_key(settings.SECRET_KEY).decode(),)
    return _fernet(keys)


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Never the token or the key in the message: it may reach a log.
        raise UnreadableKey(
            "A stored OutX API key cannot be decrypted with OUTREACH_ENCRYPTION_KEYS: "
            "was a key removed before `manage.py rotate_sender_keys` ran?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (readable by any configured key)."""
    return fernet().rotate(token.encode()).decode()


def fingerprint(api_key: str) -> str:
    """What tells two keys of one OutX team apart from two teams, without storing the key:
    its SHA-256. Keys are long random strings, so the digest reveals nothing usable."""
    return hashlib.sha256(api_key.strip().encode()).hexdigest()


def is_valid_fernet_key(key: str) -> bool:
    from cryptography.fernet import Fernet

    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True
