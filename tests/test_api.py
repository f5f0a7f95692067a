"""The JSON API (api/): tokens made on the account page, the same permissions as the pages,
every endpoint through Django's test client, cursor pagination, rate limits and bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from campaigns.models import Campaign, ConnectionRequest, DoNotContact, Event, PendingUpload, Prospect
from tests.helpers import add_request

State = ConnectionRequest.State
TOKEN = re.compile(r"ob_[A-Za-z0-9_-]{40,}")
API = "/api/v1"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The rate limits count in the cache: each test starts with none spent."""
    cache.clear()
    yield
    cache.clear()


def make_token(user, name="Zapier", expires="90") -> str:
    """A token made as a person makes one: logged in, on the account page."""
    browser = Client()
    browser.force_login(user)
    response = browser.post(reverse("api_token_create"), {"name": name, "expires": expires})
    assert response.status_code == 200, response.content
    tokens = TOKEN.findall(response.content.decode())
    assert len(set(tokens)) == 1
    return tokens[0]


class ApiClient:
    """Django's test client with no session at all: only the token speaks."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(API + path, params or {}, **self.headers)

    def post(self, path: str, body):
        return self.client.post(API + path, json.dumps(body), content_type="application/json", **self.headers)


@pytest.fixture
def staff(db):
    return User.objects.create_user("root", is_staff=True)


@pytest.fixture
def campaign(make_campaign):
    return make_campaign(prospects=2)


@pytest.fixture
def owner_api(owner):
    return ApiClient(make_token(owner))


@pytest.fixture
def ada_api(ada):
    return ApiClient(make_token(ada))


# --- Tokens ---------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_only_its_digest_is_stored(owner, client):
    raw = make_token(owner, name="n8n")

    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:7] and raw.startswith("ob_")
    client.force_login(owner)
    page = client.get(reverse("account")).content.decode()
    assert raw not in page and f"{raw[:7]}…" in page and "n8n" in page
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert raw not in dump.getvalue() and raw[7:] not in dump.getvalue()
    with connection.cursor() as cursor:  # every text column of the token's row
        cursor.execute("SELECT * FROM api_apitoken")
        assert not any(raw in str(value) for row in cursor.fetchall() for value in row)


def test_the_account_page_is_linked_from_the_header_and_lists_tokens(owner, client):
    make_token(owner, name="Zapier leads", expires="never")
    client.force_login(owner)

    html = client.get(reverse("home")).content.decode()
    assert re.search(r'<a class="who" href="/account/"[^>]*>owner</a>', html)
    html = client.get(reverse("account")).content.decode()
    assert "Zapier leads" in html and "Create token" in html and "Revoke" in html
    assert ApiToken.objects.get().expires_at is None


@pytest.mark.parametrize("expires, days", [("30", 30), ("90", 90), ("365", 365)])
def test_expiry_choices(owner, expires, days):
    make_token(owner, expires=expires)
    token = ApiToken.objects.get()
    assert token.expires_at - token.created_at == dt.timedelta(days=days)


def test_a_token_form_with_bad_input_is_refused(owner, client):
    client.force_login(owner)
    response = client.post(reverse("api_token_create"), {"name": "", "expires": "1000"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    assert "This field is required." in response.content.decode()


def test_live_tokens_are_bounded(owner, client, monkeypatch):
    monkeypatch.setattr("api.views.MAX_LIVE_TOKENS_PER_USER", 2)
    make_token(owner)
    make_token(owner)
    client.force_login(owner)
    response = client.post(reverse("api_token_create"), {"name": "third", "expires": "30"})
    assert response.status_code == 400
    assert "revoke one" in response.content.decode()
    assert ApiToken.objects.count() == 2


def test_without_a_token_the_api_answers_401_json(owner, campaign):
    anonymous = ApiClient(None)
    response = anonymous.get("/campaigns")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Missing token" in response.json()["detail"]

    basic = Client().get(API + "/campaigns", HTTP_AUTHORIZATION="Basic b3duZXI6eA==")
    assert basic.status_code == 401 and "Bearer" in basic.json()["detail"]
    assert ApiClient("ob_not-a-real-token").get("/campaigns").json() == {"detail": "Invalid token"}
    assert ApiClient("garbage").get("/campaigns").status_code == 401


def test_a_logged_in_session_alone_is_not_accepted(owner, client, campaign):
    # Cookies would bring CSRF into the API; it takes tokens only.
    client.force_login(owner)
    response = client.get(API + "/campaigns")
    assert response.status_code == 401
    response = client.post(API + f"/campaigns/{campaign.pk}/prospects", "{}", content_type="application/json")
    assert response.status_code == 401


def test_a_revoked_token_is_refused(owner, client):
    raw = make_token(owner)
    api = ApiClient(raw)
    assert api.get("/campaigns").status_code == 200
    client.force_login(owner)

    response = client.post(reverse("api_token_revoke", args=[ApiToken.objects.get().pk]))

    assert response.status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    refused = api.get("/campaigns")
    assert refused.status_code == 401 and refused.json() == {"detail": "Token revoked"}
    assert "Revoked" in client.get(reverse("account")).content.decode()


def test_only_the_owner_revokes_a_token(owner, ada, staff, client):
    make_token(owner)
    token = ApiToken.objects.get()
    for other in (ada, staff):
        client.force_login(other)
        assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    client.force_login(owner)
    assert client.get(reverse("api_token_revoke", args=[token.pk])).status_code == 405  # a POST only


def test_an_expired_token_is_refused(owner):
    api = ApiClient(make_token(owner, expires="30"))
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = api.get("/campaigns")
    assert response.status_code == 401 and response.json() == {"detail": "Token expired"}


def test_the_token_of_an_inactive_user_is_refused(owner):
    api = ApiClient(make_token(owner))
    owner.is_active = False
    owner.save()
    response = api.get("/campaigns")
    assert response.status_code == 401 and response.json() == {"detail": "Token's user is inactive"}


def test_last_used_is_written_at_most_once_a_minute(owner):
    api = ApiClient(make_token(owner))
    assert ApiToken.objects.get().last_used_at is None
    api.get("/campaigns")
    first = ApiToken.objects.get().last_used_at
    assert first is not None

    with CaptureQueriesContext(connection) as queries:
        api.get("/campaigns")
    assert not [q for q in queries if q["sql"].startswith("UPDATE") and "api_apitoken" in q["sql"]]
    assert ApiToken.objects.get().last_used_at == first

    ApiToken.objects.update(last_used_at=first - dt.timedelta(minutes=2))
    api.get("/campaigns")
    assert ApiToken.objects.get().last_used_at > first


def test_answers_are_private_and_never_stored(owner_api):
    response = owner_api.get("/campaigns")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


# --- Campaigns ------------------------------------------------------------------------------------


def test_list_campaigns_with_counts_and_senders(owner_api, ada_api, make_campaign, ada):
    mine = make_campaign("Mine", prospects=3)
    add_request(mine, State.SENT)
    theirs = make_campaign("Ada's", owner=ada)
    make_campaign("Old", state=Campaign.State.ARCHIVED)

    body = owner_api.get("/campaigns").json()

    assert [c["name"] for c in body["items"]] == ["Ada's", "Mine"]  # newest first; archived apart
    assert body["next_cursor"] is None
    listed = body["items"][1]
    assert listed["id"] == mine.pk and listed["state"] == "active" and listed["owner"] == "owner"
    assert listed["counts"]["queued"] == 3 and listed["counts"]["sent"] == 1
    assert set(listed["counts"]) == set(State.values)
    assert listed["senders"] == [{"id": s.pk, "name": s.name} for s in mine.senders.all()]
    assert listed["can_add_prospects"] is True and body["items"][0]["can_add_prospects"] is False
    # A member sees every campaign, as on the Campaigns page, and may change only her own.
    seen_by_ada = {c["id"]: c["can_add_prospects"] for c in ada_api.get("/campaigns").json()["items"]}
    assert seen_by_ada == {mine.pk: False, theirs.pk: True}
    archived = owner_api.get("/campaigns", {"archived": "true"}).json()["items"]
    assert [c["name"] for c in archived] == ["Old"]


def test_campaign_list_queries_do_not_grow(owner_api, make_campaign):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert owner_api.get("/campaigns", {"limit": 200}).status_code == 200
        return len(queries)

    make_campaign("A", prospects=2)
    count()  # the token's first use records it (last_used_at): not a per-page cost
    few = count()
    for i in range(10):
        make_campaign(f"C{i}", prospects=2, start=10 + i * 2)
    assert count() == few


# --- Adding prospects -----------------------------------------------------------------------------


GOOD_URL = "https://www.linkedin.com/in/grace-hopper"
BAD_ROWS = [
    {"profile_url": "https://example.com/not-linkedin"},
    {"profile_url": "https://www.linkedin.com/company/acme"},
    {"profile_urn": "urn:li:member:123"},
    {"first_name": "No", "last_name": "Profile"},
]


def test_add_prospects_answers_each_row(owner_api, campaign):
    body = {"prospects": [
        {"profile_url": GOOD_URL, "first_name": "Grace", "last_name": "Hopper", "company": "Navy", "title": "RADM"},
        BAD_ROWS[0],
        {"profile_urn": "urn:li:fsd_profile:ACoAAProspect0000"},  # already in the campaign
        {"profile_url": "linkedin.com/in/grace-hopper/"},  # the first item again
        {"profile_urn": "ACoAABnewPerson1", "full_name": "Alan Turing"},
    ]}

    response = owner_api.post(f"/campaigns/{campaign.pk}/prospects", body)

    assert response.status_code == 200, response.content
    data = response.json()
    assert [(r["index"], r["status"]) for r in data["results"]] == [
        (0, "added"), (1, "refused"), (2, "already"), (3, "already"), (4, "added"),
    ]
    assert data["results"][2]["reason"] == "Already in this campaign."
    assert data["results"][3]["reason"] == "Duplicate of item 0 in this request."
    assert data["results"][1]["reason"].startswith("Invalid profile: ")
    assert (data["added"], data["already"], data["refused"]) == (2, 2, 1)
    grace = Prospect.objects.get(profile_url=GOOD_URL)
    assert (grace.first_name, grace.last_name, grace.company, grace.title) == ("Grace", "Hopper", "Navy", "RADM")
    alan = Prospect.objects.get(profile_urn="urn:li:fsd_profile:ACoAABnewPerson1")
    assert (alan.first_name, alan.last_name) == ("Alan", "Turing")
    assert campaign.requests.filter(state=State.QUEUED).count() == 4
    assert campaign.requests.get(prospect=grace).note == "Hi Grace"  # rendered, as by the pages


def test_bad_rows_get_the_reasons_the_pages_give(owner_api, owner_client, campaign):
    """The same bad rows through the API, the CSV import page and the paste page."""
    api_reasons = [
        r["reason"] for r in owner_api.post(f"/campaigns/{campaign.pk}/prospects", {"prospects": BAD_ROWS}).json()["results"]
    ]

    # The CSV import page: upload, map, import; its rejected rows are kept on the upload.
    lines = ["profile_url,profile_urn,first_name,last_name"] + [
        ",".join(row.get(name, "") for name in ("profile_url", "profile_urn", "first_name", "last_name"))
        for row in BAD_ROWS
    ]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = owner_client.post(
        reverse("prospects_import", args=[campaign.pk]),
        {"csv_file": SimpleUploadedFile("p.csv", "\n".join(lines).encode(), content_type="text/csv")},
    )
    token = upload["Location"].rstrip("/").rsplit("/", 1)[-1]
    mapping = {"profile_url": "0", "profile_urn": "1", "first_name": "2", "last_name": "3"}
    owner_client.post(reverse("prospects_import_map", args=[campaign.pk, token]), mapping)
    csv_reasons = [reason for _, _, reason in PendingUpload.objects.get(key=token).result["rejected"]]
    assert api_reasons == csv_reasons

    # The paste page (profiles only, one a line): the API's reason says the same, after the
    # import's "Invalid profile: " (the CSV page's wording).
    pasted = [row.get("profile_url") or row.get("profile_urn") for row in BAD_ROWS[:3]]
    # The page answers the paste itself, the refused lines back in the box with their reasons.
    page = owner_client.post(reverse("prospects_add", args=[campaign.pk]), {"profiles": "\n".join(pasted)}).content.decode()
    for reason in api_reasons[:3]:
        from django.utils.html import escape

        assert escape(reason.removeprefix("Invalid profile: ")) in page


def test_adding_prospects_follows_the_pages_permissions(owner_api, ada_api, staff, campaign, ada, client):
    body = {"prospects": [{"profile_url": GOOD_URL}]}

    refused = ada_api.post(f"/campaigns/{campaign.pk}/prospects", body)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only the campaign's owner or an admin may add prospects to it."}
    client.force_login(ada)  # the page refuses her too
    assert client.post(reverse("prospects_add", args=[campaign.pk]), {"profiles": GOOD_URL}).status_code == 403
    assert not Prospect.objects.filter(profile_url=GOOD_URL).exists()

    assert ApiClient(make_token(staff)).post(f"/campaigns/{campaign.pk}/prospects", body).json()["added"] == 1
    assert owner_api.post(f"/campaigns/{campaign.pk}/prospects", body).json()["already"] == 1


def test_unknown_and_archived_campaigns(owner_api, make_campaign):
    body = {"prospects": [{"profile_url": GOOD_URL}]}
    missing = owner_api.post("/campaigns/999999/prospects", body)
    assert missing.status_code == 404 and missing.json() == {"detail": "There is no campaign 999999."}
    archived = make_campaign("Done", state=Campaign.State.ARCHIVED)
    refused = owner_api.post(f"/campaigns/{archived.pk}/prospects", body)
    assert refused.status_code == 409 and "archived" in refused.json()["detail"]
    assert not archived.requests.exists()


@pytest.mark.parametrize("body, location", [
    ({}, ["body", "body", "prospects"]),
    ({"prospects": "https://www.linkedin.com/in/x"}, ["body", "body", "prospects"]),
    ({"prospects": []}, ["body", "body", "prospects"]),
    ({"prospects": [{"profileUrl": GOOD_URL}]}, ["body", "body", "prospects", 0, "profileUrl"]),
    ({"prospects": [{"profile_url": 12}]}, ["body", "body", "prospects", 0, "profile_url"]),
    ({"prospects": [{"profile_url": GOOD_URL}] * 1001}, ["body", "body", "prospects"]),
    ({"prospects": [{"profile_url": "x" * 1001}]}, ["body", "body", "prospects", 0, "profile_url"]),
])
def test_a_body_of_the_wrong_shape_is_422_with_the_field(owner_api, campaign, body, location):
    response = owner_api.post(f"/campaigns/{campaign.pk}/prospects", body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors][0] == location and errors[0]["msg"]
    assert campaign.requests.count() == 2  # nothing added


def test_a_body_that_is_not_json_is_refused(owner_api, campaign):
    response = owner_api.client.post(
        f"{API}/campaigns/{campaign.pk}/prospects", "not json", content_type="application/json", **owner_api.headers
    )
    assert response.status_code in (400, 422)
    assert "detail" in response.json()


# --- Invitations ----------------------------------------------------------------------------------


def walk(api, path, params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = api.get(path, {**params, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_invitations_are_listed_newest_first_and_filtered(owner_api, make_campaign, ada):
    first = make_campaign("First")
    other = make_campaign("Other", owner=ada)
    now = timezone.now()
    old = add_request(first, State.SENT, submitted_at=now - dt.timedelta(days=3), first_name="Grace")
    new = add_request(first, State.ACCEPTED, submitted_at=now - dt.timedelta(days=1), response="replied")
    theirs = add_request(other, State.FAILED, submitted_at=now - dt.timedelta(days=2), company="Navy")
    queued = add_request(first)

    ids = lambda **params: [i["id"] for i in owner_api.get("/invitations", params).json()["items"]]  # noqa: E731

    # Newest made first (the primary key's order, which a page walks at any size); the queue
    # is left out, as on Review.
    assert ids() == [theirs.pk, new.pk, old.pk]
    assert ids(state="queued") == [queued.pk]
    assert ids(campaign=other.pk) == [theirs.pk]
    assert ids(sender=old.sender_id) == [theirs.pk, new.pk, old.pk]
    assert ids(response="replied") == [new.pk]
    assert ids(response="none") == [theirs.pk, old.pk]
    assert ids(q="grace") == [old.pk]
    assert ids(q="navy") == [theirs.pk]
    assert ids(submitted_after=(now - dt.timedelta(days=2, hours=1)).isoformat()) == [theirs.pk, new.pk]
    assert ids(submitted_before=(now - dt.timedelta(days=2, hours=1)).isoformat()) == [old.pk]
    item = owner_api.get("/invitations", {"campaign": first.pk, "state": "sent"}).json()["items"][0]
    assert item["prospect"]["first_name"] == "Grace" and item["campaign"] == {"id": first.pk, "name": "First"}
    assert item["sender"]["id"] == old.sender_id


@pytest.mark.parametrize("params, field", [
    ({"state": "lost"}, "state"),
    ({"campaign": "999999"}, "campaign"),
    ({"campaign": "abc"}, "campaign"),
    ({"response": "maybe"}, "response"),
    ({"submitted_after": "yesterday"}, "submitted_after"),
    ({"limit": "201"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "WyJ4IiwxXQ"}, "cursor"),  # base64 of ["x",1]
])
def test_bad_filters_are_422_naming_the_parameter(owner_api, params, field):
    response = owner_api.get("/invitations", params)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"][0]["loc"]


def test_cursor_pages_are_stable_under_inserts(owner_api, make_campaign):
    campaign = make_campaign()
    now = timezone.now()
    # Several share a submission time: the id breaks the tie.
    made = [add_request(campaign, State.SENT, submitted_at=now - dt.timedelta(minutes=i // 3)) for i in range(20)]
    everything = [i["id"] for i in walk(owner_api, "/invitations", {"limit": 7})]
    assert sorted(everything) == sorted(r.pk for r in made) and len(set(everything)) == 20

    seen, cursor = [], None
    for _ in range(10):
        page = owner_api.get("/invitations", {"limit": 5, **({"cursor": cursor} if cursor else {})}).json()
        seen += [i["id"] for i in page["items"]]
        # Newer invitations arrive while the client walks: they sort before the first page.
        add_request(campaign, State.SENT, submitted_at=timezone.now())
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == everything


def test_invitation_pages_cost_the_same_queries_at_any_size(owner_api, make_campaign):
    campaign = make_campaign()

    def queries_for_a_page():
        with CaptureQueriesContext(connection) as queries:
            response = owner_api.get("/invitations", {"limit": 200, "campaign": campaign.pk, "q": "pat"})
            assert response.status_code == 200
        return len(queries), len(response.json()["items"])

    for _ in range(3):
        add_request(campaign, State.SENT)
    queries_for_a_page()  # the token's first use records it (last_used_at)
    small, shown = queries_for_a_page()
    assert shown == 3
    for _ in range(60):
        add_request(campaign, State.SENT)
    large, shown = queries_for_a_page()
    assert shown == 63 and large == small


def test_one_invitation_with_its_history(owner_api, make_campaign):
    campaign = make_campaign()
    request = add_request(campaign)
    request.move_to(State.SUBMITTING, "Claimed by the worker")
    request.move_to(State.PENDING, "OutX created the task")

    response = owner_api.get(f"/invitations/{request.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == request.pk and body["state"] == "pending" and body["followup"] is None
    assert [(e["from"], e["to"], e["cause"]) for e in body["history"]] == [
        ("queued", "submitting", "Claimed by the worker"), ("submitting", "pending", "OutX created the task"),
    ]
    assert body["history"][0]["at"] <= body["history"][1]["at"]
    assert Event.objects.filter(connection_request=request).count() == 2
    missing = owner_api.get("/invitations/999999")
    assert missing.status_code == 404 and missing.json() == {"detail": "There is no invitation 999999."}


def test_a_member_reads_every_invitation_as_on_review(ada_api, make_campaign):
    request = add_request(make_campaign(), State.SENT)  # the owner's campaign, not Ada's
    assert [i["id"] for i in ada_api.get("/invitations").json()["items"]] == [request.pk]
    assert ada_api.get(f"/invitations/{request.pk}").status_code == 200


# --- Do not contact -------------------------------------------------------------------------------


def test_add_and_list_do_not_contact_entries(ada_api, ada):
    body = {"entries": [
        {"value": "https://www.linkedin.com/company/acme-corp", "reason": "Customer"},
        {"value": "urn:li:fsd_profile:ACoAABlocked1", "reason": "Asked not to be contacted"},
        {"value": "Acme Corp", "reason": "same company again"},
        {"value": "https://www.linkedin.com/feed/", "reason": ""},
        {"value": "   ", "reason": ""},
    ]}

    response = ada_api.post("/do-not-contact", body)

    assert response.status_code == 200, response.content
    data = response.json()
    assert [r["status"] for r in data["results"]] == ["added", "added", "already", "refused", "refused"]
    assert data["results"][2]["reason"] == "Already on the do-not-contact list."
    assert data["results"][3]["reason"] and data["results"][4]["reason"] == "The entry is empty."
    assert DoNotContact.objects.get(company_key="acmecorp").reason == "Customer"
    assert DoNotContact.objects.get(company_key="acmecorp").added_by == ada

    listed = ada_api.get("/do-not-contact").json()
    assert [e["value"] for e in listed["items"]] == ["urn:li:fsd_profile:ACoAABlocked1", "https://www.linkedin.com/company/acme-corp"]
    assert listed["items"][0]["added_by"] == "ada" and listed["items"][0]["kind"] == "profile"
    paged = walk(ada_api, "/do-not-contact", {"limit": 1})
    assert [e["id"] for e in paged] == [e["id"] for e in listed["items"]]


@pytest.mark.parametrize("body", [{}, {"entries": ["Acme"]}, {"entries": [{"reason": "x"}]}, {"entries": []}])
def test_do_not_contact_bodies_of_the_wrong_shape(ada_api, body):
    response = ada_api.post("/do-not-contact", body)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][:3] == ["body", "body", "entries"]
    assert not DoNotContact.objects.exists()


# --- Rate limits ----------------------------------------------------------------------------------


def test_rate_limits_answer_429_with_retry_after(owner_api, ada_api, campaign, settings):
    settings.API_RATE_LIMITS = {"read": "3/min", "write": "2/min"}
    for _ in range(3):
        assert owner_api.get("/campaigns").status_code == 200
    limited = owner_api.get("/invitations")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0 and limited.json()["detail"]
    assert ada_api.get("/campaigns").status_code == 200  # another token counts apart

    body = {"entries": [{"value": "Initech"}]}
    assert [owner_api.post("/do-not-contact", body).status_code for _ in range(3)] == [200, 200, 429]


# --- The schema and its docs page -----------------------------------------------------------------


def test_openapi_schema_lists_every_endpoint(owner, client):
    assert client.get(API + "/openapi.json").status_code == 302  # part of the site: log in
    client.force_login(owner)

    response = client.get(API + "/openapi.json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}/prospects", "/api/v1/invitations",
        "/api/v1/invitations/{invitation_id}", "/api/v1/do-not-contact",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/do-not-contact"]) == {"get", "post"}
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_the_docs_page_needs_a_login_and_loads_no_cdn(owner, client):
    assert client.get(API + "/docs").status_code == 302
    client.force_login(owner)
    html = client.get(API + "/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "swagger-ui-init.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert "<script>" not in html  # no inline script: the CSP would block it


def test_an_invitation_with_its_follow_up(owner_api, make_campaign):
    from tests.helpers import add_followup

    request = add_request(make_campaign(), State.ACCEPTED)
    followup = add_followup(request, state="queued", message="Thanks, Grace!")
    followup.move_to("submitting", "Claimed by the worker")

    body = owner_api.get(f"/invitations/{request.pk}").json()

    assert body["followup"]["message"] == "Thanks, Grace!" and body["followup"]["state"] == "submitting"
    assert [(e["from"], e["to"]) for e in body["followup"]["history"]] == [("queued", "submitting")]
    assert body["history"] == []  # the follow-up's events are its own


@pytest.mark.parametrize("rate", ["", "fast", "0/min", "10/fortnight"])
def test_a_malformed_rate_setting_is_refused_at_start_up(settings, rate):
    from django.core.exceptions import ImproperlyConfigured

    from api.auth import check_rates

    settings.API_RATE_LIMITS = {"read": rate, "write": "30/min"}
    with pytest.raises(ImproperlyConfigured, match="API_RATE_LIMITS"):
        check_rates()


def test_people_on_the_do_not_contact_list_are_refused_as_at_import(owner_api, campaign):
    owner_api.post("/do-not-contact", {"entries": [{"value": "Initech", "reason": "Customer"}]})
    body = {"prospects": [
        {"profile_url": GOOD_URL, "company": "Initech"},
        {"profile_url": "https://www.linkedin.com/in/someone-else", "company": "Globex"},
    ]}

    results = owner_api.post(f"/campaigns/{campaign.pk}/prospects", body).json()["results"]

    assert [r["status"] for r in results] == ["refused", "added"]
    assert results[0]["reason"].startswith("On the do-not-contact list") and "Initech" in results[0]["reason"]
