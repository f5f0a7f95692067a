"""The note editor include and its live preview endpoint."""

import itertools
import json
import re
from html import unescape

import pytest
from django import forms
from django.contrib.auth.models import User
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.forms.campaigns import NoteEditorBoundField
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.notes import NOTE_VARIABLES
from campaigns.views.notes import PROBLEMS_SHOWN

pytestmark = pytest.mark.django_db

SERIAL = itertools.count()


class NoteForm(forms.Form):
    """Stands in for the campaign form: the include only needs its `note_template` field."""

    note_template = forms.CharField(widget=forms.Textarea, required=False, bound_field_class=NoteEditorBoundField)

    def clean_note_template(self):
        raise forms.ValidationError("Too long <really>.")


def render_editor(campaign=None, data=None) -> str:
    form = NoteForm(data) if data is not None else NoteForm(initial={"note_template": "Hi {first_name}"})
    if data is not None:
        form.is_valid()
    return render_to_string("campaigns/_note_editor.html", {"field": form["note_template"], "campaign": campaign})


@pytest.fixture
def user_client(client, owner):
    client.force_login(owner)
    return client


def add_prospect(campaign, **fields) -> Prospect:
    fields.setdefault("profile_urn", f"urn:li:fsd_profile:ACoAANote{next(SERIAL)}")
    prospect = Prospect.objects.create(**fields)
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect)
    return prospect


def preview(client, campaign=None, htmx=True, **params):
    url = reverse("note_preview", args=[campaign.pk]) if campaign else reverse("note_preview_new")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.get(url, params, **headers)


# --- The include ------------------------------------------------------------------------------


def test_editor_has_a_labelled_textarea_a_counter_and_the_hint():
    html = render_editor()

    assert '<label for="id_note_template">Note</label>' in html
    textarea = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'name="note_template"' in textarea and 'id="id_note_template"' in textarea
    assert "Hi {first_name}</textarea>" in html
    counter = re.search(r"<p[^>]*data-note-counter-for=\"id_note_template\"[^>]*>", html).group(0)
    assert 'id="id_note_template_counter"' in counter
    assert "<code>{first_name|there}</code>" in html
    assert re.search(r'<p class="note-hint" id="id_note_template_hint">', html)


def test_the_textarea_is_described_by_its_hint_and_counter_and_only_a_status_line_is_live():
    html = render_editor()

    textarea = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'aria-describedby="id_note_template_hint id_note_template_counter"' in textarea
    assert 'aria-invalid' not in textarea
    # The counter is not read out at each keystroke: it is no live region.
    counter = re.search(r"<p[^>]*data-note-counter-for=\"id_note_template\"[^>]*>", html).group(0)
    assert "aria-live" not in counter and "role=" not in counter
    # A separate, polite status line, empty until the note crosses the limit (note-counter.js).
    assert re.search(
        r'<p class="visually-hidden" role="status" id="id_note_template_announcement" '
        r'data-note-announcer-for="id_note_template"></p>', html
    )


def test_editor_shows_the_fields_errors_escaped_beside_it():
    html = render_editor(data={"note_template": "<b>hello</b>"})

    assert "&lt;b&gt;hello&lt;/b&gt;</textarea>" in html  # the value is kept, as text
    assert 'id="id_note_template_error"' in html
    assert "Too long &lt;really&gt;." in html
    textarea = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'aria-describedby="id_note_template_hint id_note_template_counter id_note_template_error"' in textarea
    assert 'aria-invalid="true"' in textarea


def test_variable_buttons_are_exactly_the_note_variables():
    html = render_editor()

    inserted = re.findall(r'<button type="button"[^>]*data-note-insert="\{(\w+)\}"', html)
    assert tuple(inserted) == NOTE_VARIABLES
    assert html.count('data-note-insert-into="id_note_template"') == len(NOTE_VARIABLES)
    hint = re.search(r'<p class="note-hint"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert tuple(re.findall(r"<code>\{(\w+)\}</code>", hint)) == NOTE_VARIABLES


def test_preview_follows_the_textarea_through_htmx(owner):
    new = render_editor()
    assert f'hx-get="{reverse("note_preview_new")}"' in new
    # Every note editor's textarea is sent: the preview measures the variants for their counters.
    assert 'hx-trigger="load, input changed delay:400ms from:(.note-editor textarea)"' in new
    assert 'hx-include=".note-editor textarea"' in new
    assert 'hx-sync="this:replace"' in new  # an older answer never replaces a newer one

    campaign = Campaign.objects.create(name="Founders", owner=owner)
    existing = render_editor(campaign)
    assert f'hx-get="{reverse("note_preview", args=[campaign.pk])}"' in existing
    # Without JavaScript, a link to the saved template's preview.
    assert f'href="{reverse("note_preview", args=[campaign.pk])}"' in existing


def test_editor_has_no_inline_script_style_or_handlers(owner):
    html = render_editor(Campaign.objects.create(name="Founders", owner=owner))

    assert "<script" not in html
    assert "style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


# --- The preview ------------------------------------------------------------------------------


def test_a_301_unit_template_is_reported_with_its_length(user_client):
    response = preview(user_client, note_template="a" * 299 + "😀")

    html = response.content.decode()
    assert response.status_code == 200
    # Without variables, the note is the template.
    assert "The note: <strong>301/300</strong>: 1 over the limit; LinkedIn refuses notes longer than 300." in html
    assert "The template as typed: <strong>301/300</strong>" in html


def test_the_note_is_measured_with_sample_values_before_anyone_is_queued(user_client):
    html = preview(user_client, note_template="Hi {first_name|there} at {company|your company}").content.decode()

    # "Hi Alexandra at Northwind Traders": the longest sample note, not the template's 47.
    assert "The note: <strong>33/300</strong>, with sample values." in html
    assert "The template as typed: <strong>47/300</strong>" in html
    assert "Alexandra Johnson, Head of Sales at Northwind Traders" in html
    assert "Hi Alexandra at Northwind Traders</p>" in html
    # The prospect known by name only gets the fallbacks.
    assert "Sam Lee (no title or company)" in html and "Hi Sam at your company</p>" in html


def test_a_variable_without_fallback_shows_on_the_sample_without_a_value(user_client):
    html = preview(user_client, note_template="Hi {first_name}, how is {company}?").content.decode()

    samples = html[html.index("With sample values</h3>"):]
    assert "Hi Alexandra, how is Northwind Traders?</p>" in samples
    assert "No value for {company} and no fallback" in samples and "Missing value" in samples


def test_a_template_over_300_as_typed_is_refused_even_when_every_note_fits(user_client, owner):
    """docs/product.md: the limit holds for the template as typed and for every note. The editor
    shows both: the note Ada gets fits, the template as typed does not."""
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Ada", company="IBM")
    template = "Hi {first_name}, " + "x" * 270 + " {company|" + "a very long fallback " * 2 + "}"

    html = preview(user_client, campaign, note_template=template).content.decode()

    assert "The template as typed: <strong>340/300</strong>" in html
    assert "The note: <strong>282/300</strong>, the longest note, Ada’s." in html
    assert "The template as typed is 340 characters long; LinkedIn allows at most 300." in html
    assert "but the template’s own problem above must be fixed first" in html


def test_an_emoji_counts_two_and_line_breaks_once(user_client):
    assert "<strong>5/300</strong>" in preview(user_client, note_template="  Hi 😀 \r\n").content.decode()
    assert "<strong>3/300</strong>" in preview(user_client, note_template="a\r\nb").content.decode()


def test_a_missing_variable_is_reported_with_the_prospects_name(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Grace", last_name="Hopper", company="Navy")
    add_prospect(campaign, first_name="Alan", last_name="Turing", company="")

    html = preview(user_client, campaign, note_template="Hi {first_name} at {company}").content.decode()

    assert "The campaign cannot launch: 1 note below has a problem." in html
    problems = html[html.index("Notes with a problem (1)"):]
    assert '<span class="rendered-note-who">Alan Turing</span>' in problems
    assert "Missing value" in problems and "Blocks the launch" in problems
    assert "No value for {company} and no fallback" in problems
    assert "Grace Hopper" not in problems

    # A fallback fixes it.
    html = preview(user_client, campaign, note_template="Hi {first_name} at {company|your company}").content.decode()
    assert "Notes with a problem" not in html


def test_the_longest_note_is_shown_with_its_length_and_decides_the_launch(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Ada", company="IBM")
    add_prospect(campaign, first_name="Bartholomew", company="Initech 😀")
    add_prospect(campaign, first_name="Cy", company="X")

    html = preview(user_client, campaign, note_template="Hi {first_name} of {company}").content.decode()

    # "Hi Bartholomew of Initech 😀": 26 characters and an emoji counting 2.
    assert "3 queued prospects." in html
    assert "The longest note decides whether the campaign can launch: Bartholomew’s, at 28/300, fits." in html
    longest = html[html.index("Longest note"):]
    assert '<span class="rendered-note-length">28/300</span>' in longest
    assert "Hi Bartholomew of Initech 😀</p>" in longest
    assert "Notes with a problem" not in html


def test_a_longest_note_over_300_stops_the_launch(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Ada", company="IBM")
    add_prospect(campaign, first_name="Bo", company="B" * 190)  # the column holds at most 200
    tail = " " + "z" * 100

    # "Hi Bo, ", 190 characters and the 101 of the tail: 298, within the limit.
    html = preview(user_client, campaign, note_template="Hi {first_name}, {company}" + tail).content.decode()
    assert "Bo’s, at 298/300, fits." in html

    html = preview(user_client, campaign, note_template="Hello there {first_name}, {company}" + tail).content.decode()
    assert "The longest note, Bo’s at 307/300, is over the limit, so the campaign cannot launch." in html
    assert "Notes with a problem (1)" in html
    assert "The note is 307 characters long; LinkedIn allows at most 300." in html


def test_a_name_still_to_be_looked_up_does_not_block(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Ada")
    add_prospect(campaign, profile_urn=None, profile_url="https://www.linkedin.com/in/someone")

    html = preview(user_client, campaign, note_template="Hi {first_name}").content.decode()

    assert "Waits for the profile look-up" in html
    assert "It is filled in once OutX has looked up the profile." in html
    assert "fits." in html and "cannot launch" not in html


def test_problems_listed_are_bounded(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    for _ in range(PROBLEMS_SHOWN + 5):
        add_prospect(campaign, first_name="Nameless", company="")

    html = preview(user_client, campaign, note_template="Hi {company}").content.decode()

    assert f"Notes with a problem ({PROBLEMS_SHOWN + 5})" in html
    assert html.count('<p class="note-problem">') == PROBLEMS_SHOWN
    assert "and 5 more." in html


def test_without_a_template_the_saved_one_is_previewed(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner, note_template="Hello {first_name}")
    add_prospect(campaign, first_name="Ada")

    html = preview(user_client, campaign).content.decode()

    assert "<strong>18/300</strong>" in html
    assert "Hello Ada</p>" in html


def test_a_new_campaign_gets_the_template_checks_and_the_sample_notes(user_client):
    html = preview(user_client, note_template="Hi {nickname}").content.decode()

    assert "Unknown variable {nickname}" in html
    assert "The note: no prospect’s note can be written until the template’s problem below is fixed." in html
    assert "Nobody is queued yet, so here are the notes two sample prospects would get." in html


def test_htmx_gets_the_partial_and_a_plain_request_the_page(user_client, owner):
    campaign = Campaign.objects.create(name="Founders <Q4>", owner=owner)

    partial = preview(user_client, campaign, note_template="Hi")
    page = preview(user_client, campaign, htmx=False, note_template="Hi")

    assert partial.status_code == page.status_code == 200
    assert partial.content.decode().lstrip().startswith('<div class="note-preview-body">')
    assert "<html" not in partial.content.decode()
    assert "<html" in page.content.decode()
    assert "<h1>Note preview: Founders &lt;Q4&gt;</h1>" in page.content.decode()
    assert '<div class="note-preview-body">' in page.content.decode()


def test_anyone_logged_in_may_preview_anothers_campaign(client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    client.force_login(User.objects.create_user("bob"))

    assert preview(client, campaign, note_template="Hi").status_code == 200


def test_preview_is_get_only_and_404s_for_an_unknown_campaign(user_client):
    assert user_client.get(reverse("note_preview", args=[999])).status_code == 404
    assert user_client.post(reverse("note_preview_new"), {"note_template": "Hi"}).status_code == 405


def test_user_text_is_escaped(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="<img src=x>", company="")

    html = preview(user_client, campaign, note_template="<b>{first_name}</b> {company}").content.decode()

    assert "<img src=x>" not in html and "<b>" not in html
    assert "&lt;img src=x&gt;" in html


def queries_for_preview(client, campaign) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert preview(client, campaign, note_template="Hi {first_name} at {company}").status_code == 200
    return len(captured)


def test_preview_queries_do_not_grow_with_prospects(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    for i in range(3):
        add_prospect(campaign, first_name=f"P{i}", company="" if i % 2 else "Acme")
    queries_for_preview(user_client, campaign)  # the first visit creates the sending account's row
    with_three = queries_for_preview(user_client, campaign)
    for i in range(27):
        add_prospect(campaign, first_name=f"Q{i}", company="" if i % 2 else "Acme")

    assert queries_for_preview(user_client, campaign) == with_three


# --- One measure for the counter and the preview ----------------------------------------------------


def measures_in(html: str) -> dict:
    found = re.findall(r'<data data-note-measure-for="(\w+)" value="(\d*)" data-note-measure="([^"]*)"></data>', html)
    return {name: (value, json.loads(unescape(measure))) for name, value, measure in found}


def test_the_counters_measure_is_the_previews_note(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Ada", company="IBM")
    add_prospect(campaign, first_name="Bartholomew", last_name="Xu", company="Initech 😀")

    html = preview(user_client, campaign, note_template="Hi {first_name} of {company}").content.decode()

    value, measure = measures_in(html)["note_template"]
    # The number the counter starts from is the one the preview shows, and the values it renders
    # the next keystrokes with are the longest note's prospect's.
    assert value == "28" and "The note: <strong>28/300</strong>, the longest note, Bartholomew Xu’s." in html
    assert measure["label"] == "the longest note, Bartholomew Xu’s"
    assert measure["candidates"] == [
        {"first_name": "Bartholomew", "last_name": "Xu", "full_name": "Bartholomew Xu", "company": "Initech 😀", "title": ""}
    ]


def test_the_preview_measures_the_variants_sent_for_their_counters(user_client, owner):
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Ada", company="IBM")

    html = preview(
        user_client, campaign, note_template="Hi {first_name}", note_template_b="Hello {first_name} at {company}",
        note_template_c="  ",
    ).content.decode()

    measures = measures_in(html)
    assert measures["note_template"][0] == "6" and measures["note_template_b"][0] == "16"  # "Hello Ada at IBM"
    assert "note_template_c" not in measures  # left empty: nothing to measure


def test_a_new_campaigns_measure_is_the_longest_sample_note(user_client):
    html = preview(user_client, note_template="Hi {first_name|there} at {company|your company}").content.decode()

    value, measure = measures_in(html)["note_template"]
    assert value == "33" and measure["label"] == "with sample values"
    assert [values["first_name"] for values in measure["candidates"]] == ["Alexandra", "Sam"]


def test_a_301_note_is_301_in_both(user_client, owner):
    """The issue's case: the preview said 0/300 while the counter said 301/300."""
    campaign = Campaign.objects.create(name="Founders", owner=owner)
    add_prospect(campaign, first_name="Grace", company="Navy")

    html = preview(user_client, campaign, note_template="Hello {first_name}, " + "x" * 283 + " {company|}").content.decode()

    assert measures_in(html)["note_template"][0] == "301"
    assert "The note: <strong>301/300</strong>, the longest note, Grace’s: 1 over the limit" in html
    assert "Grace’s at 301/300, is over the limit, so the campaign cannot launch." in html
