import json

from .models import OLD_INVITATION_AGE_TEXT, Sender
from .notes import NOTE_MAX_LENGTH, SAMPLE_LABEL, SAMPLE_PROSPECTS, sample_values

NOTE_SAMPLE_MEASURE = json.dumps(
    {"label": SAMPLE_LABEL, "candidates": [sample_values(prospect) for prospect in SAMPLE_PROSPECTS]}
)


def stopped_senders(request) -> dict:
    """The working senders that do not send now, for the banner on every page that says which
    and why. One query, and only on a page that shows the banner (the QuerySet is lazy)."""
    if not request.user.is_authenticated:
        return {}
    return {"stopped_senders": Sender.objects.working().exclude(state=Sender.State.ACTIVE).order_by("name", "pk")}


def limits(request) -> dict:
    """The rules the pages state in words, from the one place each is defined."""
    return {
        "note_max_length": NOTE_MAX_LENGTH, "old_invitation_age": OLD_INVITATION_AGE_TEXT,
        # The note editor's counter measures with these until its preview measures real notes.
        "note_sample_measure": NOTE_SAMPLE_MEASURE,
    }
