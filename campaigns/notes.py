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
        value = (values.get(name) or "").strip()
        if value:
            return value
        if fallback is not None:
            return fallback.strip()
        missing.append(name)
        return ""

    rendered = VARIABLE_PATTERN.sub(substitute, normalise_line_breaks(template))
    if missing:
        names = ", ".join(f"{{{name}}}" for name in dict.fromkeys(missing))
        raise NoteTemplateError(f"No value for {names} and no fallback (write {{{missing[0]}|…}}).")
    return rendered
