"""The CSV import's preview checks every row before anything is imported: the counts, every
row that will not be added (to a cap, then "and N more"), the rows whose note lacks a value,
and all of them as a CSV to fix; at a cost that does not grow with the file."""

import codecs
import csv
import io
import re

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.donotcontact import add_entries
from campaigns.importing import PREVIEW_LISTED_ROWS
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Q4 founders", Campaign.State.DRAFT, note_template="Hello {first_name|there}")


def upload(client, campaign, text: str) -> str:
    """Upload a CSV; the URL of step 2."""
    data = SimpleUploadedFile("people.csv", text.encode("utf-8"), content_type="text/csv")
    response = client.post(reverse("prospects_import", args=[campaign.pk]), {"csv_file": data})
    assert response.status_code == 302, response.content.decode()
    return response["Location"]


def tally_of(html: str) -> dict[str, int]:
    return {label: int(count) for label, count in re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html)}


def listed(html: str, kind: str) -> list[tuple[int, str]]:
    """(row, last cell) of the rows listed as `kind`: rejected, warned or ok."""
    rows = re.findall(rf'<tr class="prospects-row-{kind}">\s*<td>(\d+)</td>(.*?)</tr>', html, re.DOTALL)
    return [(int(number), re.findall(r"<td>(.*?)</td>", cells, re.DOTALL)[-1]) for number, cells in rows]


def problems_csv_url(html: str) -> str:
    return re.search(r'<a href="([^"]+)" download>', html).group(1).replace("&amp;", "&")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_every_problem_row_is_shown_before_importing_even_far_down_the_file(owner_client, campaign, owner):
    member = Prospect.objects.create(profile_url="https://www.linkedin.com/in/member")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=member)
    add_entries(["Initech"], owner, "A customer")
    lines = [f"https://www.linkedin.com/in/person-{i},P{i},Acme" for i in range(40)]
    lines[25] = "https://example.com/in/bad,Bad,Acme"  # row 27
    lines[30] = "https://www.linkedin.com/in/person-0,Again,Acme"  # row 32: repeats row 2
    lines[33] = "https://www.linkedin.com/in/member,Member,Acme"  # row 35
    lines[36] = "https://www.linkedin.com/in/initech-person,Ini,Initech"  # row 38: a blocked company
    lines[38] = "https://www.linkedin.com/sales/lead/ACwAAAB1c2Q,NAME_SEARCH,x7Yz,Sal,Acme"  # row 40
    step2 = upload(owner_client, campaign, "LinkedIn URL,First Name,Company\n" + "\n".join(lines) + "\n")

    html = owner_client.get(step2).content.decode()

    assert tally_of(html) == {
        "Will be added": 35, "Already in this campaign": 1, "Repeat an earlier row": 1, "Refused": 2,
        "On the do-not-contact list": 1,
    }
    problems = listed(html, "rejected")
    assert [number for number, _ in problems] == [27, 32, 35, 38, 40]
    reasons = dict(problems)
    assert "not a linkedin.com address" in reasons[27]
    assert reasons[32] == '<span class="prospects-bad">Duplicate of row 2 in this file.</span>'
    assert "Already in this campaign." in reasons[35]
    assert "On the do-not-contact list (company “Initech”: A customer)." in reasons[38]
    assert "Sales Navigator link; open the lead&#x27;s LinkedIn profile" in reasons[40]
    assert len(listed(html, "ok")) == 10  # a sample of the good rows
    assert re.search(r"<button[^>]*>Import 35 prospects</button>", html)
    assert not Prospect.objects.exclude(pk=member.pk).exists()  # a preview writes nothing


def test_past_the_cap_the_rest_are_counted_and_the_csv_has_them_all(owner_client, campaign):
    bad = PREVIEW_LISTED_ROWS + 20
    lines = [f"not a profile {i},=HYPERLINK(\"x\"),Acme" for i in range(bad)] + ["linkedin.com/in/ada,Ada,Acme"]
    step2 = upload(owner_client, campaign, "LinkedIn URL,First Name,Company\n" + "\n".join(lines) + "\n")

    html = owner_client.get(step2, {"profile_url": "0", "first_name": "1", "company": "2", "preview": "1"}).content.decode()

    assert len(listed(html, "rejected")) == PREVIEW_LISTED_ROWS
    assert "… and 20 more (the first 500 are listed; the CSV has them all)." in html
    response = owner_client.get(problems_csv_url(html))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Row", "Problem", "LinkedIn URL", "First Name", "Company"]
    assert len(rows) == 1 + bad
    assert rows[1][0] == "2" and "neither a LinkedIn profile URL nor a profile URN" in rows[1][1]
    assert rows[1][2:] == ["not a profile 0", "'=HYPERLINK(\"x\")", "Acme"]  # as the file had it, formula-safe


def test_a_row_the_note_cannot_fill_is_warned_not_ok(owner_client, make_campaign):
    campaign = make_campaign("Needs company", Campaign.State.DRAFT, note_template="Hi {first_name|there} at {company}")
    Prospect.objects.create(profile_url="https://www.linkedin.com/in/known", company="Hooli")
    step2 = upload(owner_client, campaign, (
        "LinkedIn URL,Profile URN,First Name,Company\n"
        "linkedin.com/in/ada,,Ada,Analytical\n"  # 2: has a company
        "linkedin.com/in/grace,,Grace,\n"  # 3: a look-up will try
        ",ACoAAB12345,Urn,\n"  # 4: known by URN, never looked up
        "linkedin.com/in/known,,Known,\n"  # 5: the known prospect has one
    ))

    html = owner_client.get(step2).content.decode()

    assert tally_of(html)["Will be added"] == 4
    assert "The note needs {company} (no fallback)" not in html  # that is the paste page's wording
    warned = dict(listed(html, "warned"))
    assert list(warned) == [3, 4]
    assert warned[3] == (
        "The note needs {company}: a LinkedIn look-up will try to fill it; if it can&#x27;t, this prospect will be skipped."
    )
    assert warned[4] == (
        "The note needs {company} and nothing will fill it (a profile known by its URN is not looked up): "
        "give {company} a fallback, or this prospect&#x27;s note can&#x27;t be sent."
    )
    assert "1 row to add without {company}, which the note needs: a LinkedIn look-up will try to fill it; " in html
    assert [number for number, _ in listed(html, "ok")] == [2, 5]

    response = owner_client.post(step2, {"profile_url": "0", "profile_urn": "1", "first_name": "2", "company": "3"})
    assert messages_of(response) == [
        "Added 4 prospects.",
        "1 prospect added without {company}, which the note needs: a LinkedIn look-up will try to fill it; "
        "those it can't fill will be skipped.",
        "1 prospect added without {company}, which the note needs, and nothing will fill it "
        "(a profile known by its URN is not looked up): give {company} a fallback, or their notes can't be sent.",
    ]


def preview_queries(client, campaign, count: int, offset: int) -> tuple[int, int]:
    rows = "".join(
        f"https://www.linkedin.com/in/person-{offset + i},P{i},{'' if i % 3 else 'Initech'}\n" for i in range(count)
    )
    rows += "not a profile,X,Y\n" * (count // 10)
    step2 = upload(client, campaign, "LinkedIn URL,First Name,Company\n" + rows)
    with CaptureQueriesContext(connection) as page:
        html = client.get(step2).content.decode()
    page_count = len(page.captured_queries)
    with CaptureQueriesContext(connection) as download:
        assert client.get(problems_csv_url(html)).status_code == 200
    return page_count, len(download.captured_queries)


def test_the_preview_and_its_csv_cost_the_same_queries_for_any_size(owner_client, make_campaign, owner):
    campaign = make_campaign("Needs company", Campaign.State.DRAFT, note_template="Hi {company}")
    add_entries(["Initech"], owner)
    for known in ("person-0", "person-5000"):
        Prospect.objects.create(profile_url=f"https://www.linkedin.com/in/{known}")
    Sender.get()

    assert preview_queries(owner_client, campaign, 10, 0) == preview_queries(owner_client, campaign, 2000, 5000)


def test_the_rows_to_fix_are_the_uploaders_own(owner_client, campaign):
    step2 = upload(owner_client, campaign, "LinkedIn URL\nnot a profile\nlinkedin.com/in/ada\n")
    url = problems_csv_url(owner_client.get(step2).content.decode())

    client = Client()
    client.force_login(User.objects.create_user("bob"))
    assert client.get(url).status_code == 403  # not a campaign he may change
    staff = User.objects.create_user("root", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 404  # nor another person's upload, even for an admin

    token = step2.rstrip("/").rsplit("/", 1)[-1]
    gone = reverse("prospects_import_problems", args=[campaign.pk, "no-such-token"]) + "?profile_url=0"
    assert owner_client.get(gone).status_code == 404
    bad_mapping = reverse("prospects_import_problems", args=[campaign.pk, token]) + "?profile_url="
    assert owner_client.get(bad_mapping)["Location"] == step2
    assert owner_client.post(url).status_code == 405


# --- In a browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_the_paste_result_and_the_preview_fit_the_screen_and_pass_axe(browser, live_server, viewport):
    from tests.test_browser_pages import axe_problems, new_context, overflow_problem

    owner = User.objects.create_user("maya", password="a long enough password")
    campaign = Campaign.objects.create(name="Needs company", owner=owner, note_template="Hi {first_name|there} at {company}")
    context = new_context(browser, viewport)
    page = context.new_page()
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()

    # A paste, part refused: the refused lines stay in the box, alone.
    page.goto(live_server.url + reverse("prospects_add", args=[campaign.pk]))
    sales_lead = "https://www.linkedin.com/sales/lead/ACwAAAB1c2Q" + "x" * 60 + ",NAME_SEARCH,x7Yz"
    page.get_by_label("Profiles").fill(f"linkedin.com/in/ada\nnot a profile\n{sales_lead}\n")
    page.get_by_role("button", name="Add prospects").click()
    assert page.get_by_text("Added 1 prospect; 2 lines refused.").is_visible()
    assert page.get_by_label("Profiles").input_value() == f"not a profile\n{sales_lead}"
    problems = [f"paste: {problem}" for problem in [overflow_problem(page), *axe_problems(page)] if problem]

    # A CSV's preview with refused rows, a long URN, and rows whose note lacks {company}.
    long_urn = "urn:li:fsd_profile:ACoAAB" + "x7Qz" * 6 + "LongUrnEnd1"
    rows = [f"linkedin.com/in/person-{i},P{i}," for i in range(30)] + ["https://example.com/in/x,Bad,", f",Long,{long_urn}"]
    step2 = upload_as(page, live_server, campaign, "LinkedIn URL,First Name,URN\n" + "\n".join(rows) + "\n")
    page.goto(step2)
    assert page.get_by_role("heading", name="1 row will not be added").is_visible()
    problems += [f"preview: {problem}" for problem in [overflow_problem(page), *axe_problems(page)] if problem]
    context.close()

    found = [problem for problem in problems if problem]
    assert found == [], "\n".join(found)


def upload_as(page, live_server, campaign, text: str) -> str:
    page.goto(live_server.url + reverse("prospects_import", args=[campaign.pk]))
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/prospects/import/*/")
    return page.url
