"""The note rule and note templates.

The vectors in tests/data/note-vectors.json were computed by Node.js itself (`text.trim()`,
`.length`); docs/outx-api.md names them as the rule every implementation must agree with.
"""

import json
from pathlib import Path

import pytest

from campaigns.notes import (
    NOTE_MAX_LENGTH,
    NoteTemplateError,
    check_note,
    js_trim,
    outx_note_length,
    render_note,
    template_errors,
    utf16_length,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "note-vectors.json").read_text())["cases"]


@pytest.mark.parametrize("case", VECTORS, ids=[case["name"] for case in VECTORS])
def test_note_rule_agrees_with_node(case):
    checked = check_note(case["text"])
    assert js_trim(case["text"]) == case["trimmed"]
    assert outx_note_length(case["text"]) == case["length"]
    assert checked.length == case["length"]
    assert checked.within_limit == case["within_300"]


def test_vectors_cover_both_sides_of_the_limit():
    assert {case["within_300"] for case in VECTORS} == {True, False}


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("😀", 2),
        ("a" * 298 + "😀", 300),
        ("a" * 299 + "😀", 301),
        ("你" * 300, 300),
        ("e\u0301" * 150, 300),  # e + combining acute: two code units each
        ("\ufeff" + "a" * 300 + "\ufeff", 300),  # BOM trimmed by JavaScript
        ("\u0085" + "a" * 299, 300),  # NEL is not trimmed by JavaScript
        ("\u001f" + "a" * 300, 301),  # nor is U+001F, which Python's strip() would drop
    ],
)
def test_length_on_both_sides_of_300(text, length):
    checked = check_note(text)
    assert checked.length == length
    assert checked.within_limit == (length <= NOTE_MAX_LENGTH)


def test_crlf_counts_once_like_the_browser_counter():
    typed = "Hi Ada,\r\nglad to connect.\r\n"
    checked = check_note(typed)
    assert checked.text == "Hi Ada,\nglad to connect."
    assert checked.length == utf16_length("Hi Ada,\nglad to connect.")


def test_a_lone_cr_becomes_lf():
    assert check_note("a\rb").text == "a\nb"


def test_error_says_how_long_and_the_limit():
    checked = check_note("😀" * 151)
    assert not checked.within_limit
    assert checked.error == "The note is 302 characters long; LinkedIn allows at most 300."
    assert check_note("ok").error == ""


VALUES = {"first_name": "Ada", "last_name": "Lovelace", "full_name": "Ada Lovelace", "company": "", "title": "Engineer"}


def test_render_fills_variables_and_fallbacks():
    template = "Hi {first_name}, {title} at {company|your company}. {full_name}"
    assert render_note(template, VALUES) == "Hi Ada, Engineer at your company. Ada Lovelace"


def test_fallback_ignored_when_value_present():
    assert render_note("Hi {first_name|there}", VALUES) == "Hi Ada"


def test_missing_variable_without_fallback_is_refused_with_the_reason():
    with pytest.raises(NoteTemplateError, match=r"No value for \{company\}"):
        render_note("Hi {first_name} at {company}", VALUES)


def test_unknown_variable_is_refused():
    assert template_errors("Hi {nickname}") == [
        "Unknown variable {nickname}; use one of {first_name}, {last_name}, {full_name}, {company}, {title}."
    ]
    with pytest.raises(NoteTemplateError, match="Unknown variable"):
        render_note("Hi {nickname|friend}", VALUES)


def test_render_normalises_line_breaks():
    assert render_note("Hi {first_name},\r\nbye", VALUES) == "Hi Ada,\nbye"


def test_text_that_only_looks_like_html_stays_text():
    assert render_note("<b>{first_name}</b>", VALUES) == "<b>Ada</b>"
