"""The site's text searches find a word whatever its case in any alphabet, on SQLite as on
PostgreSQL: Review (and its export), the API's `q`, the do-not-contact list."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, DoNotContact, Prospect, Sender
from campaigns.textsearch import every_word_in, fold
from tests.test_api import ApiClient, make_token

State = ConnectionRequest.State


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Berlin", Campaign.State.ACTIVE, note_template="")


def invite(campaign, first_name, last_name="", company="", note="Hallo") -> ConnectionRequest:
    prospect = Prospect.objects.create(
        profile_url=f"https://www.linkedin.com/in/{first_name.lower()}-{Prospect.objects.count()}",
        first_name=first_name, last_name=last_name, company=company,
    )
    return ConnectionRequest.objects.create(
        sender=Sender.get(), campaign=campaign, prospect=prospect, state=State.SENT, note=note,
        submitted_at=timezone.now(),
    )


def review_names(client, query: str) -> set[str]:
    html = client.get(reverse("review"), {"q": query}).content.decode()
    return {name for name in ("Sabine", "Ørjan", "Ada", "Σοφία", "Ilse") if name in html}


def test_fold_casefolds_and_composes():
    assert fold("KRÜGER") == fold("Krüger") == "krüger"
    assert fold("Kru\u0308ger") == "krüger"  # ü typed as u + combining diaeresis
    assert fold("STRASSE") == fold("Straße")
    assert fold(None) is None


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("KRÜGER", {"Sabine"}),
        ("krüger", {"Sabine"}),
        ("ØRJAN", {"Ørjan"}),
        ("σοφία", {"Σοφία"}),
        ("MÜNCHEN", {"Ilse"}),  # in the company
        ("sabine KRÜGER", {"Sabine"}),  # every word, each anywhere
        ("sabine ada", set()),
        ("100%", set()),  # LIKE's wildcards are matched as text
        ("_", set()),
    ],
)
def test_review_search_ignores_case_in_every_alphabet(owner_client, campaign, query, found):
    invite(campaign, "Sabine", "Krüger")
    invite(campaign, "Ørjan", "Nilsen")
    invite(campaign, "Ada", "Lovelace")
    invite(campaign, "Σοφία", "Παππά")
    invite(campaign, "Ilse", company="Stadtwerke München")

    assert review_names(owner_client, query) == found


def test_the_review_export_and_the_api_search_alike(owner_client, owner, campaign):
    invite(campaign, "Sabine", "Krüger")
    invite(campaign, "Ada", "Lovelace")

    export = b"".join(owner_client.get(reverse("review_export"), {"q": "KRÜGER"}).streaming_content)
    assert "Sabine" in export.decode("utf-8-sig") and "Ada" not in export.decode("utf-8-sig")

    response = ApiClient(make_token(owner)).get("/invitations", {"q": "KRÜGER"})
    assert response.status_code == 200, response.content
    assert [item["prospect"]["first_name"] for item in response.json()["items"]] == ["Sabine"]


def test_the_do_not_contact_list_search_ignores_case_in_every_alphabet(owner_client, owner):
    for name in ("Müller GmbH", "Acme"):
        DoNotContact.objects.create(
            kind=DoNotContact.Kind.COMPANY, value=name, company_name=name, company_key=name.lower(), added_by=owner,
        )

    html = owner_client.get(reverse("do_not_contact"), {"q": "MÜLLER"}).content.decode()

    assert "Müller GmbH" in html and "Acme" not in html


def test_the_lookup_is_icontains_on_postgresql_and_folds_on_sqlite(db):
    sql = str(Prospect.objects.filter(every_word_in("Krüger", ["last_name"])).query)
    if connection.vendor == "sqlite":
        assert "outreach_fold(" in sql
    else:
        assert "UPPER(" in sql
