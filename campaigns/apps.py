from django.apps import AppConfig
from django.core import checks
from django.db.backends.signals import connection_created


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Outreach"

    def ready(self) -> None:
        from .checks import encryption_keys_configured, sandbox_off_in_production
        from .textsearch import add_fold_function

        # Each new SQLite connection gets the fold function that search lookups call.
        connection_created.connect(add_fold_function, dispatch_uid="campaigns.textsearch.fold")

        checks.register(sandbox_off_in_production, checks.Tags.security, deploy=True)
        checks.register(encryption_keys_configured, checks.Tags.security, deploy=True)
