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

from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.notes import check_note

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
    note_template = forms.CharField(widget=forms.Textarea, required=False)


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
    expect(counter).to_have_text(counter_text(15))  # "Hi {first_name}" as served

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
    expect(counter).to_have_text("33/300")


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
