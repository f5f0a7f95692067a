"""What is drawn in Python rather than by a template, for its cost (issue 14): the charts of
campaigns.charts (the progress bar, Home's 30 days) and Review's selects, as the templates
drew them before."""

import datetime as dt

from campaigns.charts import daily_bars, daily_chart, progress_bar, progress_segments


def test_the_progress_bar_says_each_part_and_draws_only_the_parts_with_requests():
    counts = {"sent": 2, "accepted": 1, "queued": 1, "failed": 0}
    html = progress_bar(progress_segments(counts), accepted=1)
    assert 'aria-label="Sent 3 (1 accepted), With OutX 0, Queued 1, Not sent 0, Skipped 0, Failed 0"' in html
    assert '<rect class="progress-sent" x="0.0" y="0" width="75.0" height="4"><title>Sent: 3</title></rect>' in html
    assert '<rect class="progress-queued" x="75.0" y="0" width="25.0" height="4"><title>Queued: 1</title></rect>' in html
    assert "progress-failed" not in html  # nothing failed: no empty rectangle
    assert '<span class="legend-sent">Sent 3 (1 accepted)</span><span class="legend-pending">With OutX 0</span>' in html


def test_the_progress_bar_names_no_acceptances_when_there_are_none():
    html = progress_bar(progress_segments({"sent": 2}), accepted=0)
    assert "accepted" not in html


def test_the_daily_chart_labels_the_first_and_last_days_and_each_first_of_a_month():
    last = dt.date(2026, 12, 2)
    html = daily_chart(daily_bars({last: 3, last - dt.timedelta(days=2): 2}, last, 30))
    assert html.count('<g class="chart-bar">') == 30
    assert '<text class="chart-label" x="0" y="134" text-anchor="start">3 Nov</text>' in html
    assert '<text class="chart-label" x="596" y="134" text-anchor="end">2 Dec</text>' in html
    assert '<text class="chart-label" x="568" y="134" text-anchor="middle">1 Dec</text>' in html
    assert '<rect x="580" y="0" width="16" height="120"><title>Wed 2 Dec: 3</title></rect>' in html
    assert '<text x="588" y="-3" text-anchor="middle">3</text>' in html  # the count above its bar
    assert "One bar per day, 3 Nov to 2 Dec;" in html
    assert "<tr><td>Mon 30 Nov</td><td>2</td></tr>" in html and "<tr><td>Tue 3 Nov</td><td>0</td></tr>" in html


def test_reviews_plain_select_draws_the_elements_djangos_select_draws():
    """Review's selects (state, sender) skip Django's template per option, not its HTML."""
    import re

    from django import forms

    from campaigns.forms.review import PlainSelect

    choices = [("", "Any"), ("sent", "Sent, <not> accepted"), ("queued", "Queued")]
    plain = PlainSelect(choices=choices).render("state", "sent", {"id": "id_state", "aria-describedby": "help"})
    django = forms.Select(choices=choices).render("state", "sent", {"id": "id_state", "aria-describedby": "help"})
    assert re.sub(r"\s+", " ", plain) == re.sub(r"\s+", " ", django)
    assert '<option value="sent" selected>Sent, &lt;not&gt; accepted</option>' in plain
