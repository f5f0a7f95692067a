"""The campaign form: a name, the senders its invitations go out from, up to three note variants
that OutX will accept for every queued prospect, the follow-up message sent after an acceptance,
and the safety brake."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms.boundfield import BoundField

from ..durations import DELAY_UNITS, in_largest_whole_unit
from ..models import Campaign, QueuedNotes, Sender, bounded_form_field
from ..notes import NOTE_MAX_LENGTH, check_note, has_variables, longest_sample_note, normalise_line_breaks

# A campaign may queue hundreds of prospects; the form lists this many and counts the rest.
LISTED_BLOCKED_NOTES = 10


class SenderChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, sender: Sender) -> str:
        return sender.name


class NoteEditorBoundField(BoundField):
    """A note textarea described by its editor's hint and counter (templates/campaigns/
    _note_editor.html gives them these ids), then by its errors, as Django would."""

    @property
    def aria_describedby(self) -> str:
        ids = [f"{self.auto_id}_hint", f"{self.auto_id}_counter"]
        if self.errors:
            ids.append(f"{self.auto_id}_error")
        return " ".join(ids)


# The numbers a person may leave empty: the form shows, and saves, the campaign's current value
# (a new campaign's default).
NUMBER_FIELDS = ("followup_delay_minutes", "brake_min_invitations", "brake_min_acceptance_percent")


class CampaignForm(forms.ModelForm):
    senders = SenderChoiceField(
        label="Senders", queryset=Sender.objects.none(), widget=forms.CheckboxSelectMultiple,
        help_text="The LinkedIn accounts its invitations go out from: the queue is spread evenly over them.",
        error_messages={"required": "Choose at least one sender: invitations go out from a sender."},
    )
    # Declared to say their maximum where a person reads it: a delay of years would overflow
    # the date it is added to, and a rate above 100% would pause every campaign.
    # Left empty (or not posted at all), a number keeps its current value: the default at first.
    # The follow-up delay is typed in the unit chosen beside it and stored in minutes; a post
    # without a unit (an older page, a script) is in minutes.
    followup_delay_minutes = bounded_form_field(
        Campaign, "followup_delay_minutes", required=False, label="Follow-up delay",
        help_text="How long after the acceptance is seen.",
    )
    followup_delay_unit = forms.ChoiceField(
        label="Unit of the follow-up delay", required=False, choices=[(unit, unit) for unit in reversed(DELAY_UNITS)],
        widget=forms.Select(attrs={"aria-label": "Unit of the follow-up delay"}),
    )
    brake_min_invitations = bounded_form_field(Campaign, "brake_min_invitations", required=False)
    brake_min_acceptance_percent = bounded_form_field(
        Campaign, "brake_min_acceptance_percent", required=False,
        help_text="The campaign pauses itself when fewer of its answered invitations are accepted.",
    )

    class Meta:
        model = Campaign
        fields = [
            "name", "senders", "note_template", "note_template_b", "note_template_c",
            "followup_template", "followup_delay_minutes",
            "brake_min_invitations", "brake_min_acceptance_percent",
        ]
        # The variants' labels do not repeat "Note": their fieldset's legend says it.
        labels = {
            "name": "Name", "note_template": "Note", "note_template_b": "Variant B", "note_template_c": "Variant C",
            "followup_template": "Follow-up message",
        }
        help_texts = {
            "followup_template": "Sent once to each invitee who accepts. Optional; the same variables as the note.",
        }
        widgets = {
            "note_template": forms.Textarea(attrs={"rows": 6}),
            "note_template_b": forms.Textarea(attrs={"rows": 4}),
            "note_template_c": forms.Textarea(attrs={"rows": 4}),
            "followup_template": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args, user=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        for name in ("note_template", "note_template_b", "note_template_c"):
            self.fields[name].bound_field_class = NoteEditorBoundField
        self.show_current_numbers()
        # Offered: the senders the person may use, and those the campaign has already (an admin
        # may have chosen one its owner may not use: it is shown, and may stay or go).
        usable = Sender.objects.usable_by(user) if user is not None else Sender.objects.working()
        offered = Q(pk__in=usable.values("pk"))
        if self.instance.pk:
            offered |= Q(pk__in=self.instance.senders.values("pk"))
        self.fields["senders"].queryset = Sender.objects.filter(offered).order_by("name", "pk")
        if not self.instance.pk and not self.is_bound:
            # A new campaign starts on the person's one sender; among several, they choose.
            only = list(usable.values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial["senders"] = only
        # Not Django's strip(), which follows Python's: it would cut U+0085 and U+001C–U+001F,
        # which JavaScript's trim (the counter's and OutX's) keeps, and keep U+FEFF, which it
        # cuts. The note and its variants are trimmed by the note rule below; the follow-up is
        # kept as typed, and one of white space only is refused with its reason, not quietly
        # taken for "none".
        for name in ("note_template", "note_template_b", "note_template_c", "followup_template"):
            self.fields[name].strip = False

    def show_current_numbers(self) -> None:
        """Each number shows what will be saved: the current value (a new campaign's default)
        where none was typed, the follow-up delay in its largest whole unit (2880 minutes: 2 days)."""
        delay, unit = in_largest_whole_unit(self.instance.followup_delay_minutes)
        if not self.is_bound:
            self.initial["followup_delay_minutes"], self.initial["followup_delay_unit"] = delay, unit
            return
        data = self.data.copy()
        for name in NUMBER_FIELDS:
            if not str(data.get(self.add_prefix(name)) or "").strip():
                data[self.add_prefix(name)] = getattr(self.instance, name)
                if name == "followup_delay_minutes":
                    data[self.add_prefix(name)], data[self.add_prefix("followup_delay_unit")] = delay, unit
        self.data = data

    def check_chosen_senders(self) -> None:
        """Refuse (403) a posted sender the person may not use and the campaign does not have
        yet. Never offered, so not a slip to correct on the form: someone forged the post."""
        if self.user is None or not self.is_bound:
            return
        posted = self.fields["senders"].widget.value_from_datadict(self.data, self.files, self.add_prefix("senders"))
        chosen = {value for value in posted or [] if str(value).isdigit()}
        kept = set(self.instance.senders.values_list("pk", flat=True)) if self.instance.pk else set()
        refused = (
            Sender.objects.filter(pk__in=chosen).exclude(pk__in=kept)
            .exclude(pk__in=Sender.objects.usable_by(self.user).values("pk"))
        )
        names = [sender.name for sender in refused.order_by("name", "pk")]
        if names:
            raise PermissionDenied(f"You may not send from {', '.join(names)}.")

    def clean_brake_min_invitations(self) -> int:
        return self.number_or_current("brake_min_invitations")

    def clean_brake_min_acceptance_percent(self) -> int:
        return self.number_or_current("brake_min_acceptance_percent")

    def number_or_current(self, name: str) -> int:
        value = self.cleaned_data[name]
        return getattr(self.instance, name) if value is None else value

    def clean(self) -> dict:
        cleaned = super().clean()
        # The delay in minutes, as stored; its maximum holds for what it comes to.
        delay = cleaned.get("followup_delay_minutes")
        if delay is not None:
            minutes = delay * DELAY_UNITS[cleaned.get("followup_delay_unit") or "minutes"]
            bound = Campaign.BOUNDS["followup_delay_minutes"]
            if minutes > bound.maximum:
                self.add_error("followup_delay_minutes", bound.message)
            else:
                cleaned["followup_delay_minutes"] = minutes
        return cleaned

    def real_note_problems(self, template: str, variant: str | None = None) -> list[str]:
        """The 300 limit, held on the notes prospects get: each queued prospect's, or with
        nobody queued yet (a new campaign), the sample prospects' (campaigns.notes)."""
        if self.instance.pk:
            notes = self.instance.queued_notes(template, variant=variant)
            if notes.counts["queued"]:
                return blocked_note_messages(notes) if notes.counts["blocking"] else []
        longest = longest_sample_note(template)
        if longest is None or longest.length <= NOTE_MAX_LENGTH:
            return []
        if not has_variables(template):
            return [check_note(template).error]
        return [
            f"With sample values ({longest.who}) the note is {longest.length} characters long; "
            f"LinkedIn allows at most {NOTE_MAX_LENGTH}."
        ]

    def clean_note_template(self) -> str:
        # Browsers submit CRLF; the counter and OutX see LF and trim as JavaScript does, so
        # store exactly what they count.
        template = check_note(self.cleaned_data["note_template"]).text
        problems = self.instance.template_problems(template) or self.real_note_problems(template)
        if problems:
            raise ValidationError(problems)
        return template

    def clean_note_template_b(self) -> str:
        return self.clean_variant("B")

    def clean_note_template_c(self) -> str:
        return self.clean_variant("C")

    def clean_variant(self, label: str) -> str:
        """A variant is checked like the note, against the queued prospects it is given to."""
        template = check_note(self.cleaned_data[Campaign.VARIANT_FIELDS[label]]).text
        if not template:
            return ""  # no variant
        problems = self.instance.template_problems(template) or self.real_note_problems(template, variant=label)
        if problems:
            raise ValidationError(problems)
        return template

    def clean_followup_template(self) -> str:
        template = normalise_line_breaks(self.cleaned_data["followup_template"])
        problems = self.instance.followup_problems(template)
        if problems:
            raise ValidationError(problems)
        return template


def blocked_note_messages(notes: QueuedNotes) -> list[str]:
    """One line per queued prospect whose note the template cannot produce (the first
    LISTED_BLOCKED_NOTES of them), after a heading."""
    count = notes.counts["blocking"]
    lines = [
        f"{count} queued prospect{'s' if count != 1 else ''} would get a note that cannot be sent:"
    ]
    lines += [f"{note.request.prospect}: {note.problem}" for note in notes.first_blocking(LISTED_BLOCKED_NOTES)]
    if count > LISTED_BLOCKED_NOTES:
        lines.append(f"… and {count - LISTED_BLOCKED_NOTES} more.")
    return lines
