"""Reading values people put in a query string or a posted form, totally: never an exception.

`str.isdigit()` accepts "²" and "①", which `int()` refuses, and `int()` accepts " 7", "+7",
"1_000" and Arabic-Indic digits: a page number is read here, as ASCII digits only.
"""

from __future__ import annotations

import re

# More pages than any listing here has (5,000 rows a CSV, 50 rows a page); a larger number
# shows the last page, as Django's Paginator.get_page does for any page past the end.
MAX_PAGE = 100_000
PAGE_NUMBER = re.compile(r"[0-9]{1,12}")


def parse_page(value: object, default: int = 1) -> int:
    """The page number a query string asks for: 1 to MAX_PAGE, or `default` if it is not one."""
    if not isinstance(value, str) or not PAGE_NUMBER.fullmatch(value):
        return default
    return min(max(int(value), 1), MAX_PAGE)
