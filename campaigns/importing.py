"""Adding prospects to a campaign: pasted profiles and CSV files, read, checked and saved.

Reading and checking are pure (no database), so every rule can be tested on its own;
`plan_batch` looks the batch up in three queries (the do-not-contact list among them; more only
past MAX_CSV_ROWS) and `save_batch` writes it in bulk, a thousand rows a query, so adding 1,000
prospects costs about as many queries as adding ten, and the queue already in the campaign is
neither read nor rewritten (`Campaign.add_prospects`). Nobody on the do-not-contact list is added: each is refused with the entry named.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import linkedin
from .donotcontact import Blocklist, blocked_reason
from .models import Campaign, Prospect
from .notes import NOTE_VARIABLES, js_trim, template_shape

# --- Limits ---------------------------------------------------------------------------------

MAX_PASTE_LINES = 1_000
MAX_PASTE_BYTES = 100 * 1024
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_ROWS = 5_000
# Real exports have a few dozen columns. The cap keeps a crafted header (thousands of
# columns in a few KB) from costing the mapping page thousands of options per field.
MAX_CSV_COLUMNS = 200

# --- What a line or a row becomes -----------------------------------------------------------

# The prospect fields a CSV column can fill, in the order the mapping form shows them.
CSV_FIELDS: dict[str, str] = {
    "profile_url": "Profile URL",
    "profile_urn": "Profile URN",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name",
    "company": "Company",
    "title": "Title",
    "headline": "Headline",
    "location": "Location",
}
# Details a known prospect may receive, only where it has none yet.
DETAIL_FIELDS = ("first_name", "last_name", "company", "title", "headline", "location")


@dataclass(frozen=True)
class ProfileEntry:
    """One prospect as a line or row gives it: normalised URN and/or URL, and its details."""

    number: int  # the line (paste) or row (CSV, the header is row 1) it came from
    urn: str | None
    url: str | None
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    title: str = ""
    headline: str = ""
    location: str = ""

    @property
    def profile(self) -> str:
        return self.url or self.urn or ""

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def details(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in DETAIL_FIELDS}


# Why a line or row is not added, as the counts group them.
REFUSED = "refused"  # it names nobody we can invite, or two different people
REPEATED = "repeated"  # an earlier line or row of the same batch names the same person
IN_CAMPAIGN = "in_campaign"
DO_NOT_CONTACT = "do_not_contact"


@dataclass(frozen=True)
class Rejection:
    """A line or row that will not be added, and why, in words a person can act on."""

    number: int
    text: str
    reason: str
    details: dict[str, str] = field(default_factory=dict)
    kind: str = REFUSED


# --- Pasted profiles ------------------------------------------------------------------------

LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Wrapping people carry over from e-mails and spreadsheets: quotes, angle brackets, a final comma.
WRAPPING = "\"'<> \t,;"


def pasted_lines(text: str) -> list[str]:
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def paste_problems(text: str) -> list[str]:
    """Why a paste is too big to take at once; empty if it is fine."""
    problems = []
    size = len(text.encode("utf-8"))
    if size > MAX_PASTE_BYTES:
        problems.append(
            f"The paste is {size / 1024:,.0f} KB; at most {MAX_PASTE_BYTES // 1024} KB at a time. "
            "Add it in several parts."
        )
    count = sum(1 for line in pasted_lines(text) if line.strip())
    if count > MAX_PASTE_LINES:
        problems.append(
            f"The paste has {count:,} lines; at most {MAX_PASTE_LINES:,} at a time. Add it in several parts."
        )
    return problems


@dataclass(frozen=True)
class PasteReading:
    """A paste, line by line: the profiles to add (each person once), the lines refused, and
    the lines that repeat an earlier line (merged into it). Blank lines are none of these."""

    lines: list[str]  # as pasted, so that refused lines go back in the box exactly as typed
    valid: list[ProfileEntry]
    rejected: list[Rejection]
    repeated: list[Rejection]

    @property
    def counted_lines(self) -> int:
        return len(self.valid) + len(self.rejected) + len(self.repeated)


def read_paste(text: str) -> PasteReading:
    lines = pasted_lines(text)
    valid: list[ProfileEntry] = []
    rejected: list[Rejection] = []
    repeated: list[Rejection] = []
    first_line_with: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        value = line.strip().strip(WRAPPING)
        if not value:
            continue
        try:
            urn, url = linkedin.parse_profile(value)
        except linkedin.InvalidProfile as error:
            rejected.append(Rejection(number, line.strip(), str(error)))
            continue
        key = urn or url
        if key in first_line_with:
            repeated.append(Rejection(number, line.strip(), f"Repeats line {first_line_with[key]}.", kind=REPEATED))
            continue
        first_line_with[key] = number
        valid.append(ProfileEntry(number, urn, url))
    return PasteReading(lines, valid, rejected, repeated)


def parse_pasted_profiles(text: str) -> tuple[list[ProfileEntry], list[Rejection]]:
    """One profile URL or URN per line: the valid ones (each person once), and the rejected lines.

    Blank lines are ignored; a line naming a profile an earlier line named is counted once.
    """
    reading = read_paste(text)
    return reading.valid, reading.rejected


# --- CSV files ------------------------------------------------------------------------------


class CsvError(ValueError):
    """The file cannot be read as a CSV of prospects; the message says why."""


@dataclass(frozen=True)
class CsvRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    cells: list[str]


@dataclass(frozen=True)
class CsvTable:
    headers: list[str]
    rows: list[CsvRow]

    def to_json(self) -> dict:
        return {"headers": self.headers, "rows": [[row.number, row.cells] for row in self.rows]}

    @classmethod
    def from_json(cls, data: dict) -> CsvTable:
        return cls(list(data["headers"]), [CsvRow(number, list(cells)) for number, cells in data["rows"]])


DELIMITERS = (",", ";", "\t")


def decode_csv(data: bytes) -> str:
    """The file's text: UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252 or Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16", errors="replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # every byte is a Latin-1 character


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; and tab that splits the first records into the most even columns."""
    sample = text[:65_536]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            records = [r for r in itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 50) if r]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        # Rows as wide as the header, then the width: a stray ; inside a value loses to real columns.
        score = (sum(1 for record in records if len(record) == width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(data: bytes, what: str = "prospects") -> CsvTable:
    """The header and the non-blank rows of a CSV file, or CsvError saying what is wrong;
    `what` the rows hold, for the messages."""
    if not data.strip():
        raise CsvError("The file is empty.")
    if data.startswith(b"PK\x03\x04"):
        raise CsvError("This looks like an Excel workbook; save it as CSV (comma or semicolon separated) first.")
    text = decode_csv(data).replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    headers: list[str] | None = None
    rows: list[CsvRow] = []
    try:
        for number, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue
            if headers is None:
                if len(record) > MAX_CSV_COLUMNS:
                    raise CsvError(
                        f"The header row has {len(record):,} columns; at most {MAX_CSV_COLUMNS}. "
                        "Remove the columns you do not need."
                    )
                headers = column_names(record)
                continue
            if len(rows) == MAX_CSV_ROWS:
                raise CsvError(
                    f"The file has more than {MAX_CSV_ROWS:,} rows; split it into smaller files."
                )
            rows.append(CsvRow(number, record))
    except csv.Error as error:
        raise CsvError(f"The file is not a readable CSV (near row {reader.line_num}: {error}).") from None
    if headers is None:
        raise CsvError("The file is empty.")
    if not rows:
        raise CsvError(f"The file has a header row but no rows of {what} under it.")
    return CsvTable(headers, rows)


def column_names(header: list[str]) -> list[str]:
    """The header's names, each unique and none blank, so a person can tell the columns apart."""
    names: list[str] = []
    # A set, and each name's next copy number remembered: a header of many equal names
    # costs as much as any other (it was cubic: 4,000 columns of "a" took two minutes).
    seen: set[str] = set()
    next_copy: dict[str, int] = {}
    for index, cell in enumerate(header, start=1):
        name = cell.strip() or f"Column {index}"
        candidate, copy = name, next_copy.get(name, 2)
        while candidate in seen:
            candidate, copy = f"{name} ({copy})", copy + 1
        names.append(candidate)
        seen.add(candidate)
        next_copy[name] = copy
    return names


def compact(header: str) -> str:
    """`LinkedIn URL`, `linkedin_url` and `Linkedin-Url` all become `linkedinurl`."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


# Header names seen in exports (Sales Navigator, Apollo, spreadsheets), compacted; first match wins.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "profile_url": (
        "linkedinurl", "linkedinprofileurl", "profileurl", "linkedinprofile", "linkedin", "profile",
        "personlinkedinurl", "linkedinprofilelink", "linkedinlink", "publicprofileurl", "url",
        "profilelink", "linkedinurlprofile",
    ),
    "profile_urn": (
        "urn", "profileurn", "linkedinurn", "memberurn", "fsdprofile", "fsdprofileurn", "profileid",
        "linkedinid", "memberid", "linkedinprofileurn", "linkedinprofileid",
    ),
    "first_name": ("firstname", "first", "givenname", "forename", "prenom"),
    "last_name": ("lastname", "last", "surname", "familyname", "nom"),
    "full_name": ("fullname", "name", "contactname", "personname"),
    "company": (
        "company", "companyname", "currentcompany", "organization", "organisation", "employer",
        "account", "accountname", "entreprise",
    ),
    "title": ("title", "jobtitle", "position", "role", "currenttitle", "currentposition", "job", "poste"),
    "headline": ("headline", "linkedinheadline", "tagline"),
    "location": ("location", "city", "country", "region", "geography"),
}


def guess_mapping(headers: list[str], rows: Sequence[CsvRow] = ()) -> dict[str, int | None]:
    """Which column holds each field, guessed from the header names (and the first values)."""
    names = [compact(header) for header in headers]
    mapping: dict[str, int | None] = dict.fromkeys(CSV_FIELDS)
    taken: set[int] = set()

    def take(field_name: str, index: int) -> None:
        mapping[field_name] = index
        taken.add(index)

    for field_name, synonyms in HEADER_NAMES.items():
        for synonym in synonyms:
            index = next((i for i, name in enumerate(names) if name == synonym and i not in taken), None)
            if index is not None:
                take(field_name, index)
                break
    # Looser: a header mentioning LinkedIn and a link, or the values themselves.
    if mapping["profile_url"] is None:
        for index, name in enumerate(names):
            linkedin_link = "linkedin" in name and any(word in name for word in ("url", "link", "profile"))
            if index not in taken and linkedin_link and "company" not in name:
                take("profile_url", index)
                break
    sample = rows[:20]
    for field_name, looks_like in (("profile_url", "linkedin.com/in/"), ("profile_urn", linkedin.URN_PREFIX)):
        if mapping[field_name] is not None:
            continue
        for index in range(len(headers)):
            if index not in taken and any(looks_like in cell_at(row.cells, index).lower() for row in sample):
                take(field_name, index)
                break
    return mapping


def cell_at(cells: list[str], index: int | None) -> str:
    """A cell's value, trimmed as a note trims it (JavaScript's rule, not str.strip's): a
    name keeps exactly what the counter and OutX will count."""
    if index is None or index >= len(cells):
        return ""
    return js_trim(cells[index])


def row_details(cells: list[str], mapping: dict[str, int | None]) -> dict[str, str]:
    """A row's names, company, title, headline and location, cut to what the database holds."""
    details = {name: cell_at(cells, mapping.get(name)) for name in DETAIL_FIELDS}
    full_name = cell_at(cells, mapping.get("full_name"))
    if full_name and not (details["first_name"] or details["last_name"]):
        first, _, last = full_name.partition(" ")
        details["first_name"], details["last_name"] = first, js_trim(last)
    return {name: value[: Prospect._meta.get_field(name).max_length] for name, value in details.items()}


def rows_to_prospects(
    rows: list[CsvRow], mapping: dict[str, int | None]
) -> tuple[list[ProfileEntry], list[Rejection]]:
    """The rows as prospects, each person once, and the rows rejected with the reason."""
    valid: list[ProfileEntry] = []
    rejected: list[Rejection] = []
    first_row_with: dict[str, int] = {}
    for row in rows:
        url_cell = cell_at(row.cells, mapping.get("profile_url"))
        urn_cell = cell_at(row.cells, mapping.get("profile_urn"))
        details = row_details(row.cells, mapping)
        text = " ".join(cell for cell in (url_cell, urn_cell) if cell)

        def reject(reason: str) -> None:
            rejected.append(Rejection(row.number, text, reason, details))

        if not (url_cell or urn_cell):
            reject("No profile URL or URN.")
            continue
        urn = url = None
        try:
            if url_cell:
                # The URL column sometimes holds URNs too; take either.
                urn, url = linkedin.parse_profile(url_cell)
            if urn_cell:
                given_urn = linkedin.normalise_profile_urn(urn_cell)
                if urn and urn != given_urn:
                    reject("The row names two different profile URNs.")
                    continue
                urn = given_urn
        except linkedin.InvalidProfile as error:
            reject(f"Invalid profile: {error}")
            continue
        earlier = next((first_row_with[key] for key in (urn, url) if key in first_row_with), None)
        if earlier is not None:
            rejected.append(Rejection(row.number, text, f"Duplicate of row {earlier} in this file.", details, REPEATED))
            continue
        for key in (urn, url):
            if key:
                first_row_with[key] = row.number
        valid.append(ProfileEntry(row.number, urn, url, **details))
    return valid, rejected


# --- Into a campaign ------------------------------------------------------------------------


@dataclass
class BatchPlan:
    """What adding a batch of entries to a campaign will do, looked up but not yet written."""

    campaign: Campaign
    new: list[ProfileEntry] = field(default_factory=list)  # become new prospects
    known: list[tuple[ProfileEntry, Prospect]] = field(default_factory=list)  # reuse a prospect
    in_campaign: list[ProfileEntry] = field(default_factory=list)
    # An entry naming a person an earlier entry named by the other identifier: counted once.
    duplicates: list[tuple[ProfileEntry, int]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def to_add(self) -> int:
        return len(self.new) + len(self.known)

    def statuses(self) -> dict[int, str]:
        """Each entry's line or row number: "ok", "known" or why it is not added."""
        status = {entry.number: "ok" for entry in self.new}
        status.update({entry.number: "known" for entry, _ in self.known})
        status.update({entry.number: ALREADY_IN_CAMPAIGN for entry in self.in_campaign})
        status.update({entry.number: f"Duplicate of row {first} in this file." for entry, first in self.duplicates})
        status.update({rejection.number: rejection.reason for rejection in self.rejected})
        return status

    def all_rejections(self, earlier: list[Rejection] = ()) -> list[Rejection]:
        """Everything not added, as rejections in row order (a CSV import reports them all)."""
        rejections = list(earlier) + self.rejected
        rejections += [
            Rejection(e.number, e.profile, ALREADY_IN_CAMPAIGN, e.details(), IN_CAMPAIGN) for e in self.in_campaign
        ]
        rejections += [
            Rejection(e.number, e.profile, f"Duplicate of row {first} in this file.", e.details(), REPEATED)
            for e, first in self.duplicates
        ]
        return sorted(rejections, key=lambda rejection: rejection.number)


ALREADY_IN_CAMPAIGN = "Already in this campaign."


# Rows written per query. Rows are looked up LOOKUP_BATCH at a time: a file the page takes is
# one lookup, whatever its length, and a longer batch never one query of 20,000 parameters
# (SQLite caps them at 32,766); nothing is ever asked one row at a time.
IMPORT_BATCH = 1_000
LOOKUP_BATCH = MAX_CSV_ROWS


def existing_prospects(urns: set[str], urls: set[str]) -> list[Prospect]:
    found: dict[int, Prospect] = {}
    urns, urls = sorted(urns), sorted(urls)
    for start in range(0, max(len(urns), len(urls)), LOOKUP_BATCH):
        some_urns, some_urls = urns[start:start + LOOKUP_BATCH], urls[start:start + LOOKUP_BATCH]
        for prospect in Prospect.objects.filter(Q(profile_urn__in=some_urns) | Q(profile_url__in=some_urls)):
            found[prospect.pk] = prospect
    return list(found.values())


def plan_batch(campaign: Campaign, entries: list[ProfileEntry]) -> BatchPlan:
    """Match each entry with the prospects we know, with this campaign's, and with the
    do-not-contact list (an entry it blocks is refused, naming the list's entry): three
    queries for a batch up to LOOKUP_BATCH entries long."""
    plan = BatchPlan(campaign)
    known = existing_prospects({e.urn for e in entries if e.urn}, {e.url for e in entries if e.url})
    by_urn = {p.profile_urn: p for p in known if p.profile_urn}
    by_url = {p.profile_url: p for p in known if p.profile_url}
    in_campaign: set[int] = set()
    for start in range(0, len(known), LOOKUP_BATCH):
        some = [prospect.pk for prospect in known[start:start + LOOKUP_BATCH]]
        in_campaign.update(campaign.requests.filter(prospect_id__in=some).values_list("prospect_id", flat=True))
    blocklist = Blocklist.read(
        urns=[e.urn for e in entries] + [p.profile_urn for p in known],
        urls=[e.url for e in entries] + [p.profile_url for p in known],
        companies=[e.company for e in entries] + [p.company for p in known],
    )
    first_entry_of: dict[int, int] = {}  # prospect id -> the entry that named it first
    for entry in entries:
        prospect_by_urn = by_urn.get(entry.urn) if entry.urn else None
        prospect_by_url = by_url.get(entry.url) if entry.url else None
        if prospect_by_urn and prospect_by_url and prospect_by_urn.pk != prospect_by_url.pk:
            plan.rejected.append(Rejection(
                entry.number, entry.profile,
                f"Its URN is {prospect_by_urn}'s and its URL is {prospect_by_url}'s: two different known prospects.",
                entry.details(),
            ))
            continue
        if prospect_by_url and entry.urn and prospect_by_url.profile_urn not in (None, entry.urn):
            # The URN names the member; a URL may have changed hands.
            plan.rejected.append(Rejection(
                entry.number, entry.profile,
                f"Its URL belongs to {prospect_by_url}, known with another URN.", entry.details(),
            ))
            continue
        prospect = prospect_by_urn or prospect_by_url
        blocked_by = blocklist.entry_for(
            urns=[entry.urn, prospect and prospect.profile_urn], urls=[entry.url, prospect and prospect.profile_url],
            companies=[entry.company, prospect.company if prospect else ""],
        )
        if blocked_by is not None:
            plan.rejected.append(Rejection(
                entry.number, entry.profile, blocked_reason(blocked_by), entry.details(), DO_NOT_CONTACT
            ))
            continue
        if prospect is None:
            plan.new.append(entry)
        elif prospect.pk in first_entry_of:
            plan.duplicates.append((entry, first_entry_of[prospect.pk]))
        elif prospect.pk in in_campaign:
            first_entry_of[prospect.pk] = entry.number
            plan.in_campaign.append(entry)
        else:
            first_entry_of[prospect.pk] = entry.number
            plan.known.append((entry, prospect))
    return plan


@dataclass(frozen=True)
class SaveResult:
    added: int
    in_campaign: int
    rejected: list[Rejection]


@transaction.atomic
def save_batch(campaign: Campaign, entries: list[ProfileEntry]) -> tuple[SaveResult, BatchPlan]:
    """Add the entries to the campaign as queued requests; prospects are created or reused.

    A known prospect receives the entry's details only where it has none: nothing is
    overwritten. The notes are rendered once, for the whole batch, at the end.
    """
    plan = plan_batch(campaign, entries)
    now = timezone.now()
    filled = []
    for entry, prospect in plan.known:
        changed = False
        for name, value in entry.details().items():
            if value and not getattr(prospect, name):
                setattr(prospect, name, value)
                changed = True
        # Learn the identifier the prospect lacked; plan_batch made sure nobody else holds it.
        if entry.urn and not prospect.profile_urn:
            prospect.profile_urn, changed = entry.urn, True
        if entry.url and not prospect.profile_url:
            prospect.profile_url, changed = entry.url, True
        if changed:
            prospect.updated_at = now
            filled.append(prospect)
    if filled:
        Prospect.objects.bulk_update(
            filled, [*DETAIL_FIELDS, "profile_urn", "profile_url", "updated_at"], batch_size=IMPORT_BATCH
        )

    prospects = [prospect for _, prospect in plan.known]
    if plan.new:
        prospects += create_prospects(plan.new)
    unique = list({p.pk: p for p in prospects if p is not None}.values())
    campaign.add_prospects(unique, none_in_campaign=True)  # plan_batch looked
    return SaveResult(len(unique), len(plan.in_campaign), plan.rejected), plan


def create_prospects(entries: list[ProfileEntry]) -> list[Prospect | None]:
    """A new prospect for each entry, with its id, in the entries' order. Another import may
    create some of the same people meanwhile: then this batch skips those rows and reads
    every one back (None where an entry's person cannot be found)."""
    new = [Prospect(profile_urn=e.urn, profile_url=e.url, **e.details()) for e in entries]
    try:
        with transaction.atomic():
            return Prospect.objects.bulk_create(new, batch_size=IMPORT_BATCH)
    except IntegrityError:
        pass
    Prospect.objects.bulk_create(
        [Prospect(profile_urn=e.urn, profile_url=e.url, **e.details()) for e in entries],
        ignore_conflicts=True, batch_size=IMPORT_BATCH,
    )
    created = existing_prospects({e.urn for e in entries if e.urn}, {e.url for e in entries if e.url})
    by_urn = {p.profile_urn: p for p in created if p.profile_urn}
    by_url = {p.profile_url: p for p in created if p.profile_url}
    return [by_urn.get(e.urn) or by_url.get(e.url) for e in entries]


# --- What the note needs ------------------------------------------------------------------


def note_needs(campaign: Campaign) -> frozenset[str]:
    """The variables some variant of the campaign's note uses without a fallback: a prospect
    with no value for one of them has no note (see notes.TemplateShape.required)."""
    return frozenset().union(*(template_shape(template).required for template in campaign.variants().values()))


def note_values(entry: ProfileEntry, prospect: Prospect | None) -> dict[str, str]:
    """What each note variable will be for this entry: its own details, else the known
    prospect's (an import fills only a prospect's empty details)."""
    values = {}
    for name in DETAIL_FIELDS:
        values[name] = js_trim(getattr(entry, name) or (getattr(prospect, name) if prospect else "") or "")
    values["full_name"] = " ".join(part for part in (values["first_name"], values["last_name"]) if part)
    return {name: values[name] for name in NOTE_VARIABLES}


@dataclass(frozen=True)
class NoteGap:
    """The note's variables a prospect being added has no value for, and whether a LinkedIn
    look-up will try to fill them (only a profile known by its URL alone is looked up)."""

    missing: tuple[str, ...]
    no_lookup_because: str = ""  # empty: a look-up will try

    @property
    def variables(self) -> str:
        names = [f"{{{name}}}" for name in self.missing]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    @property
    def it(self) -> str:
        return "it" if len(self.missing) == 1 else "them"

    @property
    def warning(self) -> str:
        """What a row is told."""
        if not self.no_lookup_because:
            return (
                f"The note needs {self.variables}: a LinkedIn look-up will try to fill {self.it}; "
                "if it can't, this prospect will be skipped."
            )
        return (
            f"The note needs {self.variables} and nothing will fill {self.it} ({self.no_lookup_because}): "
            f"give {self.variables} a fallback, or this prospect's note can't be sent."
        )

    def summary(self, count: int, singular: str, plural: str) -> str:
        """What a batch is told once: "12 prospects added without {company}, which the note needs: …"."""
        those = f"{counted(count, singular, plural)} without {self.variables}, which the note needs"
        if not self.no_lookup_because:
            return f"{those}: a LinkedIn look-up will try to fill {self.it}; those it can't fill will be skipped."
        return (
            f"{those}, and nothing will fill {self.it} ({self.no_lookup_because}): "
            f"give {self.variables} a fallback, or their notes can't be sent."
        )


def note_gap(needs: frozenset[str], entry: ProfileEntry, prospect: Prospect | None) -> NoteGap | None:
    values = note_values(entry, prospect)
    missing = tuple(name for name in NOTE_VARIABLES if name in needs and not values[name])
    if not missing:
        return None
    if entry.urn or (prospect is not None and prospect.profile_urn):
        return NoteGap(missing, "a profile known by its URN is not looked up")
    if prospect is not None and prospect.lookup_error:
        return NoteGap(missing, "its LinkedIn look-up failed earlier")
    return NoteGap(missing)


def note_gaps(campaign: Campaign, plan: BatchPlan) -> dict[int, NoteGap]:
    """By line or row number, the entries to add whose note lacks a value: no query."""
    needs = note_needs(campaign)
    if not needs:
        return {}
    added = [(entry, None) for entry in plan.new] + plan.known
    gaps = {entry.number: note_gap(needs, entry, prospect) for entry, prospect in added}
    return {number: gap for number, gap in gaps.items() if gap is not None}


def note_gap_summaries(gaps: Iterable[NoteGap], singular: str, plural: str) -> list[str]:
    """One sentence per kind of gap, counted ("3 prospects added: …"): what a batch is told."""
    return [gap.summary(count, singular, plural) for gap, count in Counter(gaps).items()]


# --- What a batch did, in one sentence ------------------------------------------------------


def counted(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def outcome_summary(added: int, in_campaign: int, repeated: int, refused: int, what: str) -> str:
    """"Added 3 prospects; 1 already in this campaign; 2 lines repeated an earlier line and were
    merged; 1 line refused." The counts add up to the lines (or rows) given, blank ones aside."""
    parts = [f"Added {counted(added, 'prospect')}"]
    if in_campaign:
        parts.append(f"{in_campaign:,} already in this campaign")
    if repeated:
        merged = "was merged" if repeated == 1 else "were merged"
        parts.append(f"{counted(repeated, what)} repeated an earlier {what} and {merged}")
    if refused:
        parts.append(f"{counted(refused, what)} refused")
    return "; ".join(parts) + "."


# --- Pasting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PasteResult:
    lines: int  # the lines pasted, blank ones aside
    added: int
    in_campaign: int
    repeated: int
    refused: list[Rejection]  # in line order, numbered as in the paste
    kept_text: str  # exactly the refused lines, as pasted, to fix and add again
    gaps: dict[int, NoteGap]

    @property
    def summary(self) -> str:
        return outcome_summary(self.added, self.in_campaign, self.repeated, len(self.refused), "line")


def add_pasted_profiles(campaign: Campaign, text: str) -> PasteResult:
    """Add every profile of the paste that can be added; say what became of each line."""
    reading = read_paste(text)
    result, plan = save_batch(campaign, reading.valid)
    refused = sorted(reading.rejected + plan.rejected, key=lambda rejection: rejection.number)
    return PasteResult(
        lines=reading.counted_lines,
        added=result.added,
        in_campaign=len(plan.in_campaign),
        repeated=len(reading.repeated) + len(plan.duplicates),
        refused=refused,
        kept_text="\n".join(reading.lines[rejection.number - 1] for rejection in refused),
        gaps=note_gaps(campaign, plan),
    )


# --- The preview ----------------------------------------------------------------------------

ADD = "add"
# Rows listed on the preview, per list; the rest are counted, and all can be downloaded.
PREVIEW_LISTED_ROWS = 500
PREVIEW_SAMPLE_ROWS = 10


@dataclass(frozen=True)
class PreviewRow:
    number: int
    profile: str
    name: str
    company: str
    title: str
    status: str  # "ok", or why the row is not imported
    known: bool = False  # an existing prospect, reused
    kind: str = ADD  # ADD, or why not: REFUSED, REPEATED, IN_CAMPAIGN, DO_NOT_CONTACT
    gap: NoteGap | None = None  # added, but its note lacks a value

    @property
    def ok(self) -> bool:
        return self.kind == ADD

    @property
    def warning(self) -> str:
        return self.gap.warning if self.gap else ""


@dataclass(frozen=True)
class Preview:
    """What importing the file with this mapping would do, row by row; every row is checked."""

    rows: list[PreviewRow]  # every row of the file, in order
    mapping: dict[str, int | None]

    @cached_property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((ADD, IN_CAMPAIGN, REPEATED, REFUSED, DO_NOT_CONTACT), 0)
        for row in self.rows:
            counts[row.kind] += 1
        return counts

    @property
    def valid(self) -> int:
        return self.counts[ADD]

    @property
    def rejected(self) -> int:
        return len(self.rows) - self.valid

    @cached_property
    def not_added(self) -> list[PreviewRow]:
        return [row for row in self.rows if not row.ok]

    @cached_property
    def warned(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.ok and row.warning]

    @property
    def listed_not_added(self) -> list[PreviewRow]:
        return self.not_added[:PREVIEW_LISTED_ROWS]

    @property
    def unlisted_not_added(self) -> int:
        return len(self.not_added) - len(self.listed_not_added)

    @property
    def listed_warned(self) -> list[PreviewRow]:
        return self.warned[:PREVIEW_LISTED_ROWS]

    @property
    def unlisted_warned(self) -> int:
        return len(self.warned) - len(self.listed_warned)

    @property
    def sample(self) -> list[PreviewRow]:
        """The first rows that will be added as they are."""
        return [row for row in self.rows if row.ok and not row.warning][:PREVIEW_SAMPLE_ROWS]

    @property
    def warning_summaries(self) -> list[str]:
        return note_gap_summaries((row.gap for row in self.warned), "row to add", "rows to add")

    def mapping_fields(self) -> list[tuple[str, str]]:
        """The mapping as form fields, so the Import button imports exactly what was previewed."""
        return [(name, "" if index is None else str(index)) for name, index in self.mapping.items()]


def build_preview(campaign: Campaign, table: CsvTable, mapping: dict[str, int | None]) -> Preview:
    """What importing the file with this mapping would do: every row checked, in the few
    queries plan_batch makes, however long the file."""
    entries, rejected = rows_to_prospects(table.rows, mapping)
    plan = plan_batch(campaign, entries)
    not_added = {rejection.number: rejection for rejection in plan.all_rejections(rejected)}
    known = {entry.number for entry, _ in plan.known}
    gaps = note_gaps(campaign, plan)
    entry_at = {entry.number: entry for entry in entries}
    rows = []
    for row in table.rows:
        if row.number in not_added:
            rejection = not_added[row.number]
            details, profile, status, kind = rejection.details, rejection.text, rejection.reason, rejection.kind
        else:
            entry = entry_at[row.number]
            details, profile, status, kind = entry.details(), entry.profile, "ok", ADD
        name = " ".join(part for part in (details.get("first_name"), details.get("last_name")) if part)
        rows.append(PreviewRow(
            row.number, profile, name, details.get("company", ""), details.get("title", ""),
            status, row.number in known, kind, gaps.get(row.number),
        ))
    return Preview(rows, mapping)


PROBLEM_COLUMNS = ["Row", "Problem"]


def problem_rows(preview: Preview, table: CsvTable) -> list[list[str]]:
    """The rows that will not be added, and those added with a warning, as the file had them,
    each after its row number and its problem: to fix in a spreadsheet and import again."""
    cells_at = {row.number: row.cells for row in table.rows}
    listed = sorted(preview.not_added + preview.warned, key=lambda row: row.number)
    return [[str(row.number), row.status if not row.ok else row.warning, *cells_at[row.number]] for row in listed]
