"""The note keeps JavaScript's trim end to end: the server stores exactly what the browser
counter counts and what OutX keeps.

Python's str.strip() and JavaScript's String.prototype.trim() disagree: Python cuts U+0085
(NEL) and U+001C–U+001F (the information separators), which JavaScript keeps; JavaScript cuts
U+FEFF (the BOM), which Python keeps. The note, its variants and the follow-up are therefore
not stripped by Django (strip=False) but by the note rule (campaigns/notes.py), and so are the
values a template's variables take.
"""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.notes import check_note, render_note
from campaigns.views.notes import NotePreview

pytestmark = pytest.mark.django_db

# Kept by JavaScript's trim (and OutX), cut by Python's strip().
KEPT = ["\u0085", "\u001c", "\u001d", "\u001e", "\u001f"]
# Cut by JavaScript's trim (and OutX), kept by Python's strip().
BOM = "\ufeff"
# Computed by Node.js: `text.trim()` and `.length` (see tests/test_notes.py).
VECTORS = json.loads((Path(__file__).parent / "data" / "note-vectors.json").read_text())["cases"]
NOTE_FIELDS = ["note_template", "note_template_b", "note_template_c"]


def form_data(**fields) -> dict:
    data = {
        "name": "Lisbon founders", "senders": Sender.get().pk, "note_template": "Hi {first_name|there}", "note_template_b": "",
        "note_template_c": "", "followup_template": "", "followup_delay_minutes": "1440",
        "brake_min_invitations": "20", "brake_min_acceptance_percent": "20",
    }
    data.update(fields)
    return data


def create(client, **fields):
    return client.post(reverse("campaign_create"), form_data(**fields))


def char_id(char: str) -> str:
    return f"U+{ord(char):04X}"


# --- Through the form: a real POST to create and edit ------------------------------------------


@pytest.mark.parametrize("field", NOTE_FIELDS)
@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_a_character_javascript_keeps_is_kept_at_both_ends(ada_client, field, char):
    template = f"{char}Hi {{first_name|there}}{char}"

    response = create(ada_client, **{field: template})

    assert response.status_code == 302
    stored = getattr(Campaign.objects.get(), field)
    assert stored == template
    assert check_note(stored).length == len("Hi {first_name|there}") + 2  # as the counter counts it


@pytest.mark.parametrize("field", NOTE_FIELDS)
def test_a_bom_is_trimmed_as_javascript_trims_it(ada_client, field):
    response = create(ada_client, **{field: f"{BOM} Hi {{first_name|there}}\r\n{BOM}"})

    assert response.status_code == 302
    assert getattr(Campaign.objects.get(), field) == "Hi {first_name|there}"


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_one_kept_character_more_makes_301_and_is_refused(ada_client, char):
    """Python's strip() would have cut it and accepted a note OutX refuses."""
    assert create(ada_client, note_template=char + "a" * 299).status_code == 302  # 300: fits
    Campaign.objects.all().delete()

    response = create(ada_client, note_template=char + "a" * 300)

    assert response.status_code == 200
    assert "The template as typed is 301 characters long; LinkedIn allows at most 300." in response.content.decode()
    assert not Campaign.objects.exists()


def test_300_characters_between_two_boms_fit(ada_client):
    """Python's strip() would have kept both and refused a note OutX accepts."""
    response = create(ada_client, note_template=BOM + "a" * 300 + BOM)

    assert response.status_code == 302
    assert Campaign.objects.get().note_template == "a" * 300


@pytest.mark.parametrize("case", [case for case in VECTORS if "{" not in case["text"]], ids=lambda case: case["name"])
def test_the_stored_note_is_what_node_trims_and_counts(ada_client, case):
    response = create(ada_client, note_template=case["text"])

    if case["within_300"]:
        assert response.status_code == 302
        stored = Campaign.objects.get().note_template
        assert stored == case["trimmed"]
        assert check_note(stored).length == case["length"]
    else:
        assert response.status_code == 200
        assert f"The template as typed is {case['length']} characters long" in response.content.decode()


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_a_variant_of_one_kept_character_is_a_variant_and_one_of_a_bom_is_none(ada_client, char):
    assert create(ada_client, note_template_b=char, note_template_c=BOM + " \r\n" + BOM).status_code == 302

    campaign = Campaign.objects.get()
    assert campaign.note_template_b == char and campaign.note_template_c == ""
    assert list(campaign.variants()) == ["A", "B"]


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_edit_keeps_what_javascript_keeps_and_trims_a_bom(ada_client, ada, make_campaign, char):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada)

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        form_data(note_template=f"{BOM}{char}Hello {{first_name|there}}{char}{BOM}",
                  note_template_b=f"{char}B\r\n{BOM}"),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.note_template == f"{char}Hello {{first_name|there}}{char}"
    assert campaign.note_template_b == f"{char}B"


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_a_follow_up_keeps_what_it_is_given_and_is_blank_only_by_javascripts_rule(ada_client, char):
    assert create(ada_client, followup_template=f"{char}Thanks!\r\n{char}").status_code == 302
    assert Campaign.objects.get().followup_template == f"{char}Thanks!\n{char}"
    Campaign.objects.all().delete()

    # Not blank to JavaScript, so OutX takes it; a BOM alone is blank to it.
    assert create(ada_client, followup_template=char).status_code == 302
    response = create(ada_client, followup_template=f"{BOM} {BOM}")
    assert response.status_code == 200
    assert "Follow-up: the message is blank; leave it empty to send none." in response.content.decode()


# --- Through the renderer: variable values and fallbacks ------------------------------------------


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_a_value_keeps_what_javascript_keeps(char):
    assert render_note("Hi {first_name}!", {"first_name": f"{char}Ada{char}"}) == f"Hi {char}Ada{char}!"
    assert render_note("Hi {first_name|{}there}!".replace("{}", char), {"first_name": ""}) == f"Hi {char}there!"


def test_a_value_and_a_fallback_lose_a_bom():
    assert render_note("Hi {first_name}!", {"first_name": f"{BOM} Ada {BOM}"}) == "Hi Ada!"
    assert render_note("Hi {first_name|\ufeff}!", {"first_name": BOM}) == "Hi !"


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_a_prospects_values_are_trimmed_by_javascripts_rule(char):
    prospect = Prospect(first_name=f"{BOM}{char}Ada {BOM}", last_name=f"\u3000Lovelace{char}", company=BOM)

    values = prospect.note_values()

    assert values["first_name"] == f"{char}Ada"
    assert values["full_name"] == f"{char}Ada Lovelace{char}"
    assert values["company"] == ""


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_the_preview_and_the_stored_note_count_what_javascript_keeps(ada, make_campaign, char):
    campaign = make_campaign(state=Campaign.State.DRAFT, owner=ada, note_template="Hi {first_name}")
    prospect = Prospect.objects.create(
        profile_urn="urn:li:fsd_profile:ACoAATrim1", first_name=f"{BOM}{char}Bo{char}", company=BOM
    )
    campaign.add_prospects([prospect])

    preview = NotePreview.of("Hi {first_name} {company|}", campaign)

    assert preview.longest.text == f"Hi {char}Bo{char}" and preview.longest.length == 7
    request = ConnectionRequest.objects.get(campaign=campaign)
    assert request.note == f"Hi {char}Bo{char}" and request.note_problem == ""
    # A company of only a BOM is no company: the note says so, as OutX would see it.
    problem = NotePreview.of("Hi {first_name} at {company}", campaign).problems[0]
    assert problem.problem.startswith("No value for {company} and no fallback")


@pytest.mark.parametrize("char", KEPT, ids=char_id)
def test_a_csv_cell_is_trimmed_by_javascripts_rule(char):
    from campaigns.importing import row_details

    mapping = {"first_name": 0, "company": 1, "full_name": None}
    details = row_details([f" {char}Ada ", f"{BOM}Acme{char}"], mapping)
    assert details["first_name"] == f"{char}Ada"  # str.strip() would have cut the character
    assert details["company"] == f"Acme{char}"  # and kept the BOM
