"""The note editor's live preview: the note a prospect will get, measured against 300, the
template's own problems, and the notes it renders. The editor's counter takes its measure
from this same answer (NoteMeasure), so the counter and the preview always say the same."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from ..models import Campaign, QueuedNotes, RenderedNote
from ..notes import (
    NOTE_MAX_LENGTH,
    SAMPLE_LABEL,
    SAMPLE_PROSPECTS,
    SampleNote,
    check_note,
    has_variables,
    js_trim,
    longest_sample_note,
    sample_notes,
    sample_values,
)

# However many prospects are queued, the preview lists the longest note and at most this
# many notes with a problem, then says how many more there are.
PROBLEMS_SHOWN = 20

# The editor's fields, by variant; the preview lists variant A's notes and measures all three.
NOTE_FIELDS = {"A": "note_template", "B": "note_template_b", "C": "note_template_c"}


@dataclass(frozen=True)
class NoteMeasure:
    """The note the 300 limit is checked on, for one note field: the longest queued prospect's
    note, or, with nobody queued, the longest note among the sample prospects'.

    `candidates` are the values it was rendered with: the counter (static/js/note-counter.js)
    renders what is typed next with them, until the next preview measures again."""

    field_name: str  # the form field it measures: note_template, note_template_b, note_template_c
    length: int | None  # None: no note renders (the template has an unknown variable)
    basis: str  # "longest": a queued prospect's; "sample": sample values; "": the note is the template
    who: str = ""
    candidates: list[dict[str, str]] = field(default_factory=list)
    of_first: int = 0  # measured among only this many queued notes (the preview's window); 0: all

    @classmethod
    def of(cls, field_name: str, template: str, notes: QueuedNotes | None, longest: RenderedNote | None = None):
        if notes is not None and notes.counts["queued"]:
            longest = longest if longest is not None else notes.longest()
            if longest is not None:
                prospect = longest.request.prospect
                basis = "longest" if has_variables(template) else ""
                of_first = notes.window if notes.partial else 0
                return cls(field_name, longest.length, basis, str(prospect), [prospect.note_values()], of_first)
        sample = longest_sample_note(template)
        candidates = [sample_values(prospect) for prospect in SAMPLE_PROSPECTS]
        if sample is None:
            return cls(field_name, None, "", "", candidates)
        return cls(field_name, sample.length, "sample" if has_variables(template) else "", sample.who, candidates)

    @property
    def label(self) -> str:
        """What the length is of, in the counter's and the preview's words."""
        if self.basis == "longest" and self.of_first:
            return f"the longest of the first {self.of_first} queued notes, {self.who}’s"
        if self.basis == "longest":
            return f"the longest note, {self.who}’s"
        if self.basis == "sample":
            return SAMPLE_LABEL
        return ""

    @property
    def over_limit(self) -> bool:
        return self.length is not None and self.length > NOTE_MAX_LENGTH

    @property
    def over_by(self) -> int:
        return (self.length or 0) - NOTE_MAX_LENGTH

    @property
    def as_json(self) -> str:
        """For the counter's data-note-measure attribute (the template escapes it)."""
        return json.dumps({"label": self.label, "candidates": self.candidates}, ensure_ascii=False)


@dataclass(frozen=True)
class NotePreview:
    """What the editor shows for a template: the note measured, its length as typed, its
    problems, and the notes it renders."""

    template_length: int
    template_problems: list[str]
    queued_count: int
    longest: RenderedNote | None  # the longest note that renders; None if none does
    problems: list[RenderedNote]  # the first PROBLEMS_SHOWN notes with a problem
    problem_count: int
    blocking_count: int  # notes whose problem stops the launch
    measures: list[NoteMeasure]  # variant A's first, then B's and C's when they were sent
    samples: list[SampleNote]  # with nobody queued: the sample prospects' notes
    # More are queued than the preview measured (QueuedNotes.PREVIEW_WINDOW): its counts and
    # its longest note are of the first `queued_count`; the launch checks every one.
    partial: bool = False

    @classmethod
    def of(cls, template: str, campaign: Campaign | None, variants: dict[str, str] | None = None) -> NotePreview:
        """`variants`: the other variants' templates as typed ({"B": …}), measured for their counters."""
        own = {
            "template_length": check_note(template).length,
            # A new campaign has no prospects yet; a throwaway one runs the same template checks.
            "template_problems": (campaign or Campaign()).template_problems(template),
        }
        other_measures = [
            NoteMeasure.of(NOTE_FIELDS[label], text, campaign.queued_notes(text, variant=label) if campaign else None)
            for label, text in (variants or {}).items()
        ]
        if campaign is None:
            return cls(
                **own, queued_count=0, longest=None, problems=[], problem_count=0, blocking_count=0,
                measures=[NoteMeasure.of(NOTE_FIELDS["A"], template, None), *other_measures],
                samples=sample_notes(template),
            )
        # Asked in SQL: the cost of a keystroke does not grow with the queue.
        notes = campaign.queued_notes(template)
        counts = notes.counts
        longest = notes.longest()
        return cls(
            **own,
            queued_count=counts["queued"],
            longest=longest,
            problems=notes.first_with_problem(PROBLEMS_SHOWN),
            problem_count=counts["problems"],
            blocking_count=counts["blocking"],
            measures=[NoteMeasure.of(NOTE_FIELDS["A"], template, notes, longest), *other_measures],
            samples=[] if counts["queued"] else sample_notes(template),
            partial=notes.partial,
        )

    @property
    def problems_not_shown(self) -> int:
        return self.problem_count - len(self.problems)

    @property
    def measure(self) -> NoteMeasure:
        """Variant A's: the note the preview is about."""
        return self.measures[0]


@require_GET
def note_preview(request: HttpRequest, pk: int | None = None) -> TemplateResponse:
    # Read-only: everyone who is logged in may look at every campaign.
    campaign = get_object_or_404(Campaign, pk=pk) if pk is not None else None
    template = request.GET.get("note_template")
    if template is None:
        template = campaign.note_template if campaign else ""
    # The other variants the editor sent, written: only their counters' measures.
    variants = {
        label: request.GET[name] for label, name in NOTE_FIELDS.items()
        if label != "A" and js_trim(request.GET.get(name, ""))
    }
    context = {
        "campaign": campaign,
        "preview": NotePreview.of(template, campaign, variants),
        "note_max_length": NOTE_MAX_LENGTH,
    }
    template_name = "campaigns/note_preview.html"
    if request.htmx:
        template_name += "#preview"
    return TemplateResponse(request, template_name, context)
