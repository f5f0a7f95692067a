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
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import linkedin
from .models import ConnectionRequest, DoNotContact, Prospect, fit

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
    if lowered.startswith("urn:"):
        if not value.startswith(linkedin.URN_PREFIX):
            raise ValueError(f"{linkedin.shown(value)} is not a LinkedIn profile URN (urn:li:fsd_profile:…).")
        try:
            return EntryFields(DoNotContact.Kind.PROFILE, value, profile_urn=linkedin.normalise_profile_urn(value))
        except linkedin.InvalidProfile as error:
            raise ValueError(str(error)) from None
    if value.startswith("ACo") and len(value) >= 20 and linkedin.PROFILE_ID.fullmatch(value):
        # A bare member id, as pasting prospects accepts it; no company is named like one.
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


def entry_keys(fields: EntryFields | DoNotContact) -> list[tuple[str, str]]:
    """What an entry is matched by: ("urn", …), ("url", …) or ("company", …)."""
    keys = [("urn", fields.profile_urn), ("url", fields.profile_url), ("company", fields.company_key)]
    return [(kind, value) for kind, value in keys if value]


class Blocklist:
    """The entries that block a batch of profiles and companies, read in one query, so that a
    batch (an import, a page of search results) is checked at a constant cost."""

    def __init__(self, entries: Iterable[DoNotContact]):
        self.by_key: dict[tuple[str, str], DoNotContact] = {}
        for entry in sorted(entries, key=lambda entry: (entry.created_at, entry.pk)):
            for key in entry_keys(entry):
                self.by_key.setdefault(key, entry)  # the oldest entry names the reason

    @classmethod
    def read(cls, *, urns: Iterable[str] = (), urls: Iterable[str] = (), companies: Iterable[str] = ()) -> Blocklist:
        urns, urls = set(filter(None, urns)), set(filter(None, urls))
        keys = {company_key(name) for name in companies if name} - {""}
        if not (urns or urls or keys):
            return cls([])
        return cls(DoNotContact.objects.matching(urns=urns, urls=urls, company_keys=keys).select_related("added_by"))

    def entry_for(self, *, urns: Iterable[str | None] = (), urls: Iterable[str | None] = (),
                  companies: Iterable[str] = ()) -> DoNotContact | None:
        """The oldest entry blocking any of these identifiers or companies, if any."""
        keys = [("urn", urn) for urn in urns if urn] + [("url", url) for url in urls if url]
        keys += [("company", company_key(name)) for name in companies if name]
        found = [self.by_key[key] for key in keys if key in self.by_key]
        return min(found, key=lambda entry: (entry.created_at, entry.pk)) if found else None

    def entry_for_prospect(self, prospect: Prospect) -> DoNotContact | None:
        return self.entry_for(urns=[prospect.profile_urn], urls=[prospect.profile_url], companies=[prospect.company])


@dataclass
class AddResult:
    added: list[DoNotContact] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # entries the list already held (or the batch named twice)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (what was given, why)
    rejected_at: list[int] = field(default_factory=list)  # each rejected text's index in `texts` (-1: none)
    skipped: int = 0  # queued invitations the new entries skipped at once


def add_entries(texts: list[str], user, reason: str = "", *, reasons: list[str] | None = None) -> AddResult:
    """Add each text as an entry added by `user`, for `reason` (or, with `reasons`, each for
    its own, `reason` where that is blank). Entries already on the list are reported, not
    duplicated; bad ones are refused with the reason; the rest are added, and the queued
    invitations they forbid are skipped at once. A few queries, whatever the number of lines."""
    result = AddResult()
    reason = fit(reason.strip(), DoNotContact, "reason")
    read: list[EntryFields] = []
    reason_of: dict[int, str] = {}  # id() of each read entry -> its reason
    seen: set[tuple[str, str]] = set()
    for index, text in enumerate(texts[:MAX_LINES]):
        if not text.strip():
            continue
        try:
            fields = read_entry(text)
        except ValueError as error:
            result.rejected.append((text.strip()[:300], str(error)))
            result.rejected_at.append(index)
            continue
        keys = entry_keys(fields)
        if seen.intersection(keys):
            result.already.append(fields.value)
            continue
        seen.update(keys)
        read.append(fields)
        own = (reasons[index] if reasons is not None and index < len(reasons) else "").strip()
        reason_of[id(fields)] = fit(own, DoNotContact, "reason") if own else reason
    if len(texts) > MAX_LINES:
        result.rejected.append(("…", f"Only the first {MAX_LINES:,} lines are read at once; add the rest separately."))
        result.rejected_at.append(-1)
    if not read:
        return result
    listed = Blocklist(DoNotContact.objects.matching(
        urns=[f.profile_urn for f in read], urls=[f.profile_url for f in read], company_keys=[f.company_key for f in read],
    ))
    new = []
    for fields in read:
        if any(key in listed.by_key for key in entry_keys(fields)):
            result.already.append(fields.value)
        else:
            new.append(fields)
    if not new:
        return result
    now, added_by = timezone.now(), user if getattr(user, "pk", None) else None
    with transaction.atomic():
        # Someone may add the same entries meanwhile: theirs stay, ours are counted as already there.
        DoNotContact.objects.bulk_create([
            DoNotContact(
                kind=f.kind, value=f.value, profile_urn=f.profile_urn, profile_url=f.profile_url,
                company_name=f.company_name, company_key=f.company_key, reason=reason_of[id(f)], added_by=added_by,
                created_at=now,
            ) for f in new
        ], ignore_conflicts=True, batch_size=500)
        saved = Blocklist(DoNotContact.objects.matching(
            urns=[f.profile_urn for f in new], urls=[f.profile_url for f in new], company_keys=[f.company_key for f in new],
        ))
    for fields in new:
        entry = next((saved.by_key[key] for key in entry_keys(fields) if key in saved.by_key), None)
        ours = entry is not None and entry.created_at == now and entry.added_by_id == getattr(added_by, "pk", None)
        if ours and entry.value == fields.value:
            result.added.append(entry)
        else:
            result.already.append(fields.value)
    result.skipped = skip_queued_blocked_by(result.added)
    return result


def existing_entry(fields: EntryFields) -> DoNotContact | None:
    return DoNotContact.objects.matching(
        urns=[fields.profile_urn or ""], urls=[fields.profile_url or ""], company_keys=[fields.company_key or ""]
    ).first()


def add_prospect(prospect: Prospect, user, reason: str) -> DoNotContact:
    """Put this person on the list (one click from a row); returns the entry, new or existing.
    The person's queued invitations, in every campaign, are skipped at once."""
    return put_prospect(prospect, user, reason)[0]


def put_prospect(prospect: Prospect, user, reason: str) -> tuple[DoNotContact, bool]:
    """`add_prospect`, and whether the entry is new."""
    entry = DoNotContact.objects.matching(urns=[prospect.profile_urn or ""], urls=[prospect.profile_url or ""]).first()
    if entry is not None:
        skip_queued_blocked_by([entry])  # an entry added by URL may since have met its URN
        return entry, False
    value = prospect.profile_url or prospect.profile_urn
    label = f"{prospect.full_name} ({value})" if prospect.full_name else value
    try:
        with transaction.atomic():
            entry = DoNotContact.objects.create(
                kind=DoNotContact.Kind.PROFILE, value=fit(label, DoNotContact, "value"),
                profile_urn=prospect.profile_urn, profile_url=prospect.profile_url,
                reason=fit(reason, DoNotContact, "reason"), added_by=user if getattr(user, "pk", None) else None,
            )
    except IntegrityError:  # added by someone else just now
        entry = DoNotContact.objects.matching(urns=[prospect.profile_urn or ""], urls=[prospect.profile_url or ""]).first()
        skip_queued_blocked_by([entry])
        return entry, False
    skip_queued_blocked_by([entry])
    return entry, True


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


# Queued invitations skipped at once when entries are added; the worker's check before each
# submission (campaigns/invitations.py) stops any beyond, so none is ever sent.
MAX_SKIPPED_AT_ONCE = 2_000


def skip_queued_blocked_by(entries: list[DoNotContact]) -> int:
    """Skip the queued invitations these entries forbid, each with an Event naming its entry,
    so every page shows it at once. At most MAX_SKIPPED_AT_ONCE; returns how many."""
    entries = [entry for entry in entries if entry is not None]
    if not entries:
        return 0
    blocklist = Blocklist(entries)
    urns = [e.profile_urn for e in entries if e.profile_urn]
    urls = [e.profile_url for e in entries if e.profile_url]
    keys = {e.company_key for e in entries if e.company_key}
    queued = ConnectionRequest.objects.filter(state=ConnectionRequest.State.QUEUED)
    condition = Q(pk__in=[])
    if urns:
        condition |= Q(prospect__profile_urn__in=urns)
    if urls:
        condition |= Q(prospect__profile_url__in=urls)
    if keys:
        # Company names are folded in Python (accents and all): find the queue's names that fold to a key.
        names = queued.exclude(prospect__company="").values_list("prospect__company", flat=True).distinct()
        matching_names = [name for name in names.order_by() if company_key(name) in keys]
        if matching_names:
            condition |= Q(prospect__company__in=matching_names)
    skipped = 0
    for request in queued.filter(condition).select_related("prospect").order_by("id")[:MAX_SKIPPED_AT_ONCE]:
        entry = blocklist.entry_for_prospect(request.prospect)
        if entry is not None:
            skipped += request.move_to(ConnectionRequest.State.SKIPPED, blocked_reason(entry))
    return skipped
