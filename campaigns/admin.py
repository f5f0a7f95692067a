from django.contrib import admin

from .models import (
    Campaign, ConnectionRequest, DoNotContact, Event, PendingUpload, ProfileLookup, ProfileSearch, Prospect, SearchResult,
    Sender, SenderConnection,
)


# Django's admin is for operators, to read: what the worker writes (task ids, states, claims,
# poll times, OutX's raw output) is read-only everywhere, and the rows only the product makes
# (invitations, look-ups, searches, events, senders with their checked key) cannot be added here.
OUTX_TASK_FIELDS = [
    "state", "outx_task_id", "task_output", "attempts", "poll_count", "last_error", "created_at", "updated_at",
    "submitted_at", "claimed_by", "claimed_at", "completed_at", "next_poll_at",
]


class MadeByTheProductAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ["__str__", "company", "title", "profile_urn", "profile_url", "created_at"]
    search_fields = ["first_name", "last_name", "company", "profile_urn", "profile_url"]
    readonly_fields = ["lookup_error", "created_at", "updated_at"]  # the look-up's outcome


class ConnectionRequestInline(admin.TabularInline):
    model = ConnectionRequest
    fields = ["prospect", "state", "outx_task_id", "submitted_at"]
    readonly_fields = fields
    raw_id_fields = ["prospect"]
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "state", "created_at", "launched_at"]
    list_filter = ["state"]
    list_select_related = ["owner"]
    search_fields = ["name"]
    # The state moves through Campaign's own methods (each an Event); the rest is the worker's.
    readonly_fields = [
        "state", "paused_cause", "created_at", "updated_at", "launched_at", "last_submission_at", "brake_released_count",
    ]
    inlines = [ConnectionRequestInline]


class EventInline(admin.TabularInline):
    model = Event
    fields = ["at", "from_state", "to_state", "cause"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConnectionRequest)
class ConnectionRequestAdmin(MadeByTheProductAdmin):
    list_display = ["prospect", "campaign", "state", "outx_task_id", "attempts", "poll_count", "submitted_at"]
    list_filter = ["state", "campaign"]
    list_select_related = ["prospect", "campaign"]
    search_fields = ["prospect__first_name", "prospect__last_name", "prospect__company", "note", "outx_task_id"]
    raw_id_fields = ["prospect", "campaign"]
    # The state changes only through ConnectionRequest.move_to, which records an Event; the
    # note is frozen when submitted, exactly what was sent.
    readonly_fields = [
        *OUTX_TASK_FIELDS, "sender", "note", "note_problem", "variant", "accepted_at", "response", "responded_at",
        "responded_by",
    ]
    inlines = [EventInline]


@admin.register(ProfileLookup)
class ProfileLookupAdmin(MadeByTheProductAdmin):
    list_display = ["prospect", "state", "outx_task_id", "attempts", "poll_count", "submitted_at"]
    list_filter = ["state"]
    list_select_related = ["prospect"]
    raw_id_fields = ["prospect"]
    # Moved only by the worker's lifecycle, which records an Event for every change.
    readonly_fields = [*OUTX_TASK_FIELDS, "sender"]
    inlines = [EventInline]


@admin.register(Sender)
class SenderAdmin(MadeByTheProductAdmin):
    """For operators; keys are entered on the Senders page, which tests them first. The admin
    never shows even the encrypted key, and the worker's fields are read-only."""

    list_display = ["name", "state", "daily_limit", "weekly_limit", "time_zone", "retired_at"]
    exclude = ["api_key_encrypted"]
    readonly_fields = [
        "state", "state_cause", "state_changed_at", "masked_key", "next_due_at", "worked_by", "worked_until",
        "next_submission_at", "next_lookup_at", "next_search_at", "connections_task_id", "connections_task_start",
        "connections_next_poll_at", "connections_task_started_at", "retired_at", "resume_at",
        "next_acceptance_check_at", "last_acceptance_check_at", "created_at", "updated_at",
    ]
    filter_horizontal = ["users"]


@admin.register(Event)
class EventAdmin(MadeByTheProductAdmin):
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


class SearchResultInline(admin.TabularInline):
    model = SearchResult
    fields = ["position", "first_name", "last_name", "headline", "company", "location", "profile_urn"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProfileSearch)
class ProfileSearchAdmin(MadeByTheProductAdmin):
    list_display = ["__str__", "sender", "requested_by", "keywords", "title", "company", "start", "state", "submitted_at"]
    list_filter = ["state"]
    list_select_related = ["sender", "requested_by"]
    # Moved only by the worker's lifecycle, which records an Event for every change.
    readonly_fields = [*OUTX_TASK_FIELDS, "sender", "requested_by", "previous"]
    inlines = [SearchResultInline, EventInline]


@admin.register(DoNotContact)
class DoNotContactAdmin(admin.ModelAdmin):
    list_display = ["value", "kind", "reason", "added_by", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["added_by"]
    search_fields = ["value", "reason", "profile_urn", "profile_url", "company_name"]
    # Entries are added on the Do-not-contact page, which reads and normalises them.
    readonly_fields = ["kind", "profile_urn", "profile_url", "company_name", "company_key", "added_by", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SenderConnection)
class SenderConnectionAdmin(admin.ModelAdmin):
    list_display = ["profile_urn", "profile_url", "sender", "connected_at", "seen_at"]
    list_filter = ["sender"]
    search_fields = ["profile_urn", "profile_url"]
    readonly_fields = ["sender", "profile_urn", "profile_url", "connected_at", "seen_at"]

    def has_add_permission(self, request) -> bool:
        return False
