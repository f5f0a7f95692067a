"""`make bench` keeps working: its pages and import halves on a few hundred rows. Figures are
only checked to exist; no test asserts a time."""

import pytest

from bench import pages_bench, run


@pytest.mark.slow
def test_page_and_import_benchmarks_run_on_a_small_database(tmp_path):
    results = run.pages_and_import(tmp_path, rounds=[(200, 2), (400, 2)], import_rows=100)

    assert [r["size"] for r in results["rounds"]] == [200, 400]
    assert results["rounds"][-1]["seeded"]["requests"] == 400
    for round_ in results["rounds"]:
        for page in pages_bench.PAGES:
            figures = round_["pages"][page]
            assert figures["n"] == 2 and figures["p50"] > 0
        # The 204 carries no body; the others are whole pages or the partial.
        assert round_["pages"]["Status poll, 204"]["bytes"] == 0
        assert round_["pages"]["Status poll, 200"]["bytes"] > 1000
    assert results["web_peak_mib"] > 0
    assert results["import"]["rows"] == 100 and results["import"]["ratio"] > 0

    worker = {
        "throughput": {
            "requests": 3, "plain_post_per_s": 10, "worker_submit_per_s": 5, "submit_ratio": 0.5,
            "plain_get_per_s": 10, "worker_poll_per_s": 8, "poll_ratio": 0.8,
        },
        "polling": [{"task_seconds": 3, "calls_per_task": 1.0, "mean_delay_s": 2.0, "max_delay_s": 2.5}],
        "memory": {"peak_mib": 50.0, "queued": 3, "summary": "submitted 3, polled 3, sent 3, not sent 0"},
    }
    table = run.table(results, worker)
    assert "| Home, p50 / p95 | 0k requests |" not in table  # sizes under 1k still read sensibly
    assert "Import 0k prospects" not in table
    assert "3 queued; 3 submitted, 3 sent" in table
