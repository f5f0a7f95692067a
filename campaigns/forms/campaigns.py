"""The campaign form: a name and a note template that OutX will accept for every queued prospect."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from ..models import Campaign, RenderedNote
from ..notes import normalise_line_breaks

# A campaign may queue hundreds of prospects; the form lists this many and counts the rest.
LISTED_BLOCKED_NOTES = 10


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "note_template"]
        labels = {"name": "Name", "note_template": "Note"}
        widgets = {"note_template": forms.Textarea(attrs={"rows": 6})}

    def clean_note_template(self) -> str:
        # Browsers submit CRLF; the counter and OutX see LF, so store what they count.
        template = normalise_line_breaks(self.cleaned_data["note_template"])
        problems = self.instance.template_problems(template)
        if problems:
            raise ValidationError(problems)
        if self.instance.pk:
            blocked = [note for note in self.instance.rendered_notes(template) if note.blocks_launch]
            if blocked:
                raise ValidationError(blocked_note_messages(blocked))
        return template


def blocked_note_messages(blocked: list[RenderedNote]) -> list[str]:
    """One line per queued prospect whose note the template cannot produce, after a heading."""
    count = len(blocked)
    lines = [
        f"{count} queued prospect{'s' if count != 1 else ''} would get a note that cannot be sent:"
    ]
    lines += [f"{note.request.prospect}: {note.problem}" for note in blocked[:LISTED_BLOCKED_NOTES]]
    if count > LISTED_BLOCKED_NOTES:
        lines.append(f"… and {count - LISTED_BLOCKED_NOTES} more.")
    return lines
