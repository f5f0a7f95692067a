from django import forms

from .models import SandboxSettings

RATE_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"})
SECONDS_INPUT = forms.NumberInput(attrs={"step": "any", "min": "0"})


class SandboxSettingsForm(forms.ModelForm):
    class Meta:
        model = SandboxSettings
        fields = [
            "extension_offline",
            "wrong_key",
            "no_admin",
            "weekly_invitation_limit",
            "latency_ms",
            "server_error_rate",
            "not_sent_rate",
            "task_delay_seconds",
            "acceptance_rate",
            "acceptance_delay_seconds",
        ]
        widgets = {
            "server_error_rate": RATE_INPUT,
            "not_sent_rate": RATE_INPUT,
            "acceptance_rate": RATE_INPUT,
            "task_delay_seconds": SECONDS_INPUT,
            "acceptance_delay_seconds": SECONDS_INPUT,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The delay's default is a callable (it reads settings), which would otherwise add a
        # hidden "initial-" input; this form always edits the saved row, so it is not needed.
        self.fields["task_delay_seconds"].show_hidden_initial = False


class AddTeamForm(forms.ModelForm):
    """A new simulated OutX team: its name and the key a sender will use (its switches start
    at their defaults)."""

    prefix = "new_team"  # beside the switches on one page

    class Meta:
        model = SandboxSettings
        fields = ["name", "api_key"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].initial = ""  # not the default team's name: each team is named anew
