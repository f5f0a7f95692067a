"""Untrusted text stays text: every user-supplied string, and everything OutX answers, is
escaped on every page that shows it; and imports stay within their size limits.

The payload is in every string a person or OutX can set: campaign name, note template, a
prospect's names, company, title, headline and location, CSV headers, cells and file name, the
OutX task output and errors, the sandbox's delivery log. Each page must show it escaped and
never as markup: no script, no event-handler attribute, no image.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from campaigns import importing, outx
from campaigns.importing import MAX_CSV_BYTES, MAX_CSV_COLUMNS, MAX_CSV_ROWS, read_csv
from api.models import ApiToken
from campaigns.models import (
    Campaign, ConnectionRequest, DoNotContact, Event, ProfileSearch, Prospect, SearchResult, Sender, TaskState,
)
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="alert(1)'
IMAGE = "'><img src=x onerror=alert(1)>"
PAYLOAD = f"{SCRIPT} {ATTRIBUTE} {IMAGE}"
URN = "urn:li:fsd_profile:ACoAAEscape{}"

State = ConnectionRequest.State


# --- What a page must and must not contain ----------------------------------------------------


class Markup(HTMLParser):
    """The elements and script texts of a page, as a browser would build them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def assert_no_live_payload(html: str) -> None:
    assert SCRIPT not in html
    assert 'onmouseover="alert(1)' not in html
    assert "<img src=x" not in html
    markup = Markup(html)
    for tag, attributes in markup.elements:
        assert not {"onmouseover", "onerror"} & set(attributes), (tag, attributes)
        assert not (tag == "img" and attributes.get("src") == "x")
    assert not [script for script in markup.scripts if "alert(1)" in script]


def assert_escaped(html: str, text: str = PAYLOAD) -> None:
    """`text` is on the page, escaped, and nothing of the payload is live markup."""
    assert_no_live_payload(html)
    assert escape(text) in html


def page(client: Client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code in (200, 286), f"{url} answered {response.status_code}"
    return response.content.decode()


# --- A world full of payloads -----------------------------------------------------------------


def payload_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["LinkedIn URL", "First name", "Last name", "Company", "Title", "Headline", "Location", PAYLOAD])
    writer.writerow(["https://www.linkedin.com/in/csv-one", f"F{PAYLOAD}", f"L{PAYLOAD}", PAYLOAD, PAYLOAD,
                     PAYLOAD, PAYLOAD, PAYLOAD])
    writer.writerow([f"not a profile {PAYLOAD}", "Bad", "Row", PAYLOAD, "", "", "", ""])
    return out.getvalue().encode()


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(User.objects.create_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def campaign(db):
    """An active campaign whose every string carries the payload, with a request in each kind of row."""
    owner = User.objects.create_user("ada")
    campaign = Campaign.objects.create(
        name=f"Campaign {PAYLOAD}", owner=owner, state=Campaign.State.ACTIVE,
        note_template=f"Hi {{first_name}} {PAYLOAD}", paused_cause=f"Paused: {PAYLOAD}",
    )

    def prospect(number: int, **fields) -> Prospect:
        details = {
            "first_name": f"F{PAYLOAD}", "last_name": f"L{PAYLOAD}", "company": PAYLOAD, "title": PAYLOAD,
            "headline": PAYLOAD, "location": PAYLOAD, "profile_urn": URN.format(number),
        }
        return Prospect.objects.create(**{**details, **fields})

    now = timezone.now()
    sent = ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, prospect=prospect(1), state=State.SENT, outx_task_id="task-1",
        submitted_at=now - dt.timedelta(hours=1), completed_at=now,
        task_output={"sent": True, "message": PAYLOAD, PAYLOAD: [PAYLOAD]}, last_error=PAYLOAD,
    )
    Event.objects.create(connection_request=sent, campaign=campaign, from_state=State.PENDING, to_state=State.SENT,
                         cause=f"OutX said {PAYLOAD}", at=now)
    ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, prospect=prospect(2), state=State.UNCERTAIN, submitted_at=now, last_error=PAYLOAD,
    )
    # Known only by URL, its look-up failed with OutX's words: the row says so as why it waits.
    ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, state=State.QUEUED,
        prospect=prospect(3, profile_urn=None, profile_url="https://www.linkedin.com/in/escape-three",
                          company="", lookup_error=f"OutX could not read the profile: {PAYLOAD}"),
    )
    campaign.render_queued_notes()
    sent.note = f"Hi F{PAYLOAD} {PAYLOAD}"
    sent.save()

    account = Sender.get()
    account.name = f"Sender {PAYLOAD}"  # on the campaign page, Home, Review and the banner
    account.save()
    account.set_state(Sender.State.PAUSED, f"Paused by {PAYLOAD}")
    campaign.senders.add(account)

    from outx_sandbox.models import Delivery, SandboxTask

    task = SandboxTask.objects.create(
        task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST, task_input={"profile_urn": URN.format(1)},
        status=SandboxTask.Status.COMPLETED, task_output={"sent": True}, created_at=now, complete_after=now,
    )
    Delivery.objects.create(task=task, profile_urn=URN.format(1), note=f"Hi F{PAYLOAD}\n{PAYLOAD}", delivered_at=now)

    # Issue 12: what a person types into the do-not-contact list, a webhook and a token's name,
    # what OutX's search answers, and what a webhook's receiver answers.
    DoNotContact.objects.create(
        kind=DoNotContact.Kind.COMPANY, value=PAYLOAD, company_name=PAYLOAD, company_key="payload", reason=PAYLOAD,
        added_by=owner,
    )
    search = ProfileSearch.objects.create(
        sender=account, requested_by=owner, keywords=PAYLOAD, title=PAYLOAD, state=TaskState.SENT,
        task_output={"total": 1, "note": PAYLOAD},
    )
    SearchResult.objects.create(
        search=search, position=0, profile_urn=URN.format(7), first_name=f"F{PAYLOAD}", last_name=f"L{PAYLOAD}",
        headline=PAYLOAD, company=PAYLOAD, title=PAYLOAD, location=PAYLOAD,
    )
    endpoint = WebhookEndpoint(url=f"https://hooks.example.com/{PAYLOAD}", description=PAYLOAD, events=["invitation.sent"])
    endpoint.set_new_secret()
    endpoint.save()
    message = WebhookMessage.objects.create(type="invitation.sent", payload={"type": "invitation.sent", "data": {}})
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message=message, state=WebhookDelivery.State.FAILED, attempt_count=1, last_error=PAYLOAD,
    )
    WebhookAttempt.objects.create(delivery=delivery, at=now, status_code=500, error=PAYLOAD)
    ApiToken.issue(User.objects.get(username="root"), PAYLOAD, 30)
    return campaign


def the_search() -> ProfileSearch:
    return ProfileSearch.objects.get()


def the_endpoint() -> WebhookEndpoint:
    return WebhookEndpoint.objects.get()


def sent_request(campaign: Campaign) -> ConnectionRequest:
    return campaign.requests.get(state=State.SENT)


# --- Every page that shows them ---------------------------------------------------------------


PAGES = {
    "home": lambda c: reverse("home"),
    "campaign list": lambda c: reverse("campaign_list"),
    "campaign page": lambda c: reverse("campaign_detail", args=[c.pk]),
    "campaign edit": lambda c: reverse("campaign_edit", args=[c.pk]),
    "review": lambda c: reverse("review"),
    "request detail": lambda c: reverse("request_detail", args=[sent_request(c).pk]),
    "note preview": lambda c: reverse("note_preview", args=[c.pk]),
    "senders": lambda c: reverse("sender_list"),
    "sender page": lambda c: reverse("sender_detail", args=[Sender.get().pk]),
    "sandbox control page": lambda c: reverse("outx_sandbox:control"),
    "admin campaigns": lambda c: reverse("admin:campaigns_campaign_changelist"),
    "admin requests": lambda c: reverse("admin:campaigns_connectionrequest_changelist"),
    "admin prospects": lambda c: reverse("admin:campaigns_prospect_changelist"),
    "admin events": lambda c: reverse("admin:campaigns_event_changelist"),
    "admin deliveries": lambda c: reverse("admin:outx_sandbox_delivery_changelist"),
    "admin prospect form": lambda c: reverse("admin:campaigns_prospect_change", args=[sent_request(c).prospect_id]),
    "admin request form": lambda c: reverse("admin:campaigns_connectionrequest_change", args=[sent_request(c).pk]),
    "do-not-contact list": lambda c: reverse("do_not_contact"),
    "search page": lambda c: reverse("search_detail", args=[the_search().pk]),
    "search status": lambda c: reverse("search_status", args=[the_search().pk]),
    "webhooks": lambda c: reverse("webhook_list"),
    "webhook page": lambda c: reverse("webhook_detail", args=[the_endpoint().pk]),
    "account": lambda c: reverse("account"),
    "admin do-not-contact": lambda c: reverse("admin:campaigns_donotcontact_changelist"),
    "admin searches": lambda c: reverse("admin:campaigns_profilesearch_change", args=[the_search().pk]),
}


@pytest.mark.parametrize("name", PAGES)
def test_each_page_shows_the_payload_escaped(staff_client, campaign, name):
    assert_escaped(page(staff_client, PAGES[name](campaign)))


def test_the_campaign_page_shows_every_field_escaped_in_text_and_attributes(staff_client, campaign):
    html = page(staff_client, reverse("campaign_detail", args=[campaign.pk]))

    for text in (campaign.name, campaign.note_template, campaign.paused_cause, f"F{PAYLOAD} L{PAYLOAD}",
                 f"OutX could not read the profile: {PAYLOAD}", f"Sender {PAYLOAD}"):
        assert_escaped(html, text)
    # The prospect's name is in the action buttons' labels too: an attribute, escaped.
    assert f'aria-label="Retry {escape(f"F{PAYLOAD} L{PAYLOAD}")}"' in html


def test_the_live_status_partial_escapes_as_the_page_does(staff_client, campaign):
    html = page(staff_client, reverse("campaign_status", args=[campaign.pk]), HTTP_HX_REQUEST="true")

    assert 'id="campaign-status"' in html and "<html" not in html
    assert_escaped(html, f"F{PAYLOAD} L{PAYLOAD}")


def test_the_request_detail_escapes_the_prospect_note_error_output_and_history(staff_client, campaign):
    html = page(staff_client, reverse("request_detail", args=[sent_request(campaign).pk]))

    for text in (f"F{PAYLOAD}", f"L{PAYLOAD}", f"Hi F{PAYLOAD} {PAYLOAD}", f"OutX said {PAYLOAD}", campaign.name):
        assert_escaped(html, text)
    for label in ("Company", "Title", "Headline", "Location", "Last error"):
        assert f"<dt>{label}</dt><dd>{escape(PAYLOAD)}</dd>" in html, label
    assert escape('"message": ') in html  # the task output, as JSON text


def test_the_review_escapes_its_search_box_and_results(staff_client, campaign):
    response = staff_client.get(reverse("review"), {"q": PAYLOAD})
    html = response.content.decode()

    assert f'value="{escape(PAYLOAD)}"' in html
    assert_escaped(html, f"F{PAYLOAD} L{PAYLOAD}")


def test_the_note_preview_escapes_the_template_being_typed(staff_client, campaign):
    template = f"Hello {{first_name}} {PAYLOAD}"
    url = reverse("note_preview", args=[campaign.pk])

    response = staff_client.get(url, {"note_template": template}, HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 200
    assert_escaped(html, f"Hello F{PAYLOAD} {PAYLOAD}")

    # A variable the editor does not know is named back in the error, escaped.
    response = staff_client.get(reverse("note_preview_new"), {"note_template": f"Hi {{{IMAGE}}}"})
    assert_no_live_payload(response.content.decode())


def test_the_edit_form_keeps_the_values_in_escaped_attributes(staff_client, campaign):
    html = page(staff_client, reverse("campaign_edit", args=[campaign.pk]))

    assert f'value="{escape(campaign.name)}"' in html
    assert_escaped(html, campaign.note_template)


def test_form_errors_that_name_a_prospect_are_escaped(staff_client, campaign):
    # The URL-only prospect has no company: the template cannot render its note.
    response = staff_client.post(
        reverse("campaign_edit", args=[campaign.pk]), {"name": campaign.name, "note_template": "Hi {company}"}
    )

    assert response.status_code == 200
    assert_escaped(response.content.decode(), f"F{PAYLOAD} L{PAYLOAD}")


def test_the_message_after_creating_a_campaign_is_escaped(staff_client, db):
    response = staff_client.post(
        reverse("campaign_create"), {"name": PAYLOAD, "senders": Sender.get().pk, "note_template": f"Hi {PAYLOAD}"},
        follow=True,
    )

    html = response.content.decode()
    assert f"Campaign “{escape(PAYLOAD)}” created." in html
    assert_escaped(html)


def test_rejected_pasted_lines_are_listed_back_escaped(staff_client, campaign):
    text = f"linkedin.com/in/fine-one\n{PAYLOAD}\n"
    response = staff_client.post(reverse("prospects_add", args=[campaign.pk]), {"profiles": text}, follow=True)

    assert_escaped(response.content.decode())


def test_the_csv_import_preview_and_result_escape_headers_cells_and_file_name(staff_client, campaign):
    file_name = f"{IMAGE}.csv"
    upload = SimpleUploadedFile(file_name, payload_csv(), content_type="text/csv")
    response = staff_client.post(reverse("prospects_import", args=[campaign.pk]), {"csv_file": upload})
    assert response.status_code == 302
    step_two = response["Location"]

    html = page(staff_client, step_two)  # the guessed mapping, previewed at once

    assert "Preview" in html
    assert_escaped(html, f"F{PAYLOAD} L{PAYLOAD}")  # a cell
    assert_escaped(html, f"not a profile {PAYLOAD}")  # a rejected row's text
    assert_escaped(html, file_name)
    assert re.search(rf"<option value=\"7\"[^>]*>{re.escape(escape(PAYLOAD))}</option>", html)  # a header

    partial = page(staff_client, step_two + "?profile_url=0&first_name=1", HTTP_HX_REQUEST="true")
    assert_escaped(partial, f"F{PAYLOAD}")

    response = staff_client.post(step_two, {"profile_url": "0", "first_name": "1", "company": "3"}, follow=True)
    html = response.content.decode()
    assert "not imported" in html
    assert_escaped(html, f"not a profile {PAYLOAD}")
    assert Prospect.objects.get(profile_url="https://www.linkedin.com/in/csv-one").company == PAYLOAD


def test_outx_error_text_in_the_connection_test_is_escaped(staff_client, db, monkeypatch, settings):
    settings.OUTX_API_KEY = "a-key-for-the-test"

    def failing_client(api_key=None, **kwargs):
        transport = httpx.MockTransport(lambda request: httpx.Response(500, json={"error": PAYLOAD}))
        return outx.OutxClient("https://outx.test", "a-key-for-the-test", transport=transport)

    monkeypatch.setattr(outx, "get_client", failing_client)
    url = reverse("sender_test_connection", args=[Sender.get().pk])

    partial = staff_client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert_escaped(partial)
    assert_escaped(staff_client.post(url, follow=True).content.decode())


# --- CSV exports ------------------------------------------------------------------------------

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]
# Every column a person or OutX fills; the times, the state and the normalised profile are ours.
EXPORTED_TEXT = ["Campaign", "First name", "Last name", "Company", "Title", "Note", "OutX task id", "Last error"]


def exported_rows(client: Client, **params) -> list[list[str]]:
    response = client.get(reverse("review_export"), params)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_the_review_export_neutralises_formulas_in_every_user_column(staff_client, db, start):
    formula = f"{start}HYPERLINK(\"https://evil.example\",\"x\")"
    owner = User.objects.create_user("ada")
    campaign = Campaign.objects.create(name=f"{formula} campaign", owner=owner, state=Campaign.State.ACTIVE)
    prospect = Prospect.objects.create(
        profile_urn=URN.format(9), first_name=f"{formula} first", last_name=f"{formula} last",
        company=f"{formula} company", title=f"{formula} title",
    )
    ConnectionRequest.objects.create(sender=Sender.get(), 
        campaign=campaign, prospect=prospect, state=State.FAILED, note=f"{formula} note",
        outx_task_id=f"{formula} task", last_error=f"{formula} error", submitted_at=timezone.now(),
    )

    header, row = exported_rows(staff_client)

    cells = dict(zip(header, row, strict=True))
    for column in EXPORTED_TEXT:
        assert cells[column].startswith(f"'{start}HYPERLINK("), column
    # Nothing else in the row starts a formula either.
    assert not [cell for cell in row if cell.startswith(tuple(FORMULA_STARTS))]


def test_the_review_export_is_the_only_csv_the_site_serves(db, settings):
    """A new CSV (or any download) must get the same treatment: this lists them all."""
    from tests.test_login_required import all_pages
    from tests.test_security_permissions import build_world, concrete_url

    settings.OUTX_BASE_URL = "http://127.0.0.1:9"
    world = build_world()
    downloads = set()
    for sample, _ in all_pages():
        response = world.staff_client.get(concrete_url(sample, world))
        content_type = response.get("Content-Type", "")
        if "csv" in content_type or "attachment" in response.get("Content-Disposition", ""):
            downloads.add(response.wsgi_request.resolver_match.view_name)

    assert downloads == {"review_export", "do_not_contact_export"}


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_the_do_not_contact_export_neutralises_formulas(staff_client, db, start):
    formula = f"{start}HYPERLINK(\"https://evil.example\",\"x\")"
    DoNotContact.objects.create(
        kind=DoNotContact.Kind.COMPANY, value=f"{formula} value", company_name="x", company_key="x",
        reason=f"{formula} reason",
    )

    response = staff_client.get(reverse("do_not_contact_export"))
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))

    assert not [cell for cell in row if cell.startswith(tuple(FORMULA_STARTS))]
    assert f"'{start}HYPERLINK(" in "".join(row)


def test_the_api_answers_untrusted_text_as_json_never_as_a_page(staff_client, campaign):
    """The JSON API's answers are application/json: a payload in them is data, not markup."""
    from api.models import ApiToken

    _, raw = ApiToken.issue(User.objects.get(username="root"), "escape", 30)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    for url in (reverse("api:campaigns"), reverse("api:invitations"), reverse("api:do_not_contact")):
        response = staff_client.get(url, **auth)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json"), url
        assert any(PAYLOAD in text for text in strings_in(response.json())), url
        assert response["X-Content-Type-Options"] == "nosniff"


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


# --- Import limits ----------------------------------------------------------------------------
# tests/test_prospect_import.py refuses 1,001 pasted lines, 100 KB + 1 byte, a 2 MB + file and
# 5,001 rows; here: the limits themselves are accepted, and what the limits did not bound.


def profile_lines(count: int) -> str:
    return "".join(f"https://www.linkedin.com/in/limit-{i}\n" for i in range(count))


def test_a_paste_of_exactly_1000_profiles_is_taken_blank_lines_not_counted(staff_client, campaign):
    text = profile_lines(1000).replace("\n", "\n\n", 300)
    assert len(text.encode()) <= importing.MAX_PASTE_BYTES

    response = staff_client.post(reverse("prospects_add", args=[campaign.pk]), {"profiles": text})

    assert response.status_code == 302
    assert Prospect.objects.filter(profile_url__contains="/in/limit-").count() == 1000


def test_a_paste_of_exactly_100_kb_passes_the_size_check():
    assert importing.paste_problems("x" * importing.MAX_PASTE_BYTES) == []
    # Counted in bytes as sent, not characters: 100 KB of “é” is 200 KB.
    assert "KB" in importing.paste_problems("é" * (importing.MAX_PASTE_BYTES // 2 + 1))[0]


def test_a_request_far_over_the_paste_limit_is_refused_before_it_is_read(staff_client, campaign):
    # Django refuses a form body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) without parsing it.
    response = staff_client.post(reverse("prospects_add", args=[campaign.pk]), {"profiles": "x" * 3_000_000})

    assert response.status_code == 400
    assert not Prospect.objects.filter(profile_url__contains="/in/limit-").exists()


def csv_of_exactly(size: int, rows: int) -> bytes:
    """A CSV of `rows` profile rows and exactly `size` bytes, the padding in a company column."""
    header = b"LinkedIn URL,Company\n"
    lines = [f"https://www.linkedin.com/in/size-{i},".encode() for i in range(rows)]
    padding = size - len(header) - sum(len(line) + 1 for line in lines)
    assert padding >= 0
    per_row, extra = divmod(padding, rows)
    body = b"".join(line + b"c" * (per_row + (i < extra)) + b"\n" for i, line in enumerate(lines))
    data = header + body
    assert len(data) == size
    return data


def test_a_csv_of_exactly_2_mb_and_5000_rows_is_taken(staff_client, campaign):
    data = csv_of_exactly(MAX_CSV_BYTES, MAX_CSV_ROWS)

    response = staff_client.post(
        reverse("prospects_import", args=[campaign.pk]), {"csv_file": SimpleUploadedFile("big.csv", data)}
    )

    assert response.status_code == 302
    html = page(staff_client, response["Location"])
    assert "5000 rows" in html


def test_a_csv_one_byte_over_2_mb_is_refused(staff_client, campaign):
    data = csv_of_exactly(MAX_CSV_BYTES + 1, 100)

    response = staff_client.post(
        reverse("prospects_import", args=[campaign.pk]), {"csv_file": SimpleUploadedFile("big.csv", data)}
    )

    assert response.status_code == 200
    assert "at most 2 MB" in response.content.decode()


def test_a_header_with_too_many_columns_is_refused(staff_client, campaign):
    # 4,000 columns named alike fit in 8 KB; naming them apart used to take minutes.
    wide = ("a," * 4000 + "url\n" + "," * 4000 + "linkedin.com/in/ada\n").encode()

    with pytest.raises(importing.CsvError, match=f"4,001 columns; at most {MAX_CSV_COLUMNS}"):
        read_csv(wide)
    response = staff_client.post(
        reverse("prospects_import", args=[campaign.pk]), {"csv_file": SimpleUploadedFile("wide.csv", wide)}
    )
    assert response.status_code == 200
    assert f"at most {MAX_CSV_COLUMNS}" in response.content.decode()

    exactly = ",".join(["url"] + ["a"] * (MAX_CSV_COLUMNS - 1)) + "\nlinkedin.com/in/ada\n"
    assert len(read_csv(exactly.encode()).headers) == MAX_CSV_COLUMNS


def test_headers_named_alike_are_told_apart():
    assert importing.column_names(["a", "a", "a (2)", "", "a", "Column 4"]) == [
        "a", "a (2)", "a (2) (2)", "Column 4", "a (3)", "Column 4 (2)",
    ]
