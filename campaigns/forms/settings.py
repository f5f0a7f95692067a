"""The admin settings: the sending account's pacing, and pausing or resuming it."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from django import forms

from ..models import SendingAccount, Weekday, bounded_form_field


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def production_default(field_name: str) -> int:
    """The safe value the model ships with; the form warns above (or, for spacing, below) it."""
    return SendingAccount._meta.get_field(field_name).default


class WorkingTimeInput(forms.TimeInput):
    """An <input type="time"> showing seconds only when the time has some (23:59:59)."""

    input_type = "time"

    def format_value(self, value):
        if isinstance(value, dt.time):
            return value.strftime("%H:%M:%S" if value.second else "%H:%M")
        return super().format_value(value)


class SendingAccountForm(forms.ModelForm):
    """Pacing for the one sending account. Saving touches only these fields, never the state."""

    daily_limit = bounded_form_field(
        SendingAccount, "daily_limit", label="Daily limit", min_value=1,
        help_text="Invitations per day, counted in the account's time zone.",
    )
    weekly_limit = bounded_form_field(
        SendingAccount, "weekly_limit", label="Weekly limit", min_value=1,
        help_text="Invitations over any rolling 7 days.",
    )
    working_days = forms.TypedMultipleChoiceField(
        label="Working days", choices=Weekday.choices, coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one working day."},
    )
    work_start = forms.TimeField(label="Start of working hours", widget=WorkingTimeInput())
    work_end = forms.TimeField(label="End of working hours", widget=WorkingTimeInput())
    time_zone = forms.ChoiceField(label="Time zone", choices=time_zone_choices)
    min_spacing_seconds = bounded_form_field(
        SendingAccount, "min_spacing_seconds", label="Minimum spacing (seconds)",
        help_text="The least time between two invitations; a random wait up to the maximum is added.",
    )
    max_spacing_seconds = bounded_form_field(SendingAccount, "max_spacing_seconds", label="Maximum spacing (seconds)")

    class Meta:
        model = SendingAccount
        fields = [
            "daily_limit", "weekly_limit", "working_days", "work_start", "work_end", "time_zone",
            "min_spacing_seconds", "max_spacing_seconds",
        ]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

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
            # Take neither time, so SendingAccount.clean() does not say it a second time.
            del cleaned["work_start"]
        return cleaned

    def save(self, commit: bool = True) -> SendingAccount:
        account = super().save(commit=False)
        account.working_days = sorted(account.working_days)
        if commit:
            # Only the pacing: the worker may have paused the account since this form was loaded.
            account.save(update_fields=[*self.Meta.fields, "updated_at"])
        return account

    def safety_warnings(self) -> list[str]:
        """Values beyond the safe production defaults: allowed, but said out loud."""
        data = self.cleaned_data
        warnings = []
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
        return warnings


class AccountActionForm(forms.Form):
    """The pause and resume buttons: which one was pressed."""

    action = forms.ChoiceField(choices=[("pause", "Pause sending"), ("resume", "Resume sending")])

    def apply(self, account: SendingAccount, user) -> str:
        """Pause or resume the account; the sentence that tells the user what happened."""
        username = user.get_username()
        if self.cleaned_data["action"] == "pause":
            if account.state == SendingAccount.State.PAUSED:
                return "Sending was already paused."
            account.set_state(SendingAccount.State.PAUSED, f"Paused by {username}")
            return "Sending is paused: no invitation goes out until someone resumes it."
        if account.state == SendingAccount.State.ACTIVE:
            return "Sending was already active."
        account.set_state(SendingAccount.State.ACTIVE, f"Resumed by {username}")
        return "Sending resumed."
