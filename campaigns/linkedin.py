"""How a LinkedIn member is named: profile URNs and profile URLs, normalised.

One prospect per member for the whole team depends on these: two spellings of the same
profile must normalise to the same string.
"""

import re
from urllib.parse import unquote, urlsplit

URN_PREFIX = "urn:li:fsd_profile:"
PROFILE_ID = re.compile(r"^[A-Za-z0-9_-]{2,100}$")
# A public profile slug: letters (any script), digits, hyphens, underscores.
SLUG = re.compile(r"^[\w-]{2,100}$", re.UNICODE)
LINKEDIN_HOST = re.compile(r"^([a-z]{2,3}\.|www\.|m\.)?linkedin\.com$")


class InvalidProfile(ValueError):
    """Not a LinkedIn profile URN or URL; the message says why."""


def normalise_profile_urn(value: str) -> str:
    """`urn:li:fsd_profile:<id>`, from the URN or the bare id (as OutX accepts both)."""
    value = value.strip()
    profile_id = value[len(URN_PREFIX) :] if value.startswith(URN_PREFIX) else value
    if not PROFILE_ID.match(profile_id):
        raise InvalidProfile(f"{value!r} is not a LinkedIn profile URN (urn:li:fsd_profile:…).")
    return URN_PREFIX + profile_id


def profile_slug(url: str) -> str:
    """The public slug of a profile URL, lower-cased: `williamhgates`.

    Accepts the forms people paste: with or without scheme and `www.`, country and mobile
    hosts, trailing slash, query string or fragment, a locale suffix (`/in/slug/fr`).
    """
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if not LINKEDIN_HOST.match(host):
        raise InvalidProfile(f"{url.strip()!r} is not a linkedin.com address.")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if segments[:1] == ["mwlite"]:  # the lightweight mobile site: /mwlite/in/slug
        segments = segments[1:]
    if len(segments) < 2 or segments[0] != "in":
        raise InvalidProfile(f"{url.strip()!r} is not a profile address (linkedin.com/in/…).")
    slug = segments[1].lower()
    if not SLUG.match(slug):
        raise InvalidProfile(f"{segments[1]!r} is not a valid profile name in a LinkedIn address.")
    return slug


def normalise_profile_url(url: str) -> str:
    """The one spelling we store: `https://www.linkedin.com/in/<slug>`."""
    return f"https://www.linkedin.com/in/{profile_slug(url)}"


def parse_profile(value: str) -> tuple[str | None, str | None]:
    """A pasted line, as (urn, url): exactly one of them is set.

    Raises InvalidProfile with a reason a person can act on.
    """
    text = value.strip()
    if not text:
        raise InvalidProfile("The line is empty.")
    if text.startswith("urn:"):
        return normalise_profile_urn(text), None
    if "linkedin.com" in text.lower() or "/" in text:
        return None, normalise_profile_url(text)
    if PROFILE_ID.match(text) and text.startswith("ACo"):
        # Bare member ids start with ACo; a bare word would more likely be a slug typo.
        return normalise_profile_urn(text), None
    raise InvalidProfile(f"{text!r} is neither a LinkedIn profile URL nor a profile URN.")
