"""Cursor pagination: each page ends with an opaque cursor naming the last row's id, and the
next page starts strictly after it, newest (highest id) first.

Unlike page numbers, a cursor does not move when rows are inserted: new rows sort before the
first page, so no row is skipped or shown twice while a client walks the pages. Each page is
one query with a LIMIT that walks the primary key's index backwards, so a page costs the same
at a thousand rows and at a million (an order by a time column would sort the whole table).
"""

from __future__ import annotations

import base64
import binascii
import json

from django.db.models import QuerySet
from ninja.errors import ValidationError

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# A cursor is short: base64 of [123].
MAX_CURSOR_LENGTH = 100


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([pk]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id in a cursor; a 422 naming the `cursor` parameter if it is not one of ours."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        (pk,) = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if type(pk) is not int or not 0 < pk < 2**63:
            raise ValueError
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise ValidationError([{
            "type": "value_error", "loc": ["query", "cursor"],
            "msg": "Invalid cursor: pass the next_cursor of an earlier page unchanged.",
        }]) from None
    return pk


def cursor_page(rows: QuerySet, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """One page of `rows`, newest (highest id) first, starting after `cursor`; and the cursor of
    the next page, None on the last."""
    rows = rows.order_by("-pk")
    if cursor:
        rows = rows.filter(pk__lt=decode_cursor(cursor))
    page = list(rows[: limit + 1])
    if len(page) <= limit:
        return page, None
    page = page[:limit]
    return page, encode_cursor(page[-1].pk)
