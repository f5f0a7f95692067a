"""System checks of our own, run by `manage.py check` (registered in apps.py)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

SANDBOX_IN_PRODUCTION = "outreach.W001"


def sandbox_off_in_production(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`check --deploy`: the OutX sandbox must not be on with DEBUG off.

    Its key is public by default, so anyone could create tasks through /outx-sandbox/, and the
    product would talk to it instead of OutX. Since it is on by default only with
    DJANGO_DEBUG=1, this finds someone who set OUTX_SANDBOX=1 on a production site.
    """
    if not settings.OUTX_SANDBOX or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "The OutX sandbox is on (OUTX_SANDBOX=1) while DJANGO_DEBUG=0.",
            hint=(
                "With it on, /outx-sandbox/ creates tasks for anyone who has its key "
                "(OUTX_SANDBOX_API_KEY, 'sandbox-key' unless set), and the product sends to it "
                "instead of OutX unless OUTX_BASE_URL says otherwise. In production leave "
                "OUTX_SANDBOX unset or set it to 0."
            ),
            id=SANDBOX_IN_PRODUCTION,
        )
    ]


ENCRYPTION_KEYS = "outreach.W002"


def encryption_keys_configured(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`check --deploy`: senders' OutX keys must be encrypted with keys from the environment.

    Without OUTREACH_ENCRYPTION_KEYS the key is derived from DJANGO_SECRET_KEY, so rotating the
    secret key would make every stored OutX key unreadable.
    """
    from . import keys

    bad = [key for key in settings.OUTREACH_ENCRYPTION_KEYS if not keys.is_valid_fernet_key(key)]
    if bad:
        return [
            checks.Error(
                f"{len(bad)} of the keys in OUTREACH_ENCRYPTION_KEYS is not a Fernet key.",
                hint="Each must be 32 url-safe base64-encoded bytes, as printed by "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`.",
                id=ENCRYPTION_KEYS,
            )
        ]
    if settings.OUTREACH_ENCRYPTION_KEYS or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "OUTREACH_ENCRYPTION_KEYS is not set: senders' OutX API keys are encrypted with a key "
            "derived from DJANGO_SECRET_KEY.",
            hint="Set OUTREACH_ENCRYPTION_KEYS to a Fernet key (see the README, 'Senders' keys'); "
            "changing DJANGO_SECRET_KEY would otherwise make every stored OutX key unreadable.",
            id=ENCRYPTION_KEYS,
        )
    ]
