"""The invitation note: OutX's 300-character rule, and rendering a note template.

OutX runs on JavaScript, so it trims with `String.prototype.trim` and counts a string's
length in UTF-16 code units (an emoji outside the Basic Multilingual Plane counts 2). We count
the same way everywhere — form validation, the client, the sandbox and the browser counter
(static/js/note-counter.js) — so nothing we accept is refused by OutX.
"""

import re
from dataclasses import dataclass

NOTE_MAX_LENGTH = 300  # OutX's limit for a connection request's note (docs/outx-api.md)
MESSAGE_MAX_LENGTH = 10_000  # OutX's limit for send-message's text, in UTF-16 code units

# ECMAScript WhiteSpace and LineTerminator: what `String.prototype.trim` removes. Python's
# str.strip() differs: it keeps U+FEFF but strips U+0085 and U+001C–U+001F.
JS_WHITESPACE = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_trim(text: str) -> str:
    """`text.trim()` as JavaScript does it."""
    return text.strip(JS_WHITESPACE)


def utf16_length(text: str) -> int:
    """`text.length` as JavaScript reports it: UTF-16 code units."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def normalise_line_breaks(text: str) -> str:
    """A browser submits a textarea's line breaks as CRLF while its JavaScript sees LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def note_value_length(value: str) -> int:
    """The UTF-16 length a variable's value adds to a note: trimmed as render_note trims it,
    with its line breaks as check_note counts them. Stored per prospect (Prospect's
    `*_note_length` fields) so that a whole queue's notes can be measured in SQL."""
    return utf16_length(normalise_line_breaks(js_trim(value)))


def outx_note_length(text: str) -> int:
    """The length OutX checks against 300: after JS trim, in UTF-16 code units."""
    return utf16_length(js_trim(text))


@dataclass(frozen=True)
class NoteCheck:
    text: str  # the note as it will be sent: line breaks normalised, trimmed
    length: int

    @property
    def within_limit(self) -> bool:
        return self.length <= NOTE_MAX_LENGTH

    @property
    def error(self) -> str:
        if self.within_limit:
            return ""
        return f"The note is {self.length} characters long; LinkedIn allows at most {NOTE_MAX_LENGTH}."


def check_note(text: str) -> NoteCheck:
    """The note rule, the one place it is implemented on our side.

    Line breaks are normalised to LF first, so a note typed in a browser counts the same on
    the server as in the browser's counter; then it is trimmed and counted as OutX counts.
    """
    trimmed = js_trim(normalise_line_breaks(text))
    return NoteCheck(text=trimmed, length=utf16_length(trimmed))


# --- Templates ----------------------------------------------------------------------------

NOTE_VARIABLES = ("first_name", "last_name", "full_name", "company", "title")

# `{first_name}` or `{first_name|there}`; the fallback may be empty text but not contain braces.
VARIABLE_PATTERN = re.compile(r"\{\s*([a-z_]+)\s*(?:\|([^{}]*))?\}")


class NoteTemplateError(ValueError):
    """The template cannot be rendered for this prospect; the message says why."""


def template_errors(template: str) -> list[str]:
    """Problems with the template itself, whoever the prospect is: unknown variables."""
    unknown = sorted(
        {m.group(1) for m in VARIABLE_PATTERN.finditer(template)} - set(NOTE_VARIABLES)
    )
    return [
        f"Unknown variable {{{name}}}; use one of "
        + ", ".join(f"{{{v}}}" for v in NOTE_VARIABLES)
        + "."
        for name in unknown
    ]


def render_note(template: str, values: dict[str, str]) -> str:
    """Fill the template's variables from `values`, with each variable's fallback if empty.

    Raises NoteTemplateError for an unknown variable, or one with neither value nor fallback:
    such a note must be shown as invalid, never sent with a blank in it.
    """
    missing: list[str] = []

    def substitute(match: re.Match) -> str:
        name, fallback = match.group(1), match.group(2)
        if name not in NOTE_VARIABLES:
            raise NoteTemplateError(template_errors(template)[0])
        # JavaScript's trim, as OutX's and the counter's: Python's strip() would cut U+0085
        # and U+001C–U+001F, which they keep, and keep U+FEFF, which they cut.
        value = js_trim(values.get(name) or "")
        if value:
            return value
        if fallback is not None:
            return js_trim(fallback)
        missing.append(name)
        return ""

    rendered = VARIABLE_PATTERN.sub(substitute, normalise_line_breaks(template))
    if missing:
        names = ", ".join(f"{{{name}}}" for name in dict.fromkeys(missing))
        raise NoteTemplateError(f"No value for {names} and no fallback (write {{{missing[0]}|…}}).")
    return rendered


# --- A template's shape: every note's length from its values' lengths ------------------------
#
# The note preview, the campaign form and the launch check must know, for thousands of queued
# prospects, which notes cannot be sent and which is longest, without rendering each one. A
# note is the template's literal text with each variable replaced, then line breaks normalised
# and JavaScript-trimmed (check_note). A value or fallback is trimmed before it is put in, so a
# non-empty one starts and ends with a character trim keeps, and no CR LF pair can straddle its
# edges; so the note's length is the literal text's, plus each value's `note_value_length`,
# minus only the white space trimmed off the note's two ends — which depends on nothing but
# which variables are empty. TemplateShape holds exactly that, for Python and for SQL alike.


@dataclass(frozen=True)
class TrimmedEnd:
    """How many code units the trim takes off one end of the note: the first variable of
    `steps` that has a value stops it at that step's count; if none has, `otherwise`."""

    steps: tuple[tuple[str, int], ...]
    otherwise: int

    def length(self, has_value: dict[str, bool]) -> int:
        return next((count for name, count in self.steps if has_value[name]), self.otherwise)


@dataclass(frozen=True)
class TemplateShape:
    """What a template's notes' lengths depend on; `note_length` computes one, and
    Campaign's QueuedNotes asks the same of the database."""

    error: str  # the template's own problem (an unknown variable): no note renders
    literal_length: int  # the text outside the variables, line breaks normalised
    occurrences: dict[str, int]  # how many times each variable is used
    fallback_lengths: dict[str, int]  # per variable, what its fallbacks add when it is empty
    required: frozenset[str]  # variables used at least once without a fallback
    start: TrimmedEnd
    end: TrimmedEnd

    def note_length(self, value_lengths: dict[str, int]) -> int | None:
        """The note's length (as check_note counts it) for a prospect whose values have these
        `note_value_length`s; None when it cannot be rendered (see render_note)."""
        if self.error or any(value_lengths[name] == 0 for name in self.required):
            return None
        has_value = {name: length > 0 for name, length in value_lengths.items()}
        length = self.literal_length
        for name, count in self.occurrences.items():
            length += count * value_lengths[name] if has_value[name] else self.fallback_lengths[name]
        return max(0, length - self.start.length(has_value) - self.end.length(has_value))


def full_name_length(first_name_length: int, last_name_length: int) -> int:
    """`note_value_length` of {full_name}: the two trimmed names joined by one space."""
    return first_name_length + last_name_length + (1 if first_name_length and last_name_length else 0)


def template_shape(template: str) -> TemplateShape:
    template = normalise_line_breaks(template)
    errors = template_errors(template)
    pieces: list[str | tuple[str, str | None]] = []  # literal text, or (variable, trimmed fallback)
    position = 0
    for match in VARIABLE_PATTERN.finditer(template):
        pieces.append(template[position : match.start()])
        fallback = match.group(2)
        pieces.append((match.group(1), None if fallback is None else js_trim(fallback)))
        position = match.end()
    pieces.append(template[position:])
    occurrences = dict.fromkeys(NOTE_VARIABLES, 0)
    fallback_lengths = dict.fromkeys(NOTE_VARIABLES, 0)
    required = set()
    for piece in pieces:
        if isinstance(piece, tuple) and piece[0] in occurrences:
            name, fallback = piece
            occurrences[name] += 1
            if fallback is None:
                required.add(name)
            else:
                fallback_lengths[name] += utf16_length(fallback)
    return TemplateShape(
        error=errors[0] if errors else "",
        literal_length=sum(utf16_length(piece) for piece in pieces if isinstance(piece, str)),
        occurrences={name: count for name, count in occurrences.items() if count},
        fallback_lengths=fallback_lengths,
        required=frozenset(required),
        start=trimmed_end(pieces, str.lstrip),
        end=trimmed_end(pieces[::-1], str.rstrip),
    )


def trimmed_end(pieces: list, strip) -> TrimmedEnd:
    """What the trim takes off the note's end that `pieces` starts from (`strip` that side)."""
    steps: list[tuple[str, int]] = []
    trimmed = 0
    for piece in pieces:
        if isinstance(piece, str):
            kept = strip(piece, JS_WHITESPACE)
            trimmed += utf16_length(piece) - utf16_length(kept)
            if kept:
                break
            continue
        name, fallback = piece
        if fallback is None or fallback:
            # Never empty in a note that renders: a required variable has a value, and a
            # fallback is trimmed too, so either begins with a character trim keeps.
            break
        if name not in (step_name for step_name, _ in steps):  # asked again, it is still empty
            steps.append((name, trimmed))
    return TrimmedEnd(tuple(steps), trimmed)


# --- Sample prospects: the note before there is anyone to send it to ------------------------------
#
# A campaign with nobody queued (a new one) has no real note to measure, so the editor measures
# and shows the notes these two typical prospects would get: one with every value, and one known
# by name only, who gets each fallback (or shows which variable needs one).

SAMPLE_LABEL = "with sample values"  # how the counter and the preview say a length is a sample's
SAMPLE_PROSPECTS = (
    {"first_name": "Alexandra", "last_name": "Johnson", "company": "Northwind Traders", "title": "Head of Sales"},
    {"first_name": "Sam", "last_name": "Lee", "company": "", "title": ""},
)


def sample_values(prospect: dict[str, str]) -> dict[str, str]:
    """A sample prospect's values as Prospect.note_values gives a real one's, {full_name} included."""
    names = (prospect["first_name"], prospect["last_name"])
    return {**prospect, "full_name": " ".join(name for name in names if name)}


@dataclass(frozen=True)
class SampleNote:
    """One sample prospect's note: its text and length, or why it cannot be rendered."""

    values: dict[str, str]
    text: str
    length: int
    problem: str

    @property
    def who(self) -> str:
        """The sample prospect as the preview names them: "Alexandra Johnson, Head of Sales at Northwind Traders"."""
        about = " at ".join(value for value in (self.values["title"], self.values["company"]) if value)
        return self.values["full_name"] + (f", {about}" if about else " (no title or company)")


def sample_notes(template: str) -> list[SampleNote]:
    notes = []
    for prospect in SAMPLE_PROSPECTS:
        values = sample_values(prospect)
        try:
            checked = check_note(render_note(template, values))
        except NoteTemplateError as error:
            notes.append(SampleNote(values, "", 0, str(error)))
            continue
        notes.append(SampleNote(values, checked.text, checked.length, checked.error))
    return notes


def longest_sample_note(template: str) -> SampleNote | None:
    """The longest note a sample prospect gets (the first among equals); None if none renders."""
    rendered = [note for note in sample_notes(template) if note.text or not note.problem]
    return max(rendered, key=lambda note: note.length, default=None)


def has_variables(template: str) -> bool:
    return VARIABLE_PATTERN.search(template) is not None
