"""The webhook pages: admins only; the secret shown once and never stored in plain; bad and
private URLs refused with a clear error; the delivery log and "Send again"."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import ConnectionRequest
from tests.helpers import add_request
from tests.test_webhooks_receiver import running_receiver
from webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage

State = ConnectionRequest.State
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_user("grace", is_staff=True)
    client.force_login(admin)
    return client


def add_endpoint(client, url, events=(EventType.INVITATION_SENT,), description="CRM") -> tuple[WebhookEndpoint, str]:
    """Add an endpoint through its page; returns it and the secret the next page showed."""
    response = client.post(reverse("webhook_create"), {"url": url, "description": description, "events": list(events)})
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.latest("pk")
    assert response["Location"] == reverse("webhook_detail", args=[endpoint.pk])
    page = client.get(response["Location"]).content.decode()
    assert "shown only this once" in page
    return endpoint, SECRET.search(page).group(0)


def send_event(campaign) -> ConnectionRequest:
    request = add_request(campaign, State.PENDING)
    request.move_to(State.SENT, "OutX completed the task: the invitation was sent.")
    return request



@pytest.fixture
def receiver(settings):
    yield from running_receiver(settings)

# --- Who may ---------------------------------------------------------------------------------------


def test_members_get_403_on_every_webhook_page(ada_client, db):
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/x", events=["invitation.sent"], secret_encrypted="x")
    message = WebhookMessage.objects.create(type="invitation.sent", payload={})
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, message=message)
    gets = [reverse("webhook_list"), reverse("webhook_create"), reverse("webhook_detail", args=[endpoint.pk])]
    posts = gets[1:] + [
        reverse(name, args=[endpoint.pk])
        for name in ("webhook_rotate_secret", "webhook_enable", "webhook_disable", "webhook_delete")
    ] + [reverse("webhook_send_again", args=[delivery.pk])]
    for url in gets:
        assert ada_client.get(url).status_code == 403, url
    for url in posts:
        assert ada_client.post(url, {"url": "https://evil.example.com/", "events": ["invitation.sent"]}).status_code == 403, url
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/x" and endpoint.secret_encrypted == "x"
    assert WebhookEndpoint.objects.count() == 1 and WebhookAttempt.objects.count() == 0
    assert "Webhooks</a>" not in ada_client.get(reverse("home")).content.decode()


def test_the_nav_shows_webhooks_to_admins(staff_client):
    assert f'href="{reverse("webhook_list")}"' in staff_client.get(reverse("home")).content.decode()


# --- The secret ------------------------------------------------------------------------------------


def test_the_secret_is_shown_once_signs_deliveries_and_is_never_stored_in_plain(staff_client, receiver, make_campaign):
    endpoint, secret = add_endpoint(staff_client, receiver.url())
    page = staff_client.get(reverse("webhook_detail", args=[endpoint.pk])).content.decode()
    assert secret not in page and not SECRET.search(page)  # once only
    assert endpoint.created_by.username == "grace" and endpoint.events == ["invitation.sent"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM webhooks_webhookendpoint")
        assert secret not in repr(cursor.fetchall())
    dumped = io.StringIO()
    call_command("dumpdata", "webhooks", stdout=dumped)
    assert secret not in dumped.getvalue() and secret.removeprefix("whsec_") not in dumped.getvalue()

    send_event(make_campaign())
    from webhooks.delivery import deliver_due

    deliver_due()
    assert receiver.received[0].verified(secret)["type"] == "invitation.sent"


def test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_no_longer_signs(
    staff_client, receiver, make_campaign
):
    from standardwebhooks.webhooks import WebhookVerificationError

    from webhooks.delivery import deliver_due

    endpoint, old = add_endpoint(staff_client, receiver.url())
    response = staff_client.post(reverse("webhook_rotate_secret", args=[endpoint.pk]))
    assert response.status_code == 302
    new = SECRET.search(staff_client.get(response["Location"]).content.decode()).group(0)
    assert new != old
    assert not SECRET.search(staff_client.get(response["Location"]).content.decode())
    send_event(make_campaign())
    deliver_due()
    assert receiver.received[0].verified(new)
    with pytest.raises(WebhookVerificationError):
        receiver.received[0].verified(old)


# --- Bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, words", [
    ("not a url", "spaces"),
    ("hooks.example.com/outreach", "must start with https://"),
    ("ftp://hooks.example.com/", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("https://user:secret@hooks.example.com/", "must not contain a user name or password"),
    ("https:///outreach", "no host name"),
    ("https://hooks.example.com:99999/", "not a valid URL"),
    ("https://[::1/", "not a valid URL"),
    ("https://hooks.example.com/" + "a" * 2000, "at most 2000"),
])
def test_a_malformed_url_gets_a_clear_error_and_the_form_keeps_what_was_typed(staff_client, url, words):
    response = staff_client.post(reverse("webhook_create"), {"url": url, "description": "Kept", "events": ["invitation.accepted"]})
    page = response.content.decode()
    assert response.status_code == 200 and words in page
    assert 'value="Kept"' in page and 'value="invitation.accepted" checked' in page
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url, words", [
    ("http://localhost:8000/hook", "localhost resolves to 127.0.0.1 is a loopback address"),
    ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("https://10.0.0.7/hook", "10.0.0.7 is a private-network address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::1]:8080/hook", "::1 is a loopback address"),
])
def test_in_production_a_private_address_is_refused_at_save_naming_it(staff_client, settings, url, words):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    response = staff_client.post(reverse("webhook_create"), {"url": url, "events": ["invitation.sent"]})
    assert response.status_code == 200 and words in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_no_event_chosen_is_an_error(staff_client):
    response = staff_client.post(reverse("webhook_create"), {"url": "https://hooks.example.com/x"})
    assert "Choose at least one event." in response.content.decode() and not WebhookEndpoint.objects.exists()


def test_the_form_explains_that_failed_includes_not_sent(staff_client):
    page = staff_client.get(reverse("webhook_create")).content.decode()
    assert "not_sent" in page and "invitation.failed" in page and "campaign.paused_by_brake" in page


def test_editing_the_endpoint_keeps_its_secret(staff_client, receiver):
    endpoint, secret = add_endpoint(staff_client, receiver.url())
    response = staff_client.post(reverse("webhook_detail", args=[endpoint.pk]), {
        "url": receiver.url("/other"), "description": "Renamed", "events": ["invitation.failed", "invitation.sent"],
    })
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.events) == (
        receiver.url("/other"), "Renamed", ["invitation.sent", "invitation.failed"],
    )
    assert endpoint.secret() == secret


# --- The delivery log, Send again, enable and disable ------------------------------------------------


def test_send_again_posts_the_same_webhook_id_now(staff_client, receiver, make_campaign):
    from webhooks.delivery import deliver_due

    endpoint, secret = add_endpoint(staff_client, receiver.url())
    send_event(make_campaign())
    deliver_due()
    delivery = WebhookDelivery.objects.get()
    response = staff_client.post(reverse("webhook_send_again", args=[delivery.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("webhook_detail", args=[endpoint.pk])
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.message.msg_id
    assert again.verified(secret) == first.verified(secret)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == ("delivered", 2)


def test_send_again_requeues_a_failed_delivery(staff_client, receiver, make_campaign):
    endpoint, _ = add_endpoint(staff_client, receiver.url())
    send_event(make_campaign())
    WebhookDelivery.objects.update(state="failed", next_attempt_at=None, round_attempts=8, attempt_count=8)
    delivery = WebhookDelivery.objects.get()
    staff_client.post(reverse("webhook_send_again", args=[delivery.pk]))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count, len(receiver.received)) == ("delivered", 9, 1)


def test_send_again_on_a_disabled_endpoint_waits_for_it(staff_client, receiver, make_campaign):
    endpoint, _ = add_endpoint(staff_client, receiver.url())
    send_event(make_campaign())
    staff_client.post(reverse("webhook_disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "Disabled by grace."
    delivery = WebhookDelivery.objects.get()
    staff_client.post(reverse("webhook_send_again", args=[delivery.pk]))
    assert not receiver.received
    page = staff_client.get(reverse("webhook_detail", args=[endpoint.pk])).content.decode()
    assert "Disabled by grace." in page
    staff_client.post(reverse("webhook_enable", args=[endpoint.pk]))
    from webhooks.delivery import deliver_due

    assert deliver_due().delivered == 1


def test_the_log_shows_each_delivery_with_its_tries_in_constant_queries(staff_client, receiver, make_campaign):
    from webhooks.delivery import deliver_due

    endpoint, _ = add_endpoint(staff_client, receiver.url())
    campaign = make_campaign()
    url = reverse("webhook_detail", args=[endpoint.pk])

    def queries(page=1):
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url, {"page": page}).status_code == 200
        return len(captured.captured_queries)

    receiver.answer(500)
    send_event(campaign)
    deliver_due()
    few = queries()
    for _ in range(30):
        send_event(campaign)
    deliver_due()
    assert queries() == queries(2) == few
    page = staff_client.get(url).content.decode()
    assert "31 deliveries" in page and "Page 1 of 2" in page and "HTTP 200" in page
    page_2 = staff_client.get(url, {"page": 2}).content.decode()
    assert "HTTP 500" in page_2 and WebhookDelivery.objects.order_by("id").first().message.msg_id in page_2


def test_deleting_an_endpoint_takes_its_log(staff_client):
    endpoint, _ = add_endpoint(staff_client, "https://hooks.example.com/x")
    assert staff_client.post(reverse("webhook_delete", args=[endpoint.pk]))["Location"] == reverse("webhook_list")
    assert not WebhookEndpoint.objects.exists()


def test_the_list_shows_each_endpoint_and_why_it_is_disabled(staff_client):
    endpoint, _ = add_endpoint(staff_client, "https://hooks.example.com/x", description="HubSpot")
    endpoint.disable("Every try failed.")
    page = staff_client.get(reverse("webhook_list")).content.decode()
    assert "HubSpot" in page and "Every try failed." in page and "Invitation sent" in page
