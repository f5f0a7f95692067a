"""Senders, for admins: a sender's name, OutX API key, users and pacing; pausing or resuming it.

The key is write-only: the form never shows it (not even after an error), keeps the current
one when left blank, and takes a new one only after OutX has accepted it.
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from people.timezones import time_zone_choices

from .. import keys, outx
from ..models import Sender, Weekday, bounded_form_field

# What an HTTP header can carry (campaigns/outx.py refuses any other key before calling).
HEADER_SAFE_KEY = re.compile(r"[\x21-\x7e]+")


def production_default(field_name: str) -> int:
    """The safe value the model ships with; the form warns above (or, for spacing, below) it."""
    return Sender._meta.get_field(field_name).default


class WorkingTimeInput(forms.TimeInput):
    """An <input type="time"> showing seconds only when the time has some (23:59:59)."""

    input_type = "time"

    def format_value(self, value):
        if isinstance(value, dt.time):
            return value.strftime("%H:%M:%S" if value.second else "%H:%M")
        return super().format_value(value)


class UsersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user) -> str:
        name = user.get_username()
        return f"{name} (admin: may use every sender)" if user.is_staff else name


# --- Keys on pages --------------------------------------------------------------------------


def masked(key: str) -> str:
    """A key as text may show it: the same mask as `Sender.masked_key` (its last 4 characters,
    only when the key is long enough for them to reveal nothing usable)."""
    key = key.strip()
    if not key:
        return "not set"
    return f"{'•' * 8}{key[-4:]}" if len(key) >= 12 else "•" * 8


def without_key(text: str, key: str) -> str:
    """`text` with the key masked, also as error messages spell it: stripped of a stray line
    break or space (h11 names a header value it refuses as b'<key>\\n'), escaped by repr(),
    or in another case (a message may upper- or lower-case what it quotes)."""
    spellings = {key, key.strip(), repr(key)[1:-1], repr(key.encode())[2:-1]}
    for spelling in sorted(spellings, key=len, reverse=True):
        if spelling:
            text = re.sub(re.escape(spelling), lambda _: masked(key), text, flags=re.IGNORECASE)
    return text


# Hidden from error reports: this frame and the client's hold the key.
@sensitive_variables()
def outx_refusal(api_key: str) -> tuple[str, str]:
    """Ask OutX whether it takes `api_key`, before the key is trusted: (why it is refused, or
    "" when OutX's answer proves the key works; a warning to show with an accepted key)."""
    try:
        with outx.get_client(api_key=api_key) as client:
            client.check_connection()
    except outx.OutxUnauthorized as error:
        refusal = f"OutX refused this key ({error.message}): copy it again from the OutX team's settings."
    except outx.OutxExtensionOffline:
        # OutX took the key: it refuses to act only until someone's extension is back.
        return "", "OutX took the key, but no OutX extension of the team has been active in the last 48 hours."
    except outx.OutxRateLimited:
        return "", ""  # the key works; LinkedIn's limit is the sender's state, not the key's
    except (outx.OutxTimeout, outx.OutxConnectionError) as error:
        refusal = (
            f"Could not reach OutX at {settings.OUTX_BASE_URL} to check the key ({error.message}). "
            "Nothing was saved: try again in a few minutes."
        )
    except outx.OutxError as error:
        refusal = f"OutX could not check the key ({error.message}). Nothing was saved: try again in a few minutes."
    else:
        return "", ""
    # Belt and braces: an error's text must never carry the key to the page.
    return without_key(refusal, api_key), ""


# --- The sender form --------------------------------------------------------------------------


class SenderForm(forms.ModelForm):
    """A sender's name, key, users and pacing. Saving touches only these fields, never the
    state, which the worker may have changed since this form was loaded."""

    name = forms.CharField(
        label="Name", max_length=200,
        help_text="The LinkedIn account people see it as, such as “Maria’s LinkedIn”.",
    )
    api_key = forms.CharField(
        label="OutX API key", required=False,
        # Never rendered back, not even after an error; "new-password" keeps browsers from
        # filling in the admin's own password.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    users = UsersField(
        label="Users", required=False, widget=forms.CheckboxSelectMultiple,
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        help_text="Who may launch campaigns on this sender. Removing someone stops their new launches "
        "on it; invitations already sent stay as they are.",
    )
    daily_limit = bounded_form_field(
        Sender, "daily_limit", label="Daily limit", min_value=1,
        help_text="Invitations per day, counted in the sender's time zone.",
    )
    weekly_limit = bounded_form_field(
        Sender, "weekly_limit", label="Weekly limit", min_value=1,
        help_text="Invitations over any rolling 7 days.",
    )
    working_days = forms.TypedMultipleChoiceField(
        label="Working days", choices=Weekday.choices, coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one working day."},
    )
    work_start = forms.TimeField(label="Start of working hours", widget=WorkingTimeInput())
    work_end = forms.TimeField(label="End of working hours", widget=WorkingTimeInput())
    time_zone = forms.ChoiceField(
        label="Time zone", help_text="Working hours and the daily limit's day follow this zone's clock.",
    )
    min_spacing_seconds = bounded_form_field(
        Sender, "min_spacing_seconds", label="Minimum spacing (seconds)",
        help_text="The least time between two invitations; a random wait up to the maximum is added.",
    )
    max_spacing_seconds = bounded_form_field(Sender, "max_spacing_seconds", label="Maximum spacing (seconds)")
    hourly_action_limit = bounded_form_field(
        Sender, "hourly_action_limit", label="Hourly action limit", min_value=1,
        help_text="Every LinkedIn action in any hour: invitations, follow-up messages, profile look-ups and "
        "searches. OutX advises about 50.",
    )
    offline_recheck_seconds = bounded_form_field(
        Sender, "offline_recheck_seconds", label="Re-check while the extension is offline (seconds)",
    )
    stale_after_days = bounded_form_field(Sender, "stale_after_days", label="Stale after (days)")
    acceptance_check_minutes = bounded_form_field(
        Sender, "acceptance_check_minutes", label="Acceptance check interval (minutes)",
    )
    acceptance_wait_days = bounded_form_field(Sender, "acceptance_wait_days", label="Acceptance wait (days)")

    # The pace people set most, then the tuning numbers; the page shows them apart.
    PACE_FIELDS = [
        "daily_limit", "weekly_limit", "working_days", "work_start", "work_end", "time_zone",
        "min_spacing_seconds", "max_spacing_seconds", "hourly_action_limit",
    ]
    TUNING_FIELDS = [
        "offline_recheck_seconds", "stale_after_days", "acceptance_check_minutes",
        "acceptance_wait_days",
    ]
    PACING_FIELDS = [*PACE_FIELDS, *TUNING_FIELDS]
    KEY_FIELDS = ["api_key_encrypted", "key_fingerprint", "key_hint"]

    class Meta:
        model = Sender
        fields = [
            "name", "users", "daily_limit", "weekly_limit", "working_days", "work_start", "work_end", "time_zone",
            "min_spacing_seconds", "max_spacing_seconds", "hourly_action_limit", "offline_recheck_seconds",
            "stale_after_days", "acceptance_check_minutes", "acceptance_wait_days",
        ]

    field_order = ["name", "api_key", "users"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if kwargs.get("instance") is None:
            # An unsaved sender, so a new one's form starts from the model's safe defaults.
            kwargs["instance"] = Sender(name="")
        super().__init__(*args, **kwargs)
        # The short list, and the zone saved before if it is not on it (it stays valid).
        self.fields["time_zone"].choices = time_zone_choices(self.instance.time_zone)
        self.new_key = ""  # the key to store, once cleaned: "" keeps the current one
        self.key_warnings: list[str] = []
        key_field = self.fields["api_key"]
        if self.instance._state.adding:
            key_field.required = True
            key_field.help_text = "From the OutX team's settings. Stored encrypted, and never shown again."
        else:
            key_field.help_text = (
                f"Now: {self.instance.masked_key}. Leave blank to keep it; a new key is checked with OutX first."
            )

    def pace(self) -> list[forms.BoundField]:
        return [self[name] for name in self.PACE_FIELDS]

    def tuning(self) -> list[forms.BoundField]:
        return [self[name] for name in self.TUNING_FIELDS]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Sender.objects.exclude(pk=self.instance.pk) if self.instance.pk else Sender.objects.all()
        if others.filter(name__iexact=name).exists():
            raise ValidationError("Another sender already has this name: choose one people can tell apart.")
        return name

    @sensitive_variables()
    def clean_api_key(self) -> str:
        key = self.cleaned_data["api_key"]  # stripped of a pasted line break by the field
        if not key:
            return ""
        if not HEADER_SAFE_KEY.fullmatch(key):
            raise ValidationError(
                "This key has characters an HTTP header cannot carry (a space, a line break, an accented "
                "letter): copy it again from OutX."
            )
        holder = Sender.objects.exclude(pk=self.instance.pk).holding_key(key)
        if holder is not None:
            raise ValidationError(
                f"This OutX team already has a sender: {holder.name}"
                f"{' (retired)' if holder.is_retired else ''}"
                f"{' (it uses OUTX_API_KEY)' if holder.key_from_environment else ''}. "
                "Two senders on one key would double one account's pace."
            )
        return key

    def key_in_use(self, key: str) -> bool:
        """Whether `key` is the one this sender sends with already (no need to ask OutX)."""
        sender = self.instance
        if sender._state.adding:
            return False
        if sender.key_from_environment:
            return key == settings.OUTX_API_KEY.strip()
        return sender.key_fingerprint == keys.fingerprint(key)

    @sensitive_variables()
    def clean(self) -> dict:
        cleaned = super().clean()
        daily, weekly = cleaned.get("daily_limit"), cleaned.get("weekly_limit")
        if daily is not None and weekly is not None and daily > weekly:
            # On the field, which also keeps the model's constraint from repeating it.
            self.add_error("daily_limit", "The daily limit cannot be more than the weekly limit.")
        least, most = cleaned.get("min_spacing_seconds"), cleaned.get("max_spacing_seconds")
        if least is not None and most is not None and least > most:
            self.add_error("max_spacing_seconds", "The maximum spacing cannot be less than the minimum spacing.")
        start, end = cleaned.get("work_start"), cleaned.get("work_end")
        if start is not None and end is not None and start >= end:
            self.add_error("work_end", "Working hours must end after they start.")
            # Take neither time, so Sender.clean() does not say it a second time.
            del cleaned["work_start"]
        key = cleaned.get("api_key")
        # OutX is asked last, and only about a new key in an otherwise valid form.
        if key and not self.errors:
            if self.key_in_use(key):
                if self.instance.key_from_environment:
                    self.new_key = key  # the same key, now stored with the sender
            else:
                refusal, warning = outx_refusal(key)
                if refusal:
                    self.add_error("api_key", refusal)
                else:
                    self.new_key = key
                    self.key_warnings = [warning] if warning else []
        return cleaned

    def save(self, commit: bool = True) -> Sender:
        sender = super().save(commit=False)
        sender.working_days = sorted(sender.working_days)
        if self.new_key:
            sender.set_api_key(self.new_key)
        if commit:
            with transaction.atomic():
                if sender._state.adding:
                    sender.save()
                else:
                    key_fields = self.KEY_FIELDS if self.new_key else []
                    sender.save(update_fields=["name", *self.PACING_FIELDS, *key_fields, "updated_at"])
                self.save_m2m()
            # New pacing or a new key: let the worker look at this sender now, not at the
            # moment it computed from the old values.
            Sender.objects.filter(pk=sender.pk).wake()
        return sender

    def safety_warnings(self) -> list[str]:
        """Values beyond the safe production defaults: allowed, but said out loud."""
        data = self.cleaned_data
        warnings = list(self.key_warnings)
        if data["daily_limit"] > production_default("daily_limit"):
            warnings.append(
                f"A daily limit above {production_default('daily_limit')} is more than the safe default; "
                "LinkedIn may restrict accounts that send many invitations a day."
            )
        if data["weekly_limit"] > production_default("weekly_limit"):
            warnings.append(
                f"LinkedIn may restrict accounts sending more than ~{production_default('weekly_limit')} "
                "invitations a week."
            )
        if data["min_spacing_seconds"] < production_default("min_spacing_seconds"):
            warnings.append(
                f"A minimum spacing under {production_default('min_spacing_seconds')} seconds sends "
                "invitations faster than a person would; keep it for demos and tests."
            )
        if data["hourly_action_limit"] > production_default("hourly_action_limit"):
            warnings.append(
                f"OutX advises about {production_default('hourly_action_limit')} LinkedIn actions an hour "
                "at most; more risks the account."
            )
        return warnings


class AccountActionForm(forms.Form):
    """The pause and resume buttons: which one was pressed."""

    action = forms.ChoiceField(choices=[("pause", "Pause sending"), ("resume", "Resume sending")])

    def apply(self, sender: Sender, user) -> str:
        """Pause or resume the sender; the sentence that tells the user what happened."""
        username = user.get_username()
        if self.cleaned_data["action"] == "pause":
            if sender.state == Sender.State.PAUSED:
                return f"Sending from {sender.name} was already paused."
            sender.set_state(Sender.State.PAUSED, f"Paused by {username}")
            return f"Sending from {sender.name} is paused: no invitation goes out from it until someone resumes it."
        if sender.state == Sender.State.ACTIVE:
            return f"Sending from {sender.name} was already active."
        sender.set_state(Sender.State.ACTIVE, f"Resumed by {username}")
        return f"Sending from {sender.name} resumed."
