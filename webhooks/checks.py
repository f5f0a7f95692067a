"""System checks for webhooks, run by `manage.py check --deploy` (registered in apps.py)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

PRIVATE_URLS_IN_PRODUCTION = "webhooks.W001"


def private_urls_refused_in_production(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With DEBUG off, webhooks must not reach private addresses (webhooks/ssrf.py)."""
    if settings.DEBUG or not settings.WEBHOOKS_ALLOW_PRIVATE_URLS:
        return []
    return [
        checks.Warning(
            "WEBHOOKS_ALLOW_PRIVATE_URLS=1 while DJANGO_DEBUG=0: webhook URLs may point at this "
            "server's private network (loopback, 10.x, 169.254.169.254, ...).",
            hint="Leave WEBHOOKS_ALLOW_PRIVATE_URLS unset in production unless the CRM truly lives on "
            "the private network, and every admin is trusted with reaching it.",
            id=PRIVATE_URLS_IN_PRODUCTION,
        )
    ]
