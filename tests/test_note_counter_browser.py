"""The live note counter and preview in a real browser: Debian's Chromium, driven by Playwright.

The counter must count exactly as the server does (campaigns.notes.check_note), so every row of
Node's vectors is run through the real static/js/note-counter.js in the browser.
"""

import json
import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.template import engines
from django.test import RequestFactory
from playwright.sync_api import expect

from campaigns.forms.campaigns import NoteEditorBoundField
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.notes import SAMPLE_PROSPECTS, NoteTemplateError, check_note, render_note, sample_values

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE_COUNTER_JS = Path(settings.BASE_DIR) / "static" / "js" / "note-counter.js"
VECTORS = json.loads((Path(__file__).parent / "data" / "note-vectors.json").read_text())["cases"]
PASSWORD = "a long enough password"

# The campaign form's page as campaign_form.html builds it: base.html, the script in the
# scripts block, the include inside a form. Served at a URL of the live server, so htmx talks
# to the real preview view with the browser's session.
EDITOR_PAGE = """{% extends "base.html" %}
{% load static %}
{% block scripts %}<script src="{% static 'js/note-counter.js' %}" defer></script>{% endblock %}
{% block content %}<form method="post">{% include "campaigns/_note_editor.html" with field=form.note_template campaign=campaign %}</form>{% endblock %}
"""
EDITOR_PATH = "/note-editor-under-test/"


class NoteForm(forms.Form):
    note_template = forms.CharField(widget=forms.Textarea, required=False, bound_field_class=NoteEditorBoundField)


def counter_text(length: int) -> re.Pattern:
    return re.compile(rf"^{length}/300\b")


@pytest.fixture
def editor(page, live_server):
    """A logged-in page with the note editor for a campaign with two queued prospects."""
    user = User.objects.create_user("maria", password=PASSWORD)
    campaign = Campaign.objects.create(name="Founders", owner=user)
    for serial, (first_name, company) in enumerate([("Grace", "Navy"), ("Alan", "")]):
        prospect = Prospect.objects.create(
            profile_urn=f"urn:li:fsd_profile:ACoAABrowser{serial}", first_name=first_name, company=company
        )
        ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect)

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    request = RequestFactory().get(EDITOR_PATH)
    request.user = user
    html = engines["django"].from_string(EDITOR_PAGE).render(
        {"form": NoteForm(initial={"note_template": "Hi {first_name}"}), "campaign": campaign}, request
    )
    page.route(live_server.url + EDITOR_PATH, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(live_server.url + EDITOR_PATH)
    return page


def test_the_browser_counts_every_vector_as_the_server_does(page):
    page.set_content("<!doctype html><html><head></head><body></body></html>")
    page.add_script_tag(path=str(NOTE_COUNTER_JS))

    lengths = page.evaluate("texts => texts.map(window.outreachNoteLength)", [case["text"] for case in VECTORS])

    for case, length in zip(VECTORS, lengths, strict=True):
        assert length == case["length"], case["name"]
        assert check_note(case["text"]).length == case["length"], case["name"]
    # CRLF and a lone CR count as one line break, as check_note normalises them.
    assert page.evaluate("window.outreachNoteLength('a\\r\\nb\\rc')") == check_note("a\r\nb\rc").length == 5


def test_the_counter_follows_typing(editor):
    note = editor.get_by_label("Note")
    counter = editor.locator('[data-note-counter-for="id_note_template"]')
    # "Hi {first_name}" as served: the longest note is Grace's, "Hi Grace".
    expect(counter).to_have_text("8/300 · the longest note, Grace’s")

    note.fill("Hi 😀")
    expect(counter).to_have_text("5/300")
    expect(counter).not_to_have_class(re.compile("note-counter-(warning|error)"))

    note.fill("a" * 279)
    editor.keyboard.type("b")
    expect(counter).to_have_text(counter_text(280))
    expect(counter).to_contain_text("close to the limit")
    expect(counter).to_have_class(re.compile(r"\bnote-counter-warning\b"))

    note.fill("a" * 299)
    editor.keyboard.type("bc")
    expect(counter).to_have_text(counter_text(301))
    expect(counter).to_contain_text("1 over the limit")
    expect(counter).to_have_class(re.compile(r"\bnote-counter-error\b"))
    expect(counter).not_to_have_class(re.compile("note-counter-warning"))

    # Surrounding spaces are trimmed, as OutX trims them.
    note.fill("   hello   ")
    expect(counter).to_have_text("5/300")


def test_a_line_break_counts_once(editor):
    note = editor.get_by_label("Note")
    counter = editor.locator('[data-note-counter-for="id_note_template"]')

    # Line breaks typed in the browser are LF; the same text submitted (CRLF) counts the same.
    note.fill("Hi\r\nthere")
    expect(counter).to_have_text("8/300")
    assert check_note("Hi\r\nthere").length == check_note("Hi\nthere").length == 8

    note.press("End")
    note.press("Enter")
    editor.keyboard.type("Ada")
    expect(note).to_have_value("Hi\nthere\nAda")
    expect(counter).to_have_text("12/300")
    assert check_note("Hi\r\nthere\r\nAda").length == 12


def test_a_variable_button_inserts_at_the_cursor(editor):
    note = editor.get_by_label("Note")
    counter = editor.locator('[data-note-counter-for="id_note_template"]')
    note.fill("Hi , glad to connect.")
    note.evaluate("textarea => textarea.setSelectionRange(3, 3)")

    editor.get_by_role("button", name="{first_name}").click()

    expect(note).to_have_value("Hi {first_name}, glad to connect.")
    expect(counter).to_have_text("26/300 · the longest note, Grace’s")  # "Hi Grace, glad to connect."


def test_the_preview_follows_the_template(editor):
    preview = editor.locator("#id_note_template_preview")
    # Loaded as the page opens, with the template as served.
    expect(preview).to_contain_text("The template as typed: 15/300")
    expect(preview).to_contain_text("Hi Grace")

    editor.get_by_label("Note").fill("Hello {first_name} at {company}")

    expect(preview).to_contain_text("The template as typed: 31/300")
    expect(preview).to_contain_text("The campaign cannot launch: 1 note below has a problem.")
    expect(preview.locator(".rendered-note", has_text="Alan")).to_contain_text("No value for {company}")
    expect(preview.locator(".rendered-note", has_text="Grace")).to_contain_text("Hello Grace at Navy")
    expect(preview).to_contain_text("19/300")


# --- The counter measures the note a prospect gets, as the preview does ---------------------------

# Templates whose notes differ from the template as typed in every way a note can: fallbacks,
# variables without one, {full_name}, line breaks, emoji, white space trimmed around variables.
RENDER_TEMPLATES = [
    "Hi {first_name}", "Hi {first_name|there} at {company|your company}", "{full_name}, {title|}",
    "  {company|}  \r\n{title| \ufeff }", "Hi {first_name}, how is {company}?", "{ first_name | pal } 😀",
    "Hi {nickname|friend}", "", "No variables at all",
]


def test_the_browser_renders_notes_as_the_server_does(page):
    page.set_content("<!doctype html><html><head></head><body></body></html>")
    page.add_script_tag(path=str(NOTE_COUNTER_JS))
    values = [sample_values(prospect) for prospect in SAMPLE_PROSPECTS]
    values.append({"first_name": " 😀 ", "last_name": "", "full_name": "😀", "company": "A\r\nB", "title": "\u0085"})

    for template in RENDER_TEMPLATES + [case["text"] for case in VECTORS]:
        for prospect in values:
            in_browser = page.evaluate(
                "([template, values]) => { const note = window.outreachRenderNote(template, values);"
                " return note === null ? null : window.outreachNoteLength(note); }",
                [template, prospect],
            )
            try:
                expected = check_note(render_note(template, prospect)).length
            except NoteTemplateError:
                expected = None
            assert in_browser == expected, (template, prospect)


def leading_number(text: str) -> int:
    return int(re.match(r"(\d+)/300", text.strip()).group(1))


@pytest.mark.parametrize(
    "template",
    [
        "Hi {first_name}, all good at {company|your company}?",
        # Grace's note is 301: the counter and the preview both say 301/300.
        "Hello {first_name}, " + "x" * 283 + " {company|}",
        "a" * 299 + "😀",
    ],
)
def test_the_counter_and_the_preview_say_the_same_length(editor, template):
    counter = editor.locator("#id_note_template_counter")
    preview = editor.locator("#id_note_template_preview")

    editor.get_by_label("Note").fill(template)

    measure = preview.locator('data[data-note-measure-for="note_template"]')
    expected = longest_note_of(template)
    expect(measure).to_have_attribute("value", str(expected))
    expect(preview.locator(".note-measure")).to_contain_text(f"The note: {expected}/300")
    expect(counter).to_have_text(re.compile(rf"^{expected}/300\b"))
    assert leading_number(counter.text_content()) == expected


def longest_note_of(template: str) -> int:
    """The longest note Grace or Alan gets (editor's prospects), as rendering each one gives it."""
    lengths = []
    for values in ({"first_name": "Grace", "company": "Navy"}, {"first_name": "Alan", "company": ""}):
        full = {"last_name": "", "full_name": values["first_name"], "title": "", **values}
        try:
            lengths.append(check_note(render_note(template, full)).length)
        except NoteTemplateError:
            pass
    return max(lengths)


def test_the_textarea_is_described_and_only_crossing_the_limit_is_announced(editor):
    note = editor.get_by_label("Note")
    counter = editor.locator("#id_note_template_counter")
    announcement = editor.locator("#id_note_template_announcement")
    expect(counter).to_contain_text("the longest note")

    assert note.get_attribute("aria-describedby") == "id_note_template_hint id_note_template_counter"
    assert counter.get_attribute("aria-live") is None and counter.get_attribute("role") is None
    assert announcement.get_attribute("role") == "status"  # a polite live region
    # Count every change the live region goes through.
    editor.evaluate(
        """() => { window.__announced = [];
        new MutationObserver(() => window.__announced.push(document.getElementById('id_note_template_announcement').textContent))
          .observe(document.getElementById('id_note_template_announcement'), {childList: true, characterData: true, subtree: true}); }"""
    )

    note.fill("")
    editor.keyboard.type("Hello " * 10)  # 60 keystrokes, well within the limit
    expect(counter).to_have_text(counter_text(59))
    assert announcement.text_content() == "" and editor.evaluate("window.__announced") == []

    note.fill("a" * 279)
    editor.keyboard.type("b")
    expect(announcement).to_have_text("Note: close to the limit, 280 of 300 characters.")
    editor.keyboard.type("cdefghij")  # 288: still close, nothing more said
    expect(counter).to_have_text(counter_text(288))
    assert editor.evaluate("window.__announced") == ["Note: close to the limit, 280 of 300 characters."]

    editor.keyboard.type("x" * 13)  # 301
    expect(announcement).to_have_text("Note: over the limit, 301 of 300 characters.")
    editor.keyboard.type("yz")
    expect(counter).to_have_text(counter_text(303))
    editor.keyboard.press("Backspace")
    editor.keyboard.press("Backspace")
    editor.keyboard.press("Backspace")
    expect(counter).to_have_text(counter_text(300))
    expect(announcement).to_have_text("Note: within the limit again, 300 of 300 characters.")
    assert editor.evaluate("window.__announced") == [
        "Note: close to the limit, 280 of 300 characters.",
        "Note: over the limit, 301 of 300 characters.",
        "Note: within the limit again, 300 of 300 characters.",
    ]
