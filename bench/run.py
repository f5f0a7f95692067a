"""`make bench`: build data shaped like real use, serve it as in production, load every page,
time edits, imports and the worker, print the tables and write them to docs/benchmarks.md.
Figures only: nothing here passes or fails on time.

    make bench                         SQLite, 1k and 100k connection requests (~10 minutes)
    make bench SIZES=1000              other sizes (comma-separated)
    make bench BIG=1                   1M connection requests too
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x make bench
                                       PostgreSQL: a database outreach_bench (and its template
                                       outreach_bench_template), created and dropped here
    make bench BENCH=senders           the many-senders section alone (PostgreSQL and Redis)

At each size: a fresh database (bench/data.py), gunicorn (3 workers × 4 threads, DJANGO_DEBUG=0,
DATABASE_CONN_MAX_AGE=60, collected static, DJANGO_SETTINGS_MODULE=bench.settings for the bare
204 view), every page of bench/pages_bench.py at concurrency 1 and 8, the web workers' peak
memory. At the largest size, edits into campaigns that already have a queue, and the CSV
import (bench/import_bench.py). Then the worker against a fast stand-in (bench/worker_bench.py).
Each database's tables replace only that database's section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import django

from bench import load, memory_bench, pages_bench, senders_bench
from tests.stack import PYTHON, ROOT, free_port, wait_for_http, with_database

DEFAULT_SIZES = [1_000, 100_000]
BIG_SIZE = 1_000_000
WEB_WORKERS, WEB_THREADS = 3, 4
C1_SECONDS, C8_SECONDS = 5.0, 5.0
QUEUE_FOR_EDITS = 25_000
IMPORT_ROWS = 10_000
WORKER_BENCH_REQUESTS = 300
WORKER_MEMORY_REQUESTS = 300
WORKER_MEMORY_SECONDS = 20
PG_DATABASE = "outreach_bench"

def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> str:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")),
            "",
        )
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu or 'unknown CPU'}), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Django {django.get_version()}, load from {load.tool()}"
    )


def run(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def sizes_asked() -> list[int]:
    sizes = [int(s.replace("_", "")) for s in os.environ.get("BENCH_SIZES", "").split(",") if s.strip()]
    sizes = sizes or list(DEFAULT_SIZES)
    if os.environ.get("BIG", "") not in ("", "0") and BIG_SIZE not in sizes:
        sizes.append(BIG_SIZE)
    return sorted(sizes)


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else None


def pg_admin(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


class Databases:
    """A migrated template, then a fresh copy of it for each size: a SQLite file, or a PostgreSQL
    database made from the template database."""

    def __init__(self, tmp: Path, pg_url: str | None):
        self.tmp, self.pg_url = tmp, pg_url

    @property
    def vendor(self) -> str:
        return "PostgreSQL" if self.pg_url else "SQLite"

    def url(self, template: bool = False) -> str:
        if self.pg_url:
            return with_database(self.pg_url, PG_DATABASE + ("_template" if template else ""))
        return f"sqlite:///{self.tmp / ('template.sqlite3' if template else 'bench.sqlite3')}"

    def create_template(self, env: dict[str, str]) -> None:
        if self.pg_url:
            pg_admin(self.pg_url, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)",
                     f"DROP DATABASE IF EXISTS {PG_DATABASE}_template WITH (FORCE)",
                     f"CREATE DATABASE {PG_DATABASE}_template")
        run([PYTHON, "manage.py", "migrate", "--no-input"], {**env, "DATABASE_URL": self.url(template=True)})

    def fresh(self) -> str:
        if self.pg_url:
            pg_admin(self.pg_url, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)",
                     f"CREATE DATABASE {PG_DATABASE} TEMPLATE {PG_DATABASE}_template")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.tmp / "bench.sqlite3") + suffix).unlink(missing_ok=True)
            shutil.copy(self.tmp / "template.sqlite3", self.tmp / "bench.sqlite3")
        return self.url()

    def drop(self) -> None:
        if self.pg_url:
            pg_admin(self.pg_url, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)",
                     f"DROP DATABASE IF EXISTS {PG_DATABASE}_template WITH (FORCE)")


def production_env(tmp: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        # collectstatic writes the hashed files DEBUG=0 pages name here, not into the project.
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_DEBUG": "0",
        "DATABASE_CONN_MAX_AGE": "60",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "OUTX_SANDBOX": "0",
        "OUTX_API_KEY": "bench-no-outx-calls-are-made",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@contextmanager
def web_server(env: dict[str, str]):
    """gunicorn as in production; yields (url, master pid)."""
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "outreach_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(WEB_WORKERS), "--threads", str(WEB_THREADS), "--timeout", "300",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/accounts/login/")
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def pages_and_edits(tmp: Path, sizes: list[int], pg_url: str | None = None, c1_seconds: float = C1_SECONDS,
                    c8_seconds: float = C8_SECONDS, edits_queue: int = QUEUE_FOR_EDITS,
                    import_rows: int = IMPORT_ROWS, worker_requests: int = WORKER_BENCH_REQUESTS) -> dict:
    """Every size on a fresh database; edits, the import and the worker at the largest."""
    databases = Databases(tmp, pg_url)
    env = production_env(tmp)
    password = secrets.token_urlsafe(16)
    say(f"{databases.vendor}: migrating a template database, collecting static files")
    databases.create_template(env)
    run([PYTHON, "manage.py", "collectstatic", "--no-input"], {**env, "DATABASE_URL": databases.url(template=True)})
    results: dict = {"vendor": databases.vendor, "rounds": []}
    try:
        for size in sizes:
            env["DATABASE_URL"] = databases.fresh()
            say(f"Building {size:,} connection requests")
            built = last_json(run([PYTHON, "-m", "bench.data", "build", str(size), password], env, timeout=3600))
            say(f"  built in {built['seconds']:.0f} s: {built['senders']} senders, {built['campaigns']} campaigns, "
                f"{built['working_days']} working days; states {built['states']}")
            round_: dict = {"size": size, "built": built}
            if size == sizes[-1]:
                # Made before the server starts, so the pages' figures are of the same data.
                round_["edit_campaigns"] = {
                    "queued": last_json(run([PYTHON, "-m", "bench.data", "queued-campaign", "Bench edits, long queue",
                                             str(edits_queue), "e"], env)),
                    "empty": last_json(run([PYTHON, "-m", "bench.data", "queued-campaign", "Bench edits, empty",
                                            "0", "f"], env)),
                }
            with web_server(env) as (url, master_pid):
                browser = pages_bench.Browser(url)
                browser.log_in(pages_bench.USERNAME, password)
                started = time.perf_counter()
                round_["pages"] = pages_bench.measure(browser, built["big_campaign_id"], built["paused_campaign_id"],
                                                      c1_seconds, c8_seconds)
                say(f"  pages loaded in {time.perf_counter() - started:.0f} s: " + ", ".join(
                    f"{page} {f['c1']['p50']:.0f} ms" if "c1" in f else f"{page} {f['error']}"
                    for page, f in round_["pages"].items()))
                round_["web_peak_mib"] = max(memory_bench.vm_hwm_mib(pid) for pid in memory_bench.children_of(master_pid))
                if "edit_campaigns" in round_:
                    say(f"  edits: 10 prospects into an empty campaign and one with {edits_queue:,} queued; a note edit")
                    round_["edits"] = pages_bench.edits(browser, round_["edit_campaigns"]["empty"]["campaign_id"],
                                                        round_["edit_campaigns"]["queued"]["campaign_id"])
                    round_["edits"]["queued"] = round_["edit_campaigns"]["queued"]["queued"]
                browser.close()
            if "edits" in round_ and import_rows:
                say(f"  importing {import_rows:,} prospects from CSV, and the same rows with bulk_create")
                round_["import"] = last_json(run([PYTHON, "-m", "bench.import_bench", str(import_rows)], env, timeout=3600))
            results["rounds"].append(round_)
            # The figures so far, should a later size fail.
            partial = Path(tempfile.gettempdir()) / f"outreach-bench-{databases.vendor.lower()}-partial.json"
            partial.write_text(json.dumps(results, indent=1, default=str))
        if worker_requests:
            # A fresh database, as bench/worker_bench.py expects: it queues its own invitations.
            env["DATABASE_URL"] = databases.fresh()
            results["worker"] = worker_figures(env, worker_requests)
    finally:
        databases.drop()
    return results


def worker_figures(env: dict[str, str], requests: int = WORKER_BENCH_REQUESTS) -> dict:
    """bench/worker_bench.py on a fresh database of the same kind, then the peak memory of
    `outreach_tick --loop` against the same fast stand-in of OutX."""
    from bench import standin

    say(f"Worker throughput and polling (bench/worker_bench.py, {requests} requests)")
    results = last_json(run([PYTHON, "-m", "bench.worker_bench", str(requests)], env, timeout=1800))
    say(f"Worker memory: outreach_tick --loop {WORKER_MEMORY_SECONDS} over {WORKER_MEMORY_REQUESTS} requests")
    with standin.running() as url:
        worker_env = {**env, "OUTX_BASE_URL": url}
        run([PYTHON, "-m", "bench.memory_bench", "queue", str(WORKER_MEMORY_REQUESTS)], worker_env)
        results["memory"] = last_json(
            run([PYTHON, "-m", "bench.memory_bench", "worker", str(WORKER_MEMORY_SECONDS)], worker_env)
        )
    results["memory"]["queued"] = WORKER_MEMORY_REQUESTS
    return results


# --- The tables ---------------------------------------------------------------------------------

BARE = "Bare 204 view (floor)"
POLL = "Status poll, nothing changed (204)"
ADMIN = "Admin changelist of ConnectionRequest"


def thousands(n: int) -> str:
    return f"{n / 1_000_000:.3g}M" if n >= 1_000_000 else f"{n / 1000:.4g}k" if n >= 1000 else str(n)


def pages_table(round_: dict) -> str:
    pages = round_["pages"]
    bare = pages[BARE]
    rows = [
        "| Page | c=1 p50 / p95 | c=1 p95 ÷ bare's | c=8 p50 / p95 | c=8 requests/s | c=8 ÷ bare's requests/s |",
        "|---|---|---|---|---|---|",
    ]
    for page, f in pages.items():
        name = f"{page} ({f['note']})" if f.get("note") else page
        if "error" in f:
            rows.append(f"| {name} | {f['error']} | | | | |")
            continue
        c1, c8 = f["c1"], f.get("c8")
        line = f"| {name} | {c1['p50']:.1f} / {c1['p95']:.1f} ms | {c1['p95'] / bare['c1']['p95']:.1f}× |"
        if c8:
            line += (f" {c8['p50']:.0f} / {c8['p95']:.0f} ms | {c8['rps']:.0f} | "
                     f"{c8['rps'] / bare['c8']['rps']:.2f} |")
        else:
            line += " | | |"
        if c1.get("unexpected") or (c8 or {}).get("unexpected"):
            line += f" ({c1.get('unexpected', 0) + (c8 or {}).get('unexpected', 0)} answers with another status left out)"
        rows.append(line)
    rows.append(f"| Peak web-worker memory (VmHWM, largest of {WEB_WORKERS} gunicorn workers) | "
                f"{round_['web_peak_mib']:.0f} MiB | | | | |")
    return "\n".join(rows)


def edits_table(round_: dict) -> str:
    rows = ["| Edit or import | Into | Time | Baseline | Ratio |", "|---|---|---|---|---|"]
    e = round_.get("edits")
    if e:
        queued = thousands(e["queued"])
        rows.append(f"| Add 10 prospects (the paste form's POST, median of 3) | a campaign with {queued} queued "
                    f"| {e['add_queued_s'] * 1000:.0f} ms | {e['add_empty_s'] * 1000:.0f} ms (an empty campaign) "
                    f"| {e['add_queued_s'] / e['add_empty_s']:.2f} |")
        rows.append(f"| Edit the note (the edit form's POST) | a campaign with {queued} queued "
                    f"| {e['note_edit_s'] * 1000:.0f} ms | | |")
    imp = round_.get("import")
    if imp:
        rows.append(
            f"| Import {thousands(imp['rows'])} prospects from CSV (median of 3) | "
            f"{thousands(imp['existing_requests'])} requests already there | {imp['ours_s']:.2f} s "
            f"| {imp['bare_s']:.2f} s (bare bulk_create) | {imp['ratio']:.2f} |"
        )
    return "\n".join(rows)


def worker_table(worker: dict) -> str:
    rows = ["| Worker | Data | Ours | Baseline | Ratio |", "|---|---|---|---|---|"]
    t = worker["throughput"]
    rows.append(
        f"| Worker submissions, pacing off | {t['requests']} requests | {t['worker_submit_per_s']:.0f}/s "
        f"| {t['plain_post_per_s']:.0f}/s (plain httpx loop) | {t['submit_ratio']:.2f} |"
    )
    if "round_trip_ceiling_ratio" in t:
        rows.append(
            f"| Ceiling set by round trips alone: each submission's {t['statements_per_submission']:.1f} statements "
            f"and 2 commits at {t['round_trip_ms'] * 1000:.0f} µs (SELECT 1), with no Python or database work | "
            f"{t['requests']} requests | | | {t['round_trip_ceiling_ratio']:.2f} |"
        )
    rows.append(
        f"| Worker status polls | {t['requests']} tasks | {t['worker_poll_per_s']:.0f}/s "
        f"| {t['plain_get_per_s']:.0f}/s (plain httpx loop) | {t['poll_ratio']:.2f} |"
    )
    before = {p["task_seconds"]: p for p in worker.get("polling_before", [])}
    for p in worker.get("polling", []):
        gap = f"; shortest gap {duration(p['min_gap_s'])}" if p.get("min_gap_s") is not None else ""
        b = before.get(p["task_seconds"])
        rows.append(
            f"| Status calls per completed task; mean delay to notice | {duration(p['task_seconds'])} tasks "
            f"| {p['calls_per_task']:.1f} calls; {duration(p['mean_delay_s'])}{gap} "
            + (f"| {b['calls_per_task']:.1f} calls; {duration(b['mean_delay_s'])} (each task on its own schedule) "
               f"| {p['calls_per_task'] / b['calls_per_task']:.2f} |" if b else "| | |")
        )
    if "memory" in worker:
        tick = worker["memory"]["summary"]
        rows.append(
            f"| Peak memory of the worker process (outreach_tick --loop) | {worker['memory']['queued']} queued; "
            f"{counted(tick, 'submitted')} submitted, {counted(tick, 'sent')} sent | {worker['memory']['peak_mib']:.0f} MiB | | |"
        )
    return "\n".join(rows)


def goals(round_: dict) -> list[str]:
    """The issue's goals, read at one size."""
    pages = round_["pages"]
    bare = pages[BARE]
    others = {page: f for page, f in pages.items() if page not in (BARE, ADMIN) and "error" not in f}  # the two floors
    worst = max(others, key=lambda page: others[page]["c1"]["p95"])
    weakest = min(others, key=lambda page: others[page].get("c8", {}).get("rps", float("inf")))
    poll = pages[POLL]["c1"]["p95"] / bare["c1"]["p95"]
    worst_ratio = others[worst]["c1"]["p95"] / bare["c1"]["p95"]
    share = others[weakest]["c8"]["rps"] / bare["c8"]["rps"] if "c8" in bare else float("nan")
    mark = lambda ok: "met" if ok else "missed"  # noqa: E731
    return [
        f"status poll p95 {poll:.1f}× the bare view's (goal 3×: {mark(poll <= 3)})",
        f"slowest page at concurrency 1: {worst}, p95 {worst_ratio:.1f}× the bare view's (goal 20×: {mark(worst_ratio <= 20)})",
        f"lowest throughput at concurrency 8: {weakest}, {share:.2f} of the bare view's (goal 1/3: {mark(share >= 1 / 3)})",
        f"peak web-worker memory {round_['web_peak_mib']:.0f} MiB (goal 100 MiB: {mark(round_['web_peak_mib'] <= 100)})",
    ]


def section(results: dict, worker: dict | None, head: str) -> str:
    parts = [head]
    for round_ in results["rounds"]:
        b = round_["built"]
        parts.append(
            f"### {thousands(round_['size'])} connection requests\n\n"
            f"{b['senders']} sender account(s), {b['campaigns']} campaigns, submissions over {b['working_days']} "
            f"working days, big campaign {thousands(b['big_campaign_requests'])} rows, paused campaign "
            f"{thousands(b['paused_queued'])} queued; built in {b['seconds']:.0f} s.\n\n{pages_table(round_)}\n\n"
            "Goals at this size: " + "; ".join(goals(round_)) + "."
        )
        if round_.get("edits") or round_.get("import"):
            parts.append(f"Edits and imports at {thousands(round_['size'])}:\n\n{edits_table(round_)}")
    if worker:
        parts.append(f"The worker, on a fresh database, against bench/standin.py:\n\n{worker_table(worker)}")
    return "\n\n".join(parts)


def marker(vendor: str) -> tuple[str, str]:
    return f"<!-- bench:{vendor.lower()} -->", f"<!-- /bench:{vendor.lower()} -->"


def splice_vendor(document: str, vendor: str, text: str) -> str:
    """Replace this database's section, keep the other's and everything else."""
    start, end = marker(vendor)
    block = f"{start}\n## {vendor}\n\n{text}\n{end}"
    if start in document and end in document:
        return document[: document.index(start)] + block + document[document.index(end) + len(end):]
    # The first run with sections: they go after the title, before "How to re-run".
    anchor = "## How to re-run"
    if anchor in document:
        i = document.index(anchor)
        return document[:i] + block + "\n\n" + document[i:]
    return document.rstrip() + "\n\n" + block + "\n"


def counted(summary: str, what: str) -> str:
    match = re.search(rf"\b{what} (\d+)", summary)
    return match.group(1) if match else "?"


def duration(seconds: float) -> str:
    """3 s, 21.7 s, 1 min, 4.3 min, 1 h."""
    value, unit = (seconds, "s") if seconds < 60 else (seconds / 60, "min") if seconds < 3600 else (seconds / 3600, "h")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def many_senders(document: str) -> str:
    """The many-senders section: measured on PostgreSQL and Redis, or why it was not."""
    reason = senders_bench.skip_reason()
    if reason:
        say(f"Many senders: skipped ({reason})")
        return senders_bench.skipped_section(reason, senders_bench.previous_section(document))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        results = senders_bench.run(Path(tmp))
    kept = Path(tempfile.gettempdir()) / "outreach-senders-bench.json"
    kept.write_text(json.dumps(results, indent=1, default=str))  # the raw figures, should formatting fail
    say(f"Many senders: raw figures in {kept}")
    head = (
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} on {machine()}, {postgres_and_redis()}. Load average {load_before:.1f} at the "
        f"start, {os.getloadavg()[0]:.1f} at the end."
    )
    return senders_bench.section(results, head)


def postgres_and_redis() -> str:
    import psycopg
    import redis

    with psycopg.connect(with_database(os.environ["DATABASE_URL"], "postgres")) as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0].split()[0]
    return f"PostgreSQL {postgres}, Redis {redis.from_url(os.environ['REDIS_URL']).info()['redis_version']}"


def senders_only() -> None:
    out = ROOT / "docs" / "benchmarks.md"
    document = out.read_text() if out.exists() else "# Benchmarks\n"
    out.write_text(senders_bench.splice(document, many_senders(document)))
    say(f"Written to {out.relative_to(ROOT)}")




INTRO = """\
Figures from `make bench` (bench/run.py), one section per database. Before issue 14 the pages
were timed on SQLite only, one client, 20 campaigns and 60k submissions in 30 days; these
sections replace those figures."""

EXPLANATION = """\
## How to re-run

`make bench` (SQLite, 1k and 100k connection requests; the last run, {last_run}, took {minutes} minutes);
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench` for PostgreSQL (it creates
and drops `outreach_bench` and `outreach_bench_template` on that server); `make bench BIG=1`
adds 1M rows (PostgreSQL: a few minutes to build); `make bench SIZES=10000` picks other sizes.
Each run rewrites only its own database's section. On a machine busy with other work the
figures move by a third or more; compare a page with the bare view of the same run.

## What each figure means

- **Serving**: gunicorn with {workers} workers × {threads} threads, `DJANGO_DEBUG=0`,
  `DATABASE_CONN_MAX_AGE=60`, collected static files (not requested), the sandbox off, behind
  no proxy but with `X-Forwarded-Proto: https` sent as the TLS proxy would; one logged-in
  superuser's session. `DJANGO_SETTINGS_MODULE=bench.settings`: the product's settings and
  URLs plus the bare view.
- **Bare 204 view (floor)**: `/bench/204/` (bench/urls.py): returns an empty 204 with no
  session, database or template: what gunicorn, the middleware and Django cost alone. Every
  page is compared with it: **c=1 p95 ÷ bare's** (the issue's goal: 20× for pages, 3× for the
  status poll, at 1M rows on PostgreSQL) and **c=8 ÷ bare's requests/s** (goal: at least 1/3).
- **Admin changelist of ConnectionRequest**: Django admin's list (100 rows, its filters and
  its count of the whole table), the other floor; not a goal.
- **c=1 p50 / p95**: with one client, time from sending a request to having the whole body
  (p50 the median, p95 the 95th percentile), after 2 warm-up requests, as many requests as fit
  in {c1} s (15 to 200). **c=8**: eight clients at once for {c8} s; requests/s counts the
  answers with the expected status. Load from `hey` when installed (Debian's package), else
  Python threads with httpx.
- **Pages**: the status poll as the big campaign page gives it (its `hx-get`, with the
  version or fingerprint it carries, `HX-Request` sent), nothing having changed, so it answers
  204; Home `/`; the campaign list `/campaigns/`; the big active campaign's page and the page
  reached by following its "Next" link (up to {hops} times or {far:g} s); the paused campaign's
  page; Review `/review/`, with `?q={search}` (a last name a twentieth of the prospects have),
  and its far page reached the same way; one keystroke of the note editor's preview on the
  paused campaign (its queue); the admin changelist.
- **Data** (bench/data.py, set-based SQL): about 20 invitations per working day per sender
  account (one account per 20,800 requests, at least one), spread over as many working days as
  that takes (at most 5 years); SIZE/1,000 campaigns (10 to 1,000) of skewed sizes, one big
  active campaign of min(50k, SIZE/2) rows whose newest tenth is queued, one paused campaign
  with min(10k, SIZE/10) queued, every fifth other campaign active with a tenth of its rows
  queued; submissions of the last 2 weeks mostly pending, older ones 30% accepted, 45% sent,
  15% not sent, the rest skipped, failed or uncertain; a prospect per request with a name,
  company, title, headline and location; one event per request that left the queue. A fresh
  database for each size; `ANALYZE` after building.
- **Peak web-worker memory**: the largest VmHWM (peak resident memory, from /proc) of the
  gunicorn workers once every page has been loaded (goal: 100 MiB).
- **Edits**: on the largest size, on a draft campaign of {queue:,} queued prospects (built
  with the data) and an empty one: pasting 10 new profile URNs into the "Add prospects" form
  (the POST alone, median of 3, alternating), and one note edit through the campaign's edit
  form (the POST alone: a whole queue's re-rendering should be a background task).
- **Import**: bench/import_bench.py: {import_rows:,} new people from one CSV file through the
  product's code path against a bare `bulk_create` of the same rows, in the same database.
- **Worker**: bench/worker_bench.py on its own stack: submissions and status polls per second
  with pacing off, beside a plain httpx loop making the same calls to the same server; the
  ratio that the database's round trips alone would allow (each submission's SQL statements
  and its two commits, at the median `SELECT 1`, and nothing else); status calls per
  completed task on a simulated clock; the peak memory of `manage.py outreach_tick
  --loop {worker_seconds}` working through {worker_requests} requests.
"""


def block(document: str, vendor: str) -> str:
    start, end = marker(vendor)
    if start in document and end in document:
        return document[document.index(start): document.index(end) + len(end)]
    return ""


def write_document(vendor: str, text: str, minutes: float, last_run: str = "") -> Path:
    out = ROOT / "docs" / "benchmarks.md"
    document = out.read_text() if out.exists() else ""
    blocks = {v: block(document, v) for v in ("SQLite", "PostgreSQL")}
    start, end = marker(vendor)
    blocks[vendor] = f"{start}\n## {vendor}\n\n{text}\n{end}"
    senders = senders_bench.previous_section(document) if senders_bench.HEADING in document else ""
    explanation = EXPLANATION.format(
        minutes=max(1, round(minutes)), last_run=last_run, workers=WEB_WORKERS, threads=WEB_THREADS, c1=C1_SECONDS, c8=C8_SECONDS,
        hops=pages_bench.FAR_HOPS, far=pages_bench.FAR_SECONDS, search=pages_bench.SEARCH, queue=QUEUE_FOR_EDITS,
        import_rows=IMPORT_ROWS, worker_seconds=WORKER_MEMORY_SECONDS, worker_requests=WORKER_MEMORY_REQUESTS,
    )
    parts = ["# Benchmarks", INTRO, *(b for b in blocks.values() if b), explanation.rstrip()]
    document_text = "\n\n".join(parts) + "\n"
    if senders:
        document_text = senders_bench.splice(document_text, senders)
    out.parent.mkdir(exist_ok=True)
    out.write_text(document_text)
    return out


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(with_database(url, "postgres")) as connection:
        return "PostgreSQL " + connection.execute("SHOW server_version").fetchone()[0].split()[0]


def main() -> None:
    if sys.argv[1:] == ["senders"]:
        senders_only()
        return
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    pg_url, sizes = postgres_url(), sizes_asked()
    say(f"Benchmarks on {machine()}; load average {load_before:.1f}; sizes {', '.join(map(thousands, sizes))}")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory() as tmp:
        results = pages_and_edits(Path(tmp), sizes, pg_url,
                                  worker_requests=int(os.environ.get("BENCH_WORKER_REQUESTS", WORKER_BENCH_REQUESTS)))
    worker = results.get("worker")
    minutes = (time.perf_counter() - started) / 60
    database = f", {postgres_version(pg_url)}" if pg_url else ""  # machine() names SQLite's version
    head = (
        f"Measured {when} on {machine()}{database}, in {minutes:.0f} min. Load average {load_before:.1f} at the "
        f"start, {os.getloadavg()[0]:.1f} at the end (other work on the machine slows every figure)."
    )
    text = section(results, worker, head)
    print(f"\n{text}\n")
    kept = Path(tempfile.gettempdir()) / f"outreach-bench-{results['vendor'].lower()}.json"
    kept.write_text(json.dumps({"results": results, "worker": worker}, indent=1, default=str))
    last_run = f"{results['vendor']} at {', '.join(thousands(r['size']) for r in results['rounds'])}"
    out = write_document(results["vendor"], text, minutes, last_run)
    say(f"Written to {out.relative_to(ROOT)} in {minutes:.1f} min (raw figures in {kept})")


if __name__ == "__main__":
    main()
