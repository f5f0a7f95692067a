"""The password change is throttled as the login is (django-axes): wrong current passwords
count as failed logins for that username and address, 5 lock the pair out with a page that
says so (HTTP 429), and no password can be changed during the lockout."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.test_production import PASSWORD, is_logged_in, log_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"
WRONG_CURRENT = "Your old password was entered incorrectly. Please enter it again."


@pytest.fixture
def maria(django_user_model, settings):
    # Every attempt hashes a password; production's hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_user("maria", password=PASSWORD)


@pytest.fixture
def maria_client(maria):
    client = Client()
    client.force_login(maria)
    return client


def change_password(client, current, new=NEW_PASSWORD, **extra):
    return client.post(
        reverse("password_change"),
        {"old_password": current, "new_password1": new, "new_password2": new},
        **extra,
    )


def password_is(user, password) -> bool:
    user.refresh_from_db()
    return user.check_password(password)


def test_a_right_current_password_changes_it(maria_client, maria):
    assert maria_client.get(reverse("password_change")).status_code == 200

    response = change_password(maria_client, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert password_is(maria, NEW_PASSWORD)
    assert is_logged_in(maria_client)  # the session follows the new password
    assert maria_client.get(reverse("home")).status_code == 200


def test_five_wrong_current_passwords_lock_the_password_change(maria_client, maria):
    for _ in range(4):
        refused = change_password(maria_client, "wrong")
        assert refused.status_code == 200
        assert WRONG_CURRENT in refused.content.decode()

    fifth = change_password(maria_client, "wrong")

    assert fifth.status_code == 429
    content = fifth.content.decode()
    assert "Password change locked" in content
    assert "after 5 wrong passwords" in content
    assert "of <strong>maria</strong>" in content
    assert "for 15 minutes" in content
    assert "Your password has not been changed." in content
    assert "registration/password_change_locked.html" in [t.name for t in fifth.templates]
    assert AccessAttempt.objects.get().failures_since_start == 5


def test_during_the_lockout_the_right_password_changes_nothing(maria_client, maria):
    for _ in range(5):
        change_password(maria_client, "wrong")

    right = change_password(maria_client, PASSWORD)
    page = maria_client.get(reverse("password_change"))

    assert right.status_code == 429
    assert "Password change locked" in right.content.decode()
    assert password_is(maria, PASSWORD)
    assert page.status_code == 429  # not even the form
    assert "Password change locked" in page.content.decode()
    assert is_logged_in(maria_client)  # locked out of changing it, not logged out


def test_the_lockout_counts_login_and_password_change_failures_together(client, maria_client, maria):
    for _ in range(3):
        log_in(client, "maria", "wrong")
    for _ in range(2):
        last = change_password(maria_client, "wrong")

    assert last.status_code == 429
    login = log_in(client, "maria", PASSWORD)
    assert login.status_code == 429
    assert "Login locked" in login.content.decode()  # the login keeps its own page
    assert "registration/locked_out.html" in [t.name for t in login.templates]
    assert not is_logged_in(client)


def test_a_locked_login_also_locks_the_password_change(client, maria_client, maria):
    for _ in range(5):
        log_in(client, "maria", "wrong")

    response = change_password(maria_client, PASSWORD)

    assert response.status_code == 429
    assert password_is(maria, PASSWORD)


def test_the_lockout_is_for_that_address_only(maria_client, maria):
    for _ in range(5):
        change_password(maria_client, "wrong")

    elsewhere = change_password(maria_client, PASSWORD, REMOTE_ADDR="10.0.0.2")

    assert elsewhere.status_code == 302
    assert password_is(maria, NEW_PASSWORD)


def test_the_password_change_opens_after_the_cool_off(maria_client, maria):
    for _ in range(5):
        change_password(maria_client, "wrong")
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))

    response = change_password(maria_client, PASSWORD)

    assert response.status_code == 302
    assert password_is(maria, NEW_PASSWORD)


def test_a_successful_change_resets_the_count(maria_client, maria):
    for _ in range(4):
        change_password(maria_client, "wrong")
    assert change_password(maria_client, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()

    for _ in range(4):
        assert change_password(maria_client, "wrong").status_code == 200
    assert change_password(maria_client, NEW_PASSWORD, new="yet another passphrase 43").status_code == 302


def test_a_weak_new_password_is_refused_but_not_counted(maria_client, maria):
    for _ in range(6):
        response = change_password(maria_client, PASSWORD, new="password")
        assert response.status_code == 200
        assert "This password is too common." in response.content.decode()

    assert not AccessAttempt.objects.exists()
    assert password_is(maria, PASSWORD)


def test_the_admins_password_change_is_the_throttled_one(maria_client, maria):
    maria.is_staff = True
    maria.save()

    response = maria_client.get(reverse("admin:password_change"))

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change")
