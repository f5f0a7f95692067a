"""HTML written in Python, for the parts of pages drawn many times over (campaigns.rows, the
long tables' rows; campaigns.charts, the progress bars and Home's chart), where Django's
template engine cost most of a page (issue 14).

`html_format` is django.utils.html.format_html without the check for lazy strings that
Django's escape makes on every value (a fifth of a row's cost); the escaping is the same,
html.escape's. Dates are written as Django's date formats write them in English, the
product's only language, without Django's format parser (25 µs a date) or strftime's locale.
"""

from __future__ import annotations

import datetime as dt
import html

from django.utils.safestring import SafeData, SafeString

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def escape(value) -> str:
    """Safe HTML as it is; anything else through html.escape, as format_html would."""
    return value if isinstance(value, SafeData) else html.escape(str(value))


def html_format(template: str, *args, **kwargs) -> SafeString:
    """format_html: `template` is trusted, every value escaped unless already safe."""
    return SafeString(template.format(*map(escape, args), **{name: escape(value) for name, value in kwargs.items()}))


def html_join(parts, separator: str = "\n") -> SafeString:
    """Pieces each already made safe (by html_format), joined."""
    return SafeString(separator.join(parts))


def html_join_each(separator: str, template: str, args_list) -> SafeString:
    """format_html_join: `template` filled with each tuple of `args_list`, joined."""
    return html_join((html_format(template, *args) for args in args_list), separator)


def day_month(day: dt.date) -> str:
    """Django's "j M": 3 Jun."""
    return f"{day.day} {MONTHS[day.month - 1]}"


def weekday_day_month(day: dt.date) -> str:
    """Django's "D j M": Wed 3 Jun."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def minute(moment: dt.datetime) -> str:
    """Django's "Y-m-d H:i": 2026-06-03 14:05."""
    return f"{moment:%Y-%m-%d %H:%M}"


def weekday_minute(moment: dt.datetime) -> str:
    """Django's "D j M H:i": Wed 3 Jun 14:05."""
    return f"{weekday_day_month(moment)} {moment:%H:%M}"
