"""Small charts drawn on the server as SVG: no JavaScript, no chart library."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.safestring import SafeString

from .markup import day_month, html_format, html_join_each, weekday_day_month

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


def daily_chart(bars: list[Bar]) -> SafeString:
    """Home's chart of `daily_bars`, with its text equivalent: what it shows, and every day's
    count in a table. Drawn here rather than by a template, where its few hundred nodes cost
    a fifth of Home's time (issue 14)."""
    width = chart_width(len(bars))
    groups = html_join_each("\n", "{}", ((_bar_group(bar, index == 0, index == len(bars) - 1),) for index, bar in enumerate(bars)))
    rows = html_join_each("", "<tr><td>{}</td><td>{}</td></tr>", ((weekday_day_month(bar.day), bar.count) for bar in bars))
    return html_format(
        '<figure class="chart">\n'
        '<svg viewBox="0 -14 {width} 150" width="100%" role="img" aria-labelledby="chart-title chart-caption">\n'
        '<title id="chart-title">Invitations submitted per day over the last {days} days</title>\n'
        '<line class="chart-axis" x1="0" y1="{height}" x2="{width}" y2="{height}"></line>\n{groups}\n</svg>\n'
        '<figcaption id="chart-caption" class="chart-caption">One bar per day, {first} to {last}; '
        "each day's count is in the table below.</figcaption>\n"
        '<details class="chart-table">\n<summary>Invitations per day, as a table</summary>\n<table class="table">\n'
        '<thead><tr><th scope="col">Day</th><th scope="col">Invitations submitted</th></tr></thead>\n'
        "<tbody>{rows}</tbody>\n</table>\n</details>\n</figure>",
        width=width, days=len(bars), height=CHART_HEIGHT, groups=groups, rows=rows,
        first=day_month(bars[0].day), last=day_month(bars[-1].day),
    )


def _bar_group(bar: Bar, first: bool, last: bool) -> SafeString:
    """One day's bar, its count above it, and the day below it for the first, the last and the
    first of each month."""
    count = html_format('<text x="{}" y="{}" text-anchor="middle">{}</text>', bar.x + BAR_WIDTH // 2, bar.y - 3, bar.count) if bar.count else ""
    if first:
        label = html_format('<text class="chart-label" x="{}" y="134" text-anchor="start">{}</text>', bar.x, day_month(bar.day))
    elif last:
        label = html_format('<text class="chart-label" x="{}" y="134" text-anchor="end">{}</text>', bar.x + BAR_WIDTH, day_month(bar.day))
    elif bar.day.day == 1:
        label = html_format('<text class="chart-label" x="{}" y="134" text-anchor="middle">{}</text>', bar.x + BAR_WIDTH // 2, day_month(bar.day))
    else:
        label = ""
    return html_format(
        '<g class="chart-bar"><rect x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>{}{}</g>',
        bar.x, bar.y, BAR_WIDTH, bar.height, weekday_day_month(bar.day), bar.count, count, label,
    )


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


def progress_of(counts) -> SafeString:
    """`progress_bar` of a campaign's RequestCounts."""
    return progress_bar(counts.segments, counts.by_state["accepted"])


def progress_bar(segments: list[Segment], accepted: int) -> SafeString:
    """A campaign's stacked progress bar and its legend, `accepted` how many of the sent were
    accepted (as the campaign page's Sent and Accepted tabs count them). Drawn here rather than
    by a template: a list draws one per row, and the template's hundred-odd nodes cost a
    millisecond a bar, half of the campaign list's time (issue 14)."""

    def said(segment: Segment) -> str:
        accepted_too = f" ({accepted} accepted)" if segment.css_class == "sent" and accepted else ""
        return f"{segment.label} {segment.count}{accepted_too}"

    rects = html_join_each(
        "", '<rect class="progress-{}" x="{}" y="0" width="{}" height="4"><title>{}: {}</title></rect>',
        ((s.css_class, s.x_percent, s.width_percent, s.label, s.count) for s in segments if s.count),
    )
    legend = html_join_each("", '<span class="legend-{}">{}</span>', ((s.css_class, said(s)) for s in segments))
    return html_format(
        '<svg class="progress" viewBox="0 0 100 4" preserveAspectRatio="none" role="img" aria-label="{}">'
        '<rect class="progress-track" x="0" y="0" width="100" height="4"></rect>{}</svg>'
        '<p class="progress-legend">{}</p>',
        ", ".join(said(s) for s in segments), rects, legend,
    )
