from __future__ import annotations

from django import forms

from . import ssrf
from .models import URL_MAX_LENGTH, EventType, WebhookEndpoint

EVENT_HELP = {
    EventType.INVITATION_SENT: "OutX reports the invitation sent on LinkedIn.",
    EventType.INVITATION_ACCEPTED: "The invitee appears among the sender's connections.",
    EventType.INVITATION_FAILED: (
        "OutX refused the invitation (a 400, with its reason), or completed the task without "
        "sending it (state not_sent, with OutX's output)."
    ),
    EventType.INVITATION_UNCERTAIN: (
        "The request may or may not have reached OutX (a timeout, a lost connection): a person must check LinkedIn."
    ),
    EventType.FOLLOWUP_SENT: "The follow-up message after an acceptance was sent.",
    EventType.CAMPAIGN_PAUSED_BY_BRAKE: (
        "The safety brake paused a campaign whose invitations are too rarely accepted (not a person's pause)."
    ),
}


class EndpointForm(forms.ModelForm):
    url = forms.CharField(
        label="URL", max_length=URL_MAX_LENGTH, strip=True,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/outreach", "autocomplete": "off"}),
        help_text="Where each event is POSTed, signed. https:// unless the receiver is on this machine.",
    )
    events = forms.MultipleChoiceField(
        choices=[(value, label) for value, label in EventType.choices],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            ssrf.check(url)
        except ssrf.UrlRefused as refused:
            raise forms.ValidationError(refused.message) from None
        return url

    def event_options(self) -> list[dict]:
        """Each event's checkbox, label and help, for the template."""
        chosen = set(self["events"].value() or [])
        return [
            {"value": value, "label": label, "help": EVENT_HELP[value], "checked": value in chosen}
            for value, label in EventType.choices
        ]

    def clean_events(self) -> list[str]:
        # In EventType's order, whatever order they came in.
        chosen = set(self.cleaned_data["events"])
        return [value for value in EventType.values if value in chosen]
