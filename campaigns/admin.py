from django.contrib import admin

from .models import Campaign, ConnectionRequest, Event, PendingUpload, ProfileLookup, Prospect, Sender


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ["__str__", "company", "title", "profile_urn", "profile_url", "created_at"]
    search_fields = ["first_name", "last_name", "company", "profile_urn", "profile_url"]


class ConnectionRequestInline(admin.TabularInline):
    model = ConnectionRequest
    fields = ["prospect", "state", "outx_task_id", "submitted_at"]
    readonly_fields = fields
    raw_id_fields = ["prospect"]
    extra = 0
    show_change_link = True


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "state", "created_at", "launched_at"]
    list_filter = ["state"]
    list_select_related = ["owner"]
    search_fields = ["name"]
    inlines = [ConnectionRequestInline]


class EventInline(admin.TabularInline):
    model = Event
    fields = ["at", "from_state", "to_state", "cause"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ConnectionRequest)
class ConnectionRequestAdmin(admin.ModelAdmin):
    list_display = ["prospect", "campaign", "state", "outx_task_id", "attempts", "poll_count", "submitted_at"]
    list_filter = ["state", "campaign"]
    list_select_related = ["prospect", "campaign"]
    search_fields = ["prospect__first_name", "prospect__last_name", "prospect__company", "note", "outx_task_id"]
    raw_id_fields = ["prospect", "campaign"]
    # The state changes only through ConnectionRequest.move_to, which records an Event.
    readonly_fields = ["state", "sender", "outx_task_id", "task_output", "attempts", "poll_count", "submitted_at", "completed_at", "accepted_at"]
    inlines = [EventInline]


@admin.register(ProfileLookup)
class ProfileLookupAdmin(admin.ModelAdmin):
    list_display = ["prospect", "state", "outx_task_id", "attempts", "poll_count", "submitted_at"]
    list_filter = ["state"]
    list_select_related = ["prospect"]
    raw_id_fields = ["prospect"]
    # Moved only by the worker's lifecycle, which records an Event for every change.
    readonly_fields = ["state", "sender", "outx_task_id", "task_output", "attempts", "poll_count", "submitted_at", "completed_at"]
    inlines = [EventInline]


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    """For operators; keys are entered on the Senders page, which tests them first. The admin
    never shows even the encrypted key, and the worker's fields are read-only."""

    list_display = ["name", "state", "daily_limit", "weekly_limit", "time_zone", "retired_at"]
    exclude = ["api_key_encrypted"]
    readonly_fields = [
        "state", "state_cause", "state_changed_at", "masked_key", "next_due_at", "worked_by", "worked_until",
        "next_submission_at", "next_lookup_at", "connections_task_id", "connections_task_start",
        "connections_next_poll_at", "connections_task_started_at", "retired_at",
    ]
    filter_horizontal = ["users"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["at", "connection_request", "campaign", "sender", "from_state", "to_state", "cause"]
    list_filter = ["to_state"]
    list_select_related = ["connection_request__prospect", "connection_request__campaign", "campaign", "sender"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the history is not edited


@admin.register(PendingUpload)
class PendingUploadAdmin(admin.ModelAdmin):
    """Seen, and deleted if need be; never edited. The table (up to a few MB) is not shown."""

    list_display = ["filename", "owner", "campaign", "created_at", "imported_at"]
    list_select_related = ["owner", "campaign"]
    fields = ["filename", "owner", "campaign", "created_at", "imported_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("table", "result")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
