"""The product's data: prospects, campaigns, connection requests, senders, events.

A connection request's state only changes through `ConnectionRequest.move_to`, which checks
the move is allowed, makes it only if nobody else moved the request first (a conditional
UPDATE), and records an Event with the cause — so the history is complete and two workers can
never both take the same request from `queued` to `submitting`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
import secrets
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.text import capfirst

from . import keys, linkedin
from .charts import Segment, progress_segments
from .textsearch import search_text_of
from .durations import delay_in_words
from .notes import (  # MESSAGE_MAX_LENGTH stays importable from here (campaigns/followups.py)
    MESSAGE_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    NoteTemplateError,
    TemplateShape,
    check_note,
    js_trim,
    note_value_length,
    render_note,
    template_errors,
    template_shape,
    utf16_length,
)


# --- The most a person may set a number to ------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """The largest value a person may give a number field, in words they read ("129600 minutes
    (90 days)"). Each keeps every moment computed from its number (now plus a delay) far inside
    what a datetime holds, so no setting can stop the worker or break a page. A validator says
    it in every form and the admin; a check constraint holds it in the database."""

    maximum: int
    unit: str
    meaning: str = ""  # the maximum in larger units: "90 days"

    def __str__(self) -> str:
        return f"{self.maximum} {self.unit}" + (f" ({self.meaning})" if self.meaning else "")

    @property
    def message(self) -> str:
        return f"Enter at most {self}."

    @property
    def validators(self) -> list[MaxValueValidator]:
        return [MaxValueValidator(self.maximum, message=self.message)]


def bounded_form_field(model: type[models.Model], name: str, **kwargs) -> forms.IntegerField:
    """The model's bounded number field as a form field (label, default and all), for a form
    that declares its own: the input's `max`, the help text and the error say the maximum."""
    field, bound = model._meta.get_field(name), model.BOUNDS[name]
    help_text = kwargs.pop("help_text", field.help_text)
    return field.formfield(
        max_value=bound.maximum, help_text=f"{help_text} At most {bound}.".lstrip(),
        error_messages={"max_value": bound.message}, **kwargs,
    )


def bound_constraints(prefix: str, bounds: Mapping[str, Bound]) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(condition=Q(**{f"{name}__lte": bound.maximum}), name=f"{prefix}_{name}_bounded")
        for name, bound in bounds.items()
    ]


CAMPAIGN_BOUNDS = {
    # A message months after the acceptance is no longer a follow-up.
    "followup_delay_minutes": Bound(90 * 24 * 60, "minutes", "90 days"),
    # Ten weeks of invitations at the safe 100 a week.
    "brake_min_invitations": Bound(1000, "invitations"),
    "brake_min_acceptance_percent": Bound(100, "percent"),
}
ACCOUNT_BOUNDS = {
    # Far above what LinkedIn tolerates (about 100 a week), with room for demos and load tests.
    "daily_limit": Bound(1000, "invitations a day"),
    "weekly_limit": Bound(7 * 1000, "invitations a week", "seven days at the daily maximum"),
    "hourly_action_limit": Bound(1000, "actions an hour"),
    # A gap longer than a day is fewer than one invitation a day.
    "min_spacing_seconds": Bound(24 * 60 * 60, "seconds", "one day"),
    "max_spacing_seconds": Bound(24 * 60 * 60, "seconds", "one day"),
    "offline_recheck_seconds": Bound(24 * 60 * 60, "seconds", "one day"),
    # Read less often than daily, acceptances (and their follow-ups) would be seen days late.
    "acceptance_check_minutes": Bound(24 * 60, "minutes", "one day"),
    "acceptance_wait_days": Bound(90, "days"),
    "stale_after_days": Bound(365, "days", "one year"),
}


class ProspectQuerySet(models.QuerySet):
    def waiting_for_urn(self, sender: Sender | None = None) -> ProspectQuerySet:
        """Known only by URL, not known to be unreadable, and waiting in the queue of an active
        campaign (on `sender`, if given): what a profile look-up is for."""
        on_sender = {"requests__sender": sender} if sender is not None else {}
        return self.filter(
            profile_urn__isnull=True,
            lookup_error="",
            requests__state=TaskState.QUEUED,
            requests__campaign__state=Campaign.State.ACTIVE,
            **on_sender,
        ).distinct()

    def needing_lookup(self, sender: Sender | None = None) -> ProspectQuerySet:
        return self.waiting_for_urn(sender).filter(lookup__isnull=True)

    # Every way the ORM writes names in bulk keeps their note lengths with them (save() does
    # the same for one prospect); a length left null is computed when next needed.

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for prospect in objs:
            prospect.set_note_lengths()
            prospect.set_search_text()
        if kwargs.get("update_fields"):  # update_conflicts: the lengths follow the names
            kwargs["update_fields"] = with_search_text_field(with_note_length_fields(kwargs["update_fields"]))
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, all_fields = list(objs), with_search_text_field(with_note_length_fields(fields))
        if len(all_fields) > len(fields):
            for prospect in objs:
                prospect.set_note_lengths()
                prospect.set_search_text()
        return super().bulk_update(objs, all_fields, *args, **kwargs)

    def update(self, **kwargs):
        for name, length_field in NOTE_LENGTH_FIELDS.items():
            if name in kwargs and length_field not in kwargs:
                value = kwargs[name]
                # An expression's value is not known here: null, computed when next needed.
                kwargs[length_field] = note_value_length(value) if isinstance(value, str) else None
        if not SEARCH_TEXT_FIELDS.intersection(kwargs):
            return super().update(**kwargs)
        # The search text joins every searched field: the rows' other fields are read after.
        pks = list(self.values_list("pk", flat=True))
        updated = super().update(**kwargs)
        Prospect.objects.filter(pk__in=pks).refresh_search_text()
        return updated

    def refresh_search_text(self) -> None:
        """Recompute these prospects' search text (`Prospect.search_text`), 1,000 at a time."""
        prospects = list(self.only("pk", *SEARCH_TEXT_FIELDS))
        for prospect in prospects:
            prospect.set_search_text()
        Prospect.objects.bulk_update(prospects, ["search_text"], batch_size=1000)

    def fill_note_lengths(self) -> None:
        """Compute the note lengths these prospects lack (rows written around the ORM, such as
        by loaddata or raw SQL): one query when none does."""
        unknown = Q()
        for length_field in NOTE_LENGTH_FIELDS.values():
            unknown |= Q(**{f"{length_field}__isnull": True})
        prospects = list(self.filter(unknown).only("pk", *NOTE_LENGTH_FIELDS))
        for prospect in prospects:
            prospect.set_note_lengths()
        Prospect.objects.bulk_update(prospects, list(NOTE_LENGTH_FIELDS.values()), batch_size=1000)


# The names a note uses, each with the field that keeps its length in a note (note_value_length).
# {full_name} needs none: its length follows from the first and last names' (full_name_length).
NOTE_LENGTH_FIELDS = {
    "first_name": "first_name_note_length",
    "last_name": "last_name_note_length",
    "company": "company_note_length",
    "title": "title_note_length",
}


# What a prospect's `search_text` is made of: Review's search (and the API's `q`) look there.
SEARCH_TEXT_FIELDS = frozenset({"first_name", "last_name", "company", "title", "headline", "profile_url", "profile_urn"})


def with_search_text_field(fields: Iterable[str]) -> list[str]:
    """`fields`, and `search_text` when one of them is searched."""
    fields = list(fields)
    return fields + ["search_text"] if SEARCH_TEXT_FIELDS.intersection(fields) and "search_text" not in fields else fields


def with_note_length_fields(fields: Iterable[str]) -> list[str]:
    """`fields`, and the note length field of each name among them."""
    fields = list(fields)
    return fields + [NOTE_LENGTH_FIELDS[name] for name in fields if name in NOTE_LENGTH_FIELDS
                     and NOTE_LENGTH_FIELDS[name] not in fields]


class Prospect(models.Model):
    """One LinkedIn member, once for the whole team."""

    profile_urn = models.CharField(
        "profile URN", max_length=150, unique=True, null=True, blank=True,
        help_text="urn:li:fsd_profile:…; learned from OutX when only the URL is known.",
    )
    profile_url = models.CharField(
        "profile URL", max_length=300, unique=True, null=True, blank=True,
        help_text="Stored as https://www.linkedin.com/in/<slug>.",
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    headline = models.CharField(max_length=300, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=200, blank=True)
    # A prospect known only by URL gets its URN from an OutX fetch-profile task (ProfileLookup);
    # why that cannot be done, when it cannot: the prospect is then never invited.
    lookup_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What each name adds to a note's length (see NOTE_LENGTH_FIELDS), kept with the names so
    # that a whole queue's notes are measured in SQL (QueuedNotes); null until computed.
    first_name_note_length = models.PositiveIntegerField(null=True, editable=False)
    last_name_note_length = models.PositiveIntegerField(null=True, editable=False)
    company_note_length = models.PositiveIntegerField(null=True, editable=False)
    title_note_length = models.PositiveIntegerField(null=True, editable=False)
    # Its names, company, title, headline, URL and URN, folded as a search compares them
    # (textsearch.fold): searched with a plain LIKE, by a trigram index on PostgreSQL.
    search_text = models.TextField(blank=True, default="", editable=False)

    objects = ProspectQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(profile_urn__isnull=False) | Q(profile_url__isnull=False),
                name="prospect_has_urn_or_url",
            ),
            models.CheckConstraint(
                condition=Q(profile_urn__isnull=True) | Q(profile_urn__startswith=linkedin.URN_PREFIX),
                name="prospect_urn_normalised",
            ),
            models.CheckConstraint(
                condition=Q(profile_url__isnull=True)
                | Q(profile_url__startswith="https://www.linkedin.com/in/"),
                name="prospect_url_normalised",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.profile_urn or self.profile_url or f"Prospect {self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def note_values(self) -> dict[str, str]:
        """The values a note template's variables take for this prospect, trimmed as
        JavaScript trims (OutX and the browser counter), not as Python's strip() does."""
        first_name, last_name = js_trim(self.first_name), js_trim(self.last_name)
        return {
            "first_name": first_name,
            "last_name": last_name,
            "full_name": " ".join(part for part in (first_name, last_name) if part),
            "company": js_trim(self.company),
            "title": js_trim(self.title),
        }

    def set_note_lengths(self) -> None:
        for name, length_field in NOTE_LENGTH_FIELDS.items():
            setattr(self, length_field, note_value_length(getattr(self, name)))

    def set_search_text(self) -> None:
        self.search_text = search_text_of(self)

    def save(self, *args, **kwargs) -> None:
        self.set_note_lengths()
        self.set_search_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = with_search_text_field(with_note_length_fields(kwargs["update_fields"]))
        super().save(*args, **kwargs)

    def clean(self) -> None:
        try:
            if self.profile_urn:
                self.profile_urn = linkedin.normalise_profile_urn(self.profile_urn)
            if self.profile_url:
                self.profile_url = linkedin.normalise_profile_url(self.profile_url)
        except linkedin.InvalidProfile as error:
            raise ValidationError(str(error)) from None
        self.profile_urn = self.profile_urn or None
        self.profile_url = self.profile_url or None
        if not (self.profile_urn or self.profile_url):
            raise ValidationError("A prospect needs a profile URN or a profile URL.")


class CampaignQuerySet(models.QuerySet):
    def owned_by(self, user) -> CampaignQuerySet:
        """The campaigns `user` owns: the "My campaigns" filter."""
        return self.filter(owner=user) if user.is_authenticated else self.none()

    def visible_to(self, user) -> CampaignQuerySet:
        """The campaigns `user` may look at: every one, for any active user logged in (the pages
        and the JSON API alike); only the owner or an admin changes one (`can_be_changed_by`)."""
        return self if user.is_authenticated and user.is_active else self.none()

    def changeable_by(self, user) -> CampaignQuerySet:
        """The campaigns `user` may change (`Campaign.can_be_changed_by`), as one query."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self if user.is_staff else self.filter(owner=user)

    def with_request_counts(self) -> CampaignQuerySet:
        """Each campaign with its requests' totals per state, read through
        `campaign.request_counts`: one more query for the whole page (`WithRequestCounts`)."""
        clone = self._chain()
        clone._iterable_class = WithRequestCounts
        return clone


class WithRequestCounts(models.query.ModelIterable):
    """The campaigns, then their tallies summed per (campaign, state) in one GROUP BY: a few
    rows per campaign however many senders and variants share it. A prefetch must load model
    instances, which made this a window over every tally row and a sort: 5.4 ms against 1.6
    for Home's 21 campaigns at the bench's 1M rows (186 tally rows a campaign)."""

    def __iter__(self):
        campaigns = list(super().__iter__())
        totals: dict[int, list[tuple[str, int]]] = {campaign.pk: [] for campaign in campaigns}
        if campaigns:
            rows = (
                RequestTally.objects.filter(campaign_id__in=totals).values_list("campaign_id", "state")
                .annotate(total=models.Sum("n")).order_by()
            )
            for campaign_id, state, total in rows:
                totals[campaign_id].append((state, total))
        for campaign in campaigns:
            campaign.summed_state_tallies = totals[campaign.pk]
            yield campaign


def transitions_of(moves: Iterable[tuple[str, str]], states: Iterable[str]) -> dict[str, frozenset[str]]:
    """{from state: the states it may go to}, from a list of (from, to) moves."""
    return {state: frozenset(target for source, target in moves if source == state) for state in states}


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns"
    )
    note_template = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    # Why a campaign is paused, when it did not pause itself by a person's hand.
    paused_cause = models.CharField(max_length=300, blank=True)
    prospects = models.ManyToManyField(
        Prospect, through="ConnectionRequest", related_name="campaigns"
    )
    # The LinkedIn accounts its invitations go out from: its queue is spread evenly over them.
    senders = models.ManyToManyField("Sender", related_name="campaigns", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    # Campaigns take turns: the one that submitted least recently goes next.
    last_submission_at = models.DateTimeField(null=True, blank=True)
    # Up to three note variants: A is note_template; prospects are spread evenly over them.
    note_template_b = models.TextField("Note variant B", blank=True)
    note_template_c = models.TextField("Note variant C", blank=True)
    # The message sent once an invitation is accepted (empty: none), and how long after.
    followup_template = models.TextField("Follow-up message", blank=True)
    followup_delay_minutes = models.PositiveIntegerField(
        "Follow-up delay (minutes)", default=24 * 60, validators=CAMPAIGN_BOUNDS["followup_delay_minutes"].validators
    )
    # The safety brake: pause the campaign when too few of its invitations are accepted.
    brake_min_invitations = models.PositiveIntegerField(
        "Brake after this many invitations", default=20,
        help_text="Invitations old enough to have been answered; 0 turns the brake off.",
        validators=CAMPAIGN_BOUNDS["brake_min_invitations"].validators,
    )
    brake_min_acceptance_percent = models.PositiveIntegerField(
        "Minimum acceptance rate (%)", default=20, validators=CAMPAIGN_BOUNDS["brake_min_acceptance_percent"].validators
    )
    # How many answered invitations the brake had seen when a person last resumed it: it
    # looks again only after brake_min_invitations more, or it would trip at once.
    brake_released_count = models.PositiveIntegerField(default=0)
    # Grows with every write to its requests, follow-ups and prospects, and with a change of
    # state of one of its senders, in the same transaction: kept by the database's triggers
    # (migration 0016), never by Python, so the live page's poll asks one row what changed.
    version = models.BigIntegerField(default=0, editable=False)

    objects = CampaignQuerySet.as_manager()

    BOUNDS = CAMPAIGN_BOUNDS

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = bound_constraints("campaign", CAMPAIGN_BOUNDS)
        # The worker picks the next campaign by its last turn, never by sorting the queue.
        indexes = [models.Index(fields=["state", "last_submission_at"], name="campaign_turn_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # `version` belongs to the triggers: a save of an object loaded earlier must not
        # write back the number it was loaded with.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                field.name for field in self._meta.concrete_fields if not field.primary_key and field.name != "version"
            ]
        super().save(*args, **kwargs)

    @cached_property
    def tally_rows(self) -> list[tuple]:
        """Its RequestTally rows, one per (sender, variant, state), as named tuples (sender_key,
        state, n): one query. Tuples, not instances, since a campaign shared by many senders
        has hundreds of rows (290 at the bench's 1M rows) and the campaign page reads them all."""
        return list(self.tallies.values_list("sender_key", "state", "n", named=True))

    @cached_property
    def state_totals(self) -> list[tuple[str, int]]:
        """(state, how many) of its requests and follow-ups ("followup:<state>"): summed per
        state by `with_request_counts()` when loaded with them, else from its tally rows."""
        summed = vars(self).get("summed_state_tallies")
        if summed is not None:
            return summed
        return [(tally.state, tally.n) for tally in self.tally_rows]

    @cached_property
    def request_counts(self) -> RequestCounts:
        """Its requests counted per state, from its tallies (a few rows, whatever its size)."""
        by_state = dict.fromkeys(RequestState.values, 0)
        for state, n in self.state_totals:
            if not state.startswith(RequestTally.FOLLOWUP_PREFIX):
                by_state[state] += n
        return RequestCounts(by_state)

    def request_counts_by_sender(self) -> dict[int | None, int]:
        """How many of its requests each sender holds (None: no sender yet), from its tallies."""
        counts: dict[int | None, int] = {}
        for tally in self.tally_rows:
            if not tally.state.startswith(RequestTally.FOLLOWUP_PREFIX):
                sender_id = tally.sender_key or None
                counts[sender_id] = counts.get(sender_id, 0) + tally.n
        return counts

    @cached_property
    def followup_counts(self) -> dict[str, int]:
        """Its follow-ups counted per state (TaskState), from its tallies."""
        counts = dict.fromkeys(TaskState.values, 0)
        for state, n in self.state_totals:
            if state.startswith(RequestTally.FOLLOWUP_PREFIX):
                counts[state.removeprefix(RequestTally.FOLLOWUP_PREFIX)] += n
        return counts

    VARIANT_FIELDS = {"A": "note_template", "B": "note_template_b", "C": "note_template_c"}

    def variants(self) -> dict[str, str]:
        """The note variants in use, by label; A always, B and C when written."""
        return {
            label: getattr(self, field)
            for label, field in self.VARIANT_FIELDS.items()
            if label == "A" or js_trim(getattr(self, field))
        }

    # Every move a campaign may make, and the action by which a person makes it (None: only
    # the worker makes it). The worker also pauses a campaign itself (the safety brake).
    # Archived is the end: it sends nothing and is hidden.
    MOVES: dict[tuple[str, str], str | None] = {
        (State.DRAFT, State.ACTIVE): "launch",
        (State.DRAFT, State.ARCHIVED): "archive",
        (State.ACTIVE, State.PAUSED): "pause",
        (State.ACTIVE, State.COMPLETED): None,  # nothing left to send
        (State.ACTIVE, State.ARCHIVED): "archive",
        (State.PAUSED, State.ACTIVE): "resume",
        (State.PAUSED, State.ARCHIVED): "archive",
        (State.COMPLETED, State.ACTIVE): "resume",
        (State.COMPLETED, State.ARCHIVED): "archive",
    }
    TRANSITIONS: dict[str, frozenset[str]] = transitions_of(MOVES, State.values)
    # Each action once done: the cause ("Launched by ada") and the page's message say it.
    ACTIONS_DONE = {"launch": "Launched", "pause": "Paused", "resume": "Resumed", "archive": "Archived"}

    def can_be_changed_by(self, user) -> bool:
        """Everyone may look; only the owner or an admin may change. Views enforce it."""
        return user.is_authenticated and (user.is_staff or user.pk == self.owner_id)

    def can_move_to(self, new_state: str) -> bool:
        return new_state in self.TRANSITIONS[self.state]

    def move_to(self, new_state: str, cause: str, paused_cause: str = "") -> None:
        """Change the campaign's state, recording why. `paused_cause`: why it paused itself."""
        if not self.can_move_to(new_state):
            raise ValueError(f"A {self.state} campaign cannot become {new_state}.")
        now = timezone.now()
        with transaction.atomic():
            Event.objects.create(campaign=self, from_state=self.state, to_state=new_state, cause=cause, at=now)
            if self.paused_cause and new_state == self.State.ACTIVE:
                # A person overrides the brake: it looks again only after more invitations.
                self.brake_released_count = self.brake_counts(now)[0]
            self.state = new_state
            if new_state == self.State.ACTIVE and self.launched_at is None:
                self.launched_at = now
            self.paused_cause = fit(paused_cause, Campaign, "paused_cause") if new_state == self.State.PAUSED else ""
            self.save(update_fields=["state", "launched_at", "paused_cause", "brake_released_count", "updated_at"])
            if new_state == self.State.PAUSED and self.paused_cause:
                # A paused_cause means the campaign paused itself, and only the safety brake does
                # (a person's pause passes none). The outbox writes in this same transaction.
                from webhooks.outbox import campaign_paused_by_brake  # lazily: webhooks imports this module

                campaign_paused_by_brake(self, self.paused_cause, now)
        if new_state == self.State.ACTIVE:
            Sender.objects.filter(campaigns=self).wake(now)  # its next invitation need not wait a minute

    # --- What a person may do to a campaign --------------------------------------------------

    def actions(self) -> list[str]:
        """The actions a person may take on the campaign now, in the order of MOVES."""
        return [action for (source, _), action in self.MOVES.items() if source == self.state and action]

    def launch(self, user) -> list[str]:
        """Start sending a draft. Returns what stops it (see `act`), empty once launched."""
        return self.act("launch", user)

    def pause(self, user) -> list[str]:
        return self.act("pause", user)

    def resume(self, user) -> list[str]:
        """Send again, after a pause or once more prospects were added to a completed campaign."""
        return self.act("resume", user)

    def archive(self, user) -> list[str]:
        return self.act("archive", user)

    def act(self, action: str, user) -> list[str]:
        """Take a person's action, recording it as the cause ("Launched by ada").

        An action that makes the campaign active must pass the launch check first: what stops
        it is returned, and nothing changes. Otherwise the queued notes are rendered afresh,
        exactly as they will be sent, and an empty list is returned.
        """
        if action not in self.actions():
            raise ValueError(f"A {self.state} campaign cannot be {self.ACTIONS_DONE[action].lower()}.")
        target = next(to for (source, to), name in self.MOVES.items() if source == self.state and name == action)
        if target == self.State.ACTIVE:
            self.check_senders_usable_by(user)
            if problems := self.launch_problems(resuming=action == "resume"):
                return problems
            self.refresh_queue()  # a long queue by a task: nothing goes out until it ends
        self.move_to(target, f"{self.ACTIONS_DONE[action]} by {user.get_username()}")
        return []

    # --- Its senders --------------------------------------------------------------------------

    def check_senders_usable_by(self, user) -> None:
        """Only someone allowed on every one of its senders may make the campaign send."""
        refused = [sender.name for sender in self.senders.all() if not sender.may_be_used_by(user)]
        if refused:
            raise PermissionDenied(f"You may not send from {', '.join(refused)}.")

    def spread_queued_over_senders(self) -> None:
        """Give each queued request without a sender of this campaign one, so that every sender
        ends up with as many of the campaign's requests as the others. A request keeps its
        sender once submitted (acceptance and the follow-up come from the account that
        invited); only queued ones move, and only those whose sender left the campaign.
        All at once, batch by batch in one transaction: for a queue short enough to place
        within a request (`refresh_queue` decides for any queue)."""
        with transaction.atomic():
            # A task placing a batch holds the campaign's row: it ends first, then this sees its work.
            Campaign.objects.select_for_update().filter(pk=self.pk).exists()
            sender_ids, counts = self.requests_per_working_sender()
            after_id, placed = 0, 0
            while (batch := self.place_queued_batch(self.requests.filter(pk__gt=after_id), sender_ids, counts)):
                after_id, count = batch
                placed += count
                if count < self.NOTE_RENDER_BATCH:
                    break
        if placed and sender_ids and self.state == self.State.ACTIVE:
            Sender.objects.filter(pk__in=sender_ids).wake()

    def queued_count(self) -> int:
        """How many of its requests are queued, from its tallies (a few rows, whatever the queue)."""
        return sum(tally.n for tally in self.tallies.filter(state=RequestState.QUEUED))

    def requests_per_working_sender(self) -> tuple[list[int], dict[int, int]]:
        """Its working senders' ids in order, and how many of its requests (in any state) each
        holds, read afresh from the tallies."""
        sender_ids = list(self.senders.working().order_by("pk").values_list("pk", flat=True))
        counts = dict.fromkeys(sender_ids, 0)
        for tally in self.tallies.filter(sender_key__in=sender_ids).exclude(state__startswith=RequestTally.FOLLOWUP_PREFIX):
            counts[tally.sender_key] += tally.n
        return sender_ids, counts

    def place_queued_batch(
        self, requests: models.QuerySet, sender_ids: list[int], counts: dict[int, int]
    ) -> tuple[int, int] | None:
        """Give the first NOTE_RENDER_BATCH queued `requests` (in id order) whose sender is not
        one of `sender_ids` the one with the fewest requests (`counts`, kept up to date), or no
        sender when the campaign has none. Returns the last id placed and how many were, or
        None when none was left."""
        queued = requests.filter(state=RequestState.QUEUED)
        unplaced = queued.exclude(sender_id__in=sender_ids) if sender_ids else queued.exclude(sender=None)
        ids = list(unplaced.order_by("id").values_list("pk", flat=True)[: self.NOTE_RENDER_BATCH])
        if not ids:
            return None
        placed: dict[int | None, list[int]] = {None: ids}  # with no sender, they wait for one
        if sender_ids:
            placed = {sender_id: [] for sender_id in sender_ids}
            for request_id in ids:
                sender_id = min(sender_ids, key=lambda pk: (counts[pk], pk))
                counts[sender_id] += 1
                placed[sender_id].append(request_id)
        for sender_id, request_ids in placed.items():
            if request_ids:
                # Queued still: one the worker claimed meanwhile keeps the sender it went out from.
                ConnectionRequest.objects.filter(pk__in=request_ids, state=RequestState.QUEUED).update(sender_id=sender_id)
        return ids[-1], len(ids)

    def brake_counts(self, now: dt.datetime) -> tuple[int, int]:
        """(answered, accepted): invitations sent long enough ago to have been answered (the
        longest acceptance_wait_days of its senders), and how many of those were accepted."""
        wait_days = self.senders.aggregate(days=models.Max("acceptance_wait_days"))["days"]
        cutoff = now - dt.timedelta(days=wait_days if wait_days is not None else 7)
        counts = self.requests.filter(
            state__in=[RequestState.SENT, RequestState.ACCEPTED], submitted_at__lte=cutoff
        ).aggregate(
            answered=models.Count("id"),
            accepted=models.Count("id", filter=Q(state=RequestState.ACCEPTED)),
        )
        return counts["answered"], counts["accepted"]

    def brake_reason(self, now: dt.datetime) -> str:
        """Why the safety brake should stop this campaign now, or "" if it should not."""
        if not self.brake_min_invitations:
            return ""
        answered, accepted = self.brake_counts(now)
        if answered < self.brake_released_count + self.brake_min_invitations:
            return ""
        if accepted * 100 >= answered * self.brake_min_acceptance_percent:
            return ""
        return (
            f"Safety brake: only {accepted} of {answered} invitations answered so far were accepted "
            f"({100 * accepted // answered}%, below {self.brake_min_acceptance_percent}%). "
            "Check the note and the prospects, then resume if you wish."
        )

    def template_problems(self, template: str | None = None) -> list[str]:
        """What is wrong with the note template itself, whoever the prospect is. The 300 limit
        holds for the template as typed too (docs/product.md), besides each prospect's note: a
        prospect's values can be as long as the variable names they replace."""
        template = self.note_template if template is None else template
        problems = template_errors(template)
        checked = check_note(template)
        if not checked.within_limit:
            problems.append(f"The template as typed is {checked.length} characters long; LinkedIn allows at most {NOTE_MAX_LENGTH}.")
        return problems

    def rendered_notes(self, template: str | None = None, variant: str | None = None) -> list[RenderedNote]:
        """Each queued request's note as its variant's template renders it.

        With `template` (an edit not yet saved), only the requests of `variant` (default A;
        all of them when the campaign has a single variant) are rendered with it.
        """
        queued = self.requests.filter(state=RequestState.QUEUED).select_related("prospect").order_by("id")
        variants = self.variants()
        if template is not None:
            label = variant or "A"
            if len(variants) > 1:
                queued = queued.filter(variant=label)
            return [RenderedNote.of(template, request) for request in queued]
        return [RenderedNote.of(variants.get(request.variant, variants["A"]), request) for request in queued]

    def queued_notes(self, template: str, variant: str | None = None) -> QueuedNotes:
        """What `template` makes of the queued requests `rendered_notes(template, variant)`
        would render: of the first QueuedNotes.PREVIEW_WINDOW of them (the note preview's, at
        every keystroke, costs the same however long the queue is; the launch checks all)."""
        queued = self.requests.filter(state=RequestState.QUEUED)
        if len(self.variants()) > 1:
            queued = queued.filter(variant=variant or "A")
        return QueuedNotes(queued, template, window=QueuedNotes.PREVIEW_WINDOW)

    # A launch refused lists this many notes that stop it, and counts the rest.
    LISTED_LAUNCH_PROBLEMS = 10

    NO_SENDER_PROBLEM = "Choose at least one sender in Edit: invitations go out from a sender."

    def launch_problems(self, resuming: bool = False) -> list[str]:
        """Why the campaign cannot launch (or resume) as it stands; empty if it can.

        A first launch needs someone queued, and lists every queued prospect whose note cannot
        be sent, before anything goes out. A campaign that has run is never kept from resuming
        by such invitations: they can simply be skipped (`skip_unsendable`), and the page warns
        of them meanwhile (`unsendable_reasons`); only what concerns the whole campaign (its
        senders, its templates) stops it."""
        problems = [] if self.senders.working().exists() else [self.NO_SENDER_PROBLEM]
        for label, template in self.variants().items():
            prefix = f"Variant {label}: " if len(self.variants()) > 1 else ""
            problems += [prefix + problem for problem in self.template_problems(template)]
        problems += self.followup_problems()
        if resuming:
            return problems  # with nobody queued, a resumed campaign still sends its follow-ups
        if self.is_rendering_notes:
            # The stored notes and their problems, read below, are not all current yet.
            problems.append(f"{self.notes_render_progress}: launch once the queue is updated.")
        if not self.request_counts.by_state[RequestState.QUEUED]:
            problems.append("Add prospects to the campaign first: nobody is queued.")
        # Each queued note's problem is stored when the note is rendered (render_queued_notes,
        # with every edit and every addition), so the check reads the few rows with a problem
        # (a partial index holds only those), whatever the queue's length.
        blocking = self.requests.unsendable().select_related("prospect").order_by("id")
        listed = list(blocking[: self.LISTED_LAUNCH_PROBLEMS])
        problems += [f"{row.prospect}: {row.note_problem}" for row in listed]
        unlisted = blocking.count() - len(listed)
        if unlisted:
            problems.append(
                f"… and {unlisted} more queued prospect{'s' if unlisted != 1 else ''} whose note cannot be sent."
            )
        return problems

    @property
    def followup_delay_in_words(self) -> str:
        """The follow-up delay as the form shows it: "2 days", "1 hour", "90 minutes"."""
        return delay_in_words(self.followup_delay_minutes)

    def followup_problems(self, template: str | None = None) -> list[str]:
        """What is wrong with the follow-up message template, if there is one."""
        template = self.followup_template if template is None else template
        if not template:
            return []
        problems = [f"Follow-up: {problem}" for problem in template_errors(template)]
        if not js_trim(template):
            problems.append("Follow-up: the message is blank; leave it empty to send none.")
        if utf16_length(template) > MESSAGE_MAX_LENGTH:
            problems.append(f"Follow-up: the message is longer than {MESSAGE_MAX_LENGTH:,} characters.")
        return problems

    # --- Queued invitations whose note cannot be sent -------------------------------------------

    def unsendable_reasons(self, limit: int = 5) -> list[tuple[str, int]]:
        """Why this campaign's unsendable invitations (`ConnectionRequestQuerySet.unsendable`)
        cannot go out: (reason, how many), the commonest first. A missing value reads as the
        note says it ("No value for {company}…"); notes too long are one reason whatever their length."""
        unsendable = self.requests.unsendable()
        reasons = [
            (row["note_problem"], row["n"])
            for row in unsendable.filter(note="").values("note_problem").annotate(n=models.Count("id")).order_by()
        ]
        too_long = unsendable.exclude(note="").count()
        if too_long:
            reasons.append((f"The note is longer than the {NOTE_MAX_LENGTH} characters LinkedIn allows.", too_long))
        return sorted(reasons, key=lambda reason: (-reason[1], reason[0]))[:limit]

    def skip_unsendable(self, user) -> int:
        """Skip every queued invitation whose note cannot be sent, each with its reason; returns
        how many. Only queued rows move, each through `move_to`: one someone else moved
        meanwhile (the worker submitting it after a note edit fixed it) is left alone."""
        skipped = 0
        for row in self.requests.unsendable().order_by("id"):
            cause = f"Skipped by {user.get_username()}, the note cannot be sent: {row.note_problem}"
            skipped += row.move_to(RequestState.SKIPPED, cause)
        return skipped

    def save_edited(self, senders: Iterable[Sender] | None = None) -> None:
        """Save the campaign as a person wrote it: its queued invitations move to the `senders`
        chosen (the submitted ones keep theirs) and its queued notes follow the templates
        (`refresh_queue`: at once for a short queue, else by a task)."""
        with transaction.atomic():
            if self.pk is None:
                self.save()
            else:
                # Not the note render's progress: a task may be writing it meanwhile.
                self.save(update_fields=[
                    f.name for f in self._meta.concrete_fields
                    if not f.primary_key and f.name not in self.NOTE_RENDER_FIELDS and f.name != "version"
                ])
            if senders is not None:
                self.senders.set(senders)
            # In the senders' transaction: a long queue is held for its task before any request
            # of a sender that left could go out.
            self.refresh_queue()

    def add_prospects(self, prospects: Iterable[Prospect], none_in_campaign: bool = False) -> int:
        """Queue an invitation to each prospect not in the campaign yet, its variant, sender and
        note chosen as it is written; returns how many were queued. The queue already there is
        neither read nor rewritten: variants and senders are chosen from the campaign's tallies
        (RequestTally), so adding ten costs the same beside 25,000 queued as beside none. The
        one-request-per-prospect constraint decides a race with another import.
        `none_in_campaign`: the caller has looked (an import's plan_batch), so this does not."""
        prospects = list({prospect.pk: prospect for prospect in prospects}.values())
        batch = self.NOTE_RENDER_BATCH
        in_campaign: set[int] = set()
        for start in range(0, 0 if none_in_campaign else len(prospects), batch):
            ids = [prospect.pk for prospect in prospects[start:start + batch]]
            in_campaign.update(self.requests.filter(prospect_id__in=ids).values_list("prospect_id", flat=True))
        new = [prospect for prospect in prospects if prospect.pk not in in_campaign]
        if not new:
            return 0
        variants = self.variants()
        sender_ids = list(self.senders.working().order_by("pk").values_list("pk", flat=True))
        by_variant, by_sender = dict.fromkeys(variants, 0), dict.fromkeys(sender_ids, 0)
        for tally in self.tallies.all():  # fresh, not `tally_rows`: a few rows, whatever the queue
            if tally.counts_requests:
                if tally.variant in by_variant:
                    by_variant[tally.variant] += tally.n
                if tally.sender_key in by_sender:
                    by_sender[tally.sender_key] += tally.n
        requests = []
        for prospect in new:
            label = min(by_variant, key=lambda label: (by_variant[label], label))
            by_variant[label] += 1
            sender_id = min(sender_ids, key=lambda pk: (by_sender[pk], pk)) if sender_ids else None
            if sender_id is not None:
                by_sender[sender_id] += 1
            request = ConnectionRequest(
                campaign=self, prospect=prospect, state=RequestState.QUEUED, variant=label, sender_id=sender_id
            )
            note = RenderedNote.of(variants[label], request)
            request.note, request.note_problem = note.text, note.problem
            requests.append(request)
        ConnectionRequest.objects.bulk_create(requests, ignore_conflicts=True, batch_size=batch)
        if sender_ids and self.state == self.State.ACTIVE:
            Sender.objects.filter(pk__in=sender_ids).wake()
        return len(requests)

    def render_queued_notes(self) -> None:
        """Give each queued request a variant (evenly) and store its note, and the note's
        problem, as that variant's template now renders it, in one transaction: for a queue
        short enough to render within a request (see `refresh_queue` for any queue).

        A note stays frozen from the moment its request leaves the queue, so the review shows
        exactly what was sent; until then it follows the template.
        """
        with transaction.atomic():
            self.assign_variants()
            self.render_all_in_batches(self.requests.filter(state=RequestState.QUEUED))

    def render_notes_of(self, prospect_ids: Iterable[int]) -> None:
        """Store afresh the queued notes of these prospects only (a profile look-up filled in
        their names), leaving the rest of the queue alone."""
        prospect_ids = list(prospect_ids)
        queued = self.requests.filter(state=RequestState.QUEUED)
        for start in range(0, len(prospect_ids), self.NOTE_RENDER_BATCH):
            self.render_all_in_batches(queued.filter(prospect_id__in=prospect_ids[start:start + self.NOTE_RENDER_BATCH]))

    def assign_variants(self) -> None:
        """Spread the queued requests over the variants so that every variant ends up with as
        many requests as the others, counting those already submitted (which keep theirs).

        Queued notes are not final, so a variant added later gets its share of the queue. Reads
        only each queued request's id and variant; writes only those that move, set-based.
        """
        labels = list(self.variants())
        counts = dict.fromkeys(labels, 0)
        submitted = self.requests.exclude(state=RequestState.QUEUED).filter(variant__in=labels)
        for row in submitted.values("variant").annotate(n=models.Count("id")).order_by():
            counts[row["variant"]] = row["n"]
        moved: dict[str, list[int]] = {label: [] for label in labels}
        queued = self.requests.filter(state=RequestState.QUEUED).order_by("id").values_list("id", "variant")
        for request_id, variant in queued.iterator(chunk_size=5000):
            label = min(labels, key=lambda label: (counts[label], label))
            counts[label] += 1
            if variant != label:
                moved[label].append(request_id)
        batch = self.NOTE_RENDER_BATCH
        for label, request_ids in moved.items():
            for start in range(0, len(request_ids), batch):
                ConnectionRequest.objects.filter(pk__in=request_ids[start:start + batch]).update(variant=label)

    # --- Re-rendering a long queue: a task, its progress on the campaign ---------------------------

    # A queue longer than this is placed over the senders and re-rendered by a django-q2 task
    # (campaigns.tasks.render_notes), never within a request; the page shows its progress meanwhile.
    NOTES_RENDERED_IN_REQUEST = 2000
    # Requests read, rendered and written at a time; in a task, each batch its own transaction.
    NOTE_RENDER_BATCH = 1000
    # A task renders for this long, then hands the rest to a new task (below django-q2's timeout).
    NOTE_RENDER_TASK_SECONDS = 45
    # A render whose task has written nothing for this long died: the dispatcher starts it anew.
    NOTE_RENDER_STALLED_AFTER = dt.timedelta(minutes=5)
    NOTE_RENDER_FIELDS = frozenset(
        {"notes_version", "notes_to_render", "notes_rendered", "notes_render_started_at", "notes_render_beat_at"}
    )

    # Bumped by each re-render started: a task of an older version stops.
    notes_version = models.PositiveBigIntegerField(default=0, editable=False)
    # While notes_render_started_at is set, a task is placing and re-rendering the queue
    # (SUBMIT_RULES keep the worker off its requests): notes_rendered of notes_to_render are done.
    notes_to_render = models.PositiveIntegerField(default=0, editable=False)
    notes_rendered = models.PositiveIntegerField(default=0, editable=False)
    notes_render_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    notes_render_beat_at = models.DateTimeField(null=True, blank=True, editable=False)

    @property
    def is_rendering_notes(self) -> bool:
        return self.notes_render_started_at is not None

    @property
    def notes_render_progress(self) -> str:
        """ "Updating the queue: 12,000 of 25,000" (its senders and notes), or "" when no task
        is updating it."""
        if not self.is_rendering_notes:
            return ""
        done = min(self.notes_rendered, self.notes_to_render)
        return f"Updating the queue: {done:,} of {self.notes_to_render:,}"

    # What RenderedNote.of reads of a prospect.
    NOTE_PROSPECT_FIELDS = ("first_name", "last_name", "company", "title", "profile_urn", "lookup_error")

    def render_note_batch(self, requests: models.QuerySet, after_id: int) -> tuple[int, int] | None:
        """Render the next NOTE_RENDER_BATCH of `requests` after `after_id` (in id order) with
        their variants' templates; write only those whose note or problem changed. Returns the
        last id read and how many were read, or None when none was left."""
        variants = self.variants()
        batch = list(
            requests.filter(pk__gt=after_id).order_by("id").select_related("prospect")
            # campaign_id too: the related manager reads it of each row it hands back.
            .only("id", "campaign_id", "note", "note_problem", "variant", "prospect_id",
                  *(f"prospect__{name}" for name in self.NOTE_PROSPECT_FIELDS))
            [: self.NOTE_RENDER_BATCH]
        )
        if not batch:
            return None
        changed = []
        for request in batch:
            note = RenderedNote.of(variants.get(request.variant, variants["A"]), request)
            if (request.note, request.note_problem) != (note.text, note.problem):
                request.note, request.note_problem = note.text, note.problem
                changed.append(request)
        self.write_notes(changed)
        return batch[-1].pk, len(batch)

    @staticmethod
    def write_notes(requests: list[ConnectionRequest]) -> None:
        """Store these requests' notes and problems in one UPDATE joined to the new values:
        linear in the rows, where bulk_update's CASE costs rows × rows in the database and
        seconds of Python to build."""
        if not requests:
            return
        table = connection.ops.quote_name(ConnectionRequest._meta.db_table)
        values = ", ".join(["(%s, %s, %s)"] * len(requests))
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH new_notes (id, note, note_problem) AS (VALUES {values}) "
                f"UPDATE {table} SET note = new_notes.note, note_problem = new_notes.note_problem "
                f"FROM new_notes WHERE {table}.id = new_notes.id",
                [value for request in requests for value in (request.pk, request.note, request.note_problem)],
            )

    def render_all_in_batches(self, requests: models.QuerySet) -> None:
        after_id = 0
        while (rendered := self.render_note_batch(requests, after_id)) and rendered[1] == self.NOTE_RENDER_BATCH:
            after_id = rendered[0]

    def refresh_queue(self, *, notes: bool = True) -> None:
        """Place the queued requests over the campaign's senders and store their notes as the
        templates now render them: within the request for a short queue; for a long one, by a
        task (`start_note_render`), which places each batch as it renders it
        (`continue_note_render`), the worker submitting none of the campaign's requests until
        it ends. `notes=False`: only its senders changed (`Sender.retire`), so a short queue's
        notes stay as they are. Call it in the transaction that changes the senders, so that
        no queued request goes out from a sender that left meanwhile."""
        queued = self.queued_count()
        if queued <= self.NOTES_RENDERED_IN_REQUEST:
            self.spread_queued_over_senders()  # and wakes them, if the campaign sends
            if notes:
                self.render_queued_notes()
        else:
            self.start_note_render(queued)

    def start_note_render(self, queued: int) -> None:
        """Mark the queue as being re-rendered (a new version: a task still rendering an older
        one stops) and enqueue the task once this transaction commits."""
        now = timezone.now()
        with transaction.atomic():
            Campaign.objects.filter(pk=self.pk).update(
                notes_version=models.F("notes_version") + 1, notes_to_render=queued, notes_rendered=0,
                notes_render_started_at=now, notes_render_beat_at=now,
            )
            self.refresh_from_db(fields=sorted(self.NOTE_RENDER_FIELDS))
            version = self.notes_version
            transaction.on_commit(lambda: self.enqueue_note_render(version))

    def enqueue_note_render(self, version: int, after_id: int = 0) -> None:
        from django_q.tasks import async_task  # lazily: django-q2 loads the models

        async_task(
            "campaigns.tasks.render_notes", self.pk, version, after_id,
            group="notes", q_options={"task_name": f"notes-{self.pk}-{version}-{after_id}"},
        )

    def continue_note_render(self, version: int, after_id: int = 0, seconds: float | None = None) -> int | None:
        """The task's work: give the queue its variants (first), then render it batch by batch,
        placing each batch's requests whose sender left the campaign on those now on it, each
        batch in its own short transaction with the progress; stop if a newer render began.
        Returns the last id rendered when `seconds` ran out (the caller continues from there),
        or None when done or superseded. A task started again after a crash finds the batches
        already done placed and rendered, and writes none of them again."""
        deadline = None if seconds is None else timezone.now() + dt.timedelta(seconds=seconds)
        mine = Campaign.objects.filter(pk=self.pk, notes_version=version, notes_render_started_at__isnull=False)
        if after_id == 0:
            with transaction.atomic():
                if not mine.select_for_update().exists():
                    return None
                self.assign_variants()
        queued = self.requests.filter(state=RequestState.QUEUED)
        while True:
            with transaction.atomic():
                # The campaign row stays locked for the batch: a newer edit waits, then wins.
                if not mine.select_for_update().exists():
                    return None
                batch = queued.filter(pk__gt=after_id)
                after_id, count = self.render_note_batch(queued, after_id) or (after_id, 0)
                if count == self.NOTE_RENDER_BATCH:
                    batch = batch.filter(pk__lte=after_id)
                # The senders as they are now, under the campaign's lock (an edit takes it too).
                self.place_queued_batch(batch, *self.requests_per_working_sender())
                if count < self.NOTE_RENDER_BATCH:  # the last batch
                    mine.update(notes_render_started_at=None, notes_render_beat_at=None,
                                notes_rendered=models.F("notes_to_render"))
                    break
                mine.update(notes_rendered=models.F("notes_rendered") + count, notes_render_beat_at=timezone.now())
            if deadline is not None and timezone.now() >= deadline:
                return after_id
        self.refresh_from_db(fields=sorted(self.NOTE_RENDER_FIELDS) + ["state"])
        if self.state == self.State.ACTIVE:
            Sender.objects.filter(campaigns=self).wake()  # they skipped the campaign meanwhile
        return None


    def variant_stats(self) -> list[dict]:
        """Per variant: invitations sent (including accepted), accepted, and the acceptance rate,
        as a number and as the page shows it ("67%")."""
        rows = {
            row["variant"]: row
            for row in self.requests.filter(state__in=[RequestState.SENT, RequestState.ACCEPTED])
            .values("variant")
            .annotate(
                sent=models.Count("id"),
                accepted=models.Count("id", filter=Q(state=RequestState.ACCEPTED)),
            )
        }
        stats = []
        for label in self.variants():
            row = rows.get(label, {"sent": 0, "accepted": 0})
            rate = acceptance_rate(row["accepted"], row["sent"])
            stats.append({"variant": label, "sent": row["sent"], "accepted": row["accepted"],
                          "rate": rate, "rate_text": percent_text(rate)})
        return stats


class RequestTallyQuerySet(models.QuerySet):
    def held_by_campaign(self, sender: Sender) -> int:
        """`ConnectionRequestQuerySet.held_by_campaign()` of one sender, counted from the tallies."""
        held = self.filter(sender_key=sender.pk, state=RequestState.QUEUED).exclude(campaign__state=Campaign.State.ACTIVE)
        return held.aggregate(n=models.Sum("n"))["n"] or 0

    def queued_in_active_campaigns(self, sender: Sender) -> bool:
        active = self.filter(sender_key=sender.pk, state=RequestState.QUEUED, n__gt=0, campaign__state=Campaign.State.ACTIVE)
        return active.exists()

    def queued_by_sender(self, sender_keys: Iterable[int]) -> dict[int, tuple[bool, int]]:
        """`queued_in_active_campaigns` and `held_by_campaign` of each of these senders in one
        query: {sender id: (any queued in an active campaign, how many held)}; a sender with
        nothing queued is absent."""
        active = Q(campaign__state=Campaign.State.ACTIVE)
        rows = (
            self.filter(sender_key__in=list(sender_keys), state=RequestState.QUEUED)
            .values("sender_key")
            .annotate(active=models.Count("id", filter=active & Q(n__gt=0)), held=models.Sum("n", filter=~active))
            .order_by()
        )
        return {row["sender_key"]: (row["active"] > 0, row["held"] or 0) for row in rows}


class RequestTally(models.Model):
    """How many of a campaign's requests are in one state, for one sender and note variant, or
    how many of its follow-ups are in one state ("followup:<state>", sender 0, no variant): kept
    by database triggers (campaigns/triggers.py) in the same transaction as every write to the
    rows, so a campaign's counts cost a few rows whatever its size. Never written from Python."""

    FOLLOWUP_PREFIX = "followup:"

    objects = RequestTallyQuerySet.as_manager()

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tallies", db_index=False)
    sender_key = models.BigIntegerField()  # the sender's id; 0 while a request has none
    variant = models.CharField(max_length=1)
    state = models.CharField(max_length=20)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sender_key", "variant", "state"], name="one_tally_per_campaign_key")
        ]
        indexes = [models.Index(fields=["sender_key", "state"], name="tally_sender_state_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.sender_key}/{self.variant}/{self.state}: {self.n}"

    @property
    def counts_requests(self) -> bool:
        return not self.state.startswith(self.FOLLOWUP_PREFIX)


def acceptance_rate(accepted: int, sent: int) -> Fraction | None:
    """Accepted as an exact share of sent invitations (accepted ones included), or None before
    any; exact, so that the percentage shown rounds half up as a person would."""
    return Fraction(accepted, sent) if sent else None


def percent_text(rate: Fraction | None) -> str:
    """ "67%": a rate as a whole percentage, half up; "—" when there is none yet."""
    return "—" if rate is None else f"{math.floor(rate * 100 + Fraction(1, 2))}%"


@dataclass(frozen=True)
class RequestCounts:
    """A campaign's requests counted per state, and what Home, the campaign list and the
    campaign page show from the counts."""

    by_state: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def in_flight(self) -> int:
        """Invitations the worker moves on soon whatever the campaign's state: being submitted,
        or with OutX (polled until OutX says sent or not sent)."""
        return self.by_state[RequestState.SUBMITTING] + self.by_state[RequestState.PENDING]

    @property
    def awaiting_acceptance(self) -> int:
        """Sent and not accepted yet: each may be accepted days or weeks later (the acceptance
        check reads every sent invitation, in any campaign), or never."""
        return self.by_state[RequestState.SENT]


    @property
    def segments(self) -> list[Segment]:
        return progress_segments(self.by_state)

    @property
    def acceptance(self) -> str:
        """ "40% (2 of 5)": accepted invitations count as sent ones too; "—" before any was sent."""
        accepted = self.by_state[RequestState.ACCEPTED]
        sent = self.by_state[RequestState.SENT] + accepted
        rate = acceptance_rate(accepted, sent)
        return "—" if rate is None else f"{percent_text(rate)} ({accepted} of {sent})"

    def per_state(self) -> list[tuple[str, str, int]]:
        """(state, label, count) for every tab (REQUEST_TABS), each counting the states it shows."""
        return [
            (tab, RequestState(tab).label, sum(self.by_state[state] for state in states))
            for tab, states in REQUEST_TABS.items()
        ]


@dataclass(frozen=True)
class RenderedNote:
    """One prospect's note from a template: its text and length, or why it cannot be sent."""

    request: ConnectionRequest
    text: str
    length: int
    problem: str
    awaiting_lookup: bool  # the prospect's name is learned from OutX before sending

    @classmethod
    def of(cls, template: str, request: ConnectionRequest) -> RenderedNote:
        prospect = request.prospect
        awaiting_lookup = prospect.profile_urn is None and not prospect.lookup_error
        try:
            checked = check_note(render_note(template, prospect.note_values()))
        except NoteTemplateError as error:
            problem = str(error)
            if awaiting_lookup:
                problem += " It is filled in once OutX has looked up the profile."
            return cls(request, "", 0, problem, awaiting_lookup)
        return cls(request, checked.text, checked.length, checked.error, awaiting_lookup)

    @property
    def blocks_launch(self) -> bool:
        # A missing name of a prospect known only by URL may still come from the look-up.
        return bool(self.problem) and not (self.awaiting_lookup and self.length == 0)


class QueuedNotes:
    """What one template makes of some queued requests — how many notes have a problem, how
    many stop the launch, the first of them, the longest note — asked of the database.

    Each note's length is computed in SQL from the prospect's stored name lengths (see
    TemplateShape: exact, trimming included). One query reads those lengths, a few numbers per
    request, and the counts, the longest note and the notes with a problem are found among
    them; only the notes shown are read in full and rendered, by RenderedNote, exactly as they
    will be sent.

    With a `window`, only the first `window` requests in the queue's order are measured, so the
    cost is the same for any queue; `partial` then says whether more are queued than were
    measured.
    """

    # The note preview measures this many queued notes at most, at every keystroke.
    PREVIEW_WINDOW = 1000

    def __init__(self, requests: models.QuerySet, template: str, window: int | None = None):
        self.template = template
        self.window = window
        self.queue = requests
        # Null where the note cannot be rendered (a variable without value).
        self.note_length = note_length_expression(template_shape(template))

    @cached_property
    def measured_rows(self) -> list[tuple[int, int | None, bool]]:
        """(id, note length or None, whether the prospect awaits its look-up) of the requests
        measured, in the queue's order, and of one more if the queue is longer than the window.
        One query, reading `window` + 1 requests through request_campaign_state_id_idx and
        their prospects by primary key."""
        rows = self.measure()
        unknown = [prospect_id for *_, prospect_id, known in rows if not known]
        if unknown:  # rows written around the ORM: their lengths are computed once
            Prospect.objects.filter(pk__in=unknown).fill_note_lengths()
            rows = self.measure()
        return [(pk, length, awaiting) for pk, length, awaiting, *_ in rows]

    def measure(self) -> list[tuple]:
        requests = self.queue
        if self.window is not None:
            # Up to the id of the first request after the window (every id if there is none),
            # not a LIMIT: PostgreSQL, which guesses a campaign's queue from the campaign's and
            # the state's shares apart, would join the whole queue to its prospects before
            # sorting it; an id range in request_campaign_state_id_idx reads the window alone.
            after = self.queue.order_by("id").values("pk")[self.window : self.window + 1]
            no_bound = models.Value(2**63 - 1, output_field=models.BigIntegerField())
            requests = requests.filter(pk__lte=Coalesce(models.Subquery(after), no_bound))
        known = Q()
        for length_field in NOTE_LENGTH_FIELDS.values():
            known &= Q(**{f"prospect__{length_field}__isnull": False})
        boolean = models.BooleanField()
        rows = requests.order_by("id").values_list(
            "pk",
            self.note_length,
            models.ExpressionWrapper(Q(prospect__profile_urn__isnull=True, prospect__lookup_error=""), boolean),
            "prospect_id",
            models.ExpressionWrapper(known, boolean),
        )
        return list(rows)

    @property
    def measured(self) -> list[tuple[int, int | None, bool]]:
        return self.measured_rows[: self.window]

    @property
    def partial(self) -> bool:
        """More are queued than the window measured: the counts and the longest note are of
        the first `window`."""
        return self.window is not None and len(self.measured_rows) > self.window

    @cached_property
    def requests(self) -> models.QuerySet:
        """The requests measured, each with its `note_length` in SQL."""
        requests = self.queue
        if self.partial:
            requests = requests.filter(pk__lte=self.measured[-1][0])
        return requests.annotate(note_length=self.note_length)

    # Each of the two takes what `measured` holds of a note, so either can pick notes (`first`).

    @staticmethod
    def has_problem(length: int | None, awaiting_lookup: bool) -> bool:
        return length is None or length > NOTE_MAX_LENGTH

    @staticmethod
    def blocks_launch(length: int | None, awaiting_lookup: bool) -> bool:
        """RenderedNote.blocks_launch from the note's length."""
        return (length is None and not awaiting_lookup) or (length is not None and length > NOTE_MAX_LENGTH)

    @cached_property
    def counts(self) -> dict[str, int]:
        """{"queued": …, "problems": …, "blocking": …}."""
        return {
            "queued": len(self.measured),
            "problems": sum(self.has_problem(length, awaiting) for _, length, awaiting in self.measured),
            "blocking": sum(self.blocks_launch(length, awaiting) for _, length, awaiting in self.measured),
        }

    def first_with_problem(self, limit: int) -> list[RenderedNote]:
        """The first `limit` notes with a problem, in the queue's order."""
        return self.first(self.has_problem, limit)

    def first_blocking(self, limit: int) -> list[RenderedNote]:
        """The first `limit` notes that stop the launch, in the queue's order."""
        return self.first(self.blocks_launch, limit)

    def first(self, test: Callable[[int | None, bool], bool], limit: int) -> list[RenderedNote]:
        return self.rendered([pk for pk, length, awaiting in self.measured if test(length, awaiting)][:limit])

    def longest(self) -> RenderedNote | None:
        """The longest note that renders (the first in the queue's order among equals)."""
        rendered = [(pk, length) for pk, length, _ in self.measured if length]
        if not rendered:
            return None
        notes = self.rendered([max(rendered, key=lambda note: note[1])[0]])
        return notes[0] if notes else None

    def rendered(self, pks: list[int]) -> list[RenderedNote]:
        """These requests' notes, in the queue's order: one query, none for no request."""
        if not pks:
            return []
        requests = self.queue.model.objects.filter(pk__in=pks).select_related("prospect").order_by("id")
        return [RenderedNote.of(self.template, request) for request in requests]


def note_length_expression(shape: TemplateShape, prospect: str = "prospect__") -> models.Expression:
    """TemplateShape.note_length in SQL, from the prospect's `*_note_length` fields: each
    request's note length, or null where the note cannot be rendered."""
    integer = models.IntegerField()
    if shape.error:
        return models.Value(None, output_field=integer)
    length_of = {name: models.F(prospect + field) for name, field in NOTE_LENGTH_FIELDS.items()}
    has_value = {name: Q(**{f"{prospect}{field}__gt": 0}) for name, field in NOTE_LENGTH_FIELDS.items()}
    # notes.full_name_length in SQL.
    length_of["full_name"] = (
        length_of["first_name"] + length_of["last_name"]
        + models.Case(models.When(has_value["first_name"] & has_value["last_name"], then=1), default=0)
    )
    has_value["full_name"] = has_value["first_name"] | has_value["last_name"]

    def trimmed(end) -> models.Expression:
        """TrimmedEnd.length in SQL."""
        if not end.steps:
            return models.Value(end.otherwise)
        whens = [models.When(has_value[name], then=count) for name, count in end.steps]
        return models.Case(*whens, default=end.otherwise, output_field=integer)

    length = models.Value(shape.literal_length, output_field=integer)
    for name, count in shape.occurrences.items():
        length += models.Case(
            models.When(has_value[name], then=length_of[name] * count),
            default=shape.fallback_lengths[name], output_field=integer,
        )
    length = Greatest(length - trimmed(shape.start) - trimmed(shape.end), 0, output_field=integer)
    if not shape.required:
        return length
    cannot_render = functools.reduce(operator.or_, (~has_value[name] for name in shape.required))
    return models.Case(models.When(cannot_render, then=None), default=length, output_field=integer)


class TaskState(models.TextChoices):
    """The life every tracked OutX action shares (docs/product.md, "Life of a connection
    request"). `sent`: the task did what was asked (for a profile look-up: the profile was read)."""

    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    # Waiting for OutX's extension to perform it. Not "Pending": on LinkedIn and in Waalaxy a
    # pending invitation is one sent and not yet accepted. Labels only: the values stay.
    PENDING = "pending", "With OutX"
    SENT = "sent", "Sent"
    NOT_SENT = "not_sent", "Not sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    UNCERTAIN = "uncertain", "Uncertain"


# Where each shared state may go. `uncertain` leaves only by a person's decision: retried (back
# to queued), closed (skipped) or confirmed as sent after checking LinkedIn. `submitting` goes
# back to `queued` only when the POST certainly never reached OutX (or, for a kind that may be
# sent again, such as a profile look-up, whenever it is unsure).
TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    TaskState.QUEUED: frozenset({TaskState.SUBMITTING, TaskState.SKIPPED}),
    TaskState.SUBMITTING: frozenset({TaskState.PENDING, TaskState.FAILED, TaskState.UNCERTAIN, TaskState.QUEUED}),
    # A task OutX no longer knows (404) may or may not have been performed.
    TaskState.PENDING: frozenset({TaskState.SENT, TaskState.NOT_SENT, TaskState.UNCERTAIN}),
    TaskState.SENT: frozenset(),
    TaskState.NOT_SENT: frozenset(),
    TaskState.SKIPPED: frozenset(),
    TaskState.FAILED: frozenset(),
    TaskState.UNCERTAIN: frozenset({TaskState.QUEUED, TaskState.SKIPPED, TaskState.SENT}),
}


def _invitation_states() -> type[models.TextChoices]:
    """The shared states, with `accepted` after `not_sent`: only an invitation is accepted."""
    members = []
    for state in TaskState:
        members.append((state.name, (state.value, state.label)))
        if state == TaskState.NOT_SENT:
            members.append(("ACCEPTED", ("accepted", "Accepted")))
    return models.TextChoices("RequestState", members, module=__name__)


# The life of a connection request (docs/product.md): the shared states and `accepted`.
RequestState = _invitation_states()

# The campaign page's state tabs, in the order of a request's life, each with the states it
# shows. "Sent" holds the accepted invitations too, as the progress bar and the acceptance
# rate count them; "Accepted" is also a tab of its own.
REQUEST_TABS: dict[str, tuple[str, ...]] = {
    "queued": ("queued",),
    "submitting": ("submitting",),
    "pending": ("pending",),
    "sent": ("sent", "accepted"),
    "accepted": ("accepted",),
    "not_sent": ("not_sent",),
    "skipped": ("skipped",),
    "failed": ("failed",),
    "uncertain": ("uncertain",),
}


# LinkedIn invitations still unanswered after this long are worth withdrawing by hand.
OLD_INVITATION_AGE = dt.timedelta(weeks=3)
# The same age in words, for every page and form that mentions it ("3 weeks").
OLD_INVITATION_AGE_TEXT = (
    f"{OLD_INVITATION_AGE.days // 7} weeks" if OLD_INVITATION_AGE.days % 7 == 0 else f"{OLD_INVITATION_AGE.days} days"
)


# How long a worker process's turn on a sender lasts if it never ends it (it crashed): longer
# than any one pass (worker.PASS_SECONDS, 50 s, then the call in flight, which ends within
# claim_timeout()), and short, since a killed worker's sender waits that long for another.
SENDER_TURN_LEASE = dt.timedelta(minutes=2)


def claim_timeout() -> dt.timedelta:
    """After this long a claim is dead: the client's calls would have timed out by then.

    A claimed submission older than this lost its worker mid-call; a claimed poll may be taken
    by another worker."""
    return dt.timedelta(seconds=settings.OUTX_CONNECT_TIMEOUT + 3 * settings.OUTX_READ_TIMEOUT + 5)


class OutxTaskQuerySet(models.QuerySet):
    """What every kind of tracked OutX action asks of its rows."""

    def due_for_poll(self, now: dt.datetime):
        return self.filter(state=TaskState.PENDING, next_poll_at__lte=now)

    def abandoned(self, now: dt.datetime):
        """Claimed for submission longer ago than any call can take: the worker died mid-call."""
        return self.filter(state=TaskState.SUBMITTING, claimed_at__lt=now - claim_timeout())


class OutxTask(models.Model):
    """One OutX action we track from queued to its outcome: an invitation, a follow-up message,
    a profile look-up. Its life is written once, in campaigns/lifecycle.py; each kind says only
    what differs.

    `state` changes only through `move_to`, each change an Event with its cause.
    """

    TRANSITIONS: dict[str, frozenset[str]] = TASK_TRANSITIONS
    cause_prefix = ""  # how the kind names itself in the causes of a person's actions

    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.QUEUED)
    outx_task_id = models.CharField("OutX task id", max_length=100, unique=True, null=True, blank=True)
    task_output = models.JSONField("OutX task output", null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="POSTs made to OutX.")
    poll_count = models.PositiveIntegerField(default=0, help_text="Status calls made to OutX.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the POST to OutX started: what a sender's budget counts.
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="When it was submitted to OutX.")
    # Which worker is submitting it, since when: a claim older than the call's timeouts is
    # dead (the worker crashed mid-call), and the task becomes `uncertain`.
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)

    objects = OutxTaskQuerySet.as_manager()

    class Meta:
        abstract = True

    def event_links(self) -> dict:
        raise NotImplementedError

    @property
    def state_in_words(self) -> str:
        """The state as a sentence says it: "not sent", "with OutX" (never "with outx")."""
        label = self.get_state_display()
        return label[:1].lower() + label[1:]

    def on_moved(self, new_state: str, cause: str, at: dt.datetime, fields: dict) -> None:
        """What else a move does, inside its transaction, before this object holds the new
        state and `fields`: the webhooks' outbox for the kinds a CRM hears about."""

    def move_to(self, new_state: str, cause: str, *, only_if: Q | None = None, **fields) -> bool:
        """Move from the state this object holds to `new_state`, recording why.

        Returns False, changing nothing, if the row is no longer in the state this object
        holds (someone else moved it): the caller lost the race and must not act. `only_if`:
        a condition checked in the same statement (the worker's last checks before a claim).
        """
        if new_state not in self.TRANSITIONS[self.state]:
            raise ValueError(f"A {self.state} {self._meta.verbose_name} cannot become {new_state}.")
        now = timezone.now()
        with transaction.atomic():
            changed = type(self).objects.filter(only_if or Q(), pk=self.pk, state=self.state).update(
                state=new_state, updated_at=now, **fields
            )
            if not changed:
                return False
            Event.objects.create(from_state=self.state, to_state=new_state, cause=cause, at=now, **self.event_links())
            self.on_moved(new_state, cause, now, fields)
        self.state = new_state
        self.updated_at = now
        for name, value in fields.items():
            setattr(self, name, value)
        return True

    # --- What a person may do to an uncertain task -----------------------------------------

    def retry(self, user) -> bool:
        """Send an `uncertain` task back to the queue: the person has checked LinkedIn."""
        return self.move_to(
            TaskState.QUEUED, f"{self.cause_prefix}{user.get_username()} checked and put it back in the queue.",
            claimed_by="", claimed_at=None, outx_task_id=None,
        )

    def close(self, user) -> bool:
        """Close an `uncertain` task for good, without sending it again."""
        return self.move_to(
            TaskState.SKIPPED, capfirst(f"{self.cause_prefix}closed by {user.get_username()} without resending.")
        )


@dataclass(frozen=True)
class SubmitRule:
    """One condition a queued invitation must meet before the worker submits it: as SQL for
    the worker's pick, and as Python with the reason a page shows while it does not hold.
    Both sides stand together so that they cannot drift apart."""

    condition: Q
    holds: Callable[[ConnectionRequest], bool]
    reason: Callable[[ConnectionRequest], str]


SUBMIT_RULES = (
    SubmitRule(
        Q(campaign__state=Campaign.State.ACTIVE),
        lambda request: request.campaign.state == Campaign.State.ACTIVE,
        lambda request: f"Campaign is {request.campaign.get_state_display().lower()}",
    ),
    # A long queue's notes are being re-rendered after an edit (Campaign.start_note_render):
    # none goes out with the note from before.
    SubmitRule(
        Q(campaign__notes_render_started_at__isnull=True),
        lambda request: not request.campaign.is_rendering_notes,
        lambda request: request.campaign.notes_render_progress,
    ),
    SubmitRule(Q(note_problem=""), lambda request: not request.note_problem, lambda request: request.note_problem),
    SubmitRule(
        Q(prospect__profile_urn__isnull=False),
        lambda request: request.prospect.profile_urn is not None,
        lambda request: request.prospect.lookup_error or "Looking up the LinkedIn profile",
    ),
)


# A queued invitation whose note cannot be sent (SUBMIT_RULES: a note problem), with nothing
# left to fill it: its prospect's look-up, if any, is over. A note without value waiting for
# the look-up (its stored note is then empty) is not one yet: the look-up may fill it
# (RenderedNote.blocks_launch, from the stored note). Editing the template re-renders these
# notes (Campaign.render_queued_notes), so adding a fallback makes them sendable again.
UNSENDABLE = (
    Q(state=RequestState.QUEUED)
    # "A problem" as a range (every text but the empty one sorts after it), so that the
    # (campaign, state, note_problem) index reads only the rows with one.
    & Q(note_problem__gt="")
    & ~Q(note="", prospect__profile_urn__isnull=True, prospect__lookup_error="")
)


# Invitations that may still be on LinkedIn unanswered (ConnectionRequestQuerySet.old_unanswered).
UNANSWERED_STATES = (RequestState.PENDING, RequestState.SENT)


class ConnectionRequestQuerySet(OutxTaskQuerySet):
    def visible_to(self, user) -> ConnectionRequestQuerySet:
        """The invitations `user` may look at: as for campaigns (`CampaignQuerySet.visible_to`),
        every one, for any active user logged in; Review shows them all."""
        return self if user.is_authenticated and user.is_active else self.none()

    def count_up_to(self, cap: int) -> int:
        """How many rows there are, reading no more than cap + 1 of them: cap + 1 means "more
        than cap". A page says "more than 1,000" rather than read a million rows to count them."""
        return self.order_by().values("pk")[: cap + 1].count()

    def submittable(self) -> ConnectionRequestQuerySet:
        """Queued invitations that meet every SUBMIT_RULES condition; pacing decides when."""
        return self.filter(Q(state=RequestState.QUEUED), *(rule.condition for rule in SUBMIT_RULES))

    def held_by_campaign(self) -> ConnectionRequestQuerySet:
        """Queued invitations the worker leaves alone because their campaign does not send now
        (paused, draft, completed or archived)."""
        return self.filter(state=RequestState.QUEUED).exclude(campaign__state=Campaign.State.ACTIVE)

    def unsendable(self) -> ConnectionRequestQuerySet:
        """Queued invitations the worker will never submit as the note stands (UNSENDABLE)."""
        return self.filter(UNSENDABLE)

    def already_inviting(self, prospect_id: int) -> ConnectionRequestQuerySet:
        """Requests by which the prospect has (or may have) an invitation from us on LinkedIn."""
        return self.filter(prospect_id=prospect_id, state__in=ConnectionRequest.INVITED_STATES)

    def spending_budget(self) -> ConnectionRequestQuerySet:
        """Requests whose submission counts against the budget: every POST that reached OutX or
        may have. A 400 refusal created no invitation; a request put back in the queue never left."""
        return self.filter(submitted_at__isnull=False).exclude(state=RequestState.FAILED)

    def stale(self, account: Sender, now: dt.datetime | None = None) -> ConnectionRequestQuerySet:
        """Pending for longer than the account's stale age: still polled, but shown to a person."""
        cutoff = (now or timezone.now()) - dt.timedelta(days=account.stale_after_days)
        return self.filter(state=RequestState.PENDING, submitted_at__lt=cutoff)

    def old_unanswered(self, now: dt.datetime | None = None) -> ConnectionRequestQuerySet:
        """Invitations sent more than OLD_INVITATION_AGE ago and still not accepted.

        OutX offers no way to withdraw them; people withdraw them by hand on LinkedIn, which then
        blocks a new invitation to that person for about 3 weeks.
        """
        cutoff = (now or timezone.now()) - OLD_INVITATION_AGE
        return self.filter(state__in=UNANSWERED_STATES, submitted_at__lt=cutoff)

    def stale_counts(self, senders: Iterable[Sender], now: dt.datetime) -> dict[int, int]:
        """`stale(sender, now)` counted for each of these senders in one query, {sender id:
        count} (absent: none): a range of (sender, state, submitted_at) per sender, its stale
        rows only. Senders are grouped by their stale age, so each group is one condition."""
        by_age: dict[int, list[Sender]] = {}
        for sender in senders:
            by_age.setdefault(sender.stale_after_days, []).append(sender)
        if not by_age:
            return {}
        stale = functools.reduce(operator.or_, (
            self.stale(group[0], now).filter(sender__in=[sender.pk for sender in group]) for group in by_age.values()
        ))
        # COUNT(*): (sender, state, submitted_at) holds all it reads, an index-only scan once vacuumed.
        return dict(stale.values("sender_id").annotate(n=models.Count("*")).order_by().values_list("sender_id", "n"))


class Response(models.TextChoices):
    """What a prospect answered, as a person marked it on the invitation."""

    REPLIED = "replied", "Replied"
    NOT_INTERESTED = "not_interested", "Not interested"


class ConnectionRequest(OutxTask):
    """One prospect in one campaign: the invitation, from queued to its outcome."""

    Response = Response

    State = RequestState

    # The shared life, and an invitation sent may later be accepted.
    TRANSITIONS: dict[str, frozenset[str]] = {
        **TASK_TRANSITIONS,
        RequestState.SENT: frozenset({RequestState.ACCEPTED}),
        RequestState.ACCEPTED: frozenset(),
    }
    # States in which the prospect has (or may have) an invitation from us on LinkedIn.
    INVITED_STATES = frozenset({State.SUBMITTING, State.PENDING, State.SENT, State.ACCEPTED, State.UNCERTAIN})
    # States nothing will move out of by itself; `sent` may still become `accepted`.
    FINAL_STATES = frozenset({State.NOT_SENT, State.ACCEPTED, State.SKIPPED, State.FAILED})

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="requests")
    prospect = models.ForeignKey(Prospect, on_delete=models.PROTECT, related_name="requests")
    # The LinkedIn account it goes out from: chosen when queued, kept for life once submitted
    # (acceptance and the follow-up must come from the account that invited). None while its
    # campaign has no sender.
    sender = models.ForeignKey("Sender", null=True, blank=True, on_delete=models.PROTECT, related_name="requests")
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    # Follows the campaign's template while queued, frozen once submitted: exactly what was sent.
    note = models.TextField(blank=True)
    # Why this prospect's note cannot be sent (a variable without value, too long); shown, never sent.
    note_problem = models.CharField(max_length=500, blank=True)
    variant = models.CharField("note variant", max_length=1, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # What the prospect answered, as a person marked it: OutX cannot read the inbox
    # (docs/outx-api.md, "Not provided by OutX"). Either mark stops a follow-up not yet sent.
    response = models.CharField(max_length=20, choices=Response.choices, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ConnectionRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "prospect"], name="one_request_per_prospect_per_campaign"),
            # Nobody is invited by two of our senders, or twice by one: the database refuses a
            # second invitation to a person while one may be on LinkedIn, whichever worker tries.
            models.UniqueConstraint(
                fields=["prospect"], condition=Q(state__in=[
                    RequestState.SUBMITTING, RequestState.PENDING, RequestState.SENT, RequestState.ACCEPTED, RequestState.UNCERTAIN,
                ]), name="one_invitation_per_prospect"
            ),
            models.CheckConstraint(
                condition=Q(state__in=RequestState.values), name="connection_request_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_poll_at"], name="request_state_poll_idx"),
            # A sender's pass and its budget read only its own rows, whatever the team's size.
            models.Index(fields=["sender", "state", "next_poll_at"], name="request_sender_state_idx"),
            # With the state (PostgreSQL), Home's budgets count a week of every sender from the
            # index alone (budgets_used counts sender_id for it: COUNT(id) would read the rows).
            models.Index(fields=["sender", "submitted_at"], include=["state"], name="request_sender_submitted_idx"),
            # A sender's queue per campaign in the queue's order: the worker's next invitation.
            models.Index(fields=["sender", "state", "campaign", "created_at", "id"], name="request_sender_queue_idx"),
            # A sender's oldest pending invitation: the one its polls stand on (lifecycle.poll_due).
            models.Index(fields=["sender", "state", "submitted_at"], name="request_sender_pending_idx"),
            # With the id: a campaign's queue in the queue's order (QueuedNotes' window).
            models.Index(fields=["campaign", "state", "id"], name="request_campaign_state_id_idx"),
            # The campaign page lists a campaign's requests in the order they were added (by
            # id), 50 at a time, from a cursor; (campaign, state, id) serves each state's tab.
            models.Index(fields=["campaign", "id"], name="request_campaign_id_idx"),
            # A campaign's old unanswered invitations (old_unanswered), counted up to a cap.
            models.Index(fields=["campaign", "state", "submitted_at"], name="request_campaign_state_sub_idx"),
            # The few queued rows whose note has a problem (UNSENDABLE), counted at any size.
            models.Index(fields=["campaign", "state", "note_problem"], name="request_note_problem_idx"),
            # Review's order (newest submission first, ties by id) and the 30-day chart's range;
            # with the state (PostgreSQL), the chart counts its 30 days from the index alone.
            models.Index(fields=["-submitted_at", "-id"], include=["state"], name="request_submitted_id_idx"),
            # The same within one campaign: Review filtered to a campaign.
            models.Index(fields=["campaign", "-submitted_at", "-id"], name="request_campaign_submitted_idx"),
            # Review's rows never submitted (skipped before submission) follow the others; kept
            # apart from the queue, whose rows have no submission either, so reading them does
            # not step over every queued row first (36k at the bench's 1M rows).
            models.Index(fields=["-submitted_at", "-id"], name="request_never_submitted_idx",
                         condition=Q(submitted_at__isnull=True) & ~Q(state=RequestState.QUEUED)),
            models.Index(fields=["campaign", "-submitted_at", "-id"], name="request_campaign_never_sub_idx",
                         condition=Q(submitted_at__isnull=True) & ~Q(state=RequestState.QUEUED)),
        ]

    def __str__(self) -> str:
        return f"{self.prospect} in {self.campaign} ({self.get_state_display()})"

    def event_links(self) -> dict:
        return {"connection_request": self, "campaign_id": self.campaign_id}

    def on_moved(self, new_state: str, cause: str, at: dt.datetime, fields: dict) -> None:
        from webhooks.outbox import invitation_moved  # lazily: webhooks imports this module

        invitation_moved(self, new_state, cause, at, fields)

    def is_old_unanswered(self, now: dt.datetime) -> bool:
        """`ConnectionRequestQuerySet.old_unanswered`, for a row in hand."""
        return self.state in UNANSWERED_STATES and self.submitted_at is not None and (
            self.submitted_at < now - OLD_INVITATION_AGE
        )

    # --- Why it is not moving, in words for the campaign page --------------------------------

    def why_waiting(self, account: Sender, now: dt.datetime, account_reason: Callable[[], str]) -> str:
        """Why this invitation is not moving, or "". `account_reason()` says why the sender
        submits nothing now ("Next in line" when it may); it is asked only for a request that
        meets every SUBMIT_RULES condition."""
        if self.state == RequestState.QUEUED:
            for rule in SUBMIT_RULES:
                if not rule.holds(self):
                    return rule.reason(self)
            return account_reason()
        if self.state == RequestState.PENDING:
            # The page adds since when, as a time its script keeps current (`waiting_since`).
            return "Waiting for OutX's extension to send it"
        if self.state == RequestState.UNCERTAIN:
            return "OutX may or may not have received it: check LinkedIn, then retry or close"
        if self.state == RequestState.SUBMITTING:
            return "Being submitted now"
        if self.state == RequestState.ACCEPTED:
            return self.followup_waiting(account, now)
        return ""

    @property
    def waiting_since(self) -> dt.datetime | None:
        """Since when an invitation has waited for OutX's extension; None for the other states."""
        return (self.submitted_at or self.updated_at) if self.state == RequestState.PENDING else None

    def why_stale(self, account: Sender, now: dt.datetime) -> str:
        """ "Stale: …" for an invitation pending longer than the sender's stale age, or ""."""
        if self.state != RequestState.PENDING:
            return ""
        if (self.submitted_at or self.updated_at) < now - dt.timedelta(days=account.stale_after_days):
            return f"Stale: waiting for OutX's extension for more than {account.stale_after_days} days"
        return ""

    def followup_waiting(self, account: Sender, now: dt.datetime) -> str:
        """Why an accepted invitation's follow-up message has not gone out yet, or ""."""
        campaign = self.campaign
        followup = getattr(self, "followup", None)  # None when the row has none
        if followup is None:
            if not campaign.followup_template:
                return ""
            if campaign.state != Campaign.State.ACTIVE:
                return f"Follow-up message waits: the campaign is {campaign.get_state_display().lower()}"
            due = (self.accepted_at or now) + dt.timedelta(minutes=campaign.followup_delay_minutes)
            if due <= now:
                return "Follow-up message due now"
            # A moment, not a countdown: the page is not redrawn while nothing else changes.
            # In the viewer's time zone (people.middleware), as every time a page shows.
            return f"Follow-up message due {timezone.localtime(due):%a %d %b %H:%M}"
        return {
            TaskState.QUEUED: "Follow-up message queued",
            TaskState.SUBMITTING: "Follow-up message being submitted now",
            TaskState.PENDING: "Waiting for the OutX extension to send the follow-up message",
            TaskState.UNCERTAIN: "OutX may or may not have received the follow-up message: check LinkedIn",
        }.get(followup.state, "")

    # --- What a person may do to one request -----------------------------------------------

    def retry(self, user) -> bool:
        """Back in the queue, its note follows the campaign's template again."""
        if not super().retry(user):
            return False
        Sender.objects.filter(pk=self.sender_id).wake()
        self.campaign.render_notes_of([self.prospect_id])  # its own note, not the whole queue's
        self.refresh_from_db(fields=["note", "note_problem", "variant"])
        return True

    def remove(self, user) -> bool:
        """Take a queued request out before it is submitted."""
        return self.move_to(RequestState.SKIPPED, f"Removed by {user.get_username()} before submission.")

    # --- What the invitee answered, as a person marks it ----------------------------------

    # An invitation that went out, or may have: only then can its invitee have answered.
    MARKABLE_STATES = frozenset({State.PENDING, State.SENT, State.ACCEPTED, State.UNCERTAIN})

    @property
    def followup_if_any(self) -> FollowUp | None:
        """Its follow-up, or None. Lists read this rather than `followup`, which raises when
        there is none: the template engine then runs a dir() of the row to tell why, a tenth
        of a millisecond a row (issue 14)."""
        try:
            return self.followup
        except FollowUp.DoesNotExist:
            return None

    def default_do_not_contact_reason(self, user) -> str:
        """The reason kept when a person puts the prospect on the do-not-contact list from this
        invitation without giving one (the reason field shows it as its placeholder)."""
        return f"Added from campaign “{self.campaign.name}” by {user.get_username()}."

    @property
    def may_be_marked(self) -> bool:
        """Whether a person may mark what the invitee answered (Replied, Not interested)."""
        return self.state in self.MARKABLE_STATES

    def response_refusal(self, response: str) -> str:
        """Why this invitation cannot be given the mark `response` ("" clears it) now; "" if it can."""
        if response and response not in Response.values:
            return f"“{response[:40]}” is not a mark: choose Replied or Not interested."
        if not response:
            return "" if self.response else "This invitation has no mark to clear."
        label = Response(response).label
        if self.response == response:
            return f"This invitation is already marked “{label}”."
        if self.state not in self.MARKABLE_STATES:
            return (
                f"Only an invitation that went out can be marked “{label}”: this one is "
                f"{self.state_in_words}. To keep this person from being invited, use Do not contact."
            )
        return ""

    def mark_response(self, response: str, user) -> bool:
        """Record what the invitee answered on LinkedIn, as `user` saw it there ("" clears the
        mark): OutX cannot read the inbox. An Event names who marked what; a follow-up not yet
        submitted is cancelled (either answer makes it pointless or unwelcome); "not
        interested" also puts the person on the do-not-contact list. Raises ValueError with
        `response_refusal`; returns False, changing nothing, if someone else changed the mark
        or the state meanwhile. Clearing a mark brings back neither the follow-up nor removes
        the do-not-contact entry."""
        refusal = self.response_refusal(response)
        if refusal:
            raise ValueError(refusal)
        now, username = timezone.now(), user.get_username()
        with transaction.atomic():
            changed = ConnectionRequest.objects.filter(
                pk=self.pk, state__in=self.MARKABLE_STATES if response else self.State.values, response=self.response
            ).update(
                response=response, responded_at=now if response else None,
                responded_by=user if response else None, updated_at=now,
            )
            if not changed:
                return False
            if response:
                label = Response(response).label
                cause = f"Marked “{label}” by {username}."
            else:
                label = Response(self.response).label
                cause = f"Mark “{label}” cleared by {username} (a cancelled follow-up stays cancelled)."
            Event.objects.create(
                from_state=self.state, to_state=response or "unmarked", cause=cause, at=now, **self.event_links()
            )
            self.response, self.responded_at, self.updated_at = response, now if response else None, now
            self.responded_by = user if response else None
            if response:
                self.cancel_followup(f"Follow-up: not sent, {self.prospect} was marked “{label}” by {username}.")
            if response == Response.NOT_INTERESTED:
                from .donotcontact import add_prospect  # it imports this module

                add_prospect(
                    self.prospect, user, f"Not interested (marked by {username} on the invitation in “{self.campaign.name}”).",
                )
        return True

    def cancel_followup(self, cause: str) -> bool:
        """Skip this invitation's follow-up if it is still queued; one already submitted is
        beyond recall. One not written yet (the campaign has a follow-up message) is recorded
        as skipped now, so that nothing waits to write it. Returns whether one was cancelled."""
        followup = FollowUp.objects.filter(request_id=self.pk).first()
        if followup is None and self.campaign.followup_template:
            try:
                with transaction.atomic():
                    followup = FollowUp.objects.create(request=self, message="", state=TaskState.SKIPPED)
                    Event.objects.create(from_state="", to_state=TaskState.SKIPPED, cause=cause, **followup.event_links())
                return True
            except IntegrityError:  # the worker wrote it just now
                followup = FollowUp.objects.filter(request_id=self.pk).first()
        return followup is not None and followup.state == TaskState.QUEUED and followup.move_to(TaskState.SKIPPED, cause)


class FollowUp(OutxTask):
    """The message sent to an invitee after they accepted: once, never twice."""

    State = TaskState
    cause_prefix = "Follow-up: "

    request = models.OneToOneField(ConnectionRequest, on_delete=models.CASCADE, related_name="followup")
    message = models.TextField(help_text="Frozen when queued: exactly what is sent.")

    class Meta:
        verbose_name = "follow-up"
        indexes = [
            models.Index(fields=["state", "next_poll_at"], name="followup_state_poll_idx"),
            models.Index(fields=["submitted_at"], name="followup_submitted_idx"),  # the hourly count
        ]

    def __str__(self) -> str:
        return f"Follow-up to {self.request.prospect} ({self.get_state_display()})"

    def event_links(self) -> dict:
        return {"followup": self, "connection_request_id": self.request_id}

    def on_moved(self, new_state: str, cause: str, at: dt.datetime, fields: dict) -> None:
        from webhooks.outbox import followup_moved  # lazily: webhooks imports this module

        followup_moved(self, new_state, cause, at, fields)


class ProfileLookup(OutxTask):
    """OutX's fetch-profile for a prospect known only by URL: it learns the URN the invitation
    needs, and the name the note may need. One per prospect. Reading a profile invites nobody,
    so a look-up OutX may or may not have received is simply asked again."""

    State = TaskState

    prospect = models.OneToOneField(Prospect, on_delete=models.CASCADE, related_name="lookup")
    # Whose OutX team reads the profile: the sender of the queued invitation that needed it.
    sender = models.ForeignKey("Sender", null=True, blank=True, on_delete=models.PROTECT, related_name="lookups")

    class Meta:
        verbose_name = "profile look-up"
        indexes = [
            models.Index(fields=["state", "next_poll_at"], name="lookup_state_poll_idx"),
            models.Index(fields=["sender", "submitted_at"], name="lookup_sender_submitted_idx"),  # the hourly count
        ]

    def __str__(self) -> str:
        return f"Look-up of {self.prospect} ({self.get_state_display()})"

    def event_links(self) -> dict:
        return {"profile_lookup": self}


class ProfileSearch(OutxTask):
    """One page of OutX's search-profiles, run on a person's request from one sender: a
    LinkedIn action like any other, so it is paced and tracked. The next page is another
    search (start + count), never a burst."""

    State = TaskState
    cause_prefix = "Search: "
    # The filters OutX documents; at least one is required.
    FILTERS = ("keywords", "title", "company", "first_name", "last_name", "geo_urns")
    MAX_COUNT = 50  # results asked for per page: the most one page shows

    sender = models.ForeignKey("Sender", on_delete=models.PROTECT, related_name="searches")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="profile_searches"
    )
    keywords = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # LinkedIn geographic URNs' ids ("103644278" for the United States).
    geo_urns = models.JSONField(default=list, blank=True)
    start = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(10_000)])
    count = models.PositiveIntegerField(default=25, validators=[MaxValueValidator(MAX_COUNT)])
    # The page before this one (its "Next page" made this search).
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "profile search"
        indexes = [
            models.Index(fields=["state", "next_poll_at"], name="search_state_poll_idx"),
            models.Index(fields=["sender", "state"], name="search_sender_state_idx"),
            models.Index(fields=["sender", "submitted_at"], name="search_sender_submitted_idx"),  # the hourly count
        ]
        constraints = [
            models.CheckConstraint(condition=Q(count__lte=50) & Q(start__lte=10_000), name="search_page_bounded"),
        ]

    def __str__(self) -> str:
        return f"Search {self.pk} ({self.get_state_display()})"

    def event_links(self) -> dict:
        return {"profile_search": self}

    # The shared states in a search's words: "Sent" would mislead, nothing is sent to anyone.
    STATE_LABELS = {
        TaskState.QUEUED: "Waiting to run",
        TaskState.SUBMITTING: "Being sent to OutX",
        TaskState.PENDING: "Running on LinkedIn",
        TaskState.SENT: "Done",
        TaskState.NOT_SENT: "Ended without results",
        TaskState.FAILED: "Refused by OutX",
        TaskState.SKIPPED: "Not run",
        TaskState.UNCERTAIN: "Unknown",
    }

    @property
    def state_label(self) -> str:
        return self.STATE_LABELS.get(self.state, self.get_state_display())

    def filters(self) -> dict:
        """The filters as the OutX client takes them (OutxClient.search_profiles)."""
        return {
            "keywords": self.keywords, "title": self.title, "company": self.company,
            "first_name": self.first_name, "last_name": self.last_name, "geo_urns": list(self.geo_urns or []),
        }

    def filters_as_stored(self) -> dict:
        """The filter fields, to make another search of the same query (its next page)."""
        return {name: getattr(self, name) for name in self.FILTERS}

    def described_filters(self) -> list[tuple[str, str]]:
        """The filters that have a value, as a page lists them."""
        shown = [(self._meta.get_field(name).verbose_name.capitalize(), getattr(self, name)) for name in self.FILTERS[:5]]
        if self.geo_urns:
            shown.append(("Places", ", ".join(f"urn:li:geo:{geo}" for geo in self.geo_urns)))
        return [(label, value) for label, value in shown if value]

    def may_be_seen_by(self, user) -> bool:
        """Only the person who ran the search, or an admin, sees it and its results."""
        return user.is_authenticated and (user.is_staff or self.requested_by_id == user.pk)


class SearchResult(models.Model):
    """One profile a completed search found, as OutX described it (checked and cleaned)."""

    search = models.ForeignKey(ProfileSearch, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    profile_urn = models.CharField("profile URN", max_length=150, blank=True)
    profile_url = models.CharField("profile URL", max_length=300, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    headline = models.CharField(max_length=300, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["search", "position"]
        constraints = [models.UniqueConstraint(fields=["search", "position"], name="one_result_per_position")]

    def __str__(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.profile_urn


class DoNotContactQuerySet(models.QuerySet):
    def matching(self, *, urns: Iterable[str] = (), urls: Iterable[str] = (), company_keys: Iterable[str] = ()):
        """Entries that block any of these profiles or companies (campaigns/donotcontact.py
        makes the keys)."""
        urns, urls, company_keys = [u for u in urns if u], [u for u in urls if u], [k for k in company_keys if k]
        condition = Q(pk__in=[])
        if urns:
            condition |= Q(profile_urn__in=urns)
        if urls:
            condition |= Q(profile_url__in=urls)
        if company_keys:
            condition |= Q(company_key__in=company_keys)
        return self.filter(condition)


class DoNotContact(models.Model):
    """One entry of the team's do-not-contact list: a person (profile URN or URL) or a company
    (name or LinkedIn company page). Nobody it matches is invited: checked at import and
    again just before submission."""

    class Kind(models.TextChoices):
        PROFILE = "profile", "Person"
        COMPANY = "company", "Company"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    profile_urn = models.CharField("profile URN", max_length=150, unique=True, null=True, blank=True)
    profile_url = models.CharField("profile URL", max_length=300, unique=True, null=True, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    # The company's name (or company-page slug) folded for matching: "Acme Corp" and
    # linkedin.com/company/acme-corp are both "acmecorp".
    company_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    value = models.CharField(max_length=300, help_text="The entry as it was added.")
    reason = models.CharField(max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = DoNotContactQuerySet.as_manager()

    class Meta:
        verbose_name = "do-not-contact entry"
        verbose_name_plural = "do-not-contact entries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="profile") & (Q(profile_urn__isnull=False) | Q(profile_url__isnull=False)))
                | (Q(kind="company") & Q(company_key__isnull=False)),
                name="do_not_contact_names_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.value


class SenderConnectionQuerySet(models.QuerySet):
    def matching(self, *, urns: Iterable[str] = (), urls: Iterable[str] = ()) -> SenderConnectionQuerySet:
        """Connections naming any of these profiles, by URN or by URL."""
        urns, urls = [u for u in urns if u], [u for u in urls if u]
        condition = Q(pk__in=[])
        if urns:
            condition |= Q(profile_urn__in=urns)
        if urls:
            condition |= Q(profile_url__in=urls)
        return self.filter(condition)

    def of_prospect(self, sender: Sender | int, prospect: Prospect) -> SenderConnectionQuerySet:
        """`sender`'s connections that are this prospect (by URN or URL): the rule that keeps
        a sender from inviting someone it is already connected to, for the worker and pages."""
        return self.filter(sender=sender).matching(urns=[prospect.profile_urn or ""], urls=[prospect.profile_url or ""])

    def of_prospect_first(self, sender: Sender | int, prospect: Prospect) -> SenderConnection | None:
        return self.of_prospect(sender, prospect).order_by("seen_at", "pk").first()


class SenderConnection(models.Model):
    """A 1st-degree connection of a sender's LinkedIn account, as its connections reads saw it
    (campaigns/acceptance.py): nobody already connected to a sender is invited from it."""

    objects = SenderConnectionQuerySet.as_manager()

    sender = models.ForeignKey("Sender", on_delete=models.CASCADE, related_name="connections")
    profile_urn = models.CharField("profile URN", max_length=150, null=True, blank=True)
    profile_url = models.CharField("profile URL", max_length=300, null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "profile_urn"], condition=Q(profile_urn__isnull=False), name="one_connection_per_urn"
            ),
            models.UniqueConstraint(
                fields=["sender", "profile_url"], condition=Q(profile_url__isnull=False), name="one_connection_per_url"
            ),
            models.CheckConstraint(
                condition=Q(profile_urn__isnull=False) | Q(profile_url__isnull=False), name="connection_names_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile_urn or self.profile_url} (connection of {self.sender})"

    @property
    def skip_reason(self) -> str:
        """Why an invitation from this connection's sender to this person is skipped."""
        return f"Already a connection of {self.sender.name} (seen in its LinkedIn connections on {self.seen_at:%Y-%m-%d})."


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as Europe/Paris.")


class SenderQuerySet(models.QuerySet):
    def working(self) -> SenderQuerySet:
        """Senders not retired: the ones the worker serves and people may choose."""
        return self.filter(retired_at__isnull=True)

    def usable_by(self, user) -> SenderQuerySet:
        """The senders `user` may launch campaigns on: an admin any, a member those they were given."""
        working = self.working()
        return working if user.is_staff else working.filter(users=user)

    def due_for_work(self, now: dt.datetime) -> SenderQuerySet:
        """Senders whose next moment of work has come (the index on next_due_at finds them)."""
        return self.working().filter(next_due_at__lte=now)

    def holding_key(self, api_key: str) -> Sender | None:
        """The sender among these that already sends with this key: the one with its fingerprint
        (retired or not: fingerprints are unique), or a working one without a stored key when
        the key is OUTX_API_KEY, which such a sender uses."""
        holder = self.filter(key_fingerprint=keys.fingerprint(api_key)).first()
        if holder is None and settings.OUTX_API_KEY and api_key.strip() == settings.OUTX_API_KEY.strip():
            holder = self.working().filter(api_key_encrypted="").order_by("pk").first()
        return holder

    def wake(self, now: dt.datetime | None = None) -> int:
        """Make these senders' work due now, never later than it already was: something was
        queued, launched or resumed, and should not wait for the next computed moment."""
        now = now or timezone.now()
        due_later = self.working().filter(Q(next_due_at__isnull=True) | Q(next_due_at__gt=now))
        # Not the senders a worker holds locked this instant: waiting for one here, in a
        # transaction that may hold a campaign's row (every write to its requests takes it:
        # campaigns/triggers.py), could deadlock with the worker, which holds the sender and
        # wants the campaign. That pass ends by computing the sender's next moment itself.
        with transaction.atomic():
            free = list(due_later.select_for_update(skip_locked=True).values_list("pk", flat=True))
            return Sender.objects.filter(pk__in=free).update(next_due_at=now)

    def with_submittable_work(self) -> SenderQuerySet:
        """Each sender with `has_work`: whether any of its invitations is submittable (an
        EXISTS each, which stops at the first it finds)."""
        return self.annotate(
            has_work=models.Exists(ConnectionRequest.objects.submittable().filter(sender=models.OuterRef("pk")))
        )


class Sender(models.Model):
    """One LinkedIn account that invitations go out from, reached through one OutX team's API
    key (OutX acts from the team's oldest admin), with its own pacing, state and acceptance
    tracking. Every invitation, follow-up and look-up keeps the sender it was queued on.

    The key is stored encrypted (campaigns/keys.py); a sender without a stored key is the one
    carried over from single-account installs, and uses OUTX_API_KEY from the environment.
    `Sender.get()` returns the first sender, creating it on an empty install.
    """

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused by a person"
        LIMIT_REACHED = "limit_reached", "LinkedIn invitation limit reached"
        EXTENSION_OFFLINE = "extension_offline", "OutX extension offline"
        INVALID_KEY = "invalid_key", "OutX API key rejected"
        NO_ADMIN = "no_admin", "No admin in the OutX team"

    name = models.CharField(max_length=200, default="Team LinkedIn account")
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="senders",
        help_text="Who may launch campaigns on this sender; admins may use every sender.",
    )
    # The OutX API key, encrypted with the keys from the environment (never readable from a
    # database dump alone), its SHA-256 (one OutX team, one sender) and its last characters.
    api_key_encrypted = models.TextField(blank=True)
    key_fingerprint = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    key_hint = models.CharField(max_length=4, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, help_text="A retired sender sends nothing and keeps its history.")
    state = models.CharField(max_length=30, choices=State.choices, default=State.ACTIVE)
    state_cause = models.CharField(max_length=500, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True, help_text="When a pause ends by itself.")

    # Pacing. The defaults are the safe production values; the demo shrinks them.
    daily_limit = models.PositiveIntegerField(default=20, validators=ACCOUNT_BOUNDS["daily_limit"].validators)
    weekly_limit = models.PositiveIntegerField(
        default=100, help_text="Over any rolling 7 days.", validators=ACCOUNT_BOUNDS["weekly_limit"].validators
    )
    working_days = models.JSONField(default=default_working_days, help_text="0 = Monday … 6 = Sunday.")
    work_start = models.TimeField(default=dt.time(9, 0))
    work_end = models.TimeField(default=dt.time(18, 0))
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    min_spacing_seconds = models.PositiveIntegerField(
        default=120, validators=ACCOUNT_BOUNDS["min_spacing_seconds"].validators
    )
    max_spacing_seconds = models.PositiveIntegerField(
        default=300, validators=ACCOUNT_BOUNDS["max_spacing_seconds"].validators
    )
    next_submission_at = models.DateTimeField(null=True, blank=True)
    # Profile look-ups are LinkedIn actions too: spaced the same way, on their own clock.
    next_lookup_at = models.DateTimeField(null=True, blank=True)
    # Searches too, on a clock of their own: a person waits on the page for them.
    next_search_at = models.DateTimeField(null=True, blank=True)
    stale_after_days = models.PositiveIntegerField(
        default=7, help_text="An invitation waiting for OutX's extension longer than this is shown as stale.",
        validators=ACCOUNT_BOUNDS["stale_after_days"].validators,
    )
    offline_recheck_seconds = models.PositiveIntegerField(
        default=300, help_text="How often to ask OutX again while the extension is offline.",
        validators=ACCOUNT_BOUNDS["offline_recheck_seconds"].validators,
    )
    # OutX advises about 50 LinkedIn actions an hour in all: invitations and follow-ups.
    hourly_action_limit = models.PositiveIntegerField(
        default=50, validators=ACCOUNT_BOUNDS["hourly_action_limit"].validators
    )
    # Acceptance tracking: how often to read the newest connections, and the read in progress.
    acceptance_check_minutes = models.PositiveIntegerField(
        default=30, help_text="How often to ask OutX for the newest connections.",
        validators=ACCOUNT_BOUNDS["acceptance_check_minutes"].validators,
    )
    acceptance_wait_days = models.PositiveIntegerField(
        default=7, help_text="How long invitees get to answer before a campaign's safety brake counts them.",
        validators=ACCOUNT_BOUNDS["acceptance_wait_days"].validators,
    )
    next_acceptance_check_at = models.DateTimeField(null=True, blank=True)
    last_acceptance_check_at = models.DateTimeField(null=True, blank=True)
    connections_task_id = models.CharField(max_length=100, blank=True)
    connections_task_start = models.PositiveIntegerField(default=0)
    connections_next_poll_at = models.DateTimeField(null=True, blank=True)
    connections_task_started_at = models.DateTimeField(null=True, blank=True)
    # The worker: when this sender next has work (indexed, so idle senders cost nothing to
    # skip), and the turn a worker process holds on it (one process per sender at a time).
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    worked_by = models.CharField(max_length=200, blank=True, editable=False)
    worked_until = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SenderQuerySet.as_manager()

    BOUNDS = ACCOUNT_BOUNDS

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(min_spacing_seconds__lte=models.F("max_spacing_seconds")),
                name="sending_account_spacing_ordered",
            ),
            models.CheckConstraint(
                condition=Q(daily_limit__lte=models.F("weekly_limit")),
                name="sending_account_daily_within_weekly",
            ),
            *bound_constraints("sending_account", ACCOUNT_BOUNDS),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def get(cls) -> Sender:
        """The first sender: the one single-account installs had, and the demo's default. Made
        without an explicit id, which PostgreSQL's sequence would not know of (the next sender
        made would take the same id)."""
        return cls.objects.order_by("pk").first() or cls.objects.create()

    # --- The key ----------------------------------------------------------------------------

    def set_api_key(self, api_key: str) -> None:
        """Store a new key (the caller saves): encrypted, fingerprinted, and its last 4 kept for the mask."""
        api_key = api_key.strip()
        self.api_key_encrypted = keys.encrypt(api_key)
        self.key_fingerprint = keys.fingerprint(api_key)
        self.key_hint = api_key[-4:] if len(api_key) >= 12 else ""

    @property
    def api_key(self) -> str:
        """The key to send to OutX: the stored one, or for a sender without one, OUTX_API_KEY."""
        if self.api_key_encrypted:
            return keys.decrypt(self.api_key_encrypted)
        return settings.OUTX_API_KEY

    @property
    def key_from_environment(self) -> bool:
        return not self.api_key_encrypted

    @property
    def masked_key(self) -> str:
        """All a page ever shows of the key."""
        if self.key_from_environment:
            return "OUTX_API_KEY from the environment" if settings.OUTX_API_KEY else "no key set"
        return f"••••••••{self.key_hint}" if self.key_hint else "••••••••"

    # --- Who may use it, and its life -------------------------------------------------------

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def may_be_used_by(self, user) -> bool:
        """Whether `user` may launch on this sender. Everyone sees every sender's figures."""
        if self.is_retired or not user.is_authenticated:
            return False
        return user.is_staff or self.users.filter(pk=user.pk).exists()

    def has_queued_work(self) -> bool:
        return self.requests.filter(state=TaskState.QUEUED).exists()

    def deletion_refusal(self) -> str:
        """Why the sender cannot be deleted, or "" when it may be: only one with no invitation or
        look-up at all, since those keep their sender for life (and the database protects them)."""
        if self.has_queued_work():
            return (
                f"{self.name} has queued invitations, so it cannot be deleted: retire it, and they move to "
                "their campaigns' other senders."
            )
        if self.requests.exists() or self.lookups.exists():
            instead = "It stays retired." if self.is_retired else "Retire it instead: it stops sending and keeps its history."
            return (
                f"{self.name} has sent invitations or looked up profiles, and they keep their sender: it cannot "
                f"be deleted. {instead}"
            )
        return ""

    def retire(self, user) -> None:
        """Stop sending from this sender for good, keeping its history. Its queued invitations
        move to their campaign's other senders (a long queue by a task, `Campaign.refresh_queue`);
        those of a campaign with none left wait."""
        now = timezone.now()
        with transaction.atomic():
            Event.objects.create(
                sender=self, from_state=self.state, to_state="retired", cause=f"Retired by {user.get_username()}", at=now
            )
            self.retired_at = now
            self.next_due_at = None
            self.save(update_fields=["retired_at", "next_due_at", "updated_at"])
            campaigns = list(self.campaigns.all())
            self.campaigns.clear()
            for campaign in campaigns:
                campaign.refresh_queue(notes=False)

    def take_turn(self, tag: str, now: dt.datetime) -> bool:
        """Take this sender for one worker's pass, unless another process holds it: the row is
        locked without waiting (skip_locked) and the turn is recorded with a lease, so a crashed
        worker's turn lapses. Returns whether the turn is ours."""
        with transaction.atomic():
            free = Q(worked_until__isnull=True) | Q(worked_until__lt=now)
            row = Sender.objects.select_for_update(skip_locked=True).filter(free, pk=self.pk, retired_at__isnull=True)
            if not row.exists():
                return False
            return bool(row.update(worked_by=tag, worked_until=now + SENDER_TURN_LEASE))

    def end_turn(self, tag: str, next_due_at: dt.datetime | None) -> None:
        Sender.objects.filter(pk=self.pk, worked_by=tag).update(worked_by="", worked_until=None, next_due_at=next_due_at)

    def clean(self) -> None:
        if self.work_start >= self.work_end:
            raise ValidationError("Working hours must end after they start.")
        if not self.working_days or any(day not in Weekday.values for day in self.working_days):
            raise ValidationError("Choose at least one working day.")

    @property
    def is_sending(self) -> bool:
        return self.state == self.State.ACTIVE

    def set_state(self, new_state: str, cause: str, resume_at: dt.datetime | None = None) -> None:
        """Pause or resume the sender, recording why."""
        now = timezone.now()
        with transaction.atomic():
            Event.objects.create(
                sender=self, from_state=self.state, to_state=new_state, cause=cause, at=now
            )
            self.state = new_state
            self.state_cause = fit(cause, Sender, "state_cause")
            self.state_changed_at = now
            self.resume_at = resume_at
            self.save(update_fields=["state", "state_cause", "state_changed_at", "resume_at", "updated_at"])
        if new_state == self.State.ACTIVE:
            Sender.objects.filter(pk=self.pk).wake(now)


class Event(models.Model):
    """A state change — of a tracked OutX task, a campaign or a sender — and its cause."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    connection_request = models.ForeignKey(
        ConnectionRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    sender = models.ForeignKey(
        Sender, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    followup = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    profile_lookup = models.ForeignKey(
        ProfileLookup, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    profile_search = models.ForeignKey(
        ProfileSearch, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30)
    cause = models.CharField(max_length=1000)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["connection_request", "at"], name="event_request_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.from_state or '—'} → {self.to_state}: {self.cause}"

    def save(self, *args, **kwargs) -> None:
        # A cause may quote OutX at length; the history keeps what its column holds.
        self.cause = fit(self.cause, Event, "cause")
        super().save(*args, **kwargs)


def fit(text: str, model: type[models.Model], field_name: str) -> str:
    """`text` cut (with an ellipsis) to what the model's column holds."""
    limit = model._meta.get_field(field_name).max_length
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- A CSV upload waiting for its import -------------------------------------------------------


def new_upload_key() -> str:
    """An unguessable id for a waiting upload: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


class PendingUploadQuerySet(models.QuerySet):
    def of_uploader(self, user) -> PendingUploadQuerySet:
        return self.filter(owner=user)

    def expired(self, now: dt.datetime) -> PendingUploadQuerySet:
        return self.filter(created_at__lte=now - PendingUpload.LIFETIME)


class PendingUpload(models.Model):
    """A CSV file uploaded for a campaign, waiting for its column mapping and its import.

    It waits in the database, keyed by a random id, rather than in the session: every web
    process can read it, and no other request of its uploader pays for decoding it. Only the
    uploader reads it. Its table is dropped by the import: the row goes when no row of the file
    was rejected, and otherwise keeps the rejected rows to show until it expires. A new upload
    deletes its uploader's earlier ones and every expired one, so the table stays small.
    """

    LIFETIME_HOURS = 2
    LIFETIME = dt.timedelta(hours=LIFETIME_HOURS)

    key = models.CharField(max_length=64, unique=True, default=new_upload_key, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_uploads"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pending_uploads")
    filename = models.CharField(max_length=200)
    table = models.JSONField(null=True, blank=True, help_text="The parsed file; dropped by the import.")
    imported_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(
        null=True, blank=True, help_text="Once imported: how many prospects were added, and the rejected rows."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = PendingUploadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(imported_at__isnull=True) | Q(table__isnull=True),
                name="pending_upload_imported_has_no_table",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} for {self.campaign_id}, uploaded {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def store(cls, owner, campaign: Campaign, filename: str, table: dict, now: dt.datetime) -> PendingUpload:
        """Keep a new upload. The uploader's earlier uploads and everyone's expired ones go."""
        with transaction.atomic():
            cls.objects.filter(Q(owner=owner) | Q(created_at__lte=now - cls.LIFETIME)).delete()
            return cls.objects.create(
                owner=owner, campaign=campaign, filename=fit(filename, cls, "filename"), table=table, created_at=now
            )

    def has_expired(self, now: dt.datetime) -> bool:
        return self.created_at <= now - self.LIFETIME

    def claim_for_import(self, now: dt.datetime) -> bool:
        """Whether this request imports the upload: a conditional UPDATE, so that two clicks on
        Import (or two tabs) cannot both import it. Call it inside the import's transaction."""
        claimed = PendingUpload.objects.filter(pk=self.pk, imported_at=None).update(imported_at=now, table=None)
        if claimed:
            self.imported_at, self.table = now, None
        return claimed == 1

    def record_import(self, imported: int, rejected: list[list]) -> None:
        """After the import: without rejected rows nothing is left to show, so the row goes."""
        if not rejected:
            self.delete()
            return
        self.result = {"imported": imported, "rejected": rejected}
        self.save(update_fields=["result"])
