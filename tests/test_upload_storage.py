"""Where an uploaded CSV waits between the import's steps: a PendingUpload row named by a random
key, never the session; only its uploader reads it; it expires, and the person starts again."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, PendingUpload, Prospect, Sender

PROFILE = "https://www.linkedin.com/in/"


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Q4 founders", Campaign.State.DRAFT, note_template="Hello {first_name|there}")


def import_url(campaign) -> str:
    return reverse("prospects_import", args=[campaign.pk])


def map_url(campaign, key: str) -> str:
    return reverse("prospects_import_map", args=[campaign.pk, key])


def people_csv(count: int, prefix: str = "person", padding: int = 0) -> str:
    return "LinkedIn URL,First Name,Company\n" + "".join(
        f"{PROFILE}{prefix}-{i},P{i},Company {i} {'x' * padding}\n" for i in range(count)
    )


def upload(client, campaign, text: str, name: str = "prospects.csv") -> str:
    """Upload a CSV; the upload's key, from the URL of step 2."""
    response = client.post(import_url(campaign), {"csv_file": SimpleUploadedFile(name, text.encode(), "text/csv")})
    assert response.status_code == 302, response.content.decode()
    key = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert response["Location"] == map_url(campaign, key)
    return key


def stored_session(client) -> str:
    """The session exactly as the database holds it (what every request of this user reads)."""
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    return Session.objects.get(session_key=client.session.session_key).session_data


def age(key: str, by: dt.timedelta) -> None:
    PendingUpload.objects.filter(key=key).update(created_at=timezone.now() - by)


# --- Not in the session ----------------------------------------------------------------------


def test_a_large_upload_waits_in_a_row_and_the_session_stays_small(owner_client, campaign, owner):
    text = people_csv(4000, padding=250)
    assert len(text) > 1_000_000
    session_before = len(stored_session(owner_client))

    key = upload(owner_client, campaign, text)

    session_data = stored_session(owner_client)
    assert len(session_data) <= session_before + 100  # nothing of the file, not even its key
    decoded = owner_client.session
    assert not any("linkedin.com/in/person" in str(value) for value in decoded.values())
    assert key not in session_data and key not in str(dict(decoded))
    pending = PendingUpload.objects.get()
    assert (pending.key, pending.owner, pending.campaign, pending.filename) == (key, owner, campaign, "prospects.csv")
    assert len(pending.table["rows"]) == 4000
    assert pending.table["rows"][0] == [2, [f"{PROFILE}person-0", "P0", "Company 0 " + "x" * 250]]


def test_a_status_poll_neither_loads_the_upload_nor_grows_with_it(owner_client, campaign):
    Sender.get()  # created by the first page otherwise
    status_url = reverse("campaign_status", args=[campaign.pk])

    def poll() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = owner_client.get(status_url, HTTP_HX_REQUEST="true")
        assert response.status_code in (200, 286)
        return [query["sql"] for query in captured.captured_queries]

    before = poll()
    upload(owner_client, campaign, people_csv(2000, padding=100))
    after = poll()

    assert len(after) == len(before)
    assert not any("pendingupload" in sql.lower() for sql in after)
    assert len(stored_session(owner_client)) < 2_000


def test_keys_are_random_and_long(owner_client, campaign):
    first = upload(owner_client, campaign, people_csv(1))
    second = upload(owner_client, campaign, people_csv(1))

    assert first != second
    assert len(first) >= 32 and len(second) >= 32
    assert re.fullmatch(r"[A-Za-z0-9_-]+", first)
    assert str(PendingUpload.objects.get().pk) != second


# --- Only its uploader ------------------------------------------------------------------------


def test_another_user_who_may_change_the_campaign_gets_404_and_changes_nothing(owner_client, campaign):
    key = upload(owner_client, campaign, people_csv(3))
    admin = User.objects.create_user("root", is_staff=True, is_superuser=True)
    other = Client()
    other.force_login(admin)
    assert other.get(import_url(campaign)).status_code == 200  # the admin may import into it

    response = other.get(map_url(campaign, key))
    assert response.status_code == 404
    assert "This upload is no longer available" in response.content.decode()
    assert f"{PROFILE}person-0" not in response.content.decode()
    assert other.get(map_url(campaign, key), {"profile_url": "0", "preview": "1"}, HTTP_HX_REQUEST="true").status_code == 404
    assert other.post(map_url(campaign, key), {"profile_url": "0", "first_name": "1"}).status_code == 404

    assert not Prospect.objects.exists()
    pending = PendingUpload.objects.get(key=key)
    assert pending.imported_at is None and len(pending.table["rows"]) == 3
    # The uploader still can.
    assert owner_client.post(map_url(campaign, key), {"profile_url": "0", "first_name": "1"}).status_code == 302
    assert Prospect.objects.count() == 3


def test_a_member_who_may_not_change_the_campaign_is_refused_before_the_key_is_looked_at(
    owner_client, campaign, ada
):
    key = upload(owner_client, campaign, people_csv(1))
    ada_client = Client()
    ada_client.force_login(ada)

    assert ada_client.get(map_url(campaign, key)).status_code == 403
    assert ada_client.post(map_url(campaign, key), {"profile_url": "0"}).status_code == 403
    assert not Prospect.objects.exists()


# --- It expires, and the person starts again ----------------------------------------------------


def test_an_upload_is_kept_for_its_lifetime_and_the_pages_say_how_long(owner_client, campaign):
    assert PendingUpload.LIFETIME == dt.timedelta(hours=2)
    assert "The file waits 2 hours for its import; after that, upload it again." in (
        owner_client.get(import_url(campaign)).content.decode()
    )
    key = upload(owner_client, campaign, people_csv(1))
    age(key, PendingUpload.LIFETIME - dt.timedelta(minutes=5))

    html = owner_client.get(map_url(campaign, key)).content.decode()

    assert "The upload is kept for another 4\xa0minutes; after that, upload the file again." in html


def test_an_expired_upload_says_so_offers_a_new_upload_and_imports_nothing(owner_client, campaign):
    key = upload(owner_client, campaign, people_csv(3))
    age(key, PendingUpload.LIFETIME + dt.timedelta(seconds=1))

    response = owner_client.get(map_url(campaign, key))

    html = response.content.decode()
    assert response.status_code == 404
    assert (
        "This upload is no longer available: it expired. An uploaded file waits 2 hours for its import; "
        "upload it again to choose its columns and import it."
    ) in html
    assert f'<a class="button primary" href="{import_url(campaign)}">Upload the CSV file again</a>' in html
    assert owner_client.post(map_url(campaign, key), {"profile_url": "0", "first_name": "1"}).status_code == 404
    assert not Prospect.objects.exists()
    assert PendingUpload.objects.filter(key=key).exists()  # a GET only reads; the next upload deletes it

    # Starting again: a new upload, a new key, the whole flow.
    again = upload(owner_client, campaign, people_csv(3))
    assert again != key
    assert list(PendingUpload.objects.values_list("key", flat=True)) == [again]
    assert owner_client.get(map_url(campaign, again)).status_code == 200
    response = owner_client.post(map_url(campaign, again), {"profile_url": "0", "first_name": "1"})
    assert response["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert ConnectionRequest.objects.filter(campaign=campaign).count() == 3


def test_a_missing_key_says_what_may_have_happened(owner_client, campaign):
    response = owner_client.get(map_url(campaign, "x" * 32))

    html = response.content.decode()
    assert response.status_code == 404
    assert (
        "This upload is no longer available: it was imported already, a newer upload of yours replaced it, "
        "it expired after 2 hours, or it is not yours. Upload the CSV file again to import it."
    ) in html
    assert f'href="{import_url(campaign)}"' in html


def test_a_new_upload_deletes_everyones_expired_uploads_and_the_uploaders_earlier_one(
    owner_client, campaign, owner, ada
):
    mine = upload(owner_client, campaign, people_csv(2))
    theirs_fresh = PendingUpload.objects.create(owner=ada, campaign=campaign, filename="a.csv", table={"headers": [], "rows": []})
    theirs_old = PendingUpload.objects.create(
        owner=ada, campaign=campaign, filename="b.csv", table={"headers": [], "rows": []},
        created_at=timezone.now() - PendingUpload.LIFETIME - dt.timedelta(minutes=1),
    )

    newer = upload(owner_client, campaign, people_csv(2, prefix="other"))

    assert set(PendingUpload.objects.values_list("key", flat=True)) == {newer, theirs_fresh.key}
    assert not PendingUpload.objects.filter(pk=theirs_old.pk).exists()
    response = owner_client.get(map_url(campaign, mine))
    assert response.status_code == 404
    assert "a newer upload of yours replaced it" in response.content.decode()


def test_a_long_file_name_is_cut_to_what_its_column_holds(owner_client, campaign):
    upload(owner_client, campaign, people_csv(1), name="n" * 300 + ".csv")

    filename = PendingUpload.objects.get().filename
    assert len(filename) == 200 and filename.startswith("nnn")


# --- Upload, map, preview, import: the row's life -------------------------------------------------


def test_the_whole_flow_and_the_import_drops_the_table(owner_client, campaign):
    text = people_csv(3) + "not a profile,Nobody,Nowhere\n"
    key = upload(owner_client, campaign, text)

    page = owner_client.get(map_url(campaign, key))
    assert page.status_code == 200
    assert "prospects.csv, 4 rows" in page.content.decode()
    preview = owner_client.get(map_url(campaign, key), {"profile_url": "0", "first_name": "1", "preview": "1"}, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200
    assert "<dt>Will be added</dt><dd>3</dd>" in preview.content.decode()
    assert "<dt>Refused</dt><dd>1</dd>" in preview.content.decode()

    response = owner_client.post(map_url(campaign, key), {"profile_url": "0", "first_name": "1"})

    assert response.status_code == 302 and response["Location"] == map_url(campaign, key)
    assert ConnectionRequest.objects.filter(campaign=campaign).count() == 3
    pending = PendingUpload.objects.get(key=key)
    assert pending.table is None and pending.imported_at is not None
    assert pending.result["imported"] == 3
    assert [row[0] for row in pending.result["rejected"]] == [5]
    result = owner_client.get(map_url(campaign, key)).content.decode()
    assert "1 row of prospects.csv not imported" in result
    assert "<td>5</td>" in result

    # A second click on Import changes nothing.
    assert owner_client.post(map_url(campaign, key), {"profile_url": "0", "first_name": "1"}).status_code == 302
    assert ConnectionRequest.objects.filter(campaign=campaign).count() == 3
    assert PendingUpload.objects.get(key=key).result == pending.result


def test_an_import_without_rejections_deletes_the_row(owner_client, campaign):
    key = upload(owner_client, campaign, people_csv(2))

    owner_client.post(map_url(campaign, key), {"profile_url": "0", "first_name": "1"})

    assert not PendingUpload.objects.exists()
    assert Prospect.objects.count() == 2


def test_only_one_of_two_imports_of_the_same_upload_claims_it(owner_client, campaign):
    key = upload(owner_client, campaign, people_csv(1))
    first, second = PendingUpload.objects.get(key=key), PendingUpload.objects.get(key=key)  # two requests' copies
    now = timezone.now()

    assert first.claim_for_import(now) is True
    assert second.claim_for_import(now) is False
    stored = PendingUpload.objects.get(key=key)
    assert stored.imported_at == now and stored.table is None


def test_an_imported_upload_cannot_keep_its_table(owner, campaign):
    with pytest.raises(IntegrityError), transaction.atomic():
        PendingUpload.objects.create(
            owner=owner, campaign=campaign, filename="x.csv", table={"headers": [], "rows": []}, imported_at=timezone.now()
        )


def test_the_paste_rejected_lines_stay_in_the_session_only_until_the_next_page(owner_client, campaign):
    response = owner_client.post(
        reverse("prospects_add", args=[campaign.pk]), {"profiles": f"{PROFILE}ada\nnot a profile\n"}, follow=True
    )

    assert "not a profile" in response.content.decode()
    assert "prospects_add_rejected" not in owner_client.session


# --- The admin ----------------------------------------------------------------------------------


def test_the_admin_lists_uploads_read_only_without_their_table(owner_client, campaign):
    key = upload(owner_client, campaign, people_csv(2))
    pending = PendingUpload.objects.get(key=key)
    staff = Client()
    staff.force_login(User.objects.create_user("root", is_staff=True, is_superuser=True))

    listing = staff.get(reverse("admin:campaigns_pendingupload_changelist"))
    assert listing.status_code == 200 and "prospects.csv" in listing.content.decode()
    page = staff.get(reverse("admin:campaigns_pendingupload_change", args=[pending.pk]))
    assert page.status_code == 200
    assert f"{PROFILE}person-0" not in page.content.decode()
    assert staff.get(reverse("admin:campaigns_pendingupload_add")).status_code == 403
    staff.post(reverse("admin:campaigns_pendingupload_change", args=[pending.pk]), {"filename": "changed.csv"})
    assert PendingUpload.objects.get(pk=pending.pk).filename == "prospects.csv"
