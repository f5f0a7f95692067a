"""A field with an error is marked aria-invalid and described by its error, on every form the
site lays out by hand (templates/_field_errors.html) as on those Django lays out, and every
page loads static/js/forms.js, which moves focus to it (tests/test_note_form_browser.py)."""

import re

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = pytest.mark.django_db


def described_by_its_error(html: str, name: str) -> None:
    field = re.search(rf'<(?:input|textarea|select)[^>]*name="{name}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field
    describedby = re.search(r'aria-describedby="([^"]*)"', field).group(1).split()
    assert f"id_{name}_error" in describedby
    assert f'id="id_{name}_error"' in html
    for target in describedby:  # every id it names is on the page
        assert f'id="{target}"' in html, target


def test_the_snippet_gives_the_errors_the_id_the_field_points_at():
    class Form(forms.Form):
        entries = forms.CharField(help_text="One a line.")

    form = Form({"entries": ""})
    form.is_valid()
    html = render_to_string("_field_errors.html", {"field": form["entries"]}) + str(form["entries"])

    assert '<div class="form-error" role="alert" id="id_entries_error"><p>This field is required.</p></div>' in html
    field = re.search(r"<input[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="id_entries_helptext id_entries_error"' in field


def test_the_do_not_contact_paste_describes_its_field_by_its_error(ada_client):
    response = ada_client.post(reverse("do_not_contact_add"), {"entries": "", "reason": ""})

    described_by_its_error(response.content.decode(), "entries")


def test_every_page_loads_the_focus_script(ada_client):
    html = ada_client.get(reverse("home")).content.decode()

    assert re.search(r'<script src="/static/js/forms.js" defer></script>', html)
