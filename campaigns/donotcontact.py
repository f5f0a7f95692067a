"""The team's do-not-contact list: what an entry may be, how it is read, and whom it blocks.

An entry is a person (a profile URN or URL) or a company (a name, or a LinkedIn company page
URL). A company matches a prospect whose company, folded the same way, is the same:
"Acme Corp", "ACME corp." and linkedin.com/company/acme-corp are one key, "acmecorp". A
different legal name ("Acme Inc.") is another company: add it too.

Reading is total, as for pasted profiles: every line either becomes an entry or is refused
with a reason, and one bad line never sinks the others.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.db import IntegrityError, transaction

from . import linkedin
from .models import DoNotContact, Prospect, fit

MAX_LINES = 5_000
COMPANY_PATH = re.compile(r"/(?:company|school|showcase)/([^/?#]+)", re.IGNORECASE)
PROFILE_HINTS = ("/in/", "urn:li:fsd_profile:")


def company_key(name: str) -> str:
    """A company's name folded for matching: accents dropped, case folded, only letters and
    digits kept. "" when nothing is left."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    return "".join(char for char in text if char.isalnum())[:200]


def company_slug(url: str) -> str | None:
    """The slug of a LinkedIn company page URL (`acme-corp`), or None if `url` is not one."""
    text = url if "://" in url else "https://" + url
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not linkedin.LINKEDIN_HOST.fullmatch(host):
        return None
    match = COMPANY_PATH.match(parts.path)
    return unquote(match.group(1)) if match else None


@dataclass(frozen=True)
class EntryFields:
    """One entry, read and normalised, not yet saved."""

    kind: str
    value: str
    profile_urn: str | None = None
    profile_url: str | None = None
    company_name: str = ""
    company_key: str | None = None


def read_entry(text: str) -> EntryFields:
    """An entry from what a person typed; ValueError with the reason when it cannot be one.

    A LinkedIn profile URL or URN is a person; a LinkedIn company page is a company; any other
    LinkedIn address is refused; anything else is a company's name."""
    value = (text or "").strip().strip("\"'<>,;").strip()
    if not value:
        raise ValueError("The entry is empty.")
    if len(value) > 300:
        raise ValueError(f"{linkedin.shown(value)} is too long for an entry (at most 300 characters).")
    lowered = value.lower()
    if lowered.startswith("urn:li:fsd_profile:"):
        return EntryFields(DoNotContact.Kind.PROFILE, value, profile_urn=linkedin.normalise_profile_urn(value))
    if "linkedin.com" in lowered:
        slug = company_slug(value)
        if slug is not None:
            key = company_key(slug)
            if not key:
                raise ValueError(f"{linkedin.shown(value)} names no company.")
            return EntryFields(DoNotContact.Kind.COMPANY, value, company_name=slug, company_key=key)
        if "/sales/" in lowered:
            raise ValueError(
                f"{linkedin.shown(value)} is a Sales Navigator address: open the person's LinkedIn profile "
                "and paste its linkedin.com/in/… address instead."
            )
        try:
            url = linkedin.normalise_profile_url(value)
        except linkedin.InvalidProfile as error:
            raise ValueError(str(error)) from None
        return EntryFields(DoNotContact.Kind.PROFILE, value, profile_url=url)
    key = company_key(value)
    if not key:
        raise ValueError(f"{linkedin.shown(value)} has no letters or digits to match a company by.")
    return EntryFields(DoNotContact.Kind.COMPANY, value, company_name=value[:200], company_key=key)


@dataclass
class AddResult:
    added: list[DoNotContact] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # entries the list already held
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (what was given, why)


def add_entries(texts: list[str], user, reason: str = "") -> AddResult:
    """Add each text as an entry added by `user`, for `reason`. Entries already on the list
    are reported, not duplicated; bad ones are refused with the reason; the rest are added."""
    result = AddResult()
    reason = fit(reason.strip(), DoNotContact, "reason")
    for text in texts[:MAX_LINES]:
        if not text.strip():
            continue
        try:
            fields = read_entry(text)
        except ValueError as error:
            result.rejected.append((text.strip()[:300], str(error)))
            continue
        if existing_entry(fields) is not None:
            result.already.append(fields.value)
            continue
        try:
            with transaction.atomic():
                entry = DoNotContact.objects.create(
                    kind=fields.kind, value=fields.value, profile_urn=fields.profile_urn, profile_url=fields.profile_url,
                    company_name=fields.company_name, company_key=fields.company_key, reason=reason,
                    added_by=user if getattr(user, "pk", None) else None,
                )
        except IntegrityError:  # added by someone else just now
            result.already.append(fields.value)
            continue
        result.added.append(entry)
    if len(texts) > MAX_LINES:
        result.rejected.append(("…", f"Only the first {MAX_LINES:,} lines are read at once; add the rest separately."))
    return result


def existing_entry(fields: EntryFields) -> DoNotContact | None:
    return DoNotContact.objects.matching(
        urns=[fields.profile_urn or ""], urls=[fields.profile_url or ""], company_keys=[fields.company_key or ""]
    ).first()


def add_prospect(prospect: Prospect, user, reason: str) -> DoNotContact:
    """Put this person on the list (one click from a row); returns the entry, new or existing."""
    entry = DoNotContact.objects.matching(urns=[prospect.profile_urn or ""], urls=[prospect.profile_url or ""]).first()
    if entry is not None:
        return entry
    value = prospect.profile_url or prospect.profile_urn
    label = f"{prospect.full_name} ({value})" if prospect.full_name else value
    try:
        with transaction.atomic():
            return DoNotContact.objects.create(
                kind=DoNotContact.Kind.PROFILE, value=fit(label, DoNotContact, "value"),
                profile_urn=prospect.profile_urn, profile_url=prospect.profile_url,
                reason=fit(reason, DoNotContact, "reason"), added_by=user if getattr(user, "pk", None) else None,
            )
    except IntegrityError:
        return DoNotContact.objects.matching(urns=[prospect.profile_urn or ""], urls=[prospect.profile_url or ""]).first()


def entry_blocking(prospect: Prospect) -> DoNotContact | None:
    """The entry that forbids inviting this prospect, if any."""
    return DoNotContact.objects.matching(
        urns=[prospect.profile_urn or ""], urls=[prospect.profile_url or ""], company_keys=[company_key(prospect.company)]
    ).order_by("created_at", "id").first()


def blocked_reason(entry: DoNotContact) -> str:
    """The skip reason that names the entry."""
    why = f": {entry.reason}" if entry.reason else ""
    what = "person" if entry.kind == DoNotContact.Kind.PROFILE else "company"
    return f"On the do-not-contact list ({what} “{entry.value}”{why})."
