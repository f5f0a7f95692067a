"""The do-not-contact list: its pages (list, search, paste, CSV import, export, removal), the
one-click add from a row, and the skips it causes at import, at once, and before submission."""

import codecs
import csv
import io

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns import donotcontact
from campaigns.importing import ProfileEntry, plan_batch, save_batch
from campaigns.models import ConnectionRequest, DoNotContact, Event, Prospect
from campaigns.worker import run_tick
from outx_sandbox.models import SandboxTask
from tests.helpers import add_request, words

State = ConnectionRequest.State


@pytest.fixture
def admin(db):
    return User.objects.create_user("grace", is_staff=True)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def entry(value, reason="", user=None):
    result = donotcontact.add_entries([value], user, reason)
    assert result.added, result
    return result.added[0]


# --- The list -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_value_kind_reason_who_and_when(ada_client, ada):
    entry("Acme Corp", "A customer", ada)
    entry("https://www.linkedin.com/in/ada-lovelace", "Asked not to be contacted", ada)

    html = words(ada_client.get(reverse("do_not_contact")).content.decode())

    assert "Acme Corp</td> <td>Company</td> <td>A customer</td> <td>ada</td>" in html
    assert "https://www.linkedin.com/in/ada-lovelace</td> <td>Person</td> <td>Asked not to be contacted</td>" in html
    assert 'aria-current="page">Do not contact</a>' in html
    assert "Remove" not in html  # a member may not remove


@pytest.mark.django_db
def test_the_list_searches_and_pages_by_50(ada_client, ada):
    donotcontact.add_entries([f"Company {i:03d}" for i in range(120)], ada, "Competitor")
    entry("Initech", "Customer", ada)

    html = ada_client.get(reverse("do_not_contact")).content.decode()
    assert html.count('<tr id="dnc-') == 50 and "Page 1 of 3" in html
    last = ada_client.get(reverse("do_not_contact"), {"page": 3}).content.decode()
    assert last.count('<tr id="dnc-') == 21
    found = ada_client.get(reverse("do_not_contact"), {"q": "customer"}).content.decode()
    assert found.count('<tr id="dnc-') == 1 and "Initech" in found and "1 of 121 entries" in words(found)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 80])
def test_the_list_costs_the_same_queries_whatever_its_length(ada_client, ada, count, django_assert_max_num_queries):
    users = [User.objects.create_user(f"user{i}") for i in range(5)]
    for i in range(count):
        donotcontact.add_entries([f"Firm {i}"], users[i % 5], "why")
    with django_assert_max_num_queries(8):
        response = ada_client.get(reverse("do_not_contact"))
    assert response.status_code == 200


# --- Adding by pasting ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_paste_adds_reports_and_keeps_refused_lines_in_the_box(ada_client, ada):
    entry("Initech", "", ada)
    paste = "\n".join([
        "Acme Corp",
        "linkedin.com/in/grace-hopper",
        "https://www.linkedin.com/in/",  # no profile name: refused
        "Initech",  # already there
        "urn:li:member:123",  # not a profile URN: refused
        "linkedin.com/company/globex",
    ])
    response = ada_client.post(reverse("do_not_contact_add"), {"entries": paste, "reason": "Competitors"})

    assert response.status_code == 200
    html = words(response.content.decode())
    assert "Added 3 entries; 1 already on the list; 2 lines refused." in html
    assert "<td>3</td><td class=\"dnc-text\">https://www.linkedin.com/in/</td>" in html
    assert "<td>5</td><td class=\"dnc-text\">urn:li:member:123</td>" in html
    textarea = response.context["form"]["entries"].value()
    assert textarea == "https://www.linkedin.com/in/\nurn:li:member:123"
    assert set(DoNotContact.objects.values_list("value", "kind", "reason")) == {
        ("Initech", "company", ""),
        ("Acme Corp", "company", "Competitors"),
        ("linkedin.com/in/grace-hopper", "profile", "Competitors"),
        ("linkedin.com/company/globex", "company", "Competitors"),
    }
    assert DoNotContact.objects.get(value="Acme Corp").added_by == ada


@pytest.mark.django_db
def test_a_clean_paste_redirects_with_the_summary(ada_client):
    response = ada_client.post(reverse("do_not_contact_add"), {"entries": "Acme\nGlobex\n", "reason": ""}, follow=True)
    assert response.redirect_chain == [(reverse("do_not_contact"), 302)]
    assert "Added 2 entries; 0 already on the list; 0 lines refused." in response.content.decode()


@pytest.mark.django_db
def test_an_empty_paste_is_refused_with_a_clear_error(ada_client):
    response = ada_client.post(reverse("do_not_contact_add"), {"entries": "  \n", "reason": ""})
    assert response.status_code == 400
    assert "Paste at least one profile or company." in response.content.decode()


# --- Adding from a CSV file ----------------------------------------------------------------------------


def upload(client, text, reason="", name="entries.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        reverse("do_not_contact_import"),
        {"csv_file": SimpleUploadedFile(name, data, content_type="text/csv"), "reason": reason},
    )


@pytest.mark.django_db
def test_a_csv_with_bad_rows_keeps_the_good_ones_and_names_the_bad_rows(ada_client, ada):
    text = (
        "LinkedIn URL,Reason\n"
        "https://www.linkedin.com/in/ada,Customer\n"
        "https://www.linkedin.com/sales/lead/ACwAAA,Sales Navigator\n"
        ",empty\n"
        "Globex,\n"
        "urn:li:fsd_profile:ACoAAB12345,Asked\n"
    )
    response = upload(ada_client, text, reason="From the CRM")

    assert response.status_code == 200
    html = words(response.content.decode())
    assert "2 rows of entries.csv refused" in html
    assert "<td>3</td><td class=\"dnc-text\">https://www.linkedin.com/sales/lead/ACwAAA</td><td>" in html
    assert "Sales Navigator address" in html
    assert "<td>4</td><td class=\"dnc-text\">—</td><td>No entry in this row.</td>" in html
    assert dict(DoNotContact.objects.values_list("value", "reason")) == {
        "https://www.linkedin.com/in/ada": "Customer",
        "Globex": "From the CRM",  # its own cell is empty: the form's reason
        "urn:li:fsd_profile:ACoAAB12345": "Asked",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Entry", "Company", "Profile", "linkedin_url"])
def test_csv_entry_column_is_found_by_its_header(ada_client, header):
    response = upload(ada_client, f"Name;{header}\nSomeone;Acme\nOther;Globex\n")
    assert response.status_code == 302
    assert set(DoNotContact.objects.values_list("value", flat=True)) == {"Acme", "Globex"}


@pytest.mark.django_db
def test_a_csv_without_an_entry_column_is_refused_clearly(ada_client):
    response = upload(ada_client, "Name,Phone\nAda,123\n")
    assert response.status_code == 400
    assert "No column of entries: name it Entry" in response.content.decode()
    assert not DoNotContact.objects.exists()


@pytest.mark.django_db
def test_a_single_column_file_without_header_is_read_whole(ada_client):
    response = upload(ada_client, "linkedin.com/in/first-person\nlinkedin.com/in/second-person\n")
    assert response.status_code == 302
    assert DoNotContact.objects.count() == 2


@pytest.mark.django_db
def test_csv_size_and_rows_are_bounded(ada_client, settings):
    from campaigns import importing

    rows = "Entry\n" + "".join(f"Firm {i}\n" for i in range(importing.MAX_CSV_ROWS + 1))
    response = upload(ada_client, rows)
    assert response.status_code == 400
    assert "more than 5,000 rows" in response.content.decode()
    assert not DoNotContact.objects.exists()


@pytest.mark.django_db
def test_export_has_a_bom_and_every_entry(ada_client, ada):
    for i in range(120):
        entry(f"Société {i}", "=cmd()" if i == 0 else "why", ada)
    response = ada_client.get(reverse("do_not_contact_export"))

    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="do-not-contact-')
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Value", "Kind", "Reason", "Added by", "Added at", "Profile URL", "Profile URN", "Company"]
    assert len(rows) == 121
    by_value = {row[0]: row for row in rows[1:]}
    assert by_value["Société 0"][1:4] == ["Company", "'=cmd()", "ada"]
    assert by_value["Société 5"][4].startswith(str(timezone.now().year))


@pytest.mark.django_db
def test_an_export_reads_back_as_an_import(ada_client, ada):
    entry("Acme", "Customer", ada)
    entry("https://www.linkedin.com/in/ada", "Asked", ada)
    body = b"".join(ada_client.get(reverse("do_not_contact_export")).streaming_content)
    DoNotContact.objects.all().delete()

    assert upload(ada_client, body).status_code == 302
    assert set(DoNotContact.objects.values_list("value", "reason")) == {
        ("Acme", "Customer"), ("https://www.linkedin.com/in/ada", "Asked"),
    }


# --- Removing (admins only) ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_members_cannot_remove_an_entry(ada_client, ada):
    listed = entry("Acme", "", ada)
    response = ada_client.post(reverse("do_not_contact_remove", args=[listed.pk]))
    assert response.status_code == 403
    assert DoNotContact.objects.filter(pk=listed.pk).exists()


@pytest.mark.django_db
def test_an_admin_removes_an_entry_with_or_without_htmx(admin_client, admin):
    first, second = entry("Acme", "", admin), entry("Globex", "", admin)
    html = admin_client.get(reverse("do_not_contact")).content.decode()
    assert f'hx-post="{reverse("do_not_contact_remove", args=[first.pk])}"' in html

    response = admin_client.post(reverse("do_not_contact_remove", args=[first.pk]), HTTP_HX_REQUEST="true")
    assert (response.status_code, response.content) == (200, b"")
    response = admin_client.post(reverse("do_not_contact_remove", args=[second.pk]), follow=True)
    assert "Removed “Globex” from the do-not-contact list." in response.content.decode()
    assert not DoNotContact.objects.exists()
    assert admin_client.get(reverse("do_not_contact_remove", args=[first.pk])).status_code == 405


# --- Skipped at import ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pasting_prospects_refuses_those_on_the_list_naming_the_entry(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada)
    entry("https://www.linkedin.com/in/blocked-person", "Asked not to be contacted", ada)
    response = ada_client.post(
        reverse("prospects_add", args=[campaign.pk]),
        {"profiles": "linkedin.com/in/blocked-person\nlinkedin.com/in/free-person"}, follow=True,
    )
    html = words(response.content.decode())
    assert "Added 1 prospect; 1 line refused." in html
    assert (
        "On the do-not-contact list (person “https://www.linkedin.com/in/blocked-person”: Asked not to be contacted)."
        in html
    )
    assert list(campaign.requests.values_list("prospect__profile_url", flat=True)) == [
        "https://www.linkedin.com/in/free-person"
    ]


@pytest.mark.django_db
def test_a_csv_import_refuses_a_listed_company_and_a_known_prospect_of_it(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada)
    entry("ACME Corp.", "Customer", ada)
    Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAAKnown", company="Acme Corp")
    text = (
        "LinkedIn URL,Company\n"
        "linkedin.com/in/new-at-acme,Acmé corp\n"
        "urn:li:fsd_profile:ACoAAKnown,\n"
        "linkedin.com/in/at-globex,Globex\n"
    )
    upload_response = ada_client.post(
        reverse("prospects_import", args=[campaign.pk]),
        {"csv_file": SimpleUploadedFile("p.csv", text.encode(), content_type="text/csv")},
    )
    map_url = upload_response["Location"]
    preview = words(ada_client.get(map_url).content.decode())
    assert "On the do-not-contact list (company “ACME Corp.”: Customer)." in preview
    form = {"profile_url": "0", "company": "1"}
    response = ada_client.post(map_url, form, follow=True)
    html = words(response.content.decode())
    assert "Added 1 prospect; 2 rows refused." in html
    assert html.count("On the do-not-contact list (company “ACME Corp.”: Customer).") == 2
    assert list(campaign.requests.values_list("prospect__company", flat=True)) == ["Globex"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 200])
def test_an_import_batch_checks_the_list_in_a_constant_number_of_queries(
    ada, make_campaign, size, django_assert_max_num_queries
):
    campaign = make_campaign(owner=ada)
    donotcontact.add_entries([f"linkedin.com/in/listed-{i}" for i in range(0, size, 3)] + ["Blocked Inc"], ada)
    known = [Prospect(profile_url=f"https://www.linkedin.com/in/listed-{i}") for i in range(1, size, 3)]
    Prospect.objects.bulk_create(known)
    entries = [
        ProfileEntry(i + 1, None, f"https://www.linkedin.com/in/listed-{i}", company="Blocked Inc" if i % 7 == 0 else "")
        for i in range(size)
    ]
    with django_assert_max_num_queries(3):
        plan = plan_batch(campaign, entries)
    blocked = {rejection.number for rejection in plan.rejected}
    assert blocked == {i + 1 for i in range(size) if i % 3 == 0 or i % 7 == 0}
    # Writing grows only with SQLite's batches of bulk writes, as it did before the list.
    with django_assert_max_num_queries(24):
        result, _ = save_batch(campaign, entries)
    assert result.added == size - len(blocked)


# --- Skipped at once when added, and again before submission ------------------------------------------------


@pytest.mark.django_db
def test_adding_entries_skips_the_queued_invitations_they_match_at_once(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada)
    person = add_request(campaign, first_name="Blocked")
    at_company = add_request(campaign, company="Globex Corporation")
    sent = add_request(campaign, State.SENT, company="Globex Corporation")
    free = add_request(campaign)

    response = ada_client.post(
        reverse("do_not_contact_add"),
        {"entries": f"{person.prospect.profile_url}\nGlobex corporation", "reason": "Legal"}, follow=True,
    )
    assert "2 queued invitations to them were skipped." in words(response.content.decode())
    states = dict(ConnectionRequest.objects.values_list("pk", "state"))
    assert states == {person.pk: State.SKIPPED, at_company.pk: State.SKIPPED, sent.pk: State.SENT, free.pk: State.QUEUED}
    assert person.events.get().cause == f"On the do-not-contact list (person “{person.prospect.profile_url}”: Legal)."
    assert at_company.events.get().cause == "On the do-not-contact list (company “Globex corporation”: Legal)."


@pytest.mark.django_db(transaction=True)
def test_an_entry_added_after_queueing_stops_the_invitation_before_any_post(sandbox, pacing_off, make_campaign, ada):
    campaign = make_campaign(owner=ada, prospects=2)
    blocked, free = campaign.requests.order_by("id")
    # Put on the list behind the immediate skip's back (as if added between the skip and the worker).
    DoNotContact.objects.create(kind="company", value="ACME", company_name="ACME", company_key="acme", reason="Customer")

    summary = run_tick(now=timezone.now())

    assert (summary.skipped, summary.submitted) == (2, 0)
    assert not SandboxTask.objects.filter(task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST).exists()
    for request in (blocked, free):
        request.refresh_from_db()
        assert request.state == State.SKIPPED and request.attempts == 0
        assert request.events.get().cause == "On the do-not-contact list (company “ACME”: Customer)."


@pytest.mark.django_db(transaction=True)
def test_only_the_listed_person_is_stopped_the_others_are_sent(sandbox, pacing_off, make_campaign, ada):
    campaign = make_campaign(owner=ada, prospects=3)
    blocked = campaign.requests.order_by("id")[1]
    DoNotContact.objects.create(kind="profile", value="P1", profile_urn=blocked.prospect.profile_urn)

    summary = run_tick(now=timezone.now())

    assert (summary.skipped, summary.submitted) == (1, 2)
    invited = set(SandboxTask.objects.values_list("task_input__profile_urn", flat=True))
    assert blocked.prospect.profile_urn not in invited and len(invited) == 2
    blocked.refresh_from_db()
    assert blocked.state == State.SKIPPED


# --- One click from a row ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_do_not_contact_from_a_campaign_row_with_htmx(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada)
    row = add_request(campaign, first_name="Zed")
    other_campaign = make_campaign("Other", owner=ada)
    elsewhere = ConnectionRequest.objects.create(campaign=other_campaign, prospect=row.prospect)

    page = ada_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert f'hx-post="{reverse("request_do_not_contact", args=[row.pk])}"' in page
    response = ada_client.post(
        reverse("request_do_not_contact", args=[row.pk]), {"origin": "campaign", "state": "", "page": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = words(response.content.decode())
    assert html.lstrip().startswith(f'<tr id="request-{row.pk}"')
    assert "Zed is on the do-not-contact list now." in html
    listed = DoNotContact.objects.get()
    assert (listed.reason, listed.added_by, listed.profile_urn) == (
        "Added from campaign “Lisbon founders” by ada.", ada, row.prospect.profile_urn,
    )
    # Its queued invitations, here and in the other campaign, are skipped at once.
    assert set(ConnectionRequest.objects.values_list("state", flat=True)) == {State.SKIPPED}
    assert elsewhere.events.get().cause.startswith("On the do-not-contact list (person “Zed (")

    again = ada_client.post(reverse("request_do_not_contact", args=[row.pk]), {"origin": "campaign"}, follow=True)
    assert "Zed is on the do-not-contact list already." in again.content.decode()
    assert DoNotContact.objects.count() == 1


@pytest.mark.django_db
def test_do_not_contact_from_review_and_detail_pages_without_js(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada)
    row = add_request(campaign, State.SENT, first_name="Yan")
    review = ada_client.get(reverse("review")).content.decode()
    assert f'action="{reverse("request_do_not_contact", args=[row.pk])}"' in review

    response = ada_client.post(
        reverse("request_do_not_contact", args=[row.pk]), {"origin": "review", "review_query": "state=sent"},
    )
    assert response["Location"] == reverse("review") + "?state=sent"
    DoNotContact.objects.all().delete()
    response = ada_client.post(
        reverse("request_do_not_contact", args=[row.pk]), {"origin": "detail", "reason": "  Asked by e-mail  "}, follow=True,
    )
    assert response.redirect_chain == [(reverse("request_detail", args=[row.pk]), 302)]
    assert DoNotContact.objects.get().reason == "Asked by e-mail"
    assert "On the do-not-contact list: Yan (" in response.content.decode()


@pytest.mark.django_db
def test_a_review_redirect_never_leaves_the_review(ada_client, ada, make_campaign):
    row = add_request(make_campaign(owner=ada), State.SENT)
    response = ada_client.post(
        reverse("request_do_not_contact", args=[row.pk]), {"origin": "review", "review_query": "//evil.example/x"},
    )
    assert response["Location"] == reverse("review")


@pytest.mark.django_db
def test_only_the_owner_or_an_admin_may_add_from_a_row(client, ada, make_campaign, admin):
    row = add_request(make_campaign(owner=ada), State.SENT)
    bob = User.objects.create_user("bob")
    client.force_login(bob)
    assert client.post(reverse("request_do_not_contact", args=[row.pk])).status_code == 403
    review = client.get(reverse("review")).content.decode()
    assert reverse("request_do_not_contact", args=[row.pk]) not in review
    client.force_login(admin)
    assert client.post(reverse("request_do_not_contact", args=[row.pk])).status_code == 302
    assert DoNotContact.objects.get().added_by == admin
    assert not Event.objects.filter(connection_request=row).exists()  # a sent invitation stays sent
