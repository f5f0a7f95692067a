"""CSV downloads that a spreadsheet opens right, written once for every export of the site.

Excel reads a CSV without a byte-order mark in the computer's local code page, so "Krüger"
opens as "KrÃ¼ger": every download starts with the UTF-8 BOM. Every cell is written as text a
spreadsheet shows rather than runs (CSV injection). Rows are streamed, so a long export never
sits in memory.
"""

from __future__ import annotations

import codecs
import csv
import unicodedata
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

BOM = codecs.BOM_UTF8.decode("utf-8")
EXPORT_CHUNK_SIZE = 2000
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets also read full-width ＝＋－＠ as these (and we treat the small forms ﹦﹢﹣﹫
# alike): NFKC maps each of them to its ASCII character.
FORMULA_CHARACTERS = ("=", "+", "-", "@")
# What a spreadsheet skips before it looks for a formula: spaces, line breaks, control and
# format characters such as a BOM (U+FEFF) or a zero-width space.
SKIPPED_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


class EchoBuffer:
    """A file-like object whose write() hands back what it was given, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_safe(cell: str) -> str:
    """The cell as text a spreadsheet shows rather than runs: a leading ' stops a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) or starts_a_formula(cell) else cell


def starts_a_formula(cell: str) -> bool:
    """Whether the cell's first visible character is one a spreadsheet starts a formula with,
    in any width: `=1+1`, `＝1+1`, and the same after a BOM, spaces or zero-width characters."""
    for char in cell:
        if char.isspace() or unicodedata.category(char) in SKIPPED_CATEGORIES:
            continue
        return unicodedata.normalize("NFKC", char).startswith(FORMULA_CHARACTERS)
    return False


def csv_lines(header: list[str], rows: Iterable[Iterable[str]]) -> Iterator[str]:
    """The CSV text, line by line: the BOM and the header first, every cell spreadsheet-safe."""
    writer = csv.writer(EchoBuffer())
    yield BOM + writer.writerow([spreadsheet_safe(cell) for cell in header])
    for row in rows:
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])


def csv_download(filename: str, header: list[str], rows: Iterable[Iterable[str]]) -> StreamingHttpResponse:
    """A streamed CSV attachment named `filename`."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
