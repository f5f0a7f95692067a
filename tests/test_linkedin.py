import re

import pytest

from campaigns.linkedin import (
    InvalidProfile,
    normalise_profile_url,
    normalise_profile_urn,
    parse_profile,
    profile_slug,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/in/williamhgates",
        "https://www.linkedin.com/in/williamhgates/",
        "http://linkedin.com/in/williamhgates",
        "linkedin.com/in/williamhgates",
        "www.linkedin.com/in/WilliamHGates/",
        "https://www.linkedin.com/in/williamhgates?trk=public_profile&utm_source=x",
        "https://www.linkedin.com/in/williamhgates/#about",
        "https://fr.linkedin.com/in/williamhgates/",
        "https://www.linkedin.com/in/williamhgates/fr",
        "https://m.linkedin.com/in/williamhgates",
        "https://www.linkedin.com/mwlite/in/williamhgates",
        "  https://www.linkedin.com/in/williamhgates  ",
    ],
)
def test_every_pasted_form_of_a_profile_url_normalises_the_same(url):
    assert normalise_profile_url(url) == "https://www.linkedin.com/in/williamhgates"
    assert profile_slug(url) == "williamhgates"


def test_percent_encoded_slug_is_decoded():
    assert profile_slug("https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa/") == "josé-garcía"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://example.com/in/someone", "not a linkedin.com address"),
        ("https://www.linkedin.com/company/outx", "not a profile address"),
        ("https://www.linkedin.com/in/", "not a profile address"),
        ("https://evil-linkedin.com/in/someone", "not a linkedin.com address"),
    ],
)
def test_non_profile_urls_are_refused_with_a_reason(url, reason):
    with pytest.raises(InvalidProfile, match=reason):
        normalise_profile_url(url)


def test_urn_with_or_without_prefix():
    assert normalise_profile_urn("urn:li:fsd_profile:ACoAAB1234") == "urn:li:fsd_profile:ACoAAB1234"
    assert normalise_profile_urn("ACoAAB1234") == "urn:li:fsd_profile:ACoAAB1234"


@pytest.mark.parametrize("value", ["urn:li:member:123", "urn:li:fsd_profile:", "has space", ""])
def test_bad_urns_are_refused(value):
    with pytest.raises(InvalidProfile):
        normalise_profile_urn(value)


def test_parse_profile_tells_urls_from_urns():
    assert parse_profile("urn:li:fsd_profile:ACoAAB1234") == ("urn:li:fsd_profile:ACoAAB1234", None)
    assert parse_profile("ACoAAB1234") == ("urn:li:fsd_profile:ACoAAB1234", None)
    assert parse_profile("linkedin.com/in/ada/") == (None, "https://www.linkedin.com/in/ada")
    with pytest.raises(InvalidProfile, match="neither"):
        parse_profile("ada lovelace")
    with pytest.raises(InvalidProfile, match="empty"):
        parse_profile("   ")


# Sales Navigator names a lead by its own id (ACwAA…), not the profile id (ACoAA…) that an
# fsd_profile URN and OutX take: refused, saying what to paste instead.
SALES_NAVIGATOR_ADVICE = "open the lead's LinkedIn profile (View LinkedIn profile) and paste that /in/ URL"


@pytest.mark.parametrize(
    "value",
    [
        "https://www.linkedin.com/sales/lead/ACwAAAB1c2Q,NAME_SEARCH,x7Yz",
        "https://www.linkedin.com/sales/people/ACwAAAB1c2Q,NAME_SEARCH,x7Yz?_ntb=abc",
        "linkedin.com/sales/lead/ACwAAAB1c2Q,NAME_SEARCH,x7Yz/",
    ],
)
def test_sales_navigator_links_are_refused_with_what_to_paste_instead(value):
    with pytest.raises(InvalidProfile, match=r"is a Sales Navigator link; " + re.escape(SALES_NAVIGATOR_ADVICE)):
        parse_profile(value)


@pytest.mark.parametrize(
    "value",
    [
        "ACwAAAB1c2Q",
        "ACwAAAB1c2Q,NAME_SEARCH,x7Yz",
        "urn:li:fs_salesProfile:(ACwAAAB1c2Q,NAME_SEARCH,x7Yz)",
        "urn:li:fsd_profile:ACwAAAB1c2Q",
    ],
)
def test_sales_navigator_ids_are_never_taken_for_profile_ids(value):
    with pytest.raises(InvalidProfile, match=r"is a Sales Navigator lead id; " + re.escape(SALES_NAVIGATOR_ADVICE)):
        parse_profile(value)
    with pytest.raises(InvalidProfile, match="Sales Navigator"):
        normalise_profile_urn(value)
