"""Every parser is total: what the audit sent, concretely, and what a person sees instead of a 500.

Profile URLs and URNs (in a paste and in a CSV), page numbers, the review's dates and filters,
the campaign page's state filter, and the export's formula neutralisation. The same parsers
are fed arbitrary text in tests/test_parsers_property.py.
"""

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import linkedin
from campaigns.forms.review import ReviewFilterForm
from campaigns.importing import CsvRow, parse_pasted_profiles, read_csv, rows_to_prospects
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.params import MAX_PAGE, parse_page
from campaigns.csvexport import spreadsheet_safe
from tests.helpers import add_request

State = ConnectionRequest.State
NOON = dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC)
# What the audit pasted: an unmatched "[" and full-width characters make urlsplit raise.
BRACKET = "https://[linkedin.com/in/abc"
FULLWIDTH_SLASH = "https://www.linkedin.com\uff0fin/abc"  # ／ in the host part
FULLWIDTH_HOST = "https://\uff4c\uff49\uff4e\uff4b\uff45\uff44\uff49\uff4e.com/in/abc"  # ｌｉｎｋｅｄｉｎ
# Characters that are digits to str.isdigit() and not to int().
NOT_ASCII_DIGITS = ["²", "①", "٣", "1²", "³⁴"]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Profile URLs and URNs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (BRACKET, "unmatched “[” or “]”"),
        ("https://linkedin.com]/in/abc", "unmatched “[” or “]”"),
        (FULLWIDTH_SLASH, "not plain letters (such as full-width letters or punctuation)"),
        (FULLWIDTH_HOST, "not a linkedin.com address: its host name has characters that are not plain letters"),
        ("https://www.linkedin.com/in/abc%0A", "is not a valid profile name"),  # a line break in the slug
        ("https://www.linkedin.com/in/ab\u200bc", "is not a valid profile name"),  # a zero-width space
    ],
)
def test_unreadable_urls_are_invalid_profiles_with_a_reason(value, reason):
    with pytest.raises(linkedin.InvalidProfile, match=re.escape(reason)):
        linkedin.normalise_profile_url(value)
    with pytest.raises(linkedin.InvalidProfile, match=re.escape(reason)):
        linkedin.parse_profile(value)


def test_an_unreadable_url_says_what_to_do():
    with pytest.raises(linkedin.InvalidProfile) as raised:
        linkedin.profile_slug(BRACKET)
    assert str(raised.value) == (
        "'https://[linkedin.com/in/abc' cannot be read: its host name has an unmatched “[” or “]”. "
        "Copy the address again from the browser's address bar."
    )


@pytest.mark.parametrize("value", ["urn:li:fsd_profile:ACoAAB1234\n", "ACoAAB1234\n"])
def test_a_trailing_line_break_is_trimmed_not_kept(value):
    assert linkedin.normalise_profile_urn(value) == "urn:li:fsd_profile:ACoAAB1234"


@pytest.mark.parametrize("value", ["javascript:alert(1)//", "urn:li:fsd_profile:ab\ncd", "urn:li:fsd_profile:ab%0A"])
def test_urns_that_are_not_urns_are_refused(value):
    with pytest.raises(linkedin.InvalidProfile, match="is not a LinkedIn profile URN"):
        linkedin.normalise_profile_urn(value)


@pytest.mark.parametrize("value", [None, 12, b"https://www.linkedin.com/in/ada", ["ACoAAB1234"]])
def test_values_that_are_not_text_are_invalid_profiles(value):
    for parse in (linkedin.normalise_profile_url, linkedin.normalise_profile_urn, linkedin.parse_profile):
        with pytest.raises(linkedin.InvalidProfile, match="must be text"):
            parse(value)


def test_a_long_refused_value_is_quoted_cut():
    with pytest.raises(linkedin.InvalidProfile) as raised:
        linkedin.normalise_profile_url("https://example.com/" + "x" * 10_000)
    assert len(str(raised.value)) < 200
    assert "…" in str(raised.value)


# --- A paste: good lines kept, each bad one listed with its number and reason ---------------------

MIXED_PASTE = "\n".join([
    "https://www.linkedin.com/in/ada",
    BRACKET,
    "linkedin.com/in/grace",
    FULLWIDTH_SLASH,
    FULLWIDTH_HOST,
    "urn:li:fsd_profile:ACoAAB1234",
])


def test_parse_pasted_profiles_keeps_the_good_lines_and_numbers_the_bad():
    valid, rejected = parse_pasted_profiles(MIXED_PASTE)

    assert [(entry.number, entry.profile) for entry in valid] == [
        (1, "https://www.linkedin.com/in/ada"),
        (3, "https://www.linkedin.com/in/grace"),
        (6, "urn:li:fsd_profile:ACoAAB1234"),
    ]
    assert [(rejection.number, rejection.text) for rejection in rejected] == [
        (2, BRACKET), (4, FULLWIDTH_SLASH), (5, FULLWIDTH_HOST),
    ]
    assert "unmatched “[” or “]”" in rejected[0].reason
    assert "full-width" in rejected[1].reason and "full-width" in rejected[2].reason


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Q4 founders", Campaign.State.DRAFT, note_template="Hello {first_name|there}")


def test_pasting_a_mix_adds_the_good_lines_and_lists_the_bad_with_line_numbers(owner_client, campaign):
    url = reverse("prospects_add", args=[campaign.pk])

    response = owner_client.post(url, {"profiles": MIXED_PASTE})

    assert response.status_code == 200  # the refused lines stay in the box, with their reasons
    assert sorted(Prospect.objects.values_list("profile_url", flat=True), key=str) == [
        None, "https://www.linkedin.com/in/ada", "https://www.linkedin.com/in/grace",
    ]
    assert campaign.requests.count() == 3
    assert messages_of(response) == ["Added 3 prospects; 3 lines refused."]
    html = response.content.decode()
    for number in (2, 4, 5):
        assert re.search(rf"<td>{number}</td>", html), number
    assert "its host name has an unmatched “[” or “]”" in html
    assert "such as full-width letters or punctuation" in html


# --- A CSV: the mapping page previews, the bad rows rejected by number, the rest imported ------------

MIXED_CSV = (
    "Name,LinkedIn URL\n"
    "Ada,https://www.linkedin.com/in/ada\n"
    f"Bracket,{BRACKET}\n"
    f"Slash,{FULLWIDTH_SLASH}\n"
    "Grace,linkedin.com/in/grace\n"
)


def test_rows_to_prospects_rejects_unreadable_urls_by_row_number():
    table = read_csv(MIXED_CSV.encode())

    valid, rejected = rows_to_prospects(table.rows, {"profile_url": 1, "full_name": 0})

    assert [(entry.number, entry.url, entry.first_name) for entry in valid] == [
        (2, "https://www.linkedin.com/in/ada", "Ada"), (5, "https://www.linkedin.com/in/grace", "Grace"),
    ]
    assert [(r.number, r.details["first_name"]) for r in rejected] == [(3, "Bracket"), (4, "Slash")]
    assert all(rejection.reason.startswith("Invalid profile: ") for rejection in rejected)


def test_a_csv_with_unreadable_urls_maps_previews_and_imports_the_rest(owner_client, campaign):
    upload = SimpleUploadedFile("prospects.csv", MIXED_CSV.encode(), content_type="text/csv")
    response = owner_client.post(reverse("prospects_import", args=[campaign.pk]), {"csv_file": upload})
    assert response.status_code == 302
    step2 = response["Location"]

    preview = owner_client.get(step2)

    html = preview.content.decode()
    assert preview.status_code == 200
    statuses = re.findall(r"<tr class=\"prospects-row-(\w+)\">\s*<td>(\d+)</td>", html)
    assert statuses == [("rejected", "3"), ("rejected", "4"), ("ok", "2"), ("ok", "5")]  # problems first
    assert "its host name has an unmatched “[” or “]”" in html
    assert "<dt>Will be added</dt><dd>2</dd>" in html and "<dt>Refused</dt><dd>2</dd>" in html

    imported = owner_client.post(step2, {"profile_url": "1", "full_name": "0"}, follow=True)

    assert imported.status_code == 200
    assert set(Prospect.objects.values_list("first_name", flat=True)) == {"Ada", "Grace"}
    assert campaign.requests.count() == 2
    result = imported.content.decode()
    assert re.search(r"<td>3</td>", result) and re.search(r"<td>4</td>", result)


def test_a_csv_row_of_any_shape_is_a_row_or_a_rejection():
    rows = [CsvRow(2, []), CsvRow(3, ["", "", ""]), CsvRow(4, ["\x00", BRACKET]), CsvRow(5, ["a"] * 300)]

    valid, rejected = rows_to_prospects(rows, {"profile_url": 1, "profile_urn": 250, "full_name": 7})

    assert valid == []
    assert [rejection.number for rejection in rejected] == [2, 3, 4, 5]


# --- Page numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "page"),
    [
        ("3", 3), ("0", 1), ("007", 7), (str(MAX_PAGE + 1), MAX_PAGE), ("9" * 12, MAX_PAGE),
        ("9" * 5000, 1), ("", 1), (None, 1), (" 3", 1), ("+3", 1), ("-3", 1), ("1_000", 1), ("3.0", 1),
        ("3\n", 1), ("0x1", 1), (3, 1), (["3"], 1), *((value, 1) for value in NOT_ASCII_DIGITS),
    ],
)
def test_parse_page_reads_ascii_digits_only_bounded_and_defaults_to_1(value, page):
    assert parse_page(value) == page


@pytest.fixture
def ada_campaign(make_campaign, ada):
    return make_campaign(owner=ada, state=Campaign.State.ACTIVE, prospects=3)


@pytest.mark.parametrize("page", [*NOT_ASCII_DIGITS, "9" * 5000, "-1", "0"])
@pytest.mark.parametrize("url_name", ["campaign_detail", "campaign_status"])
def test_the_campaign_page_and_its_poll_read_any_page_as_a_page(ada_client, ada_campaign, always_open, url_name, page):
    response = ada_client.get(reverse(url_name, args=[ada_campaign.pk]), {"page": page}, HTTP_HX_REQUEST="true")

    assert response.status_code in (200, 286)
    assert "P0" in response.content.decode()  # the first page of invitations


@pytest.mark.parametrize("page", [*NOT_ASCII_DIGITS, "9" * 5000, "-1"])
def test_the_campaign_list_reads_any_page_as_a_page(ada_client, ada_campaign, page):
    response = ada_client.get(reverse("campaign_list"), {"page": page})

    assert response.status_code == 200
    assert ada_campaign.name in response.content.decode()


@pytest.mark.parametrize("page", [*NOT_ASCII_DIGITS, "9" * 5000, "-1"])
def test_review_reads_any_page_as_a_page(ada_client, ada_campaign, page):
    ada_campaign.requests.update(state=State.SENT, submitted_at=NOON)

    response = ada_client.get(reverse("review"), {"page": page})

    assert response.status_code == 200
    assert "3 invitations" in response.content.decode()


@pytest.mark.parametrize("page", ["²", "①"])
def test_removing_with_a_page_int_refuses_redirects_with_the_removal_done(ada_client, ada_campaign, always_open, page):
    row = ada_campaign.requests.order_by("id").first()

    response = ada_client.post(reverse("request_action", args=[row.pk, "remove"]), {"state": "queued", "page": page})

    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_detail", args=[ada_campaign.pk]) + "?state=queued"
    row.refresh_from_db()
    assert row.state == State.SKIPPED
    assert messages_of(response) == [f"Removed before submission: {row.prospect}."]


@pytest.mark.parametrize("page", ["²", "①"])
def test_removing_over_htmx_with_such_a_page_answers_the_row(ada_client, ada_campaign, always_open, page):
    row = ada_campaign.requests.order_by("id").first()

    response = ada_client.post(
        reverse("request_action", args=[row.pk, "remove"]), {"page": page}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="request-{row.pk}"')
    assert f"Removed before submission: {row.prospect}." in html
    row.refresh_from_db()
    assert row.state == State.SKIPPED


# --- The campaign page's state filter -------------------------------------------------------------


def test_an_unknown_state_filter_shows_every_invitation_and_says_why(ada_client, ada_campaign, always_open):
    response = ada_client.get(reverse("campaign_detail", args=[ada_campaign.pk]), {"state": "bogus²"})

    html = response.content.decode()
    assert response.status_code == 200
    assert all(f"P{i}" in html for i in range(3))
    assert "“bogus²” is not an invitation state, so all invitations are shown. Filter by one of: Queued," in html


def test_a_known_state_filter_says_nothing(ada_client, ada_campaign, always_open):
    response = ada_client.get(reverse("campaign_detail", args=[ada_campaign.pk]), {"state": "queued"})

    assert response.status_code == 200
    assert "is not an invitation state" not in response.content.decode()


# --- Review: dates and filters ----------------------------------------------------------------------


@pytest.fixture
def sent(ada_campaign):
    ada_campaign.requests.update(state=State.SENT, submitted_at=NOON)
    return ada_campaign


def export_rows(client, **params) -> tuple:
    response = client.get(reverse("review_export"), params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return response, list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    ],
)
def test_review_with_a_date_out_of_range_says_the_range_and_ignores_it(ada_client, sent, params):
    account = Sender.get()
    account.time_zone = "Pacific/Kiritimati"  # UTC+14: the first day of year 1 is in year 0 in UTC
    account.save()

    response = ada_client.get(reverse("review"), params)

    html = response.content.decode()
    assert response.status_code == 200
    for value in params.values():
        assert f"{value} is out of range: choose a day from 2000-01-01 to 2099-12-31." in html
    assert "Some filters have errors and are left out until they are corrected." in html
    assert "3 invitations" in html  # the wrong day left out, not everything

    _, rows = export_rows(ada_client, **params)
    assert len(rows) == 1 + 3


def test_the_review_dates_state_their_range():
    form = ReviewFilterForm()
    html = str(form["date_to"]) + form["date_to"].help_text

    assert 'min="2000-01-01"' in html and 'max="2099-12-31"' in html
    assert "(2000-01-01 to 2099-12-31)" in html


def test_the_last_day_in_range_still_filters(ada_client, sent):
    response = ada_client.get(reverse("review"), {"date_from": "2024-05-02", "date_to": "2099-12-31"})

    assert response.status_code == 200
    assert "3 invitations" in response.content.decode()
    assert "out of range" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"campaign": "9" * 30}, "There is no such campaign (it may have been deleted). Choose one from the list."),
        ({"campaign": "²"}, "There is no such campaign (it may have been deleted). Choose one from the list."),
        ({"campaign": "1\x00"}, "Null characters are not allowed."),
        ({"state": "①"}, "Select a valid choice. ① is not one of the available choices. Choose a state from the list."),
        ({"date_to": "2024-13-45"}, "Enter a valid date. Write it as YYYY-MM-DD, for example 2024-05-31."),
        ({"date_from": "²⁰²⁴-05-01"}, "Enter a valid date. Write it as YYYY-MM-DD, for example 2024-05-31."),
        ({"q": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
        ({"q": "a\x00"}, "Null characters are not allowed."),
    ],
)
def test_a_review_filter_that_does_not_parse_is_left_out_with_a_message(ada_client, sent, params, message):
    response = ada_client.get(reverse("review"), params)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html.replace("&#x27;", "'")
    assert "3 invitations" in html
    _, rows = export_rows(ada_client, **params)
    assert len(rows) == 1 + 3


# --- The export -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        "\uff1d", "\uff0b", "\uff0d", "\uff20",  # full-width ＝＋－＠
        "\ufe66", "\ufe62", "\ufe63", "\ufe6b",  # small ﹦﹢﹣﹫
        "\ufeff=", "\ufeff\ufeff+", "\u200b@", "\u200e-", "\u2060=",  # after a BOM or zero-width characters
        " =", "\u00a0+", "\u3000-", "\n@", "\x0b=", "\x1c+",  # after spaces and line breaks of any kind
        "\ufeff\u3000\uff1d",  # all of it at once
    ],
    ids=ascii,
)
def test_export_neutralises_full_width_and_hidden_formulas(ada_client, make_campaign, ada, start):
    campaign = make_campaign(owner=ada, note_template="")
    add_request(campaign, State.SENT, first_name=f"{start}cmd", note=f"{start}HYPERLINK(\"x\")")

    _, rows = export_rows(ada_client)

    assert rows[1][4] == f"'{start}cmd"
    assert rows[1][10] == f"'{start}HYPERLINK(\"x\")"


@pytest.mark.parametrize("text", ["Ada", " Ada", "\ufeffAda", "1+1", "a=b", "Ｌovelace", "\u200b", ""], ids=ascii)
def test_export_leaves_text_that_is_no_formula_as_it_is(text):
    assert spreadsheet_safe(text) == text
