import re

from django.views.debug import SafeExceptionReporterFilter


class SecretsHidingFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding settings that hold URLs with credentials in them."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|REDIS|DATABASE_URL|Q_CLUSTER", flags=re.I
    )
