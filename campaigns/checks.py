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
