"""Whatever a logged-in user is sent carries `Cache-Control: private, no-store`: pages, htmx
partials, redirects, the CSV export. The login page and static files do not."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from tests.test_login_required import all_pages
from tests.test_security_permissions import build_world, concrete_url

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def is_private_no_store(response) -> bool:
    return {"private", "no-store"} <= directives(response) and "public" not in directives(response)


def test_pages_partials_and_the_export_are_private_no_store(ada_client, make_campaign, ada):
    campaign = make_campaign(owner=ada, prospects=3)
    request_pk = campaign.requests.first().pk
    pages = [
        reverse("home"),
        reverse("campaign_list"),
        reverse("campaign_create"),
        reverse("campaign_detail", args=[campaign.pk]),
        reverse("campaign_edit", args=[campaign.pk]),
        reverse("prospects_add", args=[campaign.pk]),
        reverse("review"),
        reverse("request_detail", args=[request_pk]),
        reverse("password_change"),
    ]

    for url in pages:
        response = ada_client.get(url)
        assert response.status_code == 200, url
        assert is_private_no_store(response), (url, response.get("Cache-Control"))


def test_an_htmx_status_poll_is_private_no_store(ada_client, make_campaign, ada):
    campaign = make_campaign(owner=ada, prospects=2)

    poll = ada_client.get(reverse("campaign_status", args=[campaign.pk]), HTTP_HX_REQUEST="true")
    preview = ada_client.get(
        reverse("note_preview", args=[campaign.pk]), {"note_template": "Hi {first_name}"}, HTTP_HX_REQUEST="true"
    )

    assert poll.status_code in (200, 286)
    assert "<html" not in poll.content.decode()  # the partial, not the page
    assert is_private_no_store(poll)
    assert preview.status_code == 200
    assert is_private_no_store(preview)


def test_the_csv_export_is_private_no_store(ada_client, make_campaign, ada):
    make_campaign(owner=ada, prospects=2)

    export = ada_client.get(reverse("review_export"))

    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert is_private_no_store(export)


def test_a_redirect_after_a_post_and_a_refusal_are_private_no_store(ada_client, make_campaign, ada, owner):
    campaign = make_campaign(owner=ada, state=Campaign.State.ACTIVE)
    someone_elses = make_campaign("Bob's", owner=owner)

    paused = ada_client.post(reverse("campaign_action", args=[campaign.pk, "pause"]))
    refused = ada_client.post(reverse("campaign_action", args=[someone_elses.pk, "pause"]))
    settings_page = ada_client.get(reverse("settings"))  # admins only

    assert paused.status_code == 302
    assert is_private_no_store(paused)
    assert refused.status_code == 403
    assert is_private_no_store(refused)
    assert settings_page.status_code == 403
    assert is_private_no_store(settings_page)


def test_every_page_an_admin_can_open_is_private_no_store(settings):
    settings.OUTX_BASE_URL = "http://127.0.0.1:9"  # nothing listens: no page waits on OutX
    world = build_world()

    seen = 0
    for sample, _ in all_pages():
        url = concrete_url(sample, world)
        if url.startswith("/outx-sandbox/linkedin-agent/"):
            continue  # the sandbox's API answers API keys, not logins
        response = world.staff_client.get(url)
        assert is_private_no_store(response), (url, response.status_code, response.get("Cache-Control"))
        seen += 1
    assert seen > 20


def test_anonymous_answers_are_left_alone(client):
    redirect = client.get(reverse("home"))
    login_page = client.get(reverse("login"))

    assert redirect.status_code == 302
    assert "Cache-Control" not in redirect
    # Django's LoginView marks itself never_cache; nothing of ours is added to that.
    assert login_page.status_code == 200
    assert directives(login_page) == {"max-age=0", "no-cache", "no-store", "must-revalidate", "private"}


def test_static_files_keep_their_own_caching_for_a_logged_in_user(ada_client, settings):
    # WhiteNoise as `make run` has it (serving from the finders); it answers before the
    # middleware that adds private, no-store.
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True

    stylesheet = ada_client.get("/static/css/app.css")

    assert stylesheet.status_code == 200
    assert "no-store" not in directives(stylesheet)
    assert "private" not in directives(stylesheet)
