from django.apps import AppConfig
from django.core import checks


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from .checks import private_urls_refused_in_production

        checks.register(private_urls_refused_in_production, checks.Tags.security, deploy=True)
