"""`make bench` keeps working: its pages and import halves on a few hundred rows, and its
many-senders section on a few senders. Figures are only checked to exist; no test asserts a time."""

import pytest
from django.conf import settings

from bench import data, pages_bench, run, senders_bench


@pytest.mark.slow
def test_page_edit_and_import_benchmarks_run_on_a_small_database(tmp_path):
    if "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("it builds its own SQLite database, the same in both suites: it ran in the SQLite one")
    results = run.pages_and_edits(tmp_path, [200], c1_seconds=0.01, c8_seconds=0.3, edits_queue=30, import_rows=20,
                                  worker_requests=0)

    (round_,) = results["rounds"]
    assert results["vendor"] == "SQLite" and round_["built"]["requests"] == 200
    assert set(round_["pages"]) == set(pages_bench.PAGES)
    for page, figures in round_["pages"].items():
        assert figures["c1"]["n"] >= 15 and figures["c1"]["p95"] >= figures["c1"]["p50"] > 0, page
        assert figures["c8"]["rps"] > 0, page
    # The floor and the unchanged poll carry no body; the others are whole pages or partials.
    assert round_["pages"][run.BARE]["bytes"] == round_["pages"][run.POLL]["bytes"] == 0
    assert round_["pages"]["Review"]["bytes"] > 1000
    assert round_["web_peak_mib"] > 0
    assert round_["edits"]["queued"] == 30 and round_["edits"]["note_edit_s"] > 0
    assert round_["import"]["rows"] == 20 and round_["import"]["ratio"] > 0

    worker = {
        "throughput": {
            "requests": 3, "plain_post_per_s": 10, "worker_submit_per_s": 5, "submit_ratio": 0.5,
            "statements_per_submission": 12.0, "round_trip_ms": 0.1, "round_trip_ceiling_ratio": 0.3,
            "plain_get_per_s": 10, "worker_poll_per_s": 8, "poll_ratio": 0.8,
        },
        "polling": [{"task_seconds": 3, "calls_per_task": 1.0, "mean_delay_s": 2.0, "max_delay_s": 2.5}],
        "memory": {"peak_mib": 50.0, "queued": 3, "summary": "submitted 3, polled 3, sent 3, not sent 0"},
    }
    text = run.section(results, worker, "Measured.")
    assert "### 200 connection requests" in text and "| Bare 204 view (floor) |" in text
    assert "Goals at this size: status poll p95" in text
    assert "3 queued; 3 submitted, 3 sent" in text
    assert "12.0 statements and 2 commits at 100 µs" in text and "| 0.30 |" in text
    document = run.splice_vendor("# Benchmarks\n\n## How to re-run\n", "SQLite", text)
    assert document.count("<!-- bench:sqlite -->") == 1 and document.index("bench:sqlite") < document.index("How to re-run")


def test_data_shape_follows_twenty_sends_a_working_day_per_sender():
    assert data.shape(1_000_000) == {"senders": 48, "campaigns": 1000, "big": 50_000, "paused": 10_000,
                                     "working_days": 1042}
    assert data.shape(1_000)["senders"] == 1 and data.shape(1_000)["big"] == 500


def senders_run(clusters: int, per_s: float, busy: float, other: float = 0.5) -> dict:
    return {
        "clusters": clusters, "pass_workers": 2 * clusters, "invitations": 100, "states": {"sent": 100},
        "per_s": per_s, "submit_s": 100 / per_s, "wall_s": 10.0, "all_sent_s": 9.0, "wait_mean_s": 2.0, "wait_max_s": 4.0,
        "handed_out": 25, "left_in_queue": 3, "invited_twice": 0, "delivered_twice": 0, "complete": True, "status_calls": 100,
        "calls": {"POST send-connection-request": 100, "GET get-task-status": 110},
        "writes": {"campaigns": 1100, "django_q": 30}, "sandbox_writes": 300, "commits": 1800,
        "table_writes": {"campaigns_event": 400, "django_q_task": 30},
        "sandbox_commits": 400, "task_rows": {"inserted": 25, "deleted": 0, "read": 300},
        "cpu": {"workers": 10.0, "postgres_ours": 4.0, "redis": 0.1, "sandbox": 3.0, "postgres_sandbox": 1.0,
                "other": other, "busy_share": busy},
    }


SENDERS_RESULTS = {
    "senders": 10, "queued": 10, "q_workers": 2,
    "runs": [senders_run(1, 40.0, 0.9), senders_run(2, 52.0, 1.0, other=1000.0)],
    "unsaved": {**senders_run(2, 60.0, 1.0), "unsaved": True},
    "pass_cost": {"submit one": {"queries": 54, "cpu_ms": 20.0}, "nothing due": {"queries": 30, "cpu_ms": 12.0}},
    "day": [{"by_url": False, "task_seconds": 60.0, "invitations": 20, "passes": 440, "queries": 17000,
             "writes": 1700, "calls": {"POST send-connection-request": 20, "GET get-task-status": 330}}],
    "dispatch": {
        "senders": 10_000, "looks": 200, "idle_p50_ms": 0.4, "idle_p95_ms": 0.6, "idle_queries": 3,
        "plan": "Limit\n  ->  Index Scan using campaigns_sender_next_due_at on campaigns_sender",
        "busy_handed_out": 500, "busy_ms": 480.0, "busy_queries": 4,
    },
}


def test_many_senders_section_says_whether_two_clusters_reached_the_expected_speed_up():
    text = senders_bench.section(SENDERS_RESULTS, "Measured today.")

    assert text.startswith(senders_bench.HEADING)
    assert "| 2 (4) | 52/s | 1.30× | 2 s / 4 s | 9 s | 25 / 3 | 100% | 141 ms / 40 ms | 1000 s |" in text
    assert "took more than a tenth of the busy CPU time during the run(s) with 2 cluster(s): their figures" in text
    assert "| 2 (4), successes not saved | 60/s | 1.50× |" in text
    assert "Speed-up from 1 to 2 clusters: 1.30× (1.5× expected: not reached)" in text
    assert "took 181 ms of CPU time in all (141 ms ours, 40 ms the sandbox's)" in text
    assert "all 100 sent, nobody invited twice" in text
    assert "Rows written to our database 11.3 (campaigns_event 4.0, django_q_task 0.3)" in text
    assert "| nothing due | 30 | 12.0 ms |" in text
    assert "| Prospects known by URN | 20 | 440 | 350 (GET get-task-status 330, POST send-connection-request 20) |" in text
    assert "one look takes 0.40 ms" in text and "Index Scan using campaigns_sender_next_due_at" in text


def test_many_senders_section_replaces_its_own_and_keeps_its_figures_when_skipped():
    measured = senders_bench.section(SENDERS_RESULTS, "Measured today.")
    document = "# Benchmarks\n\nTable.\n\n## How to re-run\n\nText.\n"

    once = senders_bench.splice(document, measured)
    assert once.startswith(document.rstrip()) and once.count(senders_bench.HEADING) == 1
    skipped = senders_bench.skipped_section("REDIS_URL is not set", senders_bench.previous_section(once))
    twice = senders_bench.splice(once, skipped)
    assert twice.count(senders_bench.HEADING) == 1 and twice.startswith(document.rstrip())
    assert "Not measured in the last `make bench`: REDIS_URL is not set." in twice
    assert "| 2 (4) | 52/s | 1.30× |" in twice  # the last figures stay, marked as earlier ones
    again = senders_bench.skipped_section("REDIS_URL is not set", senders_bench.previous_section(twice))
    assert again.count(senders_bench.SKIPPED_PREFIX) == 1
    assert "figures below are from an earlier run" not in senders_bench.skipped_section("no PostgreSQL", "")


@pytest.mark.postgres
@pytest.mark.slow
def test_many_senders_benchmark_runs_on_a_few_senders(tmp_path):
    if senders_bench.skip_reason():
        pytest.skip(f"runs in the PostgreSQL + Redis suite ({senders_bench.skip_reason()})")
    results = senders_bench.run(
        tmp_path, senders=12, queued=3, cluster_counts=(1, 2), idle=300, unsaved_clusters=1, day=False,
        latency_clusters=(1,), latency_senders=4,
    )

    assert results["latency"]["runs"][0]["invitations"] == 12
    for one in [*results["runs"], results["unsaved"]]:
        assert one["complete"] and one["invitations"] == 36
        assert one["invited_twice"] == one["delivered_twice"] == 0
        assert one["per_s"] > 0 and one["wait_max_s"] >= one["wait_mean_s"] >= 0
        assert one["calls"]["POST send-connection-request"] == 36
        assert one["writes"]["campaigns"] > 0 and one["cpu"]["workers"] > 0
    assert results["dispatch"]["senders"] == 300  # the seeded ones, the pass-cost ones, then idle ones
    assert results["dispatch"]["idle_queries"] >= 1 and results["dispatch"]["busy_handed_out"] == 300
    assert set(results["pass_cost"]) == {"submit one", "poll one to its end", "nothing due"}
    assert "| 2 (4) |" in senders_bench.section(results, "Measured.")
