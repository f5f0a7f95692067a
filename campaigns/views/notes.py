"""The note editor's live preview: the template's own problems and the notes it renders."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from ..models import Campaign, RenderedNote
from ..notes import NOTE_MAX_LENGTH, check_note

# However many prospects are queued, the preview lists the longest note and at most this
# many notes with a problem, then says how many more there are.
PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class NotePreview:
    """What the editor shows for a template: its length, its problems, and the notes it renders."""

    template_length: int
    template_problems: list[str]
    queued_count: int
    longest: RenderedNote | None  # the longest note that renders; None if none does
    problems: list[RenderedNote]  # the first PROBLEMS_SHOWN notes with a problem
    problem_count: int
    blocking_count: int  # notes whose problem stops the launch

    @classmethod
    def of(cls, template: str, campaign: Campaign | None) -> NotePreview:
        own = {
            "template_length": check_note(template).length,
            # A new campaign has no prospects yet; a throwaway one runs the same template checks.
            "template_problems": (campaign or Campaign()).template_problems(template),
        }
        if campaign is None:
            return cls(**own, queued_count=0, longest=None, problems=[], problem_count=0, blocking_count=0)
        # Asked in SQL: the cost of a keystroke does not grow with the queue.
        notes = campaign.queued_notes(template)
        counts = notes.counts
        return cls(
            **own,
            queued_count=counts["queued"],
            longest=notes.longest(),
            problems=notes.first_with_problem(PROBLEMS_SHOWN),
            problem_count=counts["problems"],
            blocking_count=counts["blocking"],
        )

    @property
    def problems_not_shown(self) -> int:
        return self.problem_count - len(self.problems)

    @property
    def template_over_limit(self) -> bool:
        return self.template_length > NOTE_MAX_LENGTH


@require_GET
def note_preview(request: HttpRequest, pk: int | None = None) -> TemplateResponse:
    # Read-only: everyone who is logged in may look at every campaign.
    campaign = get_object_or_404(Campaign, pk=pk) if pk is not None else None
    template = request.GET.get("note_template")
    if template is None:
        template = campaign.note_template if campaign else ""
    context = {
        "campaign": campaign,
        "preview": NotePreview.of(template, campaign),
        "note_max_length": NOTE_MAX_LENGTH,
    }
    template_name = "campaigns/note_preview.html"
    if request.htmx:
        template_name += "#preview"
    return TemplateResponse(request, template_name, context)
