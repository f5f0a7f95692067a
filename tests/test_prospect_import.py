"""Adding prospects to a campaign: pasted profiles, CSV files, their checks and their cost."""

import datetime as dt
import math
import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import AutoField
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import importing
from campaigns.importing import (
    CsvError,
    CsvRow,
    guess_mapping,
    parse_pasted_profiles,
    paste_problems,
    read_csv,
    rows_to_prospects,
)
from campaigns.models import Campaign, ConnectionRequest, PendingUpload, Prospect, Sender

URN = "urn:li:fsd_profile:"


# --- Fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Q4 founders", Campaign.State.DRAFT, note_template="Hello {first_name|there}")


def add_url(campaign):
    return reverse("prospects_add", args=[campaign.pk])


def import_url(campaign):
    return reverse("prospects_import", args=[campaign.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def csv_file(text: str | bytes, name="prospects.csv") -> SimpleUploadedFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def upload(client, campaign, text) -> str:
    """Upload a CSV; the URL of step 2."""
    response = client.post(import_url(campaign), {"csv_file": csv_file(text)})
    assert response.status_code == 302, response.content.decode()
    return response["Location"]


def tally_of(html: str) -> dict[str, int]:
    """The preview's counts, by their labels."""
    return {label: int(count) for label, count in re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html)}


def rows(*records: list[str], start=2) -> list[CsvRow]:
    return [CsvRow(number, list(cells)) for number, cells in enumerate(records, start=start)]


def html_of(response) -> str:
    return response.content.decode()


def textarea_of(html: str) -> str:
    """The profiles box's text, as a browser shows it (Django puts a line break first)."""
    found = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", html, re.DOTALL)
    return unescape(found.group(1)) if found else ""


def insert_batches(model, count: int) -> int:
    """How many INSERTs Django's bulk_create needs on this database (SQLite caps parameters)."""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoField)]
    return math.ceil(count / connection.ops.bulk_batch_size(fields, [None] * count))


def queries_by_kind(queries: list[dict]) -> tuple[int, int]:
    """(INSERTs, every other query)."""
    inserts = sum(1 for query in queries if query["sql"].lstrip().upper().startswith("INSERT"))
    return inserts, len(queries) - inserts


# --- Pasted profiles: pure rules --------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "https://www.linkedin.com/in/ada-lovelace",
        "https://linkedin.com/in/ada-lovelace",
        "www.linkedin.com/in/ada-lovelace/",
        "linkedin.com/in/Ada-Lovelace",
        "https://www.linkedin.com/in/ada-lovelace?trk=public_profile&utm_source=share",
        "https://www.linkedin.com/in/ada-lovelace/fr",
        "https://m.linkedin.com/in/ada-lovelace/",
        "https://uk.linkedin.com/in/ada-lovelace",
        "  <https://www.linkedin.com/in/ada-lovelace/>, ",
    ],
)
def test_every_pasted_form_of_a_url_becomes_the_stored_spelling(line):
    valid, rejected = parse_pasted_profiles(line)
    assert rejected == []
    assert [(entry.urn, entry.url) for entry in valid] == [(None, "https://www.linkedin.com/in/ada-lovelace")]


@pytest.mark.parametrize("line", [f"{URN}ACoAAB12345", "ACoAAB12345"])
def test_urns_with_or_without_prefix(line):
    valid, rejected = parse_pasted_profiles(line)
    assert rejected == []
    assert [(entry.urn, entry.url) for entry in valid] == [(f"{URN}ACoAAB12345", None)]


def test_junk_lines_are_rejected_with_line_number_and_reason_blank_lines_ignored_duplicates_once():
    text = (
        "https://www.linkedin.com/in/ada\n"
        "\n"
        "ada lovelace\n"
        "https://www.linkedin.com/company/outx\n"
        "https://example.com/in/ada\n"
        "linkedin.com/in/ADA/\n"  # the same person as line 1
        "urn:li:member:123\n"
        "ACoAAB12345\n"
        f"{URN}ACoAAB12345\n"  # the same as the line above
    )
    valid, rejected = parse_pasted_profiles(text)
    assert [entry.number for entry in valid] == [1, 8]
    assert [(r.number, r.text) for r in rejected] == [
        (3, "ada lovelace"),
        (4, "https://www.linkedin.com/company/outx"),
        (5, "https://example.com/in/ada"),
        (7, "urn:li:member:123"),
    ]
    reasons = [r.reason for r in rejected]
    assert "neither a LinkedIn profile URL nor a profile URN" in reasons[0]
    assert "not a profile address" in reasons[1]
    assert "not a linkedin.com address" in reasons[2]
    assert "not a LinkedIn profile URN" in reasons[3]


def test_paste_limits_count_lines_and_bytes():
    assert paste_problems("linkedin.com/in/ada\n" * 1000) == []
    assert "1,001 lines" in paste_problems("linkedin.com/in/ada\n" * 1001)[0]
    assert "KB" in paste_problems("x" * (100 * 1024 + 1))[0]


# --- Paste: the page ----------------------------------------------------------------------------


def test_paste_page_has_a_labelled_textarea_and_the_button(owner_client, campaign):
    response = owner_client.get(add_url(campaign))
    html = html_of(response)
    assert response.status_code == 200
    assert re.search(r'<label for="id_profiles">Profiles</label>', html)
    assert re.search(r"<textarea[^>]*id=\"id_profiles\"", html)
    assert re.search(r"<button[^>]*>Add prospects</button>", html)


def test_paste_adds_prospects_queues_requests_and_renders_notes(owner_client, campaign):
    text = "https://www.linkedin.com/in/ada\nACoAAB12345\n\nhttps://fr.linkedin.com/in/ada/\n"

    response = owner_client.post(add_url(campaign), {"profiles": text})

    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_detail", args=[campaign.pk])
    # The fourth line is the first's person again: merged, and said so.
    assert messages_of(response) == ["Added 2 prospects; 1 line repeated an earlier line and was merged."]
    assert set(Prospect.objects.values_list("profile_url", "profile_urn")) == {
        ("https://www.linkedin.com/in/ada", None), (None, f"{URN}ACoAAB12345"),
    }
    requests = ConnectionRequest.objects.filter(campaign=campaign)
    assert {r.state for r in requests} == {"queued"}
    assert {r.note for r in requests} == {"Hello there"}  # render_queued_notes ran


def test_known_prospects_are_reused_and_those_in_the_campaign_reported(owner_client, campaign, owner):
    known = Prospect.objects.create(profile_url="https://www.linkedin.com/in/grace", first_name="Grace")
    member = Prospect.objects.create(profile_urn=f"{URN}ACoAAMember")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=member)
    text = "linkedin.com/in/grace\nurn:li:fsd_profile:ACoAAMember\nhttps://www.linkedin.com/in/new-one\n"

    response = owner_client.post(add_url(campaign), {"profiles": text})

    assert messages_of(response) == ["Added 2 prospects; 1 already in this campaign."]
    assert Prospect.objects.count() == 3
    assert ConnectionRequest.objects.filter(campaign=campaign).count() == 3
    assert ConnectionRequest.objects.get(campaign=campaign, prospect=known).note == "Hello Grace"


def test_rejected_lines_are_listed_back_with_their_line_numbers(owner_client, campaign):
    text = "https://www.linkedin.com/in/ada\nnot a profile <b>\n\nhttps://www.linkedin.com/company/x\n"

    response = owner_client.post(add_url(campaign), {"profiles": text})

    html = html_of(response)
    assert response.status_code == 200
    assert "Added 1 prospect; 2 lines refused." in html
    assert "<td>2</td><td class=\"prospects-text\">not a profile &lt;b&gt;</td>" in html
    assert "<td>4</td>" in html and "not a profile address" in html
    assert Prospect.objects.count() == 1
    # Exactly the refused lines are back in the box, as typed, to fix and add again.
    assert textarea_of(html) == "not a profile <b>\nhttps://www.linkedin.com/company/x"
    # Shown once: the list is gone on the next visit.
    assert "not a profile &lt;b&gt;" not in html_of(owner_client.get(add_url(campaign)))


def test_a_paste_over_the_limits_is_refused_and_shown_back_whole(owner_client, campaign):
    lines = "".join(f"https://www.linkedin.com/in/p{i}\n" for i in range(1001))

    response = owner_client.post(add_url(campaign), {"profiles": lines})

    html = html_of(response)
    assert response.status_code == 200
    assert "The paste has 1,001 lines; at most 1,000 at a time." in html
    assert "https://www.linkedin.com/in/p1000" in html  # nothing lost
    assert not Prospect.objects.exists()

    response = owner_client.post(add_url(campaign), {"profiles": "linkedin.com/in/" + "x" * 103_000})
    assert "at most 100 KB at a time" in html_of(response)
    assert not Prospect.objects.exists()


def test_an_empty_paste_asks_for_profiles(owner_client, campaign):
    response = owner_client.post(add_url(campaign), {"profiles": "  \n \n"})
    assert response.status_code == 200
    assert "Paste at least one LinkedIn profile URL or URN." in html_of(response)


@pytest.mark.parametrize("view", ["prospects_add", "prospects_import"])
def test_another_user_may_not_add_but_staff_may(client, campaign, view):
    client.force_login(User.objects.create_user("bob"))
    url = reverse(view, args=[campaign.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"profiles": "linkedin.com/in/ada"}).status_code == 403
    assert not Prospect.objects.exists()

    client.force_login(User.objects.create_user("root", is_staff=True))
    assert client.get(url).status_code == 200


def test_another_user_may_not_map_or_import(client, owner_client, campaign):
    step2 = upload(owner_client, campaign, "LinkedIn URL\nlinkedin.com/in/ada\n")
    client.force_login(User.objects.create_user("bob"))
    assert client.get(step2).status_code == 403
    assert client.post(step2, {"profile_url": "0"}).status_code == 403


@pytest.mark.parametrize("view", ["prospects_add", "prospects_import"])
def test_an_archived_campaign_refuses_prospects(owner_client, campaign, view):
    campaign.move_to(Campaign.State.ARCHIVED, "done")
    url = reverse(view, args=[campaign.pk])

    response = owner_client.post(url, {"profiles": "linkedin.com/in/ada"})

    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert messages_of(response) == ["“Q4 founders” is archived: prospects can no longer be added to it."]
    assert not Prospect.objects.exists()


def paste_queries(client, campaign, count: int, offset: int) -> list[dict]:
    text = "\n".join(f"https://www.linkedin.com/in/person-{offset + i}" for i in range(count))
    with CaptureQueriesContext(connection) as captured:
        assert client.post(add_url(campaign), {"profiles": text}).status_code == 302
    # Copied now: the next request resets the log the context reads from.
    return list(captured.captured_queries)


def test_paste_queries_do_not_grow_with_lines(owner_client, campaign):
    for known in ("person-0", "person-1000"):  # one known prospect in each paste, reused
        Prospect.objects.create(profile_url=f"https://www.linkedin.com/in/{known}")
    few = paste_queries(owner_client, campaign, 10, 0)
    many = paste_queries(owner_client, campaign, 200, 1000)

    assert ConnectionRequest.objects.filter(campaign=campaign).count() == 210
    # Identical apart from the INSERT batches SQLite's parameter limit imposes (one on PostgreSQL).
    assert queries_by_kind(few)[1] == queries_by_kind(many)[1]
    assert queries_by_kind(few)[0] == 2
    assert queries_by_kind(many)[0] == insert_batches(Prospect, 200) + insert_batches(ConnectionRequest, 200)


# --- CSV: reading ----------------------------------------------------------------------------------


def test_read_csv_with_bom_semicolons_and_quoted_values():
    data = '\ufeffFirst Name;LinkedIn URL;Company\n"Doe; Jane";linkedin.com/in/jane;"ACME, Inc"\n'.encode()
    table = read_csv(data)
    assert table.headers == ["First Name", "LinkedIn URL", "Company"]
    assert table.rows == [CsvRow(2, ["Doe; Jane", "linkedin.com/in/jane", "ACME, Inc"])]


def test_read_csv_with_commas_tabs_and_windows_encodings():
    table = read_csv(b'Name,Profile,Company\n"Lovelace, Ada",linkedin.com/in/ada,"Babbage, Ltd"\n')
    assert table.rows[0].cells == ["Lovelace, Ada", "linkedin.com/in/ada", "Babbage, Ltd"]
    assert read_csv(b"Name\tURL\nAda\tlinkedin.com/in/ada\n").headers == ["Name", "URL"]
    assert read_csv("Name;URL\nJos\u00e9 \u2013 \u20ac;x\n".encode("cp1252")).rows[0].cells[0] == "Jos\u00e9 \u2013 \u20ac"
    assert read_csv("Name;URL\nFran\u00e7ois;x\n".encode("utf-16")).rows[0].cells[0] == "Fran\u00e7ois"


def test_read_csv_skips_blank_rows_but_keeps_spreadsheet_row_numbers():
    table = read_csv(b"URL,Name\n\nlinkedin.com/in/a,A\n,\nlinkedin.com/in/b,B\n")
    assert [row.number for row in table.rows] == [3, 5]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"URL,Name\n", "no rows of prospects"),
        (b"PK\x03\x04rest-of-a-zip", "Excel"),
        (b"URL\n" + b"linkedin.com/in/someone\n" * 5001, "more than 5,000 rows"),
    ],
)
def test_read_csv_refuses_what_it_cannot_use(data, reason):
    with pytest.raises(CsvError, match=reason):
        read_csv(data)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["LinkedIn URL", "First Name", "Last Name", "Company", "Job Title"],
         {"profile_url": 0, "first_name": 1, "last_name": 2, "company": 3, "title": 4}),
        (["linkedin_url", "first_name", "company_name", "headline", "location"],
         {"profile_url": 0, "first_name": 1, "company": 2, "headline": 3, "location": 4}),
        (["Name", "Profile", "URN", "Title"], {"full_name": 0, "profile_url": 1, "profile_urn": 2, "title": 3}),
        (["Person Linkedin Url", "Company Linkedin Url", "Email"], {"profile_url": 0}),
        (["Email", "Phone"], {}),
    ],
)
def test_guess_mapping_from_header_names(headers, expected):
    mapping = guess_mapping(headers)
    assert {name: index for name, index in mapping.items() if index is not None} == expected


def test_guess_mapping_from_values_when_the_headers_say_nothing():
    mapping = guess_mapping(["Col A", "Col B"], rows(["Ada", "https://www.linkedin.com/in/ada"]))
    assert mapping["profile_url"] == 1


def test_rows_to_prospects_checks_each_row_and_a_bad_row_does_not_sink_the_good():
    mapping = {"profile_url": 0, "profile_urn": 1, "full_name": 2, "company": 3}
    valid, rejected = rows_to_prospects(
        rows(
            ["https://www.linkedin.com/in/ada/", "", "Ada King Lovelace", "Analytical"],
            ["", "", "Nobody"],
            ["https://example.com/in/x", "", "Wrong host"],
            ["linkedin.com/in/ADA", "", "Again"],
            ["", "ACoAAB12345"],  # a short row: the missing cells are empty
            ["linkedin.com/in/grace", "not an urn!"],
            [f"{URN}ACoAAB12345", "", "URN in the URL column"],
        ),
        mapping,
    )
    assert [(e.number, e.url, e.urn, e.first_name, e.last_name, e.company) for e in valid] == [
        (2, "https://www.linkedin.com/in/ada", None, "Ada", "King Lovelace", "Analytical"),
        (6, None, f"{URN}ACoAAB12345", "", "", ""),
    ]
    assert [(r.number, r.reason.split(":")[0]) for r in rejected] == [
        (3, "No profile URL or URN."),
        (4, "Invalid profile"),
        (5, "Duplicate of row 2 in this file."),
        (7, "Invalid profile"),
        (8, "Duplicate of row 6 in this file."),
    ]


# --- CSV: upload, mapping, preview, import --------------------------------------------------------


def test_upload_page_has_the_labelled_file_input(owner_client, campaign):
    html = html_of(owner_client.get(import_url(campaign)))
    assert re.search(r'<label for="id_csv_file">CSV file</label>', html)
    assert re.search(r'<input type="file" name="csv_file"[^>]*id="id_csv_file"', html)
    assert 'enctype="multipart/form-data"' in html


def test_an_oversized_file_is_refused(owner_client, campaign):
    big = b"URL\n" + b"https://www.linkedin.com/in/someone-with-a-long-name\n" * 45_000
    assert len(big) > 2 * 1024 * 1024
    response = owner_client.post(import_url(campaign), {"csv_file": csv_file(big)})
    assert response.status_code == 200
    assert "at most 2 MB" in html_of(response)
    assert importing.MAX_CSV_BYTES == 2 * 1024 * 1024


def test_a_file_with_too_many_rows_is_refused(owner_client, campaign):
    data = "URL\n" + "".join(f"linkedin.com/in/p{i}\n" for i in range(5001))
    response = owner_client.post(import_url(campaign), {"csv_file": csv_file(data)})
    assert response.status_code == 200
    assert "The file has more than 5,000 rows" in html_of(response)


PEOPLE_CSV = (
    "\ufeffFirst Name;Last Name;LinkedIn URL;Company;Job Title\n"
    "Ada;Lovelace;https://www.linkedin.com/in/ada/;Analytical;Engineer\n"
    "No;Url;;Nowhere;\n"
    "Bad;Host;https://example.com/in/bad;X;Y\n"
    "Ada;Again;linkedin.com/in/ada;Analytical;Engineer\n"
    'Grace;Hopper;https://uk.linkedin.com/in/grace;"Navy, US";Admiral\n'
    "Member;Known;https://www.linkedin.com/in/member;M;M\n"
    "<script>alert(1)</script>;Evil;linkedin.com/in/evil;E;E\n"
)


def test_mapping_is_guessed_and_the_preview_shows_each_rows_status(owner_client, campaign):
    member = Prospect.objects.create(profile_url="https://www.linkedin.com/in/member")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=member)
    step2 = upload(owner_client, campaign, PEOPLE_CSV)

    response = owner_client.get(step2)

    html = html_of(response)
    assert response.status_code == 200
    assert re.search(r'<option value="2" selected>LinkedIn URL</option>', html)
    assert re.search(r'<option value="0" selected>First Name</option>', html)
    assert re.search(r'<option value="4" selected>Job Title</option>', html)
    assert re.search(r"<button[^>]*>Preview</button>", html)
    statuses = re.findall(r"<tr class=\"prospects-row-(\w+)\">\s*<td>(\d+)</td>", html)
    # Every row that will not be added, then a sample of those that will.
    assert statuses == [
        ("rejected", "3"), ("rejected", "4"), ("rejected", "5"), ("rejected", "7"), ("ok", "2"), ("ok", "6"), ("ok", "8"),
    ]
    assert "No profile URL or URN." in html
    assert "not a linkedin.com address" in html
    assert "Duplicate of row 2 in this file." in html
    assert "Already in this campaign." in html
    assert tally_of(html) == {
        "Will be added": 3, "Already in this campaign": 1, "Repeat an earlier row": 1, "Refused": 2,
        "On the do-not-contact list": 0,
    }
    assert re.search(r"<button[^>]*>Import 3 prospects</button>", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert not Prospect.objects.exclude(pk=member.pk).exists()  # a preview writes nothing


def test_preview_with_another_mapping_and_as_an_htmx_partial(owner_client, campaign):
    step2 = upload(owner_client, campaign, PEOPLE_CSV)
    chosen = {"profile_url": "2", "full_name": "3", "preview": "1"}  # a silly choice, to see it applied

    response = owner_client.get(step2, chosen, HTTP_HX_REQUEST="true")

    html = html_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="import-preview"')
    assert "<html" not in html
    assert "<td>Analytical</td>" in html  # the company column, now read as the first name


def test_a_mapping_without_a_profile_column_says_what_is_missing(owner_client, campaign):
    step2 = upload(owner_client, campaign, "Name,Email\nAda,ada@example.com\n")

    first_visit = html_of(owner_client.get(step2))
    assert "Import " not in first_visit.split("Preview of the import")[-1]  # nothing guessed, no preview

    response = owner_client.get(step2, {"full_name": "0", "profile_url": "", "preview": "1"})
    assert "Choose the column that holds the profile URL or the profile URN" in html_of(response)


def test_import_creates_reuses_fills_and_lists_every_rejected_row(owner_client, campaign):
    member = Prospect.objects.create(profile_url="https://www.linkedin.com/in/member")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=member)
    # Known elsewhere: its empty fields are filled, its own values kept.
    grace = Prospect.objects.create(profile_url="https://www.linkedin.com/in/grace", first_name="Amazing Grace")
    step2 = upload(owner_client, campaign, PEOPLE_CSV)
    mapping = {"profile_url": "2", "first_name": "0", "last_name": "1", "company": "3", "title": "4"}

    response = owner_client.post(step2, mapping)

    assert response.status_code == 302
    assert response["Location"] == step2
    assert messages_of(response) == [
        "Added 3 prospects; 1 already in this campaign; 1 row repeated an earlier row and was merged; 2 rows refused."
    ]
    grace.refresh_from_db()
    assert (grace.first_name, grace.last_name, grace.company, grace.title) == ("Amazing Grace", "Hopper", "Navy, US", "Admiral")
    ada = Prospect.objects.get(profile_url="https://www.linkedin.com/in/ada")
    assert (ada.first_name, ada.last_name, ada.company) == ("Ada", "Lovelace", "Analytical")
    assert Prospect.objects.get(profile_url="https://www.linkedin.com/in/evil").first_name == "<script>alert(1)</script>"
    assert Prospect.objects.count() == 4
    notes = dict(ConnectionRequest.objects.filter(campaign=campaign, state="queued").values_list("prospect__profile_url", "note"))
    assert notes["https://www.linkedin.com/in/grace"] == "Hello Amazing Grace"

    result = html_of(owner_client.get(step2))
    rejected_rows = re.findall(r"<tr><td>(\d+)</td>", result)
    assert rejected_rows == ["3", "4", "5", "7"]
    assert "Already in this campaign." in result and "Duplicate of row 2 in this file." in result
    # A second click on Import changes nothing.
    assert owner_client.post(step2, mapping).status_code == 302
    assert ConnectionRequest.objects.filter(campaign=campaign).count() == 4


def test_an_import_without_rejections_goes_back_to_the_campaign(owner_client, campaign):
    step2 = upload(owner_client, campaign, "URN,Name\nACoAAB12345,Ada Lovelace\n")

    response = owner_client.post(step2, {"profile_urn": "0", "full_name": "1"})

    assert response["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert messages_of(response) == ["Added 1 prospect."]
    prospect = Prospect.objects.get()
    assert (prospect.profile_urn, prospect.first_name, prospect.last_name) == (f"{URN}ACoAAB12345", "Ada", "Lovelace")
    assert "prospect_import" not in owner_client.session  # the upload is cleared
    assert owner_client.get(step2).status_code == 404


def test_a_row_whose_urn_and_url_name_two_known_prospects_is_rejected(owner_client, campaign):
    Prospect.objects.create(profile_urn=f"{URN}ACoAAOne")
    Prospect.objects.create(profile_url="https://www.linkedin.com/in/two")
    url_only = Prospect.objects.create(profile_url="https://www.linkedin.com/in/three")
    step2 = upload(
        owner_client, campaign,
        "URN,URL\nACoAAOne,linkedin.com/in/two\nACoAAThree,linkedin.com/in/three\n",
    )

    response = owner_client.post(step2, {"profile_urn": "0", "profile_url": "1"}, follow=True)

    html = html_of(response)
    assert "Added 1 prospect; 1 row refused." in html
    assert "two different known prospects" in html
    url_only.refresh_from_db()
    assert url_only.profile_urn == f"{URN}ACoAAThree"  # the URN it lacked is learned
    assert Prospect.objects.count() == 3


def test_an_unknown_or_expired_token_says_so_and_links_to_step_one(owner_client, campaign, owner):
    url = reverse("prospects_import_map", args=[campaign.pk, "no-such-token"])

    response = owner_client.get(url)

    html = html_of(response)
    assert response.status_code == 404
    assert "This upload is no longer available" in html
    assert f'href="{import_url(campaign)}"' in html
    assert owner_client.post(url, {"profile_url": "0"}).status_code == 404
    assert owner_client.get(reverse("prospects_import_map", args=[campaign.pk, "é"])).status_code == 404

    # A token belongs to its campaign.
    step2 = upload(owner_client, campaign, "URL\nlinkedin.com/in/ada\n")
    other = Campaign.objects.create(name="Other", owner=owner)
    token = step2.rstrip("/").rsplit("/", 1)[-1]
    assert owner_client.get(reverse("prospects_import_map", args=[other.pk, token])).status_code == 404

    # And it expires.
    PendingUpload.objects.filter(key=token).update(created_at=timezone.now() - dt.timedelta(days=2))
    assert owner_client.get(step2).status_code == 404


def people_csv(count: int, offset: int) -> str:
    return "LinkedIn URL,First Name,Company\n" + "".join(
        f"https://www.linkedin.com/in/person-{offset + i},P{i},C{i}\n" for i in range(count)
    )


def import_queries(client, campaign, count: int, offset: int) -> tuple[list[dict], list[dict]]:
    step2 = upload(client, campaign, people_csv(count, offset))
    with CaptureQueriesContext(connection) as preview:
        assert client.get(step2).status_code == 200
    preview_queries = list(preview.captured_queries)  # before the next request resets the log
    with CaptureQueriesContext(connection) as imported:
        assert client.post(step2, {"profile_url": "0", "first_name": "1", "company": "2"}).status_code == 302
    return preview_queries, list(imported.captured_queries)


def test_preview_and_import_queries_do_not_grow_with_rows(owner_client, campaign):
    Sender.get()  # created on the first page otherwise
    few_preview, few_import = import_queries(owner_client, campaign, 10, 0)
    many_preview, many_import = import_queries(owner_client, campaign, 200, 1000)

    assert ConnectionRequest.objects.filter(campaign=campaign).count() == 210
    assert len(few_preview) == len(many_preview)
    assert queries_by_kind(few_import)[1] == queries_by_kind(many_import)[1]
    assert queries_by_kind(few_import)[0] == 2
    assert queries_by_kind(many_import)[0] == insert_batches(Prospect, 200) + insert_batches(ConnectionRequest, 200)
