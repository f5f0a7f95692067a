"""`make bench`: build the data, run every benchmark, print one table and write it, with what
each figure means, to docs/benchmarks.md. Figures only: nothing here passes or fails on time.

Two stacks, each on its own temporary SQLite file:
1. Pages and import, production-like: gunicorn (1 worker process, 4 threads) with
   DJANGO_DEBUG=0, collected static files and the sandbox off. The database grows from 1k to
   10k to 100k connection requests; at each size one logged-in client times every page in
   turn. Then the web worker's peak memory is read, and the CSV import is timed on the 100k
   database.
2. The worker: tests/stack.py's stack (the sandbox under gunicorn, no task delay, pacing
   off): bench/worker_bench.py's throughput and polling figures, then the peak memory of
   `manage.py outreach_tick --loop` working through a queue.
3. Many senders, on PostgreSQL and Redis when DATABASE_URL and REDIS_URL point at them
   (bench/senders_bench.py); otherwise its section says it was skipped. `python -m bench.run
   senders` (`make bench BENCH=senders`) runs this section alone and rewrites only it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import django

from bench import memory_bench, note_preview_bench, pages_bench, senders_bench
from tests.stack import PYTHON, ROOT, free_port, running_stack, wait_for_http, with_database

# Connection requests in the database at each round, and how many times each page is timed.
ROUNDS = [(1_000, 30), (10_000, 30), (100_000, 30)]
# Events per request: its whole history up to 10k, only the last change beyond (setup time).
EVENTS_UP_TO_10K, EVENTS_BEYOND = 3, 1
IMPORT_ROWS = 10_000
WORKER_BENCH_REQUESTS = 300
WORKER_MEMORY_REQUESTS = 300
WORKER_MEMORY_SECONDS = 20
NOTE_PREVIEW_QUEUED = note_preview_bench.QUEUED
NOTE_PREVIEW_TIMED = 30


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
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Django {django.get_version()}"
    )


def run(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def production_env(tmp: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outreach_site.settings",
        # collectstatic writes the hashed files DEBUG=0 pages name here, not into the project.
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DATABASE_URL": f"sqlite:///{tmp / 'pages.sqlite3'}",
        "DJANGO_DEBUG": "0",
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
    """gunicorn with one worker process, so its memory is one process's; yields (url, master pid)."""
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "outreach_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/accounts/login/")
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def pages_and_import(tmp: Path, rounds=ROUNDS, import_rows: int = IMPORT_ROWS) -> dict:
    env = production_env(tmp)
    password = secrets.token_urlsafe(16)
    run([PYTHON, "manage.py", "migrate", "--no-input"], env)
    run([PYTHON, "manage.py", "collectstatic", "--no-input"], env)
    results: dict = {"rounds": []}
    with web_server(env) as (url, master_pid):
        browser = None
        for size, timed in rounds:
            events = EVENTS_UP_TO_10K if size <= 10_000 else EVENTS_BEYOND
            say(f"Growing the database to {size:,} connection requests")
            seeded = last_json(run([PYTHON, "-m", "bench.pages_bench", "seed", str(size), str(events), password], env))
            if browser is None:
                browser = pages_bench.Browser(url)
                browser.log_in(pages_bench.USERNAME, password)
            say(f"  seeded in {seeded['seconds']:.1f} s; timing pages ({timed} times each)")
            started = time.perf_counter()
            pages = pages_bench.measure(browser, seeded["campaign_id"], timed)
            say(f"  timed in {time.perf_counter() - started:.1f} s: " + ", ".join(
                f"{page} {figures['p50']:.0f} ms" for page, figures in pages.items()
            ))
            results["rounds"].append({"size": size, "seeded": seeded, "pages": pages})
        browser.close()
        workers = memory_bench.children_of(master_pid)
        results["web_peak_mib"] = max(memory_bench.vm_hwm_mib(pid) for pid in workers)
    say(f"Importing {import_rows:,} prospects from CSV, and the same rows with bulk_create")
    results["import"] = last_json(run([PYTHON, "-m", "bench.import_bench", str(import_rows)], env))
    return results


def note_preview(tmp: Path, queued: int = NOTE_PREVIEW_QUEUED, timed: int = NOTE_PREVIEW_TIMED) -> dict:
    """One keystroke of the note editor at `queued` queued prospects: the preview request over
    HTTP, beside rendering every queued note in process (how the preview was computed before)."""
    env = production_env(tmp)
    password = secrets.token_urlsafe(16)
    run([PYTHON, "manage.py", "migrate", "--no-input"], env)
    run([PYTHON, "manage.py", "collectstatic", "--no-input"], env)
    say(f"Note preview: seeding one campaign with {queued:,} queued prospects")
    seeded = last_json(run([PYTHON, "-m", "bench.note_preview_bench", "seed", str(queued), password], env))
    campaign_id = str(seeded["campaign_id"])
    baseline = last_json(run([PYTHON, "-m", "bench.note_preview_bench", "render-every-note", campaign_id, "5"], env))
    with web_server(env) as (url, _):
        browser = pages_bench.Browser(url)
        browser.log_in(pages_bench.USERNAME, password)
        ours = note_preview_bench.measure(browser, seeded["campaign_id"], timed)
        browser.close()
    say(f"  the preview request {ours['p50']:.0f} ms; rendering every note {baseline['p50']:.0f} ms")
    return {"queued": seeded["queued"], "ours": ours, "baseline": baseline}


def worker_figures(tmp: Path) -> dict:
    say("Worker throughput and polling (bench/worker_bench.py)")
    with running_stack(tmp, database_url="", web_workers=2) as stack:
        # The sandbox is served with stack.py's settings; the worker itself runs as in production.
        worker_env = {**stack.env, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
        stack.seed(WORKER_BENCH_REQUESTS, campaigns=3)  # and pacing off
        results = last_json(run([PYTHON, "-m", "bench.worker_bench", str(WORKER_BENCH_REQUESTS)], worker_env))
        say(f"Worker memory: outreach_tick --loop {WORKER_MEMORY_SECONDS} over {WORKER_MEMORY_REQUESTS} requests")
        run([PYTHON, "-m", "bench.memory_bench", "queue", str(WORKER_MEMORY_REQUESTS)], worker_env)
        results["memory"] = last_json(
            run([PYTHON, "-m", "bench.memory_bench", "worker", str(WORKER_MEMORY_SECONDS)], worker_env)
        )
        results["memory"]["queued"] = WORKER_MEMORY_REQUESTS
    return results


# --- The table ------------------------------------------------------------------------------------


def ms(figures: dict) -> str:
    return f"{figures['p50']:.1f} / {figures['p95']:.1f} ms"


def ratio(ours: dict, admin: dict) -> str:
    return f"{ours['p50'] / admin['p50']:.2f} / {ours['p95'] / admin['p95']:.2f}"


def thousands(n: int) -> str:
    return f"{n / 1000:g}k" if n >= 1000 else str(n)


def table(pages: dict, worker: dict, preview: dict | None = None) -> str:
    rows = [
        "| Measure | Data | Ours | Baseline | Ours / baseline |",
        "|---|---|---|---|---|",
    ]
    for round_ in pages["rounds"]:
        admin = round_["pages"]["Admin changelist"]
        data = f"{thousands(round_['size'])} requests"
        rows.append(f"| Admin changelist of ConnectionRequest, p50 / p95 | {data} | | {ms(admin)} | |")
        for page in pages_bench.PAGES[:-1]:
            figures = round_["pages"][page]
            rows.append(f"| {page}, p50 / p95 | {data} | {ms(figures)} | {ms(admin)} (admin) | {ratio(figures, admin)} |")
    imp = pages["import"]
    rows.append(
        f"| Import {thousands(imp['rows'])} prospects from CSV (read, check, save, render notes) "
        f"| {thousands(imp['existing_requests'])} requests already there | {imp['ours_s']:.2f} s "
        f"| {imp['bare_s']:.2f} s (bare bulk_create) | {imp['ratio']:.2f} |"
    )
    if preview:
        ours, every = preview["ours"], preview["baseline"]
        rows.append(
            f"| Note preview (one keystroke in the editor), p50 / p95 | {thousands(preview['queued'])} queued prospects "
            f"| {ms(ours)} | {ms(every)} (every note rendered, in process) | {ratio(ours, every)} |"
        )
    t = worker["throughput"]
    rows.append(
        f"| Worker submissions, pacing off | {t['requests']} requests | {t['worker_submit_per_s']:.0f}/s "
        f"| {t['plain_post_per_s']:.0f}/s (plain httpx loop) | {t['submit_ratio']:.2f} |"
    )
    rows.append(
        f"| Worker status polls | {t['requests']} tasks | {t['worker_poll_per_s']:.0f}/s "
        f"| {t['plain_get_per_s']:.0f}/s (plain httpx loop) | {t['poll_ratio']:.2f} |"
    )
    for p in worker["polling"]:
        rows.append(
            f"| Status calls per completed task; mean delay to notice | {duration(p['task_seconds'])} tasks "
            f"| {p['calls_per_task']:.1f} calls; {duration(p['mean_delay_s'])} | | |"
        )
    rows.append(
        f"| Peak memory of the web process (gunicorn worker, VmHWM) | all pages up to 100k | "
        f"{pages['web_peak_mib']:.0f} MiB | | |"
    )
    tick = worker["memory"]["summary"]  # the worker's own summary line: "submitted 300, polled …"
    rows.append(
        f"| Peak memory of the worker process (outreach_tick --loop) | {worker['memory']['queued']} queued; {counted(tick, 'submitted')} "
        f"submitted, {counted(tick, 'sent')} sent | {worker['memory']['peak_mib']:.0f} MiB | | |"
    )
    return "\n".join(rows)


def counted(summary: str, what: str) -> str:
    match = re.search(rf"\b{what} (\d+)", summary)
    return match.group(1) if match else "?"


def duration(seconds: float) -> str:
    """3 s, 21.7 s, 1 min, 4.3 min, 1 h."""
    value, unit = (seconds, "s") if seconds < 60 else (seconds / 60, "min") if seconds < 3600 else (seconds / 3600, "h")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


EXPLANATION = """\
## How to re-run

`make bench` (about {minutes} minutes here). It needs nothing running: it builds two stacks on
temporary SQLite files, fills them, measures, prints the table and rewrites this file. On a
machine busy with other work the figures move by a third or more; compare runs by the ratios.
The last section, many senders, needs PostgreSQL and Redis: `DATABASE_URL=postgres://…
REDIS_URL=redis://… make bench`, or `make bench BENCH=senders` for that section alone.

## What each figure means

- **Page rows**: time from sending the request to having the whole body, in milliseconds
  (p50 the median, p95 the 95th percentile), for one logged-in client on loopback asking for
  each page in turn: {rounds}. The server is gunicorn (1 worker, 4 threads) with `DJANGO_DEBUG=0`, the
  sandbox off, SQLite in WAL mode, `DATABASE_CONN_MAX_AGE=0` (the defaults); page HTML only,
  no static files. The client sends `X-Forwarded-Proto: https`, as the TLS proxy in front of
  gunicorn would, so the production HTTPS settings (redirect, Secure cookies) apply.
- **Data**: connection requests in the database, grown 1k → 10k → 100k in one database:
  {campaigns} campaigns, {big_share:.0%} of the rows in one active campaign (the one the campaign
  page and the poll show), states 60% sent, 10% pending, 15% queued, 5% not sent, 3% failed,
  2% uncertain, 5% skipped; submissions spread over the last 30 days; up to 3 events per request
  for the first 10k, 1 for the rest ({events:,} events at 100k). So many submissions within 30
  days is a worst case for Home, whose budget counts and chart read the last 7 and 30 days: the
  default caps (100 a week) allow about 430 in 30 days.
- **Home**: `/`; **Campaign page**: `/campaigns/<big>/` (first page of 50 rows and the counts);
  **Review**: `/review/` unfiltered (first page of 50); **Status poll, 204**: the poll with the
  fingerprint the page gave, nothing changed; **Status poll, 200**: the poll answering with the
  status partial (counts and 50 rows).
- **Admin changelist**: `/admin/campaigns/connectionrequest/`, Django admin's list of
  connection requests (100 rows, its filters), on the same data: the baseline. **Ours /
  baseline**: our p50 over the admin's p50, then the same for p95; below 1 is faster.
- **Import**: {import_rows:,} new people from one CSV file through the product's code path
  (`campaigns.importing`: read_csv, guess_mapping, rows_to_prospects, save_batch into a fresh
  campaign, which also renders every note), against a bare `bulk_create` of the same Prospect
  rows and one ConnectionRequest each; median of 3 each. The import page takes at most 5,000
  rows per file; the code is called directly here with that limit lifted.
- **Note preview**: `bench/note_preview_bench.py`: a fresh database with one draft campaign of
  {preview_queued:,} queued prospects (2% without a first name, so some notes cannot be
  rendered); the preview request the note editor sends on each keystroke (htmx, the template
  being typed, one variable without fallback) over HTTP to the same gunicorn set-up, {preview_timed}
  timed; against rendering every queued note in Python as the preview did before
  (`Campaign.rendered_notes`), 5 times in process, so without the request's own cost.
- **Worker submissions / status polls**: `bench/worker_bench.py`: the real worker with pacing
  off against the sandbox (no task delay), against a plain httpx loop making the same calls to
  the same server; the ratio is what the worker's bookkeeping costs. The worker runs with
  `DJANGO_DEBUG=0`; the sandbox is served by tests/stack.py's gunicorn.
- **Status calls per completed task; mean delay to notice**: the real worker on a simulated
  clock, OutX answering through httpx.MockTransport, 40 tasks taking about 3 s, 1 min and
  1 h: how many status calls each task cost, and how long after completing it was noticed.
- **Peak memory**: the kernel's high-water mark of resident memory (VmHWM / ru_maxrss), in MiB:
  of the gunicorn worker once it has served every page above, and of `manage.py outreach_tick
  --loop {worker_seconds}` submitting and polling {worker_requests} requests to sent.
"""


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
        f"Measured {date.today()} on {machine()}, {postgres_and_redis()}. Load average {load_before:.1f} at the "
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


def main() -> None:
    if sys.argv[1:] == ["senders"]:
        senders_only()
        return
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    say(f"Benchmarks on {machine()}; load average {load_before:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        pages = pages_and_import(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        preview = note_preview(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        worker = worker_figures(Path(tmp))
    out = ROOT / "docs" / "benchmarks.md"
    senders = many_senders(out.read_text() if out.exists() else "")
    minutes = (time.perf_counter() - started) / 60
    head = (
        f"Measured {date.today()} on {machine()}. Load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (other work on the machine slows every figure)."
    )
    body = table(pages, worker, preview)
    print(f"\n{head}\n\n{body}\n")
    last = pages["rounds"][-1]["seeded"]
    explanation = EXPLANATION.format(
        minutes=max(1, round(minutes)),
        rounds="3 untimed, then " + ", ".join(f"{timed} timed at {thousands(size)}" for size, timed in ROUNDS),
        campaigns=pages_bench.CAMPAIGNS,
        big_share=last["big_campaign_requests"] / last["requests"],
        events=last["events"],
        import_rows=IMPORT_ROWS,
        preview_queued=NOTE_PREVIEW_QUEUED,
        preview_timed=NOTE_PREVIEW_TIMED,
        worker_seconds=WORKER_MEMORY_SECONDS,
        worker_requests=WORKER_MEMORY_REQUESTS,
    )
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"# Benchmarks\n\n{head}\n\n{body}\n\n{explanation}\n{senders.rstrip()}\n")
    say(f"Written to {out.relative_to(ROOT)} in {minutes:.1f} min")


if __name__ == "__main__":
    main()
