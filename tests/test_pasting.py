"""Pasting profiles into a campaign: what is added is added, the refused lines stay in the box
with their reasons, repeated lines are counted, and the counts add up to the lines pasted."""

import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.urls import reverse

from campaigns.donotcontact import add_entries
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender

URN = "urn:li:fsd_profile:"
SALES_LEAD = "https://www.linkedin.com/sales/lead/ACwAAAB1c2Q,NAME_SEARCH,x7Yz"


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Q4 founders", Campaign.State.DRAFT, note_template="Hello {first_name|there}")


def add_url(campaign) -> str:
    return reverse("prospects_add", args=[campaign.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def textarea_of(html: str) -> str:
    """The profiles box's text, as a browser shows it (Django writes a line break first)."""
    found = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", html, re.DOTALL)
    return unescape(found.group(1))


def refused_rows(html: str) -> list[tuple[int, str, str]]:
    """(line, text, reason) of the "not added" table."""
    return [
        (int(number), unescape(text), unescape(reason))
        for number, text, reason in re.findall(
            r'<tr><td>(\d+)</td><td class="prospects-text">(.*?)</td><td>(.*?)</td></tr>', html
        )
    ]


def test_a_partly_refused_paste_keeps_exactly_the_refused_lines_and_counts_every_line(owner_client, campaign, owner):
    member = Prospect.objects.create(profile_url="https://www.linkedin.com/in/member")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=member)
    add_entries(["https://www.linkedin.com/in/blocked"], owner, "A customer")
    paste = "\n".join([
        "https://www.linkedin.com/in/ada",  # 1 added
        "not a profile",  # 2 refused
        "",  # blank: not counted
        "linkedin.com/in/ADA/",  # 4 repeats line 1
        "https://www.linkedin.com/in/member",  # 5 already in the campaign
        f"  {SALES_LEAD}  ",  # 6 refused, with what to paste instead
        "https://www.linkedin.com/in/blocked",  # 7 refused: on the do-not-contact list
        "ACoAAB12345",  # 8 added
        "https://www.linkedin.com/in/ada",  # 9 repeats line 1
    ])

    response = owner_client.post(add_url(campaign), {"profiles": paste})

    html = response.content.decode()
    assert response.status_code == 200
    # 2 added + 1 already in + 2 repeated + 3 refused = the 8 lines that are not blank.
    assert messages_of(response) == [
        "Added 2 prospects; 1 already in this campaign; 2 lines repeated an earlier line and were merged; "
        "3 lines refused."
    ]
    assert set(campaign.requests.values_list("prospect__profile_url", "prospect__profile_urn")) == {
        ("https://www.linkedin.com/in/ada", None), (None, f"{URN}ACoAAB12345"),
        ("https://www.linkedin.com/in/member", None),
    }
    # The refused lines, and only they, are back in the box as typed; numbered as in the paste.
    assert textarea_of(html) == f"not a profile\n  {SALES_LEAD}  \nhttps://www.linkedin.com/in/blocked"
    rows = refused_rows(html)
    assert [(number, text) for number, text, _ in rows] == [
        (2, "not a profile"), (6, SALES_LEAD), (7, "https://www.linkedin.com/in/blocked"),
    ]
    assert "neither a LinkedIn profile URL nor a profile URN" in rows[0][2]
    assert rows[1][2].endswith(
        "is a Sales Navigator link; open the lead's LinkedIn profile (View LinkedIn profile) and paste that /in/ URL."
    )
    assert rows[2][2] == "On the do-not-contact list (person “https://www.linkedin.com/in/blocked”: A customer)."
    assert "3 lines not added" in html


def test_fixing_the_kept_lines_and_adding_again_adds_them(owner_client, campaign):
    first = owner_client.post(add_url(campaign), {"profiles": "linkedin.com/in/ada\nlinkedin.com/in/grace hopper\n"})
    kept = textarea_of(first.content.decode())
    assert kept == "linkedin.com/in/grace hopper"

    again = owner_client.post(add_url(campaign), {"profiles": kept.replace(" hopper", "-hopper")})

    assert again.status_code == 302 and again["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert messages_of(again) == ["Added 1 prospect."]
    assert campaign.requests.count() == 2


def test_a_paste_without_refusals_goes_to_the_campaign_and_says_what_was_merged(owner_client, campaign):
    response = owner_client.post(add_url(campaign), {"profiles": "linkedin.com/in/ada\nlinkedin.com/in/ada\n"})

    assert response.status_code == 302
    assert messages_of(response) == ["Added 1 prospect; 1 line repeated an earlier line and was merged."]


def test_a_note_needing_company_warns_before_and_after_pasting(owner_client, make_campaign):
    campaign = make_campaign("Needs company", Campaign.State.DRAFT, note_template="Hi {first_name|there}, {company}?")
    Prospect.objects.create(profile_url="https://www.linkedin.com/in/known", company="Hooli")

    page = owner_client.get(add_url(campaign)).content.decode()
    assert "The note needs {company} (no fallback)" in page

    response = owner_client.post(add_url(campaign), {"profiles": (
        "linkedin.com/in/ada\nlinkedin.com/in/grace\nACoAAB12345\nlinkedin.com/in/known\n"
    )})

    assert messages_of(response) == [
        "Added 4 prospects.",
        "2 prospects added without {company}, which the note needs: a LinkedIn look-up will try to fill it; "
        "those it can't fill will be skipped.",
        "1 prospect added without {company}, which the note needs, and nothing will fill it "
        "(a profile known by its URN is not looked up): give {company} a fallback, or their notes can't be sent.",
    ]


def test_a_note_with_fallbacks_says_nothing(owner_client, campaign):
    assert "The note needs" not in owner_client.get(add_url(campaign)).content.decode()
    response = owner_client.post(add_url(campaign), {"profiles": "linkedin.com/in/ada\n"})
    assert messages_of(response) == ["Added 1 prospect."]


def test_the_page_says_what_to_paste_from_sales_navigator(owner_client, campaign):
    html = owner_client.get(add_url(campaign)).content.decode()
    assert "From Sales Navigator, open the lead's LinkedIn profile (View LinkedIn profile)" in html


def test_another_user_may_not_paste(client, campaign):
    client.force_login(User.objects.create_user("bob"))
    assert client.post(add_url(campaign), {"profiles": "linkedin.com/in/ada"}).status_code == 403
    assert not Prospect.objects.exists()
