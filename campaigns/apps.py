from django.apps import AppConfig
from django.core import checks
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Outreach"

    def ready(self) -> None:
        from .checks import encryption_keys_configured, sandbox_off_in_production
        from . import triggers
        from .textsearch import add_fold_function

        # Each new SQLite connection gets the fold function that search lookups call.
        connection_created.connect(add_fold_function, dispatch_uid="campaigns.textsearch.fold")

        # The counters' triggers live outside the migrations (triggers.py says why).
        pre_migrate.connect(triggers.drop_before_migrate, sender=self, dispatch_uid="campaigns.triggers.drop")
        post_migrate.connect(triggers.install_after_migrate, sender=self, dispatch_uid="campaigns.triggers")

        checks.register(sandbox_off_in_production, checks.Tags.security, deploy=True)
        checks.register(encryption_keys_configured, checks.Tags.security, deploy=True)
