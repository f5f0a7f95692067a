from __future__ import annotations

from django import forms

from .models import EXPIRY_DAYS


def expiry_label(days: int | None) -> str:
    return "Never" if days is None else f"In {days} days"


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What it is for, so you know which to revoke: “Zapier leads”, “n8n HubSpot sync”."
    )
    expires = forms.TypedChoiceField(
        label="Expires", choices=[(str(days or "never"), expiry_label(days)) for days in EXPIRY_DAYS],
        initial="90", coerce=lambda value: None if value == "never" else int(value),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "off"
