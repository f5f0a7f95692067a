"""How a LinkedIn member is named: profile URNs and profile URLs, normalised.

One prospect per member for the whole team depends on these: two spellings of the same
profile must normalise to the same string.

Every function here is total: whatever text it is given (a person's paste, a CSV cell, an
OutX answer), it returns the normalised value or raises InvalidProfile with a reason, and
never any other exception.
"""

import re
from urllib.parse import unquote, urlsplit

URN_PREFIX = "urn:li:fsd_profile:"
PROFILE_ID = re.compile(r"[A-Za-z0-9_-]{2,100}")
# A public profile slug: letters (any script), digits, hyphens, underscores.
SLUG = re.compile(r"[\w-]{2,100}", re.UNICODE)
LINKEDIN_HOST = re.compile(r"([a-z]{2,3}\.|www\.|m\.)?linkedin\.com")
# How much of a refused value a reason quotes: enough to recognise it, never a whole file.
SHOWN_LENGTH = 100
# Sales Navigator names a lead by its own id (ACwAA…, in /sales/lead/ and /sales/people/ links
# and in urn:li:fs_salesProfile:(…)), not by the profile id (ACoAA…) that fsd_profile URNs and
# OutX's send-connection-request take; LinkedIn offers no documented way from one to the other.
SALES_NAVIGATOR_ID = re.compile(r"(urn:li:fsd?_salesProfile:\(?|urn:li:fsd_profile:)?ACwAA", re.IGNORECASE)
SALES_NAVIGATOR_ADVICE = "open the lead's LinkedIn profile (View LinkedIn profile) and paste that /in/ URL"


class InvalidProfile(ValueError):
    """Not a LinkedIn profile URN or URL; the message says why."""


def shown(value: str) -> str:
    """The value as a reason quotes it: in quotes, invisible characters escaped, cut if long."""
    if len(value) > SHOWN_LENGTH:
        return repr(value[:SHOWN_LENGTH]) + "…"
    return repr(value)


def text_of(value: object, what: str) -> str:
    """The value, stripped, if it is text at all."""
    if not isinstance(value, str):
        raise InvalidProfile(f"A {what} must be text, not {type(value).__name__}.")
    return value.strip()


def normalise_profile_urn(value: str) -> str:
    """`urn:li:fsd_profile:<id>`, from the URN or the bare id (as OutX accepts both)."""
    value = text_of(value, "profile URN")
    if SALES_NAVIGATOR_ID.match(value):
        raise InvalidProfile(f"{shown(value)} is a Sales Navigator lead id; {SALES_NAVIGATOR_ADVICE}.")
    profile_id = value[len(URN_PREFIX) :] if value.startswith(URN_PREFIX) else value
    if not PROFILE_ID.fullmatch(profile_id):
        raise InvalidProfile(f"{shown(value)} is not a LinkedIn profile URN (urn:li:fsd_profile:…).")
    return URN_PREFIX + profile_id


def unreadable_address(text: str, error: ValueError) -> str:
    """Why urlsplit refused the address, in words a person can act on."""
    problem = str(error)
    if "IPv6" in problem:
        why = "its host name has an unmatched “[” or “]”"
    elif "NFKC" in problem:
        why = "its host name has characters that are not plain letters (such as full-width letters or punctuation)"
    else:
        why = "it is not a well-formed web address"
    return f"{shown(text)} cannot be read: {why}. Copy the address again from the browser's address bar."


def profile_slug(url: str) -> str:
    """The public slug of a profile URL, lower-cased: `williamhgates`.

    Accepts the forms people paste: with or without scheme and `www.`, country and mobile
    hosts, trailing slash, query string or fragment, a locale suffix (`/in/slug/fr`).
    """
    given = text_of(url, "profile URL")
    text = given if "://" in given else "https://" + given
    try:
        parts = urlsplit(text)
    except ValueError as error:  # an unmatched "[", full-width characters in the host…
        raise InvalidProfile(unreadable_address(given, error)) from None
    host = (parts.hostname or "").lower()
    if not host.isascii():
        raise InvalidProfile(
            f"{shown(given)} is not a linkedin.com address: its host name has characters that are not "
            "plain letters (such as full-width letters). Copy the address again from the browser's address bar."
        )
    if not LINKEDIN_HOST.fullmatch(host):
        raise InvalidProfile(f"{shown(given)} is not a linkedin.com address.")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if segments[:1] == ["mwlite"]:  # the lightweight mobile site: /mwlite/in/slug
        segments = segments[1:]
    if segments[:1] == ["sales"]:
        raise InvalidProfile(f"{shown(given)} is a Sales Navigator link; {SALES_NAVIGATOR_ADVICE}.")
    if len(segments) < 2 or segments[0] != "in":
        raise InvalidProfile(f"{shown(given)} is not a profile address (linkedin.com/in/…).")
    slug = segments[1].lower()
    if not SLUG.fullmatch(slug):
        raise InvalidProfile(f"{shown(segments[1])} is not a valid profile name in a LinkedIn address.")
    return slug


def normalise_profile_url(url: str) -> str:
    """The one spelling we store: `https://www.linkedin.com/in/<slug>`."""
    return f"https://www.linkedin.com/in/{profile_slug(url)}"


def parse_profile(value: str) -> tuple[str | None, str | None]:
    """A pasted line, as (urn, url): exactly one of them is set.

    Raises InvalidProfile with a reason a person can act on.
    """
    text = text_of(value, "profile")
    if not text:
        raise InvalidProfile("The line is empty.")
    if text.startswith("urn:") or SALES_NAVIGATOR_ID.match(text):
        return normalise_profile_urn(text), None
    if "linkedin.com" in text.lower() or "/" in text:
        return None, normalise_profile_url(text)
    if PROFILE_ID.fullmatch(text) and text.startswith("ACo"):
        # Bare member ids start with ACo; a bare word would more likely be a slug typo.
        return normalise_profile_urn(text), None
    raise InvalidProfile(f"{shown(text)} is neither a LinkedIn profile URL nor a profile URN.")
