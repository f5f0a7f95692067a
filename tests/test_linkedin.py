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
