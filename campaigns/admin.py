from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from .models import (
    Campaign, ConnectionRequest, DoNotContact, Event, PendingUpload, ProfileLookup, ProfileSearch, Prospect, RequestState,
    SearchResult, Sender, SenderConnection,
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


class AtLeast(int):
    """A count that stopped at its cap: compares as the cap, reads "10,000+"."""

    def __str__(self) -> str:
        return f"{int(self):,}+"


class CappedCountPaginator(Paginator):
    """Counts no further than CAP rows (a LIMIT in the count's subquery): the changelist of a
    table of a million rows reads at most CAP + 1 of them to count, and offers the pages of
    the first CAP; filters and the search reach the others."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by().values("pk")[: self.CAP + 1].count()
        return AtLeast(self.CAP) if counted > self.CAP else counted


class BigTableAdmin(admin.ModelAdmin):
    """The changelist of a table that grows with use: counted up to a cap, never in full, and
    newest first by the primary key's index (Meta's ordering may have no index to read)."""

    paginator = CappedCountPaginator
    list_per_page = 50  # as the product's own tables: a page of 100 rows cost twice the render
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facets count every filter's choices over the table
    ordering = ["-pk"]


class BigTableMadeByTheProductAdmin(BigTableAdmin, MadeByTheProductAdmin):
    pass


@admin.register(Prospect)
class ProspectAdmin(BigTableAdmin):
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
class ConnectionRequestAdmin(BigTableMadeByTheProductAdmin):
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
class ProfileLookupAdmin(BigTableMadeByTheProductAdmin):
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


class ToStateFilter(admin.SimpleListFilter):
    """The states events move to, as the models name them: not read from the table (a
    DISTINCT over every event, which the admin's own filter of a field without choices does)."""

    title = "to state"
    parameter_name = "to_state"

    def lookups(self, request, model_admin):
        states: dict[str, str] = {}
        for choices in (RequestState.choices, Campaign.State.choices, Sender.State.choices):
            for value, label in choices:
                states.setdefault(value, label)
        return sorted(states.items())

    def queryset(self, request, queryset):
        return queryset.filter(to_state=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(BigTableMadeByTheProductAdmin):
    list_display = ["at", "connection_request", "campaign", "sender", "from_state", "to_state", "cause"]
    list_filter = [ToStateFilter]
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
class ProfileSearchAdmin(BigTableMadeByTheProductAdmin):
    list_display = ["__str__", "sender", "requested_by", "keywords", "title", "company", "start", "state", "submitted_at"]
    list_filter = ["state"]
    list_select_related = ["sender", "requested_by"]
    # Moved only by the worker's lifecycle, which records an Event for every change.
    readonly_fields = [*OUTX_TASK_FIELDS, "sender", "requested_by", "previous"]
    inlines = [SearchResultInline, EventInline]


@admin.register(DoNotContact)
class DoNotContactAdmin(BigTableAdmin):
    list_display = ["value", "kind", "reason", "added_by", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["added_by"]
    search_fields = ["value", "reason", "profile_urn", "profile_url", "company_name"]
    # Entries are added on the Do-not-contact page, which reads and normalises them.
    readonly_fields = ["kind", "profile_urn", "profile_url", "company_name", "company_key", "added_by", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SenderConnection)
class SenderConnectionAdmin(BigTableAdmin):
    list_display = ["profile_urn", "profile_url", "sender", "connected_at", "seen_at"]
    list_filter = ["sender"]
    search_fields = ["profile_urn", "profile_url"]
    readonly_fields = ["sender", "profile_urn", "profile_url", "connected_at", "seen_at"]

    def has_add_permission(self, request) -> bool:
        return False
