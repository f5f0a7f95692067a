"""Key masking (campaigns/forms/senders.py) is case-insensitive: an error that quotes the
OutX key in another case still shows it masked, with the same mask as `Sender.masked_key`."""

import httpx
import pytest
from django.urls import reverse

from campaigns import outx
from campaigns.forms.senders import masked, without_key
from campaigns.models import Sender

KEY = "sk-outx-7Q3f9a1Ce5b2d4F6"
SHOWN = "••••••••d4F6"


@pytest.mark.parametrize(
    "spelling",
    [KEY, KEY.upper(), KEY.lower(), KEY.swapcase(), "Sk-OuTx-7q3F9A1cE5B2D4f6", repr(KEY.upper())[1:-1]],
)
def test_the_key_is_masked_in_any_case(spelling):
    text = f"Invalid API Key: {spelling}. Check the header x-api-key={spelling}"

    shown = without_key(text, KEY)

    assert shown == f"Invalid API Key: {SHOWN}. Check the header x-api-key={SHOWN}"
    assert KEY.lower() not in shown.lower()


def test_a_key_with_a_stray_line_break_is_masked_in_another_case_too():
    text = f"Invalid header value b'{KEY.upper()}\\n'"

    shown = without_key(text, KEY + "\n")

    assert shown == f"Invalid header value b'{masked(KEY + chr(10))}'"  # the escaped line break too
    assert KEY.lower() not in shown.lower()


def test_text_without_the_key_is_left_as_it_is():
    text = "OutX answered 401 (Invalid API Key). Regex characters .*+? stay too."

    assert without_key(text, KEY) == text
    assert without_key(text, "") == text


def test_the_mask_is_the_senders_own(db):
    sender = Sender.objects.create(name="Maria's LinkedIn")
    sender.set_api_key(KEY)

    assert masked(KEY) == sender.masked_key == SHOWN
    assert masked("short") == "••••••••" and masked("") == "not set"


def test_the_connection_test_masks_a_key_outx_quotes_upper_cased(admin_client, monkeypatch):
    sender = Sender.objects.create(name="Maria's LinkedIn")
    sender.set_api_key(KEY)
    sender.save()

    def handler(request):
        return httpx.Response(401, json={"error": f"Invalid API Key {request.headers['x-api-key'].upper()}"})

    monkeypatch.setattr(
        outx, "client_for",
        lambda sender: outx.OutxClient("https://outx.test", sender.api_key, transport=httpx.MockTransport(handler)),
    )

    response = admin_client.post(reverse("sender_test_connection", args=[sender.pk]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert f"OutX rejected the API key (Invalid API Key {SHOWN})" in html
    assert KEY.lower() not in html.lower()
