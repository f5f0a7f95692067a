from django.contrib import admin

from .models import Delivery, SandboxSettings, SandboxTask, SentMessage


@admin.register(SandboxSettings)
class SandboxSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "name", "masked_key", "extension_offline", "wrong_key", "no_admin", "weekly_invitation_limit", "task_delay_seconds",
    ]
    exclude = ["api_key"]  # a page shows no key; teams are added on the sandbox page
    readonly_fields = ["masked_key"]


@admin.register(SandboxTask)
class SandboxTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "task_type", "status", "created_at", "complete_after"]
    list_filter = ["team", "task_type", "status"]
    search_fields = ["id"]
    date_hierarchy = "created_at"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["profile_urn", "delivered_at", "note"]
    search_fields = ["profile_urn", "note"]
    raw_id_fields = ["task"]


@admin.register(SentMessage)
class SentMessageAdmin(admin.ModelAdmin):
    list_display = ["recipient_urn", "sent_at", "message"]
    search_fields = ["recipient_urn", "message"]
    raw_id_fields = ["task"]
