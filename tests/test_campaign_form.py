"""The campaign form's fields for what comes after the invitation: note variants B and C (each
with its own live counter and variable buttons, held to the note's rules, and given out again
when the campaign is edited), the follow-up message and its delay, and the safety brake's two
numbers."""

import re

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Sender
from tests.helpers import add_request, page_url

pytestmark = pytest.mark.django_db


def form_data(**fields) -> dict:
    data = {
        "name": "Lisbon founders", "senders": Sender.get().pk, "note_template": "Hi {first_name|there}",
        "note_template_b": "", "note_template_c": "", "followup_template": "",
        "followup_delay_minutes": "1440", "brake_min_invitations": "20", "brake_min_acceptance_percent": "20",
    }
    data.update(fields)
    return data


def test_the_form_offers_variants_a_follow_up_and_the_brake(ada_client):
    html = ada_client.get(reverse("campaign_create")).content.decode()

    assert '<label for="id_note_template">Note</label>' in html
    assert "<legend>Note variants</legend>" in html
    for field, label in (("note_template_b", "Variant B"), ("note_template_c", "Variant C")):
        assert f'<label for="id_{field}">{label}</label>' in html
        # The same live counter and variable buttons as the note, tied to this textarea.
        assert f'data-note-counter-for="id_{field}"' in html
        assert html.count(f'data-note-insert-into="id_{field}"') == 5
        assert f"id_{field}_preview" not in html  # the preview follows the note (variant A)
    assert 'hx-include=".note-editor textarea"' in html
    for field, label in (
        ("followup_template", "Follow-up message"),
        ("followup_delay_minutes", "Follow-up delay"),
        ("brake_min_invitations", "Brake after this many invitations"),
        ("brake_min_acceptance_percent", "Minimum acceptance rate (%)"),
    ):
        assert f'<label for="id_{field}">{label}</label>' in html
    # The defaults, the delay in its largest whole unit: 1440 minutes is 1 day.
    assert re.search(r'<input type="number" name="followup_delay_minutes" value="1"', html)
    assert '<option value="days" selected>days</option>' in html
    assert 'name="brake_min_invitations" value="20"' in html and 'name="brake_min_acceptance_percent" value="20"' in html
    assert "style=" not in html and "<script>" not in html


def test_create_saves_variants_follow_up_and_brake(ada_client, ada):
    response = ada_client.post(reverse("campaign_create"), form_data(
        note_template_b="Hello {first_name|there},\r\nB here", note_template_c="Hey {first_name|you}",
        followup_template="Thanks for connecting, {first_name|friend}!\r\nTalk soon.",
        followup_delay_minutes="90", brake_min_invitations="30", brake_min_acceptance_percent="15",
    ))

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == page_url(campaign)
    assert campaign.note_template_b == "Hello {first_name|there},\nB here"  # line breaks as OutX counts them
    assert campaign.note_template_c == "Hey {first_name|you}"
    assert campaign.followup_template == "Thanks for connecting, {first_name|friend}!\nTalk soon."
    assert (campaign.followup_delay_minutes, campaign.brake_min_invitations, campaign.brake_min_acceptance_percent) == (
        90, 30, 15
    )
    assert list(campaign.variants()) == ["A", "B", "C"]


def test_numbers_left_out_keep_their_defaults(ada_client):
    response = ada_client.post(reverse("campaign_create"), {"name": "Plain", "senders": Sender.get().pk, "note_template": "Hi"})

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert (campaign.followup_delay_minutes, campaign.brake_min_invitations, campaign.brake_min_acceptance_percent) == (
        24 * 60, 20, 20
    )
    assert campaign.followup_template == "" and list(campaign.variants()) == ["A"]


@pytest.mark.parametrize("field", ["note_template_b", "note_template_c"])
@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("a" * 300 + "😀", "The template as typed is 302 characters long; LinkedIn allows at most 300."),
        ("a" * 301, "The template as typed is 301 characters long; LinkedIn allows at most 300."),
        ("Hi {nickname}", "Unknown variable {nickname}"),
    ],
)
def test_a_variant_is_held_to_the_notes_rules(ada_client, field, template, reason):
    response = ada_client.post(reverse("campaign_create"), form_data(**{field: template}))

    html = response.content.decode()
    assert response.status_code == 200
    assert reason in html
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error">', html)
    assert not Campaign.objects.exists()


def test_a_variant_of_spaces_is_no_variant(ada_client):
    assert ada_client.post(reverse("campaign_create"), form_data(note_template_b="   \r\n ")).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.note_template_b == "" and list(campaign.variants()) == ["A"]


def test_a_variant_is_checked_against_the_queued_prospects_given_to_it(ada_client, ada, make_campaign):
    campaign = make_campaign(
        owner=ada, state=Campaign.State.DRAFT, note_template="A {first_name}", note_template_b="B {first_name}"
    )
    for _ in range(4):
        add_request(campaign)  # none has a company
    campaign.render_queued_notes()
    assert sorted(campaign.requests.values_list("variant", flat=True)) == ["A", "A", "B", "B"]

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        form_data(note_template="A {first_name}", note_template_b="B at {company}"),
    )

    html = response.content.decode()
    assert response.status_code == 200
    # Two prospects have variant B: only they are held to it.
    assert "2 queued prospects would get a note that cannot be sent:" in html
    assert "No value for {company}" in html
    campaign.refresh_from_db()
    assert campaign.note_template_b == "B {first_name}"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("   ", "Follow-up: the message is blank; leave it empty to send none."),
        (" \r\n\t ", "Follow-up: the message is blank; leave it empty to send none."),
        ("😀" * 5001, "Follow-up: the message is longer than 10,000 characters."),  # 5,001 characters, 10,002 units
        ("Thanks {nickname}", "Follow-up: Unknown variable {nickname}"),
    ],
)
def test_a_follow_up_outx_would_refuse_is_refused_with_the_reason(ada_client, message, reason):
    response = ada_client.post(reverse("campaign_create"), form_data(followup_template=message))

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_follow_up_of_exactly_10000_units_is_accepted(ada_client):
    response = ada_client.post(reverse("campaign_create"), form_data(followup_template="😀" * 5000))

    assert response.status_code == 302
    assert Campaign.objects.get().followup_template == "😀" * 5000


@pytest.mark.parametrize(("field", "value"), [("brake_min_acceptance_percent", "101"), ("brake_min_invitations", "-1")])
def test_brake_numbers_are_bounded(ada_client, field, value):
    response = ada_client.post(reverse("campaign_create"), form_data(**{field: value}))

    assert response.status_code == 200
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error">', response.content.decode())
    assert not Campaign.objects.exists()


def test_editing_saves_and_variants_are_given_out_again(ada_client, ada, make_campaign):
    campaign = make_campaign(
        owner=ada, state=Campaign.State.DRAFT, note_template="A", note_template_b="B", note_template_c="C"
    )
    for _ in range(3):
        add_request(campaign)
    campaign.render_queued_notes()

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        form_data(note_template="A", note_template_b="B", note_template_c="", followup_template="Thanks!"),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.followup_template == "Thanks!" and list(campaign.variants()) == ["A", "B"]
    # The prospect who had variant C has another one now, with its note.
    assert set(campaign.requests.values_list("variant", "note")) <= {("A", "A"), ("B", "B")}


# --- Numbers show what will be saved; the follow-up delay in a unit ---------------------------------


def test_a_refused_save_shows_the_default_of_each_number_left_empty(ada_client):
    response = ada_client.post(reverse("campaign_create"), form_data(
        note_template="Hi {nickname}", followup_delay_minutes="", brake_min_invitations="", brake_min_acceptance_percent="",
    ))

    html = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    # What a save would store, not an empty box.
    assert re.search(r'name="followup_delay_minutes" value="1"', html)
    assert '<option value="days" selected>days</option>' in html
    assert 'name="brake_min_invitations" value="20"' in html
    assert 'name="brake_min_acceptance_percent" value="20"' in html


@pytest.mark.parametrize(
    ("number", "unit", "minutes"),
    [("2", "days", 2880), ("3", "hours", 180), ("90", "minutes", 90), ("0", "days", 0), ("90", "days", 129600)],
)
def test_the_delay_is_typed_in_a_unit_and_stored_in_minutes(ada_client, number, unit, minutes):
    response = ada_client.post(
        reverse("campaign_create"), form_data(followup_delay_minutes=number, followup_delay_unit=unit)
    )

    assert response.status_code == 302
    assert Campaign.objects.get().followup_delay_minutes == minutes


def test_a_delay_over_90_days_is_refused_whatever_its_unit(ada_client):
    response = ada_client.post(
        reverse("campaign_create"), form_data(followup_delay_minutes="91", followup_delay_unit="days")
    )

    html = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert "Enter at most 129600 minutes (90 days)." in html
    assert re.search(r'<ul class="errorlist" id="id_followup_delay_minutes_error">', html)


def test_a_post_without_a_unit_is_in_minutes(ada_client):
    assert ada_client.post(reverse("campaign_create"), form_data(followup_delay_minutes="45")).status_code == 302
    assert Campaign.objects.get().followup_delay_minutes == 45


@pytest.mark.parametrize(
    ("minutes", "number", "unit", "words"),
    [(2880, "2", "days", "2 days"), (1440, "1", "days", "1 day"), (120, "2", "hours", "2 hours"),
     (90, "90", "minutes", "90 minutes"), (0, "0", "minutes", "0 minutes")],
)
def test_the_delay_is_shown_back_in_its_largest_whole_unit(ada_client, ada, make_campaign, minutes, number, unit, words):
    campaign = make_campaign(
        owner=ada, state=Campaign.State.DRAFT, followup_template="Thanks!", followup_delay_minutes=minutes
    )

    form = ada_client.get(reverse("campaign_edit", args=[campaign.pk])).content.decode()
    page = ada_client.get(page_url(campaign)).content.decode()

    assert re.search(rf'name="followup_delay_minutes" value="{number}"', form)
    assert f'<option value="{unit}" selected>{unit}</option>' in form
    assert f"Sent once to each invitee who accepts, {words} after the acceptance is seen." in page


def test_the_unit_has_a_name_and_the_delay_a_label(ada_client):
    html = ada_client.get(reverse("campaign_create")).content.decode()

    assert '<label for="id_followup_delay_minutes">Follow-up delay</label>' in html
    unit = re.search(r'<select name="followup_delay_unit"[^>]*>', html).group(0)
    assert 'aria-label="Unit of the follow-up delay"' in unit
    delay = re.search(r'<input type="number" name="followup_delay_minutes"[^>]*>', html).group(0)
    assert 'aria-describedby="id_followup_delay_minutes_helptext"' in delay
    assert 'id="id_followup_delay_minutes_helptext"' in html


# --- The 300 limit holds on the notes prospects get ---------------------------------------------


def test_a_new_campaigns_note_is_measured_with_sample_values(ada_client):
    # 295 as typed, and it fits; with the sample prospect, "Hi Alexandra, " and 281 characters
    # make 295 too.
    fits = "Hi {first_name}, " + "x" * 278
    assert ada_client.post(reverse("campaign_create"), form_data(note_template=fits)).status_code == 302
    Campaign.objects.all().delete()

    # 299 as typed, within the limit; but "Hi Alexandra Johnson, " and 282 characters make 304.
    too_long = "Hi {full_name}, " + "x" * 283
    response = ada_client.post(reverse("campaign_create"), form_data(note_template=too_long))

    assert response.status_code == 200 and not Campaign.objects.exists()
    assert (
        "With sample values (Alexandra Johnson, Head of Sales at Northwind Traders) the note is 305 characters long; "
        "LinkedIn allows at most 300." in response.content.decode()
    )


def test_the_template_as_typed_is_held_to_300_too(ada_client):
    """docs/product.md: the limit holds for the template as typed and for every note. A long
    fallback never written for these prospects still counts, as typed."""
    too_long = "Hi {first_name|" + "a" * 40 + "}, " + "x" * 270
    response = ada_client.post(reverse("campaign_create"), form_data(note_template=too_long))
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert "The template as typed is 328 characters long; LinkedIn allows at most 300." in response.content.decode()


def test_with_queued_prospects_their_notes_decide(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada, state=Campaign.State.DRAFT, note_template="Hi {first_name}")
    add_request(campaign, first_name="Bo", company="International Business Machines")
    # 279 as typed; Bo's note, "Hi Bo, ", 230 characters and the company: 269. It fits.
    fits = "Hi {first_name}, " + "x" * 230 + " {company|" + "y" * 20 + "}"
    response = ada_client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(note_template=fits))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.note_template == fits
    assert campaign.requests.get().note == "Hi Bo, " + "x" * 230 + " International Business Machines"

    # 290 as typed, but Bo's note is 302.
    too_long = "Hi {first_name}, at {company} " + "z" * 260
    response = ada_client.post(reverse("campaign_edit", args=[campaign.pk]), form_data(note_template=too_long))
    assert response.status_code == 200
    assert "Bo: The note is 302 characters long; LinkedIn allows at most 300." in response.content.decode()


def test_a_refused_note_marks_its_textarea_invalid_and_described_by_the_error(ada_client):
    html = ada_client.post(reverse("campaign_create"), form_data(note_template="a" * 301)).content.decode()

    textarea = re.search(r'<textarea name="note_template"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in textarea
    assert 'aria-describedby="id_note_template_hint id_note_template_counter id_note_template_error"' in textarea
    assert '<ul class="errorlist" id="id_note_template_error">' in html
