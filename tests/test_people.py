"""Users and roles managed in the app (people/): only admins reach the Users pages; they add
people, change roles, deactivate and reactivate, reset passwords and choose senders; the
guards keep the team from losing its last admin; an inactive user's session and API tokens
stop working; every change is recorded in the admin log."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from campaigns.models import Sender
from people.models import Role, role_refusal
from tests.test_api import ApiClient, make_token
from tests.test_production import is_logged_in, log_in

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough password"
NEW_PASSWORD = "another passphrase 42"
GENERATED = re.compile(r'<code class="token-value">([^<]+)</code>')


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Every login hashes a password; production's hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def grace(db):
    """An admin (is_staff)."""
    return User.objects.create_user("grace", password=PASSWORD, is_staff=True, first_name="Grace", last_name="Hopper")


@pytest.fixture
def grace_client(grace):
    client = Client()
    client.force_login(grace)
    return client


@pytest.fixture
def member(db):
    return User.objects.create_user("linus", password=PASSWORD)


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def follow(client, url, data):
    return client.post(url, data, follow=True)


# --- Who may reach the pages ---------------------------------------------------------------------


def admin_only_requests(user_pk: int):
    return [
        ("get", reverse("user_list"), {}),
        ("get", reverse("user_create"), {}),
        ("post", reverse("user_create"), {"username": "new", "role": "member"}),
        ("get", reverse("user_detail", args=[user_pk]), {}),
        ("post", reverse("user_role", args=[user_pk]), {"role": "admin"}),
        ("post", reverse("user_active", args=[user_pk]), {"active": "0"}),
        ("post", reverse("user_senders", args=[user_pk]), {}),
        ("post", reverse("user_password", args=[user_pk]), {"password": NEW_PASSWORD}),
    ]


def test_a_member_gets_403_on_every_users_page_and_changes_nothing(member_client, member, grace):
    for method, url, data in admin_only_requests(grace.pk):
        response = getattr(member_client, method)(url, data)
        assert response.status_code == 403, url
    grace.refresh_from_db()
    assert grace.is_staff and grace.is_active and grace.check_password(PASSWORD)
    assert not User.objects.filter(username="new").exists()
    assert not LogEntry.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login(client, grace):
    for method, url, data in admin_only_requests(grace.pk):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_the_nav_shows_users_to_admins_only(grace_client, member_client):
    users_link = f'href="{reverse("user_list")}"'
    assert users_link in grace_client.get(reverse("home")).content.decode()
    assert users_link not in member_client.get(reverse("home")).content.decode()


def test_get_only_pages_refuse_other_methods(grace_client, grace):
    assert grace_client.post(reverse("user_list")).status_code == 405
    assert grace_client.get(reverse("user_role", args=[grace.pk])).status_code == 405
    assert grace_client.get(reverse("user_detail", args=[999999])).status_code == 404


# --- The list ----------------------------------------------------------------------------------


def test_the_list_shows_each_persons_role_state_last_login_and_senders(grace_client, grace, member):
    lisbon = Sender.objects.create(name="Lisbon account")
    Sender.objects.create(name="Unused account")
    lisbon.users.add(member)
    User.objects.create_user("gone", is_active=False)

    html = text(grace_client.get(reverse("user_list")))

    assert "Grace Hopper" in html and "(you)" in html
    linus_row = re.search(r"<tr>.*?linus.*?</tr>", html).group(0)
    assert "Member" in linus_row and "Active" in linus_row and "Never" in linus_row
    assert f'<a href="{reverse("sender_detail", args=[lisbon.pk])}">Lisbon account</a>' in linus_row
    assert "Unused account" not in linus_row
    grace_row = re.search(r"<tr>.*?grace.*?</tr>", html).group(0)
    assert "Admin" in grace_row and "Every sender" in grace_row
    assert "Deactivated" in re.search(r"<tr>.*?gone.*?</tr>", html).group(0)


# --- Adding someone ------------------------------------------------------------------------------


def test_an_admin_adds_a_member_with_a_password_and_senders(grace_client, grace):
    sender = Sender.objects.create(name="Team account")

    response = grace_client.post(reverse("user_create"), {
        "username": "ada", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
        "role": "member", "senders": [sender.pk], "password": PASSWORD,
    })

    ada = User.objects.get(username="ada")
    assert response.status_code == 302 and response["Location"] == reverse("user_detail", args=[ada.pk])
    assert not ada.is_staff and ada.is_active and ada.get_full_name() == "Ada Lovelace"
    assert list(ada.senders.all()) == [sender]
    assert log_in(Client(), "ada", PASSWORD).status_code == 302
    entry = LogEntry.objects.get(object_id=str(ada.pk))
    assert entry.user == grace and entry.is_addition() and "Added as member by grace" in entry.get_change_message()
    page = grace_client.get(response["Location"])
    assert "ada added as member. Hand them their password privately." in messages_of(page)
    assert "Added as member by grace" in text(page)


def test_a_password_left_blank_is_generated_and_shown_once(grace_client):
    response = grace_client.post(reverse("user_create"), {"username": "ada", "role": "admin"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = GENERATED.search(response.content.decode()).group(1)
    assert len(password) >= 16
    ada = User.objects.get(username="ada")
    assert ada.is_staff and ada.check_password(password)
    assert "shown only this once" in text(response)
    assert password not in grace_client.get(reverse("user_detail", args=[ada.pk])).content.decode()


@pytest.mark.parametrize("password, error", [
    ("short", "This password is too short."),
    ("password123", "This password is too common."),
    ("12345678901234", "This password is entirely numeric."),
    ("Ada-Lovelace-1815x", "The password is too similar to the username."),
])
def test_a_weak_password_is_refused_by_the_validators(grace_client, password, error):
    response = grace_client.post(reverse("user_create"), {"username": "ada-lovelace-1815", "role": "member", "password": password})

    assert response.status_code == 400
    assert error in text(response)
    assert not User.objects.filter(username="ada-lovelace-1815").exists()
    assert f'value="{password}"' not in response.content.decode()  # never rendered back


def test_a_username_taken_in_any_case_is_refused(grace_client, member):
    response = grace_client.post(reverse("user_create"), {"username": "LINUS", "role": "member", "password": PASSWORD})

    assert response.status_code == 400
    assert "Someone already has this username" in text(response)
    assert User.objects.count() == 2


# --- Roles ---------------------------------------------------------------------------------------


def test_an_admin_makes_a_member_an_admin_and_back(grace_client, member):
    response = follow(grace_client, reverse("user_role", args=[member.pk]), {"role": "admin"})
    member.refresh_from_db()
    assert member.is_staff
    assert "linus is now an admin: they may manage senders, users and webhooks." in messages_of(response)
    assert response.redirect_chain[-1][0] == reverse("user_detail", args=[member.pk])

    member.is_superuser = True
    member.save()
    response = follow(grace_client, reverse("user_role", args=[member.pk]), {"role": "member"})
    member.refresh_from_db()
    assert not member.is_staff and not member.is_superuser
    assert "linus is now a member." in messages_of(response)
    assert LogEntry.objects.filter(object_id=str(member.pk)).count() == 2


def test_an_admin_cannot_demote_themself(grace_client, grace, member):
    User.objects.create_user("ops", is_staff=True)  # another admin would remain: still refused

    response = follow(grace_client, reverse("user_role", args=[grace.pk]), {"role": "member"})

    grace.refresh_from_db()
    assert grace.is_staff
    assert "You cannot make yourself a member" in " ".join(messages_of(response))
    page = text(grace_client.get(reverse("user_detail", args=[grace.pk])))
    assert f'action="{reverse("user_role", args=[grace.pk])}"' not in page  # no form to press


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(grace, member):
    # Whoever asks (here a member acting through the model, as a future caller might).
    assert "last active admin" in role_refusal(member, grace, Role.MEMBER)
    from people.models import deactivation_refusal, set_active

    assert "last active admin" in deactivation_refusal(member, grace)
    with pytest.raises(ValueError):
        set_active(member, grace, False)
    other = User.objects.create_user("ops", is_staff=True)
    assert role_refusal(member, grace, Role.MEMBER) == ""
    other.is_active = False
    other.save()
    assert "last active admin" in role_refusal(member, grace, Role.MEMBER)  # an inactive admin does not count


def test_an_unknown_role_is_refused(grace_client, member):
    response = follow(grace_client, reverse("user_role", args=[member.pk]), {"role": "owner"})
    assert "Choose Admin or Member." in messages_of(response)
    member.refresh_from_db()
    assert not member.is_staff


# --- Deactivating and reactivating --------------------------------------------------------------


def test_a_deactivated_users_session_and_api_token_stop_working_until_reactivated(grace_client, member, member_client):
    token = make_token(member)
    api = ApiClient(token)
    assert api.get("/campaigns").status_code == 200
    assert member_client.get(reverse("home")).status_code == 200

    response = follow(grace_client, reverse("user_active", args=[member.pk]), {"active": "0"})

    member.refresh_from_db()
    assert not member.is_active
    assert any("linus is deactivated" in message for message in messages_of(response))
    # Django's ModelBackend.get_user() refuses an inactive user: the open session is gone.
    page = member_client.get(reverse("home"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))
    refused = api.get("/campaigns")
    assert refused.status_code == 401 and "inactive" in refused.json()["detail"]
    login = log_in(Client(), "linus", PASSWORD)
    assert login.status_code == 200 and "_auth_user_id" not in login.wsgi_request.session

    response = follow(grace_client, reverse("user_active", args=[member.pk]), {"active": "1"})
    member.refresh_from_db()
    assert member.is_active
    assert "linus is active again and may log in." in messages_of(response)
    again = Client()
    assert log_in(again, "linus", PASSWORD).status_code == 302 and is_logged_in(again)
    assert api.get("/campaigns").status_code == 200


def test_an_admin_cannot_deactivate_themself(grace_client, grace):
    User.objects.create_user("ops", is_staff=True)

    response = follow(grace_client, reverse("user_active", args=[grace.pk]), {"active": "0"})

    grace.refresh_from_db()
    assert grace.is_active
    assert "You cannot deactivate yourself" in " ".join(messages_of(response))


def test_an_admin_may_deactivate_another_admin_while_one_remains(grace_client):
    ops = User.objects.create_user("ops", is_staff=True)
    follow(grace_client, reverse("user_active", args=[ops.pk]), {"active": "0"})
    ops.refresh_from_db()
    assert not ops.is_active


# --- Passwords ----------------------------------------------------------------------------------


def test_an_admin_sets_a_new_password_and_the_old_sessions_end(grace_client, member, member_client):
    response = grace_client.post(reverse("user_password", args=[member.pk]), {"password": NEW_PASSWORD})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert member_client.get(reverse("home")).status_code == 302  # the session held the old password's hash
    assert log_in(Client(), "linus", NEW_PASSWORD).status_code == 302
    assert "Password reset by grace." in text(grace_client.get(reverse("user_detail", args=[member.pk])))


def test_a_reset_password_left_blank_is_generated_and_shown_once(grace_client, member):
    response = grace_client.post(reverse("user_password", args=[member.pk]), {"password": ""})

    assert response.status_code == 200
    password = GENERATED.search(response.content.decode()).group(1)
    member.refresh_from_db()
    assert member.check_password(password)
    assert "linus&#x27;s password was reset" in response.content.decode()


def test_a_weak_reset_password_is_refused(grace_client, member):
    response = grace_client.post(reverse("user_password", args=[member.pk]), {"password": "linus"})
    assert response.status_code == 400
    assert "This password is too short." in text(response)
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_a_reset_lifts_the_login_lockout(grace_client, member):
    locked = Client()
    for _ in range(5):
        log_in(locked, "linus", "wrong password")
    assert log_in(locked, "linus", PASSWORD).status_code == 429  # django-axes: locked out

    grace_client.post(reverse("user_password", args=[member.pk]), {"password": NEW_PASSWORD})

    assert log_in(locked, "linus", NEW_PASSWORD).status_code == 302


def test_admins_change_their_own_password_on_their_account_page(grace_client, grace):
    page = text(grace_client.get(reverse("user_detail", args=[grace.pk])))
    assert f'action="{reverse("user_password", args=[grace.pk])}"' not in page
    assert reverse("password_change") in page


# --- Senders -------------------------------------------------------------------------------------


def test_the_user_page_sets_the_working_senders_a_member_may_use(grace_client, member):
    one, two = Sender.objects.create(name="One"), Sender.objects.create(name="Two")
    retired = Sender.objects.create(name="Old")
    retired.users.add(member)
    retired.retired_at = retired.created_at
    retired.save()
    one.users.add(member)

    response = follow(grace_client, reverse("user_senders", args=[member.pk]), {"senders": [two.pk]})

    assert set(member.senders.all()) == {two, retired}  # a retired sender keeps its history
    assert "linus's senders saved." in messages_of(response)
    assert "Senders set to Two by grace." in text(response)


# --- "My campaigns" ------------------------------------------------------------------------------


def test_my_campaigns_lists_only_the_persons_own_and_keeps_the_filter_in_the_url(member_client, member, grace, make_campaign):
    from campaigns.models import Campaign

    make_campaign("Mine", owner=member)
    make_campaign("Graces", owner=grace)
    make_campaign("Mine, archived", state=Campaign.State.ARCHIVED, owner=member)
    url = reverse("campaign_list")

    every = text(member_client.get(url))
    mine = text(member_client.get(url, {"mine": "1"}))
    mine_archived = text(member_client.get(url, {"mine": "1", "show": "archived"}))

    assert "Mine" in every and "Graces" in every
    assert "Mine" in mine and "Graces" not in mine and "Mine, archived" not in mine
    assert '<a href="?mine=1" aria-current="page">My campaigns</a>' in mine
    assert '<a href="?mine=1&amp;show=archived">Show archived campaigns</a>' in mine
    assert "Mine, archived" in mine_archived and "Graces" not in mine_archived
    assert list(Campaign.objects.owned_by(member).values_list("name", flat=True).order_by("name")) == [
        "Mine", "Mine, archived",
    ]


def test_my_campaigns_says_so_when_the_person_owns_none(member_client, grace, make_campaign):
    make_campaign("Graces", owner=grace)
    html = text(member_client.get(reverse("campaign_list"), {"mine": "1"}))
    assert "You own no campaigns." in html and "Graces" not in html


def test_review_and_its_export_offer_only_my_campaigns(member_client, member, grace, make_campaign):
    from tests.helpers import State, add_request

    add_request(make_campaign("Mine", owner=member), State.SENT, first_name="Minnie")
    add_request(make_campaign("Graces", owner=grace), State.SENT, first_name="Gregory")

    every = text(member_client.get(reverse("review")))
    mine = text(member_client.get(reverse("review"), {"mine": "1"}))
    exported = b"".join(member_client.get(reverse("review_export"), {"mine": "1"}).streaming_content).decode()

    assert "Minnie" in every and "Gregory" in every
    assert "Minnie" in mine and "Gregory" not in mine
    assert 'name="mine" value="1" id="id_mine" checked' in mine
    assert "Minnie" in exported and "Gregory" not in exported
