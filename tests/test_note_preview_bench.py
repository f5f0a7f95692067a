"""`make bench`'s note preview figure keeps working: on a few hundred queued prospects, and its
row in the table. Figures are only checked to exist; no test asserts a time."""

import pytest

from bench import run


@pytest.mark.slow
def test_the_note_preview_benchmark_runs_on_a_small_campaign(tmp_path):
    preview = run.note_preview(tmp_path, queued=300, timed=2)

    assert preview["queued"] == 300
    assert preview["ours"]["n"] == 2 and preview["ours"]["p50"] > 0 and preview["ours"]["bytes"] > 1000
    assert preview["baseline"]["n"] == 5 and preview["baseline"]["problems"] > 0

    pages = {"rounds": [], "web_peak_mib": 80.0,
             "import": {"rows": 100, "existing_requests": 400, "ours_s": 1.0, "bare_s": 0.5, "ratio": 2.0}}
    worker = {
        "throughput": {
            "requests": 3, "plain_post_per_s": 10, "worker_submit_per_s": 5, "submit_ratio": 0.5,
            "plain_get_per_s": 10, "worker_poll_per_s": 8, "poll_ratio": 0.8,
        },
        "polling": [],
        "memory": {"peak_mib": 50.0, "queued": 3, "summary": "submitted 3, polled 3, sent 3, not sent 0"},
    }
    table = run.table(pages, worker, preview)
    assert "| Note preview (one keystroke in the editor), p50 / p95 | 300 queued prospects |" in table
    assert "(every note rendered, in process)" in table
    assert "Note preview" not in run.table(pages, worker)  # the pages test's call still works
