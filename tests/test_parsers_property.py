"""Property tests: every parser is total, and the note rule is JavaScript's.

Arbitrary text goes into each parser a person or OutX can reach (profile URLs and URNs, a
paste, a CSV file and its rows, a page number, the review's filters, the export's cells): out
comes a value or the one exception the parser documents, never another. The note rule is
checked against the Node.js vectors and, for arbitrary text, against a reference written here
from the ECMAScript definitions.

The number of examples is set per test (EXAMPLES); `deadline=None` so a slow machine does
not fail; no example database, so running the tests writes nothing into the tree. The whole
file takes about 20 s. `pytest --hypothesis-show-statistics` reports what ran.
"""

import csv
import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
from django.http import QueryDict
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns import linkedin
from campaigns.forms.review import ReviewFilterForm
from campaigns.importing import (
    MAX_CSV_ROWS,
    WRAPPING,
    CsvError,
    CsvRow,
    CsvTable,
    parse_pasted_profiles,
    read_csv,
    rows_to_prospects,
)
from campaigns.models import Campaign, ConnectionRequest
from campaigns.notes import JS_WHITESPACE, NOTE_MAX_LENGTH, check_note, js_trim, utf16_length
from campaigns.params import MAX_PAGE, parse_page
from campaigns.csvexport import spreadsheet_safe

EXAMPLES = {
    "profile": 600,
    "paste": 300,
    "csv": 300,
    "rows": 300,
    "page": 1000,
    "review_form": 300,
    "review_pages": 60,
    "spreadsheet": 1000,
    "note": 1000,
}


def examples(kind: str, **extra) -> settings:
    return settings(max_examples=EXAMPLES[kind], deadline=None, database=None, **extra)


# --- Strategies: arbitrary text, and text shaped like what people paste -----------------------------

# Characters the parsers treat specially, and the look-alikes the audit used.
AWKWARD = (
    "[]/\\:@%?#&=+-_.~ \t\r\n\x00\x0b\x0c\x1c\x1f\x85\xa0\u2028\u2029\u200b\u200e\u2060\ufeff\u3000"
    "\uff0f\uff1a\uff20\uff0b\uff0d\uff1d\uff4c\uff49\uff4e\u2100\u2024\u3002"
    "é\u0130\u00df\u1e9e😀"
)
# Lone surrogates too: a Python string may hold one, though no HTTP request can.
awkward_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(AWKWARD)), max_size=60)
any_text = st.one_of(st.text(), awkward_text)
# What a query string can carry: any character UTF-8 can encode.
web_text = st.one_of(st.text(), st.text(alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD))))

schemes = st.sampled_from(["", "https://", "http://", "HTTPS://", "//", "https:/", "ftp://", "javascript:", "https：//"])
hosts = st.one_of(
    st.sampled_from([
        "linkedin.com", "www.linkedin.com", "fr.linkedin.com", "m.linkedin.com", "WWW.LinkedIn.COM",
        "[linkedin.com", "linkedin.com]", "[::1]", "[v1.x]", "\uff4cinkedin.com", "www.linkedin.com\uff0f",
        "linkedin.com:99999", "linkedin.com:abc", "linkedin.com:", "user:pw@linkedin.com",
        "www.linkedin.com.evil.com", "evil-linkedin.com", "a\u2100b.linkedin.com", "",
    ]),
    awkward_text,
)
paths = st.sampled_from(["/in/", "/mwlite/in/", "/IN/", "/in", "/company/", "/", "\uff0fin\uff0f", "//in//", ""])
slugs = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,102}", fullmatch=True),
    st.from_regex(r"(%[0-9A-Fa-f]{2}|[a-z]){1,20}", fullmatch=True),
    awkward_text,
)
suffixes = st.one_of(
    st.sampled_from(["", "/", "/fr", "?trk=x", "#about", "%0A", "%", "%zz", "\uff03x", "/x/y"]), awkward_text
)
profile_urls = st.builds(
    lambda space, scheme, host, path, slug, suffix: f"{space}{scheme}{host}{path}{slug}{suffix}{space}",
    st.sampled_from(["", " ", "\t", "\u3000"]), schemes, hosts, paths, slugs, suffixes,
)
urn_prefixes = st.sampled_from(
    ["", linkedin.URN_PREFIX, "urn:li:member:", "URN:LI:FSD_PROFILE:", "urn:", "javascript:"]
)
profile_urns = st.builds(
    lambda prefix, profile_id: prefix + profile_id,
    urn_prefixes, st.one_of(st.from_regex(r"(ACo)?[A-Za-z0-9_-]{0,102}", fullmatch=True), awkward_text),
)
profile_values = st.one_of(any_text, profile_urls, profile_urns)

NORMALISED_URL = re.compile(r"https://www\.linkedin\.com/in/[\w-]{2,100}")
NORMALISED_URN = re.compile(r"urn:li:fsd_profile:[A-Za-z0-9_-]{2,100}")


# --- Profile URLs and URNs -----------------------------------------------------------------------


@examples("profile")
@given(profile_values)
@example("https://[linkedin.com/in/abc")
@example("https://www.linkedin.com\uff0fin/abc")
@example("https://www.linkedin.com/in/abc%0A")
def test_normalise_profile_url_is_total_and_idempotent(value):
    try:
        url = linkedin.normalise_profile_url(value)
    except linkedin.InvalidProfile as error:
        assert str(error)
        return
    assert NORMALISED_URL.fullmatch(url), url
    assert linkedin.normalise_profile_url(url) == url
    assert url == "https://www.linkedin.com/in/" + linkedin.profile_slug(value)


@examples("profile")
@given(profile_values)
def test_profile_slug_is_total(value):
    try:
        slug = linkedin.profile_slug(value)
    except linkedin.InvalidProfile as error:
        assert str(error)
        return
    assert re.fullmatch(r"[\w-]{2,100}", slug) and slug == slug.lower()
    assert linkedin.profile_slug(slug.join(["linkedin.com/in/", "/"])) == slug


@examples("profile")
@given(profile_values)
@example("javascript:alert(1)//")
@example("urn:li:fsd_profile:abc\n")
def test_normalise_profile_urn_is_total_and_idempotent(value):
    try:
        urn = linkedin.normalise_profile_urn(value)
    except linkedin.InvalidProfile as error:
        assert str(error)
        return
    assert NORMALISED_URN.fullmatch(urn), urn
    assert linkedin.normalise_profile_urn(urn) == urn


@examples("profile")
@given(profile_values)
def test_parse_profile_is_total_and_gives_exactly_one_identifier(value):
    try:
        urn, url = linkedin.parse_profile(value)
    except linkedin.InvalidProfile as error:
        assert str(error)
        return
    assert (urn is None) != (url is None)
    assert NORMALISED_URN.fullmatch(urn or "") or NORMALISED_URL.fullmatch(url or "")


# --- A paste -------------------------------------------------------------------------------------

line_breaks = st.sampled_from(["\n", "\r\n", "\r"])


@examples("paste")
@given(st.lists(st.tuples(st.one_of(profile_values, st.just("")), line_breaks), max_size=25))
def test_parse_pasted_profiles_accounts_for_every_line(lines):
    text = "".join(line + end for line, end in lines)

    valid, rejected = parse_pasted_profiles(text)

    numbers = [entry.number for entry in valid] + [rejection.number for rejection in rejected]
    assert len(numbers) == len(set(numbers)), "a line is either kept or rejected, once"
    assert all(rejection.reason for rejection in rejected)
    # Every other line is blank, or names someone an earlier kept line named.
    kept = {entry.urn or entry.url: entry.number for entry in valid}
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        value = line.strip().strip(WRAPPING)
        if number in numbers or not value:
            continue
        urn, url = linkedin.parse_profile(value)
        assert kept[urn or url] < number


@examples("paste")
@given(st.text(max_size=2000))
def test_parse_pasted_profiles_takes_any_text(text):
    valid, rejected = parse_pasted_profiles(text)
    assert all(NORMALISED_URN.fullmatch(e.urn or "") or NORMALISED_URL.fullmatch(e.url or "") for e in valid)
    assert all(isinstance(rejection.reason, str) for rejection in rejected)


# --- CSV files and rows ----------------------------------------------------------------------------

cells = st.one_of(profile_values, st.sampled_from(["", " ", '"', '""', ";", ",", "\t", "\n"]))
tables = st.lists(st.lists(cells, min_size=0, max_size=6), min_size=0, max_size=12)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])


def as_csv(records: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(records)
    return buffer.getvalue()


def checked_table(data: bytes) -> CsvTable | None:
    """read_csv's answer, checked: a table of unique, non-blank headers and numbered rows, or CsvError."""
    try:
        table = read_csv(data)
    except CsvError as error:
        assert str(error)
        return None
    assert table.headers and all(name.strip() for name in table.headers)
    assert len(set(table.headers)) == len(table.headers)
    numbers = [row.number for row in table.rows]
    assert numbers == sorted(set(numbers)) and numbers[0] >= 2
    assert 0 < len(table.rows) <= MAX_CSV_ROWS
    assert CsvTable.from_json(json.loads(json.dumps(table.to_json()))) == table
    return table


@examples("csv")
@given(st.binary(max_size=3000))
@example(b"PK\x03\x04rest")
@example(b"\xff\xfe" + "a,b\nc,d\n".encode("utf-16-le"))
@example(b'a,"b\n' + b"x" * 200_000)
def test_read_csv_takes_any_bytes(data):
    checked_table(data)


@examples("csv")
@given(tables, st.sampled_from([",", ";", "\t"]), encodings, line_breaks)
def test_read_csv_takes_any_csv_text_in_any_encoding(records, delimiter, encoding, line_break):
    text = as_csv(records, delimiter).replace("\r\n", line_break)
    checked_table(text.encode(encoding, errors="replace"))


mappings = st.fixed_dictionaries(
    {},
    optional={
        name: st.one_of(st.none(), st.integers(min_value=0, max_value=8))
        for name in ("profile_url", "profile_urn", "first_name", "last_name", "full_name", "company", "title")
    },
)


@examples("rows")
@given(tables, mappings)
def test_rows_to_prospects_keeps_or_rejects_every_row_once(records, mapping):
    rows = [CsvRow(number, cells) for number, cells in enumerate(records, start=2)]

    valid, rejected = rows_to_prospects(rows, mapping)

    numbers = sorted([entry.number for entry in valid] + [rejection.number for rejection in rejected])
    assert numbers == [row.number for row in rows]
    assert all(rejection.reason for rejection in rejected)
    for entry in valid:
        assert NORMALISED_URN.fullmatch(entry.urn or "") or NORMALISED_URL.fullmatch(entry.url or "")
        assert len(entry.first_name) <= 100 and len(entry.company) <= 200


@examples("rows")
@given(tables)
def test_a_whole_file_reads_maps_and_checks(records):
    table = checked_table(as_csv(records, ",").encode("utf-8", "surrogatepass"))
    if table is not None:
        valid, rejected = rows_to_prospects(table.rows, {"profile_url": 0, "profile_urn": 1, "full_name": 2})
        assert len(valid) + len(rejected) == len(table.rows)


# --- Page numbers ----------------------------------------------------------------------------------

page_values = st.one_of(
    any_text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Nl"]), max_size=6),
    st.none(),
)


@examples("page")
@given(page_values)
@example("²")
@example("①")
@example("9" * 5000)
def test_parse_page_is_total_and_bounded(value):
    page = parse_page(value)

    assert isinstance(page, int) and 1 <= page <= MAX_PAGE
    if value is not None and re.fullmatch(r"[0-9]{1,12}", value):
        assert page == min(max(int(value), 1), MAX_PAGE)
    else:
        assert page == 1


# --- The review's filters ---------------------------------------------------------------------------

FIELD_NAMES = ["state", "campaign", "date_from", "date_to", "q", "old_unanswered", "page"]
filter_values = st.one_of(
    web_text,
    st.sampled_from(["", "sent", "queued", "on", "9999-12-31", "0001-01-01", "2024-05-02", "2099-12-31", "2100-01-01"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda day: day.isoformat()),
)
query_data = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=5)),  # no surrogates: st.text() has none
    st.lists(filter_values, min_size=1, max_size=3),
    max_size=7,
)
time_zones = st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati", "Etc/GMT+12", "America/St_Johns"])


def as_query_dict(data: dict[str, list[str]]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in data.items():
        query.setlist(key, values)
    return query


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Review", Campaign.State.ACTIVE, prospects=2)


@examples("review_form", suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query_data, time_zones)
def test_the_review_form_cleans_any_query_string(campaign, data, time_zone):
    form = ReviewFilterForm(as_query_dict(data), time_zone=time_zone)

    form.is_valid()
    requests = list(form.filter_requests(ConnectionRequest.objects.all()))

    assert all(isinstance(request, ConnectionRequest) for request in requests)
    for field, errors in form.errors.items():
        assert all(error for error in errors), field


@examples("review_pages", suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query_data)
def test_review_and_its_export_answer_any_query_string(client, ada, campaign, data):
    client.force_login(ada)
    query = as_query_dict(data)
    page = client.get(reverse("review"), query)
    assert page.status_code == 200
    export = client.get(reverse("review_export"), query)
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Submitted at"


# --- The export's cells ----------------------------------------------------------------------------

FORMULA_LOOKALIKES = "=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b"
INVISIBLE = (
    " \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u200b\u200e\u200f"
    "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)


def first_visible(text: str) -> str:
    """The first character a spreadsheet looks at, by the reference rule: past every
    whitespace, control and format character."""
    for char in text:
        if not (char.isspace() or unicodedata.category(char) in ("Zs", "Zl", "Zp", "Cc", "Cf")):
            return char
    return ""


@examples("spreadsheet")
@given(st.one_of(any_text, st.text(alphabet=st.sampled_from(INVISIBLE + FORMULA_LOOKALIKES + "a1'"), max_size=8)))
def test_spreadsheet_safe_is_total_and_leaves_no_formula(cell):
    safe = spreadsheet_safe(cell)

    assert safe in (cell, "'" + cell)
    if safe == cell:
        assert not unicodedata.normalize("NFKC", first_visible(cell)).startswith(("=", "+", "-", "@"))


@examples("spreadsheet")
@given(st.text(alphabet=st.sampled_from(INVISIBLE), max_size=6), st.sampled_from(FORMULA_LOOKALIKES), any_text)
def test_spreadsheet_safe_neutralises_any_hidden_formula(prefix, start, rest):
    assert spreadsheet_safe(prefix + start + rest) == "'" + prefix + start + rest


# --- The note rule: Python's is JavaScript's -------------------------------------------------------

VECTORS = json.loads((Path(__file__).parent / "data" / "note-vectors.json").read_text())["cases"]
# ECMAScript: WhiteSpace is TAB, VT, FF, ZWNBSP (U+FEFF) and every "Zs" code point;
# LineTerminator is LF, CR, LS (U+2028) and PS (U+2029). String.prototype.trim removes both.
ES_WHITESPACE_OTHER_THAN_ZS = {"\u0009", "\u000b", "\u000c", "\ufeff"}
ES_LINE_TERMINATORS = {"\u000a", "\u000d", "\u2028", "\u2029"}


def es_trimmable(char: str) -> bool:
    return char in ES_WHITESPACE_OTHER_THAN_ZS or char in ES_LINE_TERMINATORS or unicodedata.category(char) == "Zs"


def es_trim(text: str) -> str:
    start, end = 0, len(text)
    while start < end and es_trimmable(text[start]):
        start += 1
    while end > start and es_trimmable(text[end - 1]):
        end -= 1
    return text[start:end]


def es_length(text: str) -> int:
    """`length`: the number of UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_the_note_rule_passes_every_node_vector(vector):
    checked = check_note(vector["text"])

    assert js_trim(vector["text"]) == vector["trimmed"] == es_trim(vector["text"])
    assert utf16_length(vector["trimmed"]) == vector["length"] == es_length(vector["trimmed"])
    assert checked.text == vector["trimmed"] and checked.length == vector["length"]
    assert checked.within_limit == vector["within_300"]


def test_the_trimmed_set_is_exactly_ecmascripts_over_every_code_point():
    trimmable = {chr(code) for code in range(0x110000) if es_trimmable(chr(code))}
    assert trimmable == set(JS_WHITESPACE)


NOTE_EDGES = "".join(sorted(set(JS_WHITESPACE))) + "\x85\x1c\x1d\x1e\x1f\u200b\u180e\u2060\r\n😀🇫🇷é"
note_text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(NOTE_EDGES)), max_size=400),
    st.builds(
        lambda pad, body, tail: pad + body + tail,
        st.text(alphabet=st.sampled_from(NOTE_EDGES), max_size=5),
        st.text(alphabet=st.sampled_from("a😀 é\n"), min_size=140, max_size=310),
        st.text(alphabet=st.sampled_from(NOTE_EDGES), max_size=5),
    ),
)


@examples("note")
@given(note_text)
def test_the_python_note_rule_equals_javascripts(text):
    assert js_trim(text) == es_trim(text)
    assert utf16_length(text) == es_length(text)
    as_the_browser_sees_it = text.replace("\r\n", "\n").replace("\r", "\n")
    checked = check_note(text)
    assert checked.text == es_trim(as_the_browser_sees_it)
    assert checked.length == es_length(checked.text)
    assert checked.within_limit == (checked.length <= NOTE_MAX_LENGTH)
