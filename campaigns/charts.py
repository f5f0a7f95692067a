"""Small charts drawn on the server as SVG: no JavaScript, no chart library."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

CHART_HEIGHT = 120
BAR_WIDTH = 16
BAR_GAP = 4


@dataclass(frozen=True)
class Bar:
    day: dt.date
    count: int
    x: int
    y: int
    height: int


def daily_bars(counts: dict[dt.date, int], last_day: dt.date, days: int = 30) -> list[Bar]:
    """One bar per day, oldest first, scaled so the busiest day fills the chart's height."""
    span = [last_day - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    peak = max((counts.get(day, 0) for day in span), default=0) or 1
    bars = []
    for index, day in enumerate(span):
        count = counts.get(day, 0)
        height = round(count / peak * CHART_HEIGHT)
        bars.append(Bar(day, count, index * (BAR_WIDTH + BAR_GAP), CHART_HEIGHT - height, height))
    return bars


def chart_width(days: int = 30) -> int:
    return days * (BAR_WIDTH + BAR_GAP) - BAR_GAP


@dataclass(frozen=True)
class Segment:
    label: str
    css_class: str
    count: int
    x_percent: float
    width_percent: float


# The states a campaign's progress bar shows, in order, and the class that colours each.
# "Sent" counts the accepted too, as the campaign page's Sent tab does.
PROGRESS_PARTS = [
    ("Sent", "sent", ("sent", "accepted")),
    ("With OutX", "pending", ("pending", "submitting")),
    ("Queued", "queued", ("queued",)),
    ("Not sent", "not-sent", ("not_sent",)),
    ("Skipped", "skipped", ("skipped",)),
    ("Failed", "failed", ("failed", "uncertain")),
]


def progress_segments(counts: dict[str, int]) -> list[Segment]:
    """A stacked bar: each part's share of all the campaign's requests, as SVG percentages."""
    total = sum(counts.values()) or 1
    segments, x = [], 0.0
    for label, css_class, states in PROGRESS_PARTS:
        count = sum(counts.get(state, 0) for state in states)
        width = 100 * count / total
        segments.append(Segment(label, css_class, count, round(x, 2), round(width, 2)))
        x += width
    return segments
