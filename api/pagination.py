"""Cursor pagination: each page ends with an opaque cursor naming the last row's place in the
order (its time, then its id), and the next page starts strictly after that place.

Unlike page numbers, a cursor does not move when rows are inserted: new rows sort before the
first page (the order is newest first), so no row is skipped or shown twice while a client walks
the pages. Each page is one query with a LIMIT, however deep the walk.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.db.models import F, Q, QuerySet
from ninja.errors import ValidationError

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# A cursor is short: base64 of ["2026-01-01T00:00:00.000000+00:00", 123].
MAX_CURSOR_LENGTH = 200


def encode_cursor(at: dt.datetime, pk: int) -> str:
    text = json.dumps([at.isoformat(), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """(time, id) from a cursor; a 422 naming the `cursor` parameter if it is not one of ours."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, pk = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        at = dt.datetime.fromisoformat(at_text)
        if at.tzinfo is None or type(pk) is not int or not 0 < pk < 2**63:
            raise ValueError
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise ValidationError([{
            "type": "value_error", "loc": ["query", "cursor"],
            "msg": "Invalid cursor: pass the next_cursor of an earlier page unchanged.",
        }]) from None
    return at, pk


def cursor_page(rows: QuerySet, time_field: str, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """One page of `rows`, newest `time_field` first (ties: highest id first), starting after
    `cursor`; and the cursor of the next page, None on the last."""
    rows = rows.order_by(F(time_field).desc(), "-pk")
    if cursor:
        at, pk = decode_cursor(cursor)
        rows = rows.filter(Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "pk__lt": pk}))
    page = list(rows[: limit + 1])
    if len(page) <= limit:
        return page, None
    page = page[:limit]
    last = page[-1]
    return page, encode_cursor(getattr(last, time_field), last.pk)
