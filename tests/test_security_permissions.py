"""Only a campaign's owner or an admin changes anything, and only admins manage senders: every
URL that accepts a POST, walked as another user, answers 403 or 404 and changes no row.

The URL conf is walked as Django resolves it (tests/test_login_required.py), and every URL that
accepts a POST must be known here, so a mutating URL added later fails this file until someone
says who may use it. The other security files import the world and the cases from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from campaigns.forms.campaigns import CampaignForm
from campaigns import outx
from campaigns.forms.senders import SenderForm
from campaigns.importing import read_csv
from api.models import ApiToken
from campaigns.models import (
    Campaign, ConnectionRequest, DoNotContact, FollowUp, PendingUpload, ProfileSearch, Prospect, SearchResult, Sender,
    TaskState,
)
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint, WebhookMessage
from tests.test_login_required import all_pages

URN = "urn:li:fsd_profile:ACoAASecurity{}"
CSV_TEXT = "LinkedIn URL,First name\nhttps://www.linkedin.com/in/csv-person,Csv\n"

# The sandbox's OutX API: reached with the API key, not a login, and exempt from CSRF as an
# API for servers is (outx_sandbox/api.py). Without the key it answers 401.
SANDBOX_API_POSTS = {
    "outx_sandbox:send_connection_request",
    "outx_sandbox:fetch_profile",
    "outx_sandbox:fetch_connections",
    "outx_sandbox:send_message",
    "outx_sandbox:search_profiles",
}
# The JSON API: reached with a user's API token, not a session (so exempt from CSRF); without
# one it answers 401. tests/test_api.py walks its permissions, token by token.
API_POSTS = {"api:campaign_prospects", "api:do_not_contact"}
# Django's own views that act only on the requester: their session or their own password; and
# the user's own API tokens (a token's revoke is 404 to anyone but its owner, below).
OWN_ACCOUNT = {"login", "logout", "password_change", "api_token_create", "account_time_zone"}
# What any logged-in user may create, which is then theirs: a campaign, a search (on a sender
# they may use, below), and entries on the team's do-not-contact list (only admins remove them).
CREATES_OWN = {"campaign_create", "search", "do_not_contact_add", "do_not_contact_import"}


# --- The world: three users, campaigns in each state, an upload waiting, the sandbox's log ----


@dataclass
class World:
    owner: User
    intruder: User
    staff: User
    owner_client: Client
    intruder_client: Client
    staff_client: Client
    account: Sender  # the first sender: every request below is on it
    spare: Sender  # a second sender with a stored key and no request; the owner may use it
    draft: Campaign  # launchable: one queued prospect, a note that renders
    active: Campaign
    paused: Campaign  # its one queued invitation cannot be sent: no value for {company}
    intruders_campaign: Campaign
    queued: ConnectionRequest  # in the active campaign
    uncertain: ConnectionRequest
    uncertain_too: ConnectionRequest
    accepted: ConnectionRequest  # its follow-up is uncertain
    accepted_too: ConnectionRequest  # likewise
    owner_token: str  # the key of a CSV upload of the owner's waiting, for the draft campaign
    intruders_token: str  # the intruder's own upload, for their own campaign
    entry: DoNotContact  # on the do-not-contact list, added by the owner
    search: ProfileSearch  # the owner's, finished, with two results and more pages
    api_token: ApiToken  # the owner's
    endpoint: WebhookEndpoint  # an admin's, with one failed delivery
    delivery: WebhookDelivery

    def client_for(self, who: str) -> Client:
        return {"owner": self.owner_client, "staff": self.staff_client, "intruder": self.intruder_client}[who]


def store_upload(user: User, campaign: Campaign, text: str = CSV_TEXT) -> str:
    """A CSV upload waiting for its column mapping, as step 1 of the import leaves it."""
    upload = PendingUpload.objects.create(
        owner=user, campaign=campaign, filename="prospects.csv", table=read_csv(text.encode()).to_json()
    )
    return upload.key


def add_request(campaign: Campaign, number: int, state=ConnectionRequest.State.QUEUED, **fields) -> ConnectionRequest:
    prospect = Prospect.objects.create(profile_urn=URN.format(number), first_name=f"Person{number}")
    return ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect, state=state, **fields)


def build_world(**client_options) -> World:
    # No passwords: the clients log in directly, and hashing three would take a second.
    owner = User.objects.create_user("ada")
    intruder = User.objects.create_user("mallory")
    staff = User.objects.create_user("root", is_staff=True, is_superuser=True)
    clients = {}
    for user in (owner, intruder, staff):
        clients[user.username] = Client(**client_options)
        clients[user.username].force_login(user)

    account = Sender.get()
    account.users.add(owner, intruder)  # both may send from it: only owning a campaign tells them apart
    spare = Sender.objects.create(name="Spare LinkedIn")
    spare.set_api_key("sk-outx-spare-team-key-0001")
    spare.save()
    spare.users.add(owner)
    note = "Hi {first_name|there}"
    draft = Campaign.objects.create(name="Draft", owner=owner, note_template=note)
    active = Campaign.objects.create(name="Active", owner=owner, note_template=note, state=Campaign.State.ACTIVE)
    # Its one queued prospect has no company, so that invitation cannot be sent as the note stands.
    paused = Campaign.objects.create(
        name="Paused", owner=owner, note_template=note + " at {company}", state=Campaign.State.PAUSED
    )
    intruders_campaign = Campaign.objects.create(name="Mallory's", owner=intruder, note_template=note)
    for campaign in (draft, active, paused, intruders_campaign):
        campaign.senders.set([account])
    add_request(draft, 1)
    add_request(paused, 2)
    queued = add_request(active, 3)
    uncertain = add_request(active, 4, state=ConnectionRequest.State.UNCERTAIN, submitted_at=timezone.now())
    uncertain_too = add_request(active, 5, state=ConnectionRequest.State.UNCERTAIN, submitted_at=timezone.now())
    accepted, accepted_too = (
        add_request(active, number, state=ConnectionRequest.State.ACCEPTED, submitted_at=timezone.now())
        for number in (6, 7)
    )
    for request in (accepted, accepted_too):
        FollowUp.objects.create(request=request, message="Thanks!", state=FollowUp.State.UNCERTAIN)
    for campaign in (draft, active, paused):
        campaign.render_queued_notes()

    if apps.is_installed("outx_sandbox"):
        from outx_sandbox.models import Delivery, SandboxSettings, SandboxTask

        SandboxSettings.get()
        now = timezone.now()
        # Completed already, so the control page's GET (which completes due tasks) has nothing to do.
        task = SandboxTask.objects.create(
            task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST, task_input={"profile_urn": URN.format(9)},
            status=SandboxTask.Status.COMPLETED, task_output={"sent": True},
            created_at=now - dt.timedelta(minutes=5), complete_after=now - dt.timedelta(minutes=4),
        )
        Delivery.objects.create(task=task, profile_urn=URN.format(9), note="Hi", delivered_at=now)

    entry = DoNotContact.objects.create(
        kind=DoNotContact.Kind.COMPANY, value="Globex", company_name="Globex", company_key="globex",
        reason="Customer", added_by=owner,
    )
    search = ProfileSearch.objects.create(
        sender=account, requested_by=owner, company="Initech", count=2, state=TaskState.SENT, task_output={"total": 10},
    )
    for position in (0, 1):
        SearchResult.objects.create(
            search=search, position=position, profile_urn=URN.format(50 + position), first_name=f"Found{position}",
        )
    api_token, _ = ApiToken.issue(owner, "Zapier", 30)
    endpoint = WebhookEndpoint(url="https://hooks.example.com/crm", events=[EventType.values[0]], created_by=staff)
    endpoint.set_new_secret()
    endpoint.save()
    message = WebhookMessage.objects.create(type=EventType.values[0], payload={"type": EventType.values[0], "data": {}})
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message=message, state=WebhookDelivery.State.FAILED, attempt_count=8,
    )

    return World(
        entry=entry, search=search, api_token=api_token, endpoint=endpoint, delivery=delivery,
        owner=owner, intruder=intruder, staff=staff,
        owner_client=clients["ada"], intruder_client=clients["mallory"], staff_client=clients["root"],
        account=account, spare=spare, draft=draft, active=active, paused=paused, intruders_campaign=intruders_campaign,
        queued=queued, uncertain=uncertain, uncertain_too=uncertain_too, accepted=accepted, accepted_too=accepted_too,
        owner_token=store_upload(owner, draft),
        intruders_token=store_upload(intruder, intruders_campaign),
    )


def snapshot() -> dict[str, list[dict]]:
    """Every row of the product's and the sandbox's tables, and the users."""
    models = [
        # With the many-to-many tables too: which users may use a sender is a right.
        *apps.get_app_config("campaigns").get_models(include_auto_created=True),
        *apps.get_app_config("webhooks").get_models(),
        *apps.get_app_config("api").get_models(), *apps.get_app_config("people").get_models(), User,
    ]
    if apps.is_installed("outx_sandbox"):
        models += apps.get_app_config("outx_sandbox").get_models()
    rows = {model._meta.label: list(model._default_manager.order_by("pk").values()) for model in models}
    for user in rows["auth.User"]:
        del user["last_login"]  # each test login sets it
    for token in rows["api.ApiToken"]:
        del token["last_used_at"]  # using a token is not changing anything
    return rows


def form_data(form: forms.BaseForm, **changes) -> dict:
    """What a browser posts for `form` as it is shown (its initial values), with `changes`."""
    data: dict = {}
    for name, form_field in form.fields.items():
        value = form[name].value()
        if isinstance(form_field.widget, forms.CheckboxInput):
            if value:
                data[name] = "on"
        elif isinstance(value, (list, tuple)):
            data[name] = [str(item) for item in value]
        elif value is not None:
            data[name] = form_field.widget.format_value(value) or ""
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def sandbox_settings_data(**changes) -> dict:
    from outx_sandbox.forms import SandboxSettingsForm
    from outx_sandbox.models import SandboxSettings

    return form_data(SandboxSettingsForm(instance=SandboxSettings.get()), **changes)


# --- Every mutating URL, with plausible data -------------------------------------------------


@dataclass(frozen=True)
class Case:
    url_name: str
    label: str
    url: Callable[[World], str]
    data: Callable[[World], dict]  # called for every POST: a file can be read once only
    allowed: str = "owner"  # who may: the campaign's "owner" (or staff), or "staff" only
    changes: bool = True  # whether the allowed user's POST changes rows
    works: tuple[int, ...] = (200, 302)  # what the allowed user's POST answers
    intruder_urls: Callable[[World], list[str]] = lambda world: []  # more ways in to try

    @property
    def id(self) -> str:
        return f"{self.url_name}-{self.label}"


def no_data(world: World) -> dict:
    return {}


def campaign_url(name: str, which: str, *extra) -> Callable[[World], str]:
    return lambda world: reverse(name, args=[getattr(world, which).pk, *extra])


CASES = [
    Case(
        "campaign_edit", "save", campaign_url("campaign_edit", "draft"),
        lambda w: form_data(CampaignForm(instance=w.draft), name="Renamed", note_template="Hello {first_name|there}"),
    ),
    Case("campaign_action", "launch", campaign_url("campaign_action", "draft", "launch"), no_data),
    Case("campaign_action", "pause", campaign_url("campaign_action", "active", "pause"), no_data),
    Case("campaign_action", "resume", campaign_url("campaign_action", "paused", "resume"), no_data),
    Case("campaign_action", "archive", campaign_url("campaign_action", "active", "archive"), no_data),
    Case("campaign_skip_unsendable", "skip", campaign_url("campaign_skip_unsendable", "paused"), no_data),
    Case("request_action", "retry", campaign_url("request_action", "uncertain", "retry"), no_data),
    Case("request_action", "close", campaign_url("request_action", "uncertain_too", "close"), no_data),
    Case("request_action", "remove", campaign_url("request_action", "queued", "remove"), no_data),
    Case("request_action", "followup-retry", campaign_url("request_action", "accepted", "followup-retry"), no_data),
    Case("request_action", "followup-close", campaign_url("request_action", "accepted_too", "followup-close"), no_data),
    Case(
        "prospects_add", "paste", campaign_url("prospects_add", "draft"),
        lambda w: {"profiles": "https://www.linkedin.com/in/someone-new\nurn:li:fsd_profile:ACoAANewPerson"},
    ),
    # Step 1 keeps the file in a PendingUpload row (it replaces the uploader's earlier one) and
    # redirects to step 2.
    Case(
        "prospects_import", "upload", campaign_url("prospects_import", "draft"),
        lambda w: {"csv_file": SimpleUploadedFile("prospects.csv", CSV_TEXT.encode(), content_type="text/csv")},
        works=(302,),
    ),
    Case(
        "prospects_import_map", "import",
        lambda w: reverse("prospects_import_map", args=[w.draft.pk, w.owner_token]),
        lambda w: {"profile_url": "0", "first_name": "1"},
        # The intruder's own upload (for their own campaign) does not open another's campaign.
        intruder_urls=lambda w: [reverse("prospects_import_map", args=[w.draft.pk, w.intruders_token])],
    ),
    Case(
        "sender_create", "create", lambda w: reverse("sender_create"),
        lambda w: form_data(SenderForm(), name="Walked in", api_key="sk-outx-walk-new-team-0002"),
        allowed="staff", works=(302,),
    ),
    Case(
        "sender_detail", "save", lambda w: reverse("sender_detail", args=[w.account.pk]),
        lambda w: form_data(SenderForm(instance=w.account), daily_limit="7", users=[str(w.intruder.pk)]),
        allowed="staff", works=(302,),
    ),
    Case(
        "sender_state", "pause", lambda w: reverse("sender_state", args=[w.account.pk]),
        lambda w: {"action": "pause"}, allowed="staff",
    ),
    # It calls OutX and changes no row; an admin's answer says whether OutX answered.
    Case(
        "sender_test_connection", "test", lambda w: reverse("sender_test_connection", args=[w.account.pk]), no_data,
        allowed="staff", changes=False,
    ),
    Case(
        "sender_retire", "retire", lambda w: reverse("sender_retire", args=[w.spare.pk]), no_data,
        allowed="staff", works=(302,),
    ),
    Case(
        "sender_delete", "delete", lambda w: reverse("sender_delete", args=[w.spare.pk]), no_data,
        allowed="staff", works=(302,),
    ),
]
CASES += [
    # Issue 12: the do-not-contact list, marks, searches, API tokens, webhooks.
    Case(
        "do_not_contact_remove", "remove", lambda w: reverse("do_not_contact_remove", args=[w.entry.pk]), no_data,
        allowed="staff",  # 302, or 200 and an empty row for htmx
    ),
    Case(
        "request_response", "not-interested", campaign_url("request_response", "accepted"),
        lambda w: {"response": "not_interested", "origin": "detail"},
    ),
    Case(
        "request_do_not_contact", "add", campaign_url("request_do_not_contact", "queued"),
        lambda w: {"origin": "detail", "reason": "Asked by e-mail"},
    ),
    # A search is its requester's (or an admin's); the campaign must be one they may change.
    Case(
        "search_add", "all", lambda w: reverse("search_add", args=[w.search.pk]),
        lambda w: {"campaign": str(w.draft.pk), "add": "all"}, works=(302,),
    ),
    Case("search_next", "next", lambda w: reverse("search_next", args=[w.search.pk]), no_data, works=(302,)),
    # A token is revoked by its owner only: 404 to everyone else.
    Case(
        "api_token_revoke", "revoke", lambda w: reverse("api_token_revoke", args=[w.api_token.pk]), no_data,
        works=(302,),
    ),
    Case(
        "webhook_create", "create", lambda w: reverse("webhook_create"),
        lambda w: {"url": "https://hooks.example.com/new", "description": "CRM", "events": [EventType.values[1]]},
        allowed="staff", works=(302,),
    ),
    Case(
        "webhook_detail", "save", lambda w: reverse("webhook_detail", args=[w.endpoint.pk]),
        lambda w: {"url": "https://hooks.example.com/changed", "description": "Changed", "events": EventType.values[:2]},
        allowed="staff", works=(302,),
    ),
    Case(
        "webhook_rotate_secret", "rotate", lambda w: reverse("webhook_rotate_secret", args=[w.endpoint.pk]), no_data,
        allowed="staff", works=(302,),
    ),
    Case(
        "webhook_disable", "disable", lambda w: reverse("webhook_disable", args=[w.endpoint.pk]), no_data,
        allowed="staff", works=(302,),
    ),
    Case(
        "webhook_enable", "enable", lambda w: reverse("webhook_enable", args=[w.endpoint.pk]), no_data,
        allowed="staff", works=(302,),
    ),
    Case(
        "webhook_delete", "delete", lambda w: reverse("webhook_delete", args=[w.endpoint.pk]), no_data,
        allowed="staff", works=(302,),
    ),
    Case(
        "webhook_send_again", "send-again", lambda w: reverse("webhook_send_again", args=[w.delivery.pk]), no_data,
        allowed="staff", works=(302,),
    ),
]
CASES += [
    # Issue 13: users and roles, managed by admins in the app (people/). The walked user is the
    # campaigns' owner, a member.
    Case(
        "user_create", "create", lambda w: reverse("user_create"),
        lambda w: {"username": "newcomer", "role": "member", "password": "a long walked password"},
        allowed="staff", works=(302,),
    ),
    Case("user_role", "admin", campaign_url("user_role", "owner"), lambda w: {"role": "admin"}, allowed="staff", works=(302,)),
    Case("user_active", "deactivate", campaign_url("user_active", "owner"), lambda w: {"active": "0"}, allowed="staff", works=(302,)),
    Case("user_senders", "set", campaign_url("user_senders", "owner"), lambda w: {"senders": [str(w.spare.pk)]}, allowed="staff", works=(302,)),
    Case(
        "user_password", "reset", campaign_url("user_password", "owner"),
        lambda w: {"password": "another long walked password"}, allowed="staff", works=(302,),
    ),
]
if settings.OUTX_SANDBOX:
    CASES += [
        Case(
            "outx_sandbox:control", "switches", lambda w: reverse("outx_sandbox:control"),
            lambda w: sandbox_settings_data(wrong_key="on", latency_ms="5"), allowed="staff",
        ),
        Case("outx_sandbox:reset", "reset", lambda w: reverse("outx_sandbox:reset"), no_data, allowed="staff"),
    ]
CASE_IDS = [case.id for case in CASES]
COVERED = {case.url_name for case in CASES}


# --- Which URLs accept a POST ----------------------------------------------------------------


def view_name(url: str) -> str:
    return resolve(url).view_name


def is_admin(name: str) -> bool:
    return name.startswith("admin:")


def post_accepting_urls(user: User) -> list[tuple[str, str]]:
    """(view name, sample URL) of every URL whose view takes a POST from `user` (anything but 405).

    Each view's method check (require_POST, require_http_methods, a class's handlers) runs
    before its permission check, so another user's POST tells the methods apart too.
    """
    found = []
    for url, _ in all_pages():
        client = Client()
        client.force_login(user)  # afresh: the walk posts to the logout URLs as well
        if client.post(url).status_code != 405:
            found.append((view_name(url), url))
    return found


def admin_model(name: str):
    """The model an admin URL name such as `admin:campaigns_campaign_change` is about, if any."""
    for model in admin.site._registry:
        if name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


def concrete_url(sample_url: str, world: World) -> str:
    """The walked sample URL with real objects in place of `1` and `x`."""
    match = resolve(sample_url)
    if match.url_name is None:  # the admin's unnamed redirects and catch-all
        return sample_url
    name, kwargs = match.view_name, dict(match.kwargs)
    if "pk" in kwargs:
        objects = {
            "sender": world.account, "do_not_contact": world.entry, "search": world.search,
            "api_token": world.api_token, "webhook_send_again": world.delivery, "webhook": world.endpoint,
            "request_response": world.accepted,
        }
        chosen = next((value for prefix, value in objects.items() if name.startswith(prefix)), None)
        if chosen is not None:
            kwargs["pk"] = chosen.pk
        else:
            kwargs["pk"] = (world.uncertain if name.startswith("request") else world.draft).pk
    if "token" in kwargs:
        kwargs["token"] = world.owner_token
    if "action" in kwargs:
        kwargs["action"] = "launch" if name == "campaign_action" else "retry"
    if is_admin(name):
        model = admin_model(name)
        instance = model._default_manager.order_by("pk").first() if model else None
        for key in ("object_id", "id"):
            if key in kwargs and instance is not None:
                kwargs[key] = str(instance.pk)
    return reverse(name, kwargs=kwargs)


# --- The tests -------------------------------------------------------------------------------


def outx_taking_every_key(*, api_key=None, **kwargs) -> outx.OutxClient:
    """OutX answering "no such task" to the key check and the connection test: the key works."""
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json={"error": "Agent task not found"}))
    return outx.OutxClient("https://outx.test", api_key or "", transport=transport)


@pytest.fixture
def world(db, monkeypatch):
    # A new sender's key is checked with OutX, and so is the connection: no network here.
    monkeypatch.setattr(outx, "get_client", outx_taking_every_key)
    return build_world()


def test_every_url_that_accepts_a_post_is_known_here(world):
    accepting = {name for name, _ in post_accepting_urls(world.intruder)}

    product = {name for name in accepting if not is_admin(name) and name not in SANDBOX_API_POSTS | API_POSTS}
    # A new mutating URL needs a Case above (or, like campaign_create, a reason it is open).
    assert product == COVERED | CREATES_OWN | OWN_ACCOUNT
    if settings.OUTX_SANDBOX:
        assert SANDBOX_API_POSTS <= accepting
    assert API_POSTS <= accepting  # answering 401 without a token: test_the_api_wants_a_token_not_a_login
    assert any(is_admin(name) for name in accepting)  # checked by the admin test below


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_another_user_is_refused_and_changes_nothing(case, world):
    url = case.url(world)
    before = snapshot()

    for attempt in [url, *case.intruder_urls(world)]:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = world.intruder_client.post(attempt, case.data(world), **headers)
            assert response.status_code in (403, 404), f"{attempt} answered {response.status_code}"
        response = world.intruder_client.get(attempt)
        assert response.status_code in (403, 404, 405), f"GET {attempt} answered {response.status_code}"

    assert snapshot() == before
    # The same POST from whoever may make it goes through: the refusal came from the permission.
    response = world.client_for(case.allowed).post(url, case.data(world))
    assert response.status_code in case.works, f"{case.allowed} got {response.status_code}"
    assert (snapshot() != before) is case.changes


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_get_changes_nothing_even_for_whoever_may_post(case, world):
    before = snapshot()

    response = world.client_for(case.allowed).get(case.url(world))

    assert response.status_code in (200, 405)
    assert snapshot() == before


@pytest.mark.parametrize("who", ["intruder", "staff"])
def test_no_get_anywhere_changes_a_row(world, who):
    """Every URL of the site, fetched with real objects in it: a GET only reads."""
    client = world.client_for(who)
    before = snapshot()

    for sample, _ in all_pages():
        url = concrete_url(sample, world)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            client.get(url, **headers)
            assert snapshot() == before, f"GET {url} changed rows"


def test_the_owner_may_not_use_the_staff_only_urls(world):
    for case in CASES:
        if case.allowed == "staff":
            before = snapshot()
            assert world.owner_client.post(case.url(world), case.data(world)).status_code == 403
            assert snapshot() == before


def test_members_are_refused_the_senders_pages_even_for_their_own_sender(world):
    """Sender management is for admins: a member of a sender sees none of its pages (only the
    list of every sender's figures)."""
    spare = [world.spare.pk]
    urls = [
        reverse("settings"), reverse("sender_create"),
        reverse("sender_detail", args=spare), reverse("sender_retire", args=spare),
        reverse("sender_delete", args=spare),
    ]
    assert world.spare.may_be_used_by(world.owner)

    for url in urls:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            assert world.owner_client.get(url, **headers).status_code == 403, url
        assert world.staff_client.get(url).status_code in (200, 302), url


def test_creating_a_campaign_is_open_to_everyone_and_makes_it_theirs(world):
    """The exception: no campaign to own yet. Whatever the form says, the poster owns it."""
    data = form_data(
        CampaignForm(), name="Mallory's second", note_template="Hi", owner=str(world.owner.pk), state="active",
        senders=[str(world.account.pk)],
    )

    response = world.intruder_client.post(reverse("campaign_create"), data)

    assert response.status_code == 302
    created = Campaign.objects.get(name="Mallory's second")
    assert created.owner == world.intruder
    assert created.state == Campaign.State.DRAFT


def test_the_admin_sends_a_non_staff_user_to_its_login_and_changes_nothing(world):
    before = snapshot()
    accepting = post_accepting_urls(world.intruder)
    admin_urls = [concrete_url(url, world) for name, url in accepting if is_admin(name)]
    assert reverse("admin:campaigns_campaign_change", args=[world.draft.pk]) in admin_urls

    for url in admin_urls:
        if view_name(url) in ("admin:login", "admin:logout"):
            continue
        client = Client()
        client.force_login(world.intruder)
        response = client.post(url, {"name": "Hijacked", "state": "archived", "post": "yes"})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url

    assert snapshot() == before


def test_the_sandbox_api_wants_its_key_not_a_login(world):
    if not settings.OUTX_SANDBOX:
        pytest.skip("the sandbox is switched off")
    before = snapshot()
    body = {"profile_urn": URN.format(1), "note": "Hi", "profile_slug": "ada", "recipient_urn": URN.format(1),
            "message": "Hi"}

    for name in SANDBOX_API_POSTS:
        response = world.intruder_client.post(reverse(name), body, content_type="application/json")
        assert response.status_code == 401, name

    assert snapshot() == before


def test_the_api_wants_a_token_not_a_login(world):
    """A session is not a way into the JSON API (so no CSRF to worry about): a logged-in admin
    without a token gets 401 and changes nothing."""
    before = snapshot()
    urls = [reverse("api:campaign_prospects", args=[world.draft.pk]), reverse("api:do_not_contact")]
    body = {"prospects": [{"profile_urn": URN.format(90)}], "entries": [{"value": "Initech"}]}

    for url in urls:
        response = world.staff_client.post(url, body, content_type="application/json")
        assert response.status_code == 401, url
        assert world.staff_client.get(url).status_code in (401, 405), url

    assert snapshot() == before


def test_searching_from_a_sender_one_may_not_use_is_refused(world):
    """Anyone may search, but only from a sender they may use; the owner may not use the spare."""
    world.spare.users.remove(world.owner)
    data = {"company": "Initech", "count": "10", "sender": str(world.spare.pk)}
    before = snapshot()

    response = world.owner_client.post(reverse("search"), data)

    assert response.status_code in (200, 403)  # refused by the form's choices or the view
    assert snapshot() == before
    assert world.staff_client.post(reverse("search"), data).status_code == 302
