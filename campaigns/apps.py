from django.apps import AppConfig
from django.core import checks


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Outreach"

    def ready(self) -> None:
        from .checks import encryption_keys_configured, sandbox_off_in_production

        checks.register(sandbox_off_in_production, checks.Tags.security, deploy=True)
        checks.register(encryption_keys_configured, checks.Tags.security, deploy=True)
