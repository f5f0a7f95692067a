"""Django's admin shows webhooks read-only: endpoints are added on the product's own pages,
which make the secret and check the URL. The secret is never shown here, not even encrypted."""

from django.contrib import admin

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "description", "enabled", "disabled_reason", "created_at"]
    exclude = ["secret_encrypted"]


@admin.register(WebhookMessage)
class WebhookMessageAdmin(ReadOnlyAdmin):
    list_display = ["msg_id", "type", "created_at"]
    search_fields = ["msg_id"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["message", "endpoint", "state", "attempt_count", "next_attempt_at"]
    list_filter = ["state"]
    list_select_related = ["message", "endpoint"]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "at", "status_code", "error", "duration_ms"]
    list_select_related = ["delivery__message", "delivery__endpoint"]
