"""CSRF on every POST, htmx's included: without the token a POST is refused (403) before its
view runs; with the token as htmx sends it (the X-CSRFToken header that base.html's
hx-headers gives every htmx request) it goes through.

The test client skips CSRF checks unless asked: these clients enforce them, as a browser meets them.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.forms.campaigns import CampaignForm
from tests.test_security_escaping import Markup
from tests.test_security_permissions import (
    CASE_IDS,
    CASES,
    API_POSTS,
    SANDBOX_API_POSTS,
    build_world,
    concrete_url,
    form_data,
    post_accepting_urls,
    snapshot,
)

CSRF_FAILURE = "CSRF verification failed"


def hx_headers_token(html: str) -> str:
    """The token base.html gives htmx: the X-CSRFToken of <body hx-headers='…'>."""
    body = next(attributes for tag, attributes in Markup(html).elements if tag == "body")
    return json.loads(body["hx-headers"])["X-CSRFToken"]


def htmx_token(client: Client) -> str:
    return hx_headers_token(client.get(reverse("home")).content.decode())


def form_token(html: str) -> str:
    """The token of a plain form: its hidden csrfmiddlewaretoken input."""
    return next(
        attributes["value"] for tag, attributes in Markup(html).elements
        if tag == "input" and attributes.get("name") == "csrfmiddlewaretoken"
    )


@pytest.fixture
def world(db, settings, monkeypatch):
    from campaigns import outx
    from tests.test_security_permissions import outx_taking_every_key

    settings.OUTX_BASE_URL = "http://127.0.0.1:9"  # the connection test fails at once
    monkeypatch.setattr(outx, "get_client", outx_taking_every_key)  # a new sender's key is checked with OutX
    return build_world(enforce_csrf_checks=True)


def test_base_html_gives_htmx_the_token(world):
    html = world.owner_client.get(reverse("home")).content.decode()

    token = hx_headers_token(html)
    assert len(token) == 64 and token.isalnum()
    # The same token is in the page's plain forms (the log-out button's), for posts without htmx.
    assert f'name="csrfmiddlewaretoken" value="{token}"' in html


def test_every_post_without_the_token_is_refused(world):
    """Walked like the permission test: every URL that takes a POST, as an admin, no token."""
    accepting = post_accepting_urls(world.intruder)
    assert len(accepting) > 20
    before = snapshot()

    for name, sample in accepting:
        url = concrete_url(sample, world)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = world.staff_client.post(url, {"name": "x", "action": "pause"}, **headers)
            if name in SANDBOX_API_POSTS | API_POSTS:
                # The sandbox's OutX API and our JSON API are for servers: exempt from CSRF,
                # they want an API key or token, never the session's cookie.
                assert response.status_code == 401, url
            else:
                assert response.status_code == 403, f"{url} answered {response.status_code}"
                assert CSRF_FAILURE in response.content.decode(), url

    assert snapshot() == before
    assert world.staff_client.get(reverse("home")).status_code == 200  # the logout URLs did not log out


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_post_without_the_token_changes_nothing_and_with_it_works(case, world):
    client = world.client_for(case.allowed)
    url = case.url(world)
    before = snapshot()

    response = client.post(url, case.data(world), HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and CSRF_FAILURE in response.content.decode()
    assert snapshot() == before

    # As htmx sends it: the token in the header, no token in the form.
    response = client.post(url, case.data(world), HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=htmx_token(client))
    assert response.status_code in case.works
    assert (snapshot() != before) is case.changes


def test_a_plain_form_post_with_the_forms_token_works(world):
    """Without htmx (no JavaScript), the token comes from the form's hidden input."""
    client = world.owner_client
    url = reverse("campaign_edit", args=[world.draft.pk])
    html = client.get(url).content.decode()
    token = form_token(html)
    world.account.users.add(world.owner)  # the sender the form posts: one the owner may use
    data = form_data(
        CampaignForm(instance=world.draft), name="Renamed without htmx", senders=[str(world.account.pk)],
        csrfmiddlewaretoken=token,
    )
    response = client.post(url, data)

    assert response.status_code == 302
    world.draft.refresh_from_db()
    assert world.draft.name == "Renamed without htmx"


def test_a_token_from_another_session_is_refused(world):
    stolen = htmx_token(world.intruder_client)

    response = world.owner_client.post(
        reverse("campaign_action", args=[world.draft.pk, "archive"]), HTTP_X_CSRFTOKEN=stolen, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 403
    world.draft.refresh_from_db()
    assert world.draft.state == "draft"


def test_logging_in_and_out_need_the_token_too(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, for the test
    world.owner.set_password("a long enough password")
    world.owner.save()
    world.owner_client.force_login(world.owner)  # a new password ends the sessions before it
    anonymous = Client(enforce_csrf_checks=True)
    credentials = {"username": "ada", "password": "a long enough password"}

    assert anonymous.post(reverse("login"), credentials).status_code == 403
    page = anonymous.get(reverse("login")).content.decode()
    token = form_token(page)
    assert anonymous.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": token}).status_code == 302

    assert world.owner_client.post(reverse("logout")).status_code == 403
    assert world.owner_client.get(reverse("home")).status_code == 200  # still logged in
    token = htmx_token(world.owner_client)
    assert world.owner_client.post(reverse("logout"), HTTP_X_CSRFTOKEN=token).status_code == 302
    assert world.owner_client.get(reverse("home")).status_code == 302
