"""Many senders: the worker scaling out by sender, on PostgreSQL and Redis (a section of `make bench`).

1,000 senders with 10 queued each, pacing off, against the zero-delay sandbox (each sender
its own sandbox team), worked by 1, 2 and then 4 django-q2 clusters of Q_WORKERS=2 worker
processes each. The dispatcher runs in a process of its own, the same `dispatch_loop` the
minute's schedule runs inside a cluster, so that each cluster adds the same two workers.
Each run starts from the same seeded database (a PostgreSQL template copy), Redis database
13 emptied, and measures:

- invitations per second: the submissions, over the time from the first to the last one;
- how long each sender waits for its turn: from the burst's first submission to its own first;
- the time until every invitation was known sent (status polls included);
- calls to the sandbox (its access log), rows written to our database, and where the
  machine's CPU went (our workers, our PostgreSQL, Redis, the sandbox, anything else).

The 2-cluster run is repeated with django-q2 saving no successful task, then 100 senders are
worked by 1 and 2 clusters with the sandbox answering each call after 50 ms. Last, with OutX
mocked: one sender's working day with the production defaults on a simulated clock (passes,
calls, queries, writes), one pass's queries and CPU time, and the dispatcher's look with
10,000 idle senders (no work, or work later) and with 500 due.

Needs DATABASE_URL=postgres://… (its server gets databases named outreach_bench*, dropped
after) and REDIS_URL (its database 13 is emptied). Without them the section is skipped. Run
alone with `python -m bench.run senders` (`make bench BENCH=senders`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.stack import (
    DEFAULT_KEY, PYTHON, ROOT, Stack, admin_connection, free_port, redis_database, start_sandbox, stop_process,
    with_database,
)

SENDERS = 1000
QUEUED = 10
CLUSTER_COUNTS = (1, 2, 4)
Q_WORKERS = 2
IDLE_SENDERS = 10_000
SANDBOX_WORKERS, SANDBOX_THREADS = 4, 4
# The seeded template; each run's copy for the product, and one for the sandbox (OutX's
# stand-in): its writes, commits and PostgreSQL time are then told apart from ours.
BENCH_DB, SANDBOX_DB, SEED_DB = "outreach_bench", "outreach_bench_sandbox", "outreach_bench_seed"
# Then fewer senders whose OutX answers each call after a delay, as a remote API does: the
# workers then mostly wait, and clusters add calls in flight rather than CPU.
LATENCY_SEED_DB = "outreach_bench_seed_latency"
LATENCY_SENDERS, LATENCY_MS, LATENCY_CLUSTERS = 100, 50, (1, 2)
REDIS_DB = 13
RUN_TIMEOUT = 1200
# django-q2's Redis list of waiting tasks, for Q_CLUSTER["name"] = "outreach".
QUEUE_KEY = "django_q:outreach:q"
PASS_COST_SENDERS = 20


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def skip_reason() -> str | None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return "DATABASE_URL does not point at PostgreSQL"
    if not os.environ.get("REDIS_URL"):
        return "REDIS_URL is not set"
    return None


def bench_env(database_url: str, port: int, secret_key: str, stop_file: Path) -> dict[str, str]:
    """Production-like: DJANGO_DEBUG=0, the sandbox switched on and reached over loopback HTTP."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outreach_site.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_database(os.environ["REDIS_URL"], REDIS_DB),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # loopback HTTP, no TLS proxy in front
        "OUTX_SANDBOX": "1",
        "OUTX_BASE_URL": f"http://127.0.0.1:{port}/outx-sandbox",
        "OUTX_API_KEY": DEFAULT_KEY,
        "OUTX_SANDBOX_API_KEY": DEFAULT_KEY,
        "OUTX_SANDBOX_TASK_DELAY": "0",
        "Q_WORKERS": str(Q_WORKERS),
        "OUTREACH_WORKER_STOP_FILE": str(stop_file),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def run(
    tmp: Path, senders: int = SENDERS, queued: int = QUEUED, cluster_counts=CLUSTER_COUNTS, idle: int = IDLE_SENDERS,
    unsaved_clusters: int | None = 2, day: bool = True, latency_clusters=LATENCY_CLUSTERS,
    latency_senders: int = LATENCY_SENDERS,
) -> dict:
    server_url = os.environ["DATABASE_URL"]
    secret_key = secrets.token_urlsafe(50)
    port = free_port()
    stop_file = tmp / "stop-workers"
    run_env = bench_env(with_database(server_url, BENCH_DB), port, secret_key, stop_file)
    # The sandbox keeps its connections, so its PostgreSQL processes live through the run and
    # their CPU time is told apart; the workers keep production's DATABASE_CONN_MAX_AGE=0.
    sandbox_env = {
        **bench_env(with_database(server_url, SANDBOX_DB), port, secret_key, stop_file), "DATABASE_CONN_MAX_AGE": "600",
    }
    results: dict = {"senders": senders, "queued": queued, "q_workers": Q_WORKERS, "runs": []}
    try:
        say(f"Many senders: seeding {senders:,} senders with {queued} queued each (PostgreSQL template)")
        seed_template(bench_env(with_database(server_url, SEED_DB), port, secret_key, stop_file), senders, queued)
        for clusters in cluster_counts:
            results["runs"].append(one_run(run_env, sandbox_env, server_url, clusters, tmp, port, senders * queued))
        if unsaved_clusters:
            results["unsaved"] = one_run(
                run_env, sandbox_env, server_url, unsaved_clusters, tmp, port, senders * queued, unsaved=True
            )
        if latency_clusters:
            say(f"Many senders: {latency_senders} senders whose OutX answers after {LATENCY_MS} ms")
            seed_template(
                bench_env(with_database(server_url, LATENCY_SEED_DB), port, secret_key, stop_file),
                latency_senders, queued, latency_ms=LATENCY_MS,
            )
            results["latency"] = {"senders": latency_senders, "latency_ms": LATENCY_MS, "runs": [
                one_run(run_env, sandbox_env, server_url, clusters, tmp, port, latency_senders * queued,
                        template=LATENCY_SEED_DB)
                for clusters in latency_clusters
            ]}
        if day:
            say("Many senders: a sender's working day on a simulated clock")
            results["day"] = last_json(in_env(run_env, "bench.senders_bench", "sender-day"))
        say("Many senders: one pass's queries and CPU time")
        results["pass_cost"] = last_json(in_env(run_env, "bench.senders_bench", "pass-cost"))
        say(f"Many senders: the dispatcher's look with {idle:,} idle senders")
        results["dispatch"] = last_json(in_env(run_env, "bench.senders_bench", "dispatch-cost", str(idle)))
    finally:
        for name in (BENCH_DB, SANDBOX_DB, SEED_DB, LATENCY_SEED_DB):
            admin_connection(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def seed_template(env: dict[str, str], senders: int, queued: int, latency_ms: int = 0) -> None:
    """A database every run copies: migrated, `senders` senders with `queued` queued each, every
    one due; no schedule, so only the bench's own dispatcher hands out passes."""
    server_url = os.environ["DATABASE_URL"]
    name = env["DATABASE_URL"].rsplit("/", 1)[-1]
    fresh_database(server_url, name)
    Stack(env).manage("migrate", "--no-input")
    Stack(env).run_module("seed", str(senders * queued), str(max(1, senders // 100)), json.dumps(
        {"senders": senders, "sandbox": {"task_delay_seconds": 0, "latency_ms": latency_ms}}
    ), timeout=1800)
    with pg(env["DATABASE_URL"]) as connection:
        connection.execute("DELETE FROM django_q_schedule")


def in_env(env: dict[str, str], module: str, *args: str, timeout: float = 900) -> str:
    done = subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise SystemExit(f"{module} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def fresh_database(server_url: str, name: str, template: str | None = None) -> None:
    admin_connection(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_connection(server_url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def pg(database_url: str):
    import psycopg

    return psycopg.connect(database_url, autocommit=True)


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def one_run(
    env: dict[str, str], sandbox_env: dict[str, str], server_url: str, clusters: int, tmp: Path, port: int, total: int,
    *, unsaved: bool = False, template: str = SEED_DB,
) -> dict:
    """One burst, worked by `clusters` clusters; with `unsaved`, django-q2 saves no result of
    a successful task (bench/unsaved_settings.py), which shows what saving them costs."""
    import redis

    say(f"Many senders: {clusters} cluster(s) of {Q_WORKERS} workers" + (", successes not saved" if unsaved else ""))
    if unsaved:
        env = {**env, "DJANGO_SETTINGS_MODULE": "bench.unsaved_settings"}
    fresh_database(server_url, BENCH_DB, template=template)
    fresh_database(server_url, SANDBOX_DB, template=template)
    redis.from_url(env["REDIS_URL"]).flushdb()
    stop_file = Path(env["OUTREACH_WORKER_STOP_FILE"])
    stop_file.unlink(missing_ok=True)
    access_log = tmp / f"sandbox-{template}-{clusters}{'-unsaved' if unsaved else ''}.log"
    queue = redis.from_url(env["REDIS_URL"])
    sandbox = start_sandbox(sandbox_env, port, SANDBOX_WORKERS, SANDBOX_THREADS, access_log=access_log)
    stack = Stack(env)
    dispatcher = None
    try:
        cpu_before = cpu_snapshot(sandbox.pid)
        started = time.monotonic()
        dispatcher = subprocess.Popen(
            [PYTHON, "-m", "bench.senders_bench", "dispatch", str(RUN_TIMEOUT)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        for _ in range(clusters):
            stack.start_cluster()
        with pg(env["DATABASE_URL"]) as connection:
            wait_until_done(connection, started)
        cpu_after = cpu_snapshot(sandbox.pid, [c.pid for c in stack.clusters], dispatcher.pid)
        wall = time.monotonic() - started
        left_in_queue = queue.llen(QUEUE_KEY)
        stop_file.touch()
        handed_out = last_json(dispatcher.communicate(timeout=60)[0])["handed_out"]
        stack.stop_clusters(stop_file)
    finally:
        if dispatcher is not None and dispatcher.poll() is None:
            dispatcher.kill()
            dispatcher.wait()
        stack.stop()
        stop_process(sandbox)
    time.sleep(1.5)  # PostgreSQL's table statistics reach pg_stat a moment after each backend ends
    with pg(env["DATABASE_URL"]) as ours, pg(sandbox_env["DATABASE_URL"]) as outx:
        figures = run_figures(ours, outx, total)
    figures.update(
        clusters=clusters, pass_workers=clusters * Q_WORKERS, unsaved=unsaved, handed_out=handed_out,
        left_in_queue=left_in_queue, wall_s=wall,
        calls=calls_from_access_log(access_log), cpu=cpu_use(cpu_before, cpu_after),
    )
    say(
        f"  {figures['per_s']:.0f} invitations/s; waits mean {figures['wait_mean_s']:.1f} s, longest "
        f"{figures['wait_max_s']:.1f} s; all sent after {figures['all_sent_s']:.0f} s; {handed_out} passes "
        f"handed out, {left_in_queue} left in the queue; "
        f"CPU busy {figures['cpu']['busy_share']:.0%}"
    )
    return figures


def wait_until_done(connection, started: float) -> None:
    while True:
        left = connection.execute(
            "SELECT count(*) FROM campaigns_connectionrequest WHERE state IN ('queued', 'submitting', 'pending')"
        ).fetchone()[0]
        if not left:
            return
        if time.monotonic() - started > RUN_TIMEOUT:
            raise SystemExit(f"{left} requests still unfinished after {RUN_TIMEOUT} s")
        time.sleep(1)


def run_figures(connection, sandbox, total: int) -> dict:
    """From our database, and from the sandbox's (what OutX received)."""

    def one(sql: str, on=connection):
        return on.execute(sql).fetchone()

    first, last, submitted = one(
        "SELECT min(submitted_at), max(submitted_at), count(*) FROM campaigns_connectionrequest WHERE submitted_at IS NOT NULL"
    )
    last_completed, polls = one("SELECT max(completed_at), sum(poll_count) FROM campaigns_connectionrequest")
    states = dict(connection.execute("SELECT state, count(*) FROM campaigns_connectionrequest GROUP BY state").fetchall())
    waits = [
        (at - first).total_seconds()
        for (at,) in connection.execute(
            "SELECT min(submitted_at) FROM campaigns_connectionrequest GROUP BY sender_id"
        ).fetchall()
    ]
    invited_twice = one(
        "SELECT count(*) FROM (SELECT task_input->>'profile_urn' FROM outx_sandbox_sandboxtask "
        "WHERE task_type = 'agent_send_connection_request' GROUP BY 1 HAVING count(*) > 1) AS twice", sandbox
    )[0]
    delivered_twice = one(
        "SELECT count(*) FROM (SELECT profile_urn FROM outx_sandbox_delivery GROUP BY 1 HAVING count(*) > 1) AS twice",
        sandbox,
    )[0]
    submit_s = (last - first).total_seconds()
    return {
        "invitations": submitted,
        "states": states,
        "submit_s": submit_s,
        "per_s": submitted / submit_s,
        "all_sent_s": (last_completed - first).total_seconds(),
        "wait_mean_s": statistics.mean(waits),
        "wait_max_s": max(waits),
        "status_calls": polls,
        "invited_twice": invited_twice,
        "delivered_twice": delivered_twice,
        "writes": rows_written(connection),
        "table_writes": table_writes(connection),
        "sandbox_writes": sum(rows_written(sandbox).values()),
        # django-q2 saving each pass's result: rows inserted, deleted (save_limit) and read.
        "task_rows": dict(zip(("inserted", "deleted", "read"), one(
            "SELECT n_tup_ins, n_tup_del, seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables "
            "WHERE relname = 'django_q_task'"
        ))),
        "commits": one(COMMITS)[0],
        "sandbox_commits": one(COMMITS, sandbox)[0],
        # Sent, or already accepted: the sandbox's invitees accept some, and the worker reads them.
        "complete": set(states) <= {"sent", "accepted"} and sum(states.values()) == total,
    }


COMMITS = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"


def rows_written(connection) -> dict[str, int]:
    """Rows inserted, updated or deleted in this database during the run, per part: the
    product (campaigns), the task queue's results (django_q), the sandbox's, the rest."""
    written: Counter = Counter()
    for table, n in connection.execute(
        "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
    ).fetchall():
        part = next((p for p in ("campaigns", "django_q", "outx_sandbox") if table.startswith(p + "_")), "other")
        written[part] += n
    return dict(written)


def table_writes(connection) -> dict[str, int]:
    """Rows inserted, updated or deleted in the tables that grow or churn with every invitation."""
    return dict(connection.execute(
        "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = ANY(%s)",
        [["campaigns_connectionrequest", "campaigns_event", "campaigns_sender", "django_q_task"]],
    ).fetchall())


def calls_from_access_log(path: Path) -> dict[str, int]:
    calls: Counter = Counter()
    for line in path.read_text().splitlines():
        match = re.search(r'"(GET|POST) /outx-sandbox/(?:linkedin-agent/)?([\w-]+)', line)
        if match:
            calls[f"{match.group(1)} {match.group(2)}"] += 1
    return dict(calls)


# --- Where the CPU went ----------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, str, float, str]]:
    """pid: (parent pid, command name, CPU seconds of it and of its reaped children, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        found[int(entry.name)] = (int(fields[1]), name, (utime + stime + cutime + cstime) / TICK, command)
    return found


def tree_cpu(table: dict, roots: set[int]) -> float:
    members, grew = set(roots) & set(table), True
    while grew:
        grew = False
        for pid, (parent, *_) in table.items():
            if parent in members and pid not in members:
                members.add(pid)
                grew = True
    return sum(table[pid][2] for pid in members)


def cpu_snapshot(sandbox_pid: int, worker_pids: list[int] | None = None, dispatcher_pid: int | None = None) -> dict:
    """Cumulative CPU seconds: the machine's (all cores) and its idle time, and each part's.
    PostgreSQL's is split by database: the sandbox's connections live through the run, so
    their processes' time is its; ours (short connections) lands on the postmaster once they end."""
    table = processes()
    postgres_roots = {
        pid for pid, (parent, name, *_) in table.items() if name == "postgres" and table.get(parent, (0, ""))[1] != "postgres"
    }
    postgres_sandbox = sum(
        cpu for _, name, cpu, command in table.values() if name == "postgres" and f" {SANDBOX_DB} " in command
    )
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return {
        "total": sum(values) / TICK,
        "idle": (values[3] + values[4]) / TICK,
        "workers": tree_cpu(table, set(worker_pids or [])) + tree_cpu(table, {dispatcher_pid} if dispatcher_pid else set()),
        "sandbox": tree_cpu(table, {sandbox_pid}),
        "postgres_ours": tree_cpu(table, postgres_roots) - postgres_sandbox,
        "postgres_sandbox": postgres_sandbox,
        "redis": sum(cpu for _, name, cpu, _ in table.values() if name.startswith("redis-server")),
    }


PARTS = ("workers", "postgres_ours", "redis", "sandbox", "postgres_sandbox")


def cpu_use(before: dict, after: dict) -> dict:
    """CPU seconds each part used during the run, the machine's busy share, and what the rest
    of the machine used (other work on it included)."""
    total = after["total"] - before["total"]
    busy = total - (after["idle"] - before["idle"])
    parts = {part: after[part] - before[part] for part in PARTS}
    return {**parts, "other": max(0.0, busy - sum(parts.values())), "busy_share": busy / total if total else 0.0}


# --- Run inside the bench's environment ----------------------------------------------------------


def dispatch_command(seconds: float) -> None:
    from campaigns.worker import dispatch_loop

    print(json.dumps({"handed_out": dispatch_loop(seconds)}))


def dispatch_cost(total: int, looks: int = 200) -> dict:
    """Make `total` senders, all idle (half with no work at all, half with work in an hour),
    and time the dispatcher's look; then one busy look handing 500 senders to Redis."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from campaigns.models import Sender
    from campaigns.worker import DISPATCH_BATCH, dispatch, enqueue_sender

    existing = Sender.objects.count()
    Sender.objects.bulk_create((Sender(name=f"Idle sender {i}") for i in range(existing, total)), batch_size=1000)
    ids = list(Sender.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    Sender.objects.filter(pk__in=ids[::2]).update(next_due_at=None)
    Sender.objects.filter(pk__in=ids[1::2]).update(next_due_at=now + dt.timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Sender._meta.db_table}")

    handed: list[int] = []
    times = []
    for _ in range(looks):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            dispatch(timezone.now(), handed.append)
            times.append((time.perf_counter() - started) * 1000)
    assert not handed, "an idle sender was handed out"
    plan = Sender.objects.due_for_work(timezone.now()).order_by("next_due_at").values_list("pk", flat=True)[:DISPATCH_BATCH].explain()

    due = ids[:DISPATCH_BATCH]
    Sender.objects.filter(pk__in=due).update(next_due_at=timezone.now() - dt.timedelta(seconds=1))
    with CaptureQueriesContext(connection) as busy_queries:
        started = time.perf_counter()
        handed = dispatch(timezone.now(), enqueue_sender)
        busy_ms = (time.perf_counter() - started) * 1000
    assert sorted(handed) == due
    times.sort()
    return {
        "senders": Sender.objects.count(),
        "looks": looks,
        "idle_p50_ms": statistics.median(times),
        "idle_p95_ms": times[int(0.95 * (len(times) - 1))],
        "idle_queries": len(captured.captured_queries),
        "plan": plan,
        "busy_handed_out": len(handed),
        "busy_ms": busy_ms,
        "busy_queries": len(busy_queries.captured_queries),
    }


def pass_cost(senders: int = PASS_COST_SENDERS) -> dict:
    """Database queries and CPU time of one sender's pass, by what it does: submit one
    invitation, poll one task to its end, and find nothing due. OutX answers through
    httpx.MockTransport (no network); the newest-connections read is put off, so each pass
    does only the one thing. Averaged over `senders` fresh senders."""
    import httpx
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
    from campaigns.outx import OutxClient
    from campaigns.worker import work_sender

    def outx_answers(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"success": True, "api_agent_task_id": secrets.token_hex(8), "message": "ok"})
        return httpx.Response(200, json={"success": True, "data": {
            "id": request.url.params["api_agent_task_id"], "status": "completed", "task_input": {},
            "task_output": {"sent": True}}})

    client = OutxClient("https://outx.invalid", "k", transport=httpx.MockTransport(outx_answers))
    later = timezone.now() + dt.timedelta(days=1)
    owner, _ = User.objects.get_or_create(username="pass-cost")
    campaign = Campaign.objects.create(name="Pass cost", owner=owner, state=Campaign.State.ACTIVE)
    measured: dict[str, list[tuple[int, float]]] = {"submit one": [], "poll one to its end": [], "nothing due": []}
    for i in range(senders):
        sender = Sender.objects.create(
            name=f"Pass cost {i}", working_days=list(range(7)), work_start=dt.time(0), work_end=dt.time(23, 59, 59),
            min_spacing_seconds=0, max_spacing_seconds=0, daily_limit=1000, weekly_limit=1000,
            hourly_action_limit=1000, next_acceptance_check_at=later,
        )
        campaign.senders.add(sender)
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAPassCost{i:05d}")
        ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, sender=sender, note="Hi")
        for what in measured:
            if what == "poll one to its end":
                ConnectionRequest.objects.filter(sender=sender).update(next_poll_at=timezone.now())
            with CaptureQueriesContext(connection) as captured:
                started = time.process_time()
                work_sender(sender, client=client)
                cpu_ms = (time.process_time() - started) * 1000
            measured[what].append((len(captured.captured_queries), cpu_ms))
        assert ConnectionRequest.objects.get(sender=sender).state == "sent"
    return {
        what: {"queries": statistics.mean(q for q, _ in runs), "cpu_ms": statistics.median(c for _, c in runs)}
        for what, runs in measured.items()
    }


def sender_day(by_url: bool, task_seconds: float = 60.0) -> dict:
    """One sender's working day (a Tuesday, 0:00 to 24:00 UTC) with the production defaults:
    20 invitations a day, 100 a week, Monday to Friday 9:00 to 18:00, 2 to 5 minutes apart,
    its newest connections read every 30 minutes. Monday's 20 invitations are already out
    (sent, not accepted), and the day's 20 wait in the queue; with `by_url` they are known by
    profile URL only, so each needs a look-up first. On a simulated clock, each pass runs when
    the sender's next moment of work comes, as the dispatcher would hand it out. OutX answers
    through httpx.MockTransport, each task completing after about `task_seconds`; nobody
    accepts (the reads happen all the same). Counts the passes, OutX calls by kind, queries
    and writes (INSERT, UPDATE, DELETE statements)."""
    import random

    import httpx
    from django.contrib.auth.models import User
    from django.db import connection

    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
    from campaigns.outx import OutxClient
    from campaigns.worker import work_sender

    rng = random.Random(7)
    day = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)  # a Tuesday
    clock = {"now": day}
    tasks: dict[str, tuple[dt.datetime, str]] = {}
    calls: Counter = Counter()

    def outx_answers(request: httpx.Request) -> httpx.Response:
        what = request.url.path.rsplit("/", 1)[-1]
        calls[f"{request.method} {what}"] += 1
        if request.method == "POST":
            task_id = secrets.token_hex(8)
            done_at = clock["now"] + dt.timedelta(seconds=task_seconds * rng.uniform(0.8, 1.2))
            tasks[task_id] = (done_at, what)
            return httpx.Response(200, json={"success": True, "api_agent_task_id": task_id, "message": "ok"})
        task_id = request.url.params["api_agent_task_id"]
        done_at, kind = tasks[task_id]
        output = {
            "send-connection-request": {"sent": True},
            "fetch-connections": {"connections": []},
            "fetch-profile": {"profile_urn": f"urn:li:fsd_profile:ACoAADay{task_id}"},
        }[kind]
        done = clock["now"] >= done_at
        return httpx.Response(200, json={"success": True, "data": {
            "id": task_id, "status": "completed" if done else "pending", "task_input": {},
            "task_output": output if done else None}})

    client = OutxClient("https://outx.invalid", "k", transport=httpx.MockTransport(outx_answers))
    owner, _ = User.objects.get_or_create(username="sender-day")
    sender = Sender.objects.create(
        name=f"A day {'by URL' if by_url else 'by URN'}", next_due_at=day,
        last_acceptance_check_at=day - dt.timedelta(minutes=30), next_acceptance_check_at=day,
    )
    campaign = Campaign.objects.create(name=sender.name, owner=owner, state=Campaign.State.ACTIVE)
    campaign.senders.add(sender)
    tag = secrets.token_hex(4)
    monday = [Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAMon{tag}{i:04d}") for i in range(20)]
    ConnectionRequest.objects.bulk_create(
        ConnectionRequest(
            campaign=campaign, prospect=prospect, sender=sender, note="Hi", state="sent",
            submitted_at=day - dt.timedelta(hours=15, minutes=5 * i), completed_at=day - dt.timedelta(hours=15, minutes=5 * i - 1),
        )
        for i, prospect in enumerate(monday)
    )
    for i in range(20):
        prospect = Prospect.objects.create(
            profile_url=f"https://www.linkedin.com/in/day-{tag}-{i}/" if by_url else None,
            profile_urn=None if by_url else f"urn:li:fsd_profile:ACoAATue{tag}{i:04d}",
        )
        ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, sender=sender, note="Hi")

    counted = {"queries": 0, "writes": 0}

    def count(execute, sql, params, many, context):
        counted["queries"] += 1
        counted["writes"] += sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE")
        return execute(sql, params, many, context)

    end = day + dt.timedelta(days=1)
    passes = 0
    with connection.execute_wrapper(count):
        while True:
            due = Sender.objects.get(pk=sender.pk).next_due_at
            # As the dispatcher: the pass runs when it is due; one that left its work due
            # already is looked at again a second later.
            clock["now"] = max(due or end, clock["now"] + dt.timedelta(seconds=1))
            if clock["now"] >= end:
                break
            work_sender(sender, clock=lambda: clock["now"], client=client)
            passes += 1
    submitted = ConnectionRequest.objects.filter(sender=sender, submitted_at__gte=day).count()
    return {
        "by_url": by_url, "task_seconds": task_seconds, "invitations": submitted, "passes": passes,
        "calls": dict(calls), **counted,
    }


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    if argv[0] == "dispatch":
        dispatch_command(float(argv[1]))
    elif argv[0] == "sender-day":
        print(json.dumps([sender_day(by_url=False), sender_day(by_url=True)]))
    elif argv[0] == "pass-cost":
        print(json.dumps(pass_cost()))
    elif argv[0] == "dispatch-cost":
        print(json.dumps(dispatch_cost(int(argv[1]))))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])


# --- The section of docs/benchmarks.md ------------------------------------------------------------

HEADING = "## Many senders (PostgreSQL and Redis)"
SKIPPED_PREFIX = "Not measured in the last `make bench`:"


def ours_ms(run: dict) -> float:
    """Our CPU time per invitation, end to end: workers, our PostgreSQL, Redis."""
    cpu = run["cpu"]
    return (cpu["workers"] + cpu["postgres_ours"] + cpu["redis"]) / run["invitations"] * 1000


def sandbox_ms(run: dict) -> float:
    return (run["cpu"]["sandbox"] + run["cpu"]["postgres_sandbox"]) / run["invitations"] * 1000


def run_row(run: dict, base: float) -> str:
    label = f"{run['clusters']} ({run['pass_workers']})" + (", successes not saved" if run.get("unsaved") else "")
    return (
        f"| {label} | {run['per_s']:.0f}/s | {run['per_s'] / base:.2f}× "
        f"| {run['wait_mean_s']:.0f} s / {run['wait_max_s']:.0f} s | {run['all_sent_s']:.0f} s "
        f"| {run['handed_out']:,} / {run['left_in_queue']:,} | {run['cpu']['busy_share']:.0%} "
        f"| {ours_ms(run):.0f} ms / {sandbox_ms(run):.0f} ms | {run['cpu']['other']:.0f} s |"
    )


def per_invitation(run: dict) -> str:
    n = run["invitations"]
    cpu = run["cpu"]
    calls = ", ".join(f"{what} {count / n:.2f}" for what, count in sorted(run["calls"].items()))
    tables = ", ".join(f"{table} {count / n:.1f}" for table, count in sorted(run["table_writes"].items()))
    task_rows = run["task_rows"]
    return (
        f"CPU: our workers {cpu['workers'] / n * 1000:.1f} ms, our PostgreSQL {cpu['postgres_ours'] / n * 1000:.1f} ms, "
        f"Redis {cpu['redis'] / n * 1000:.2f} ms. Calls to OutX: {calls}. Rows written to our database "
        f"{run['writes'].get('campaigns', 0) / n + run['writes'].get('django_q', 0) / n:.1f} ({tables}); "
        f"django-q2 saved {task_rows['inserted']:,} pass results, pruned {task_rows['deleted']:,} and read "
        f"{task_rows['read']:,} rows of its table to prune them ({task_rows['read'] / max(1, task_rows['inserted']):.0f} "
        f"a save). Our transactions {run['commits'] / n:.1f} (each statement outside a transaction counts as one)"
    )


def section(results: dict, head: str) -> str:
    runs = results["runs"]
    base = runs[0]["per_s"]
    rows = [
        "| Worker clusters (worker processes) | Invitations per second | Speed-up | A sender's wait for its turn, "
        "mean / longest | All sent after | Passes handed out / left in the queue | CPU busy | CPU per invitation: "
        "ours / the sandbox's | CPU: other work on the machine |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows += [run_row(run, base) for run in runs]
    if results.get("unsaved"):
        rows.append(run_row(results["unsaved"], base))
    two = next((run for run in runs if run["clusters"] == 2), None)
    lines = [HEADING, "", head, "", "\n".join(rows), ""]
    if two is not None:
        speedup = two["per_s"] / base
        verdict = "reached" if speedup >= 1.5 else "not reached"
        lines.append(
            f"Speed-up from 1 to 2 clusters: {speedup:.2f}× (1.5× expected: {verdict}). The machine's "
            f"{os.cpu_count()} cores were {runs[0]['cpu']['busy_share']:.0%} busy with one cluster (other work "
            f"included), {two['cpu']['busy_share']:.0%} with two."
        )
        lines.append("")
    first = runs[0]
    if two is not None and two["per_s"] / base < 1.5:
        per_invitation_ms = ours_ms(first) + sandbox_ms(first)
        lines.append(
            f"Why: each invitation, submitted and polled to `sent`, took {per_invitation_ms:.0f} ms of CPU time in all "
            f"({ours_ms(first):.0f} ms ours, {sandbox_ms(first):.0f} ms the sandbox's), so {os.cpu_count()} cores finish "
            f"at most about {os.cpu_count() * 1000 / per_invitation_ms:.0f} a second end to end; one cluster already "
            f"finished {first['invitations'] / first['all_sent_s']:.0f} a second. More clusters share the same cores."
        )
        lines.append("")
    latency = results.get("latency")
    if latency:
        slow = latency["runs"]
        lines += [
            f"With OutX answering each call after {latency['latency_ms']} ms, as a remote API does "
            f"({latency['senders']} senders, {latency['runs'][0]['invitations']:,} invitations):",
            "",
            "| Worker clusters (worker processes) | Invitations per second | Speed-up | A sender's wait for its turn, "
            "mean / longest | All sent after | CPU busy |",
            "|---|---|---|---|---|---|",
        ]
        for run in slow:
            lines.append(
                f"| {run['clusters']} ({run['pass_workers']}) | {run['per_s']:.0f}/s | {run['per_s'] / slow[0]['per_s']:.2f}× "
                f"| {run['wait_mean_s']:.0f} s / {run['wait_max_s']:.0f} s | {run['all_sent_s']:.0f} s "
                f"| {run['cpu']['busy_share']:.0%} |"
            )
        lines.append("")
    everything = runs + ([results["unsaved"]] if results.get("unsaved") else []) + (latency["runs"] if latency else [])
    problems = [
        f"{run['clusters']} cluster(s): {run['invited_twice']} invited twice, {run['delivered_twice']} delivered twice, "
        f"states {run['states']}"
        for run in everything if run["invited_twice"] or run["delivered_twice"] or not run["complete"]
    ]
    disturbed = [run for run in everything if run["cpu"]["other"] > 0.1 * run["cpu"]["busy_share"] * run["wall_s"] * (os.cpu_count() or 1)]
    if disturbed:
        lines.append(
            "Other work on the machine took more than a tenth of the busy CPU time during the run(s) with "
            + ", ".join(f"{run['clusters']} cluster(s)" + (" (successes not saved)" if run.get("unsaved") else "") for run in disturbed)
            + ": their figures are lower than the stack alone would reach."
        )
        lines.append("")
    lines.append(
        "Every run: " + ("; ".join(problems) if problems else f"all {runs[0]['invitations']:,} sent, nobody invited twice.")
    )
    lines.append("")
    lines.append(f"Per invitation, with {(two or runs[0])['clusters']} clusters: {per_invitation(two or runs[0])}.")
    lines.append("")
    lines += ["| One sender's pass (OutX mocked) | Queries | CPU time, median |", "|---|---|---|"]
    for what, cost in results["pass_cost"].items():
        lines.append(f"| {what} | {cost['queries']:.0f} | {cost['cpu_ms']:.1f} ms |")
    lines.append("")
    if results.get("day"):
        lines += [
            "| One sender's working day (simulated, OutX mocked) | Invitations | Passes | Calls to OutX | Queries | Writes |",
            "|---|---|---|---|---|---|",
        ]
        for one in results["day"]:
            calls = ", ".join(f"{what} {n}" for what, n in sorted(one["calls"].items()))
            lines.append(
                f"| Prospects known by {'profile URL (a look-up each)' if one['by_url'] else 'URN'} | {one['invitations']} "
                f"| {one['passes']:,} | {sum(one['calls'].values())} ({calls}) | {one['queries']:,} | {one['writes']:,} |"
            )
        lines.append("")
    d = results["dispatch"]
    plan = d["plan"].splitlines()
    lines.append(
        f"The dispatcher with {d['senders']:,} idle senders (half with no work, half with work in an hour): one look "
        f"takes {d['idle_p50_ms']:.2f} ms (p50; p95 {d['idle_p95_ms']:.2f} ms, {d['looks']} looks) and "
        f"{d['idle_queries']} queries, whatever the number of senders: `{plan[1].strip() if len(plan) > 1 else plan[0]}`. "
        f"A busy look handing out {d['busy_handed_out']} senders to Redis takes {d['busy_ms']:.0f} ms "
        f"({d['busy_queries']} queries, then one Redis push each)."
    )
    lines += ["", EXPLANATION.format(
        senders=results["senders"], queued=results["queued"], q_workers=results["q_workers"],
        sandbox_workers=SANDBOX_WORKERS, sandbox_threads=SANDBOX_THREADS, pass_senders=PASS_COST_SENDERS,
        latency_ms=LATENCY_MS, latency_senders=LATENCY_SENDERS,
    )]
    return "\n".join(lines)


def skipped_section(reason: str, previous: str) -> str:
    """The section when PostgreSQL or Redis is missing: why, and the last figures, if any."""
    note = f"{SKIPPED_PREFIX} {reason}. Run `DATABASE_URL=postgres://… REDIS_URL=redis://… make bench BENCH=senders`."
    kept = [line for line in previous.splitlines()[1:] if not line.startswith(SKIPPED_PREFIX)]
    body = "\n".join(kept).strip()
    return f"{HEADING}\n\n{note}" + (f" The figures below are from an earlier run.\n\n{body}" if body else "")


def splice(document: str, new_section: str) -> str:
    """`document` with its many-senders section replaced by `new_section` (or it appended)."""
    start = document.find(HEADING)
    if start < 0:
        return document.rstrip() + "\n\n" + new_section.rstrip() + "\n"
    end = document.find("\n## ", start + len(HEADING))
    rest = document[end:] if end >= 0 else ""
    return document[:start] + new_section.rstrip() + "\n" + rest


def previous_section(document: str) -> str:
    start = document.find(HEADING)
    if start < 0:
        return ""
    end = document.find("\n## ", start + len(HEADING))
    return document[start:end if end >= 0 else len(document)]


EXPLANATION = """\
What the figures mean:

- **The set-up**: {senders:,} senders with {queued} queued invitations each, pacing off (no caps,
  no spacing, every hour a working hour), each sender its own sandbox team; the sandbox under
  gunicorn ({sandbox_workers} workers, {sandbox_threads} threads, `DJANGO_DEBUG=0`) with no task delay,
  so each invitation is sent at its first status call. Workers: 1, 2 and 4 `manage.py qcluster`
  processes with `Q_WORKERS={q_workers}`, on PostgreSQL and the Redis broker (database 13); the
  dispatcher (`dispatch_loop`) runs in a process of its own rather than in a cluster's worker, so
  that each cluster adds the same {q_workers} workers. Every run starts from the same seeded
  database; all senders are due at once, a burst.
- **Invitations per second**: submissions over the time from the burst's first to its last
  (`submitted_at`). **Speed-up**: over one cluster's.
- **A sender's wait for its turn**: from the burst's first submission to the sender's own first,
  mean and longest over all senders: in a burst the last sender waits about as long as the
  whole burst takes. **All sent after**: until the last invitation was known sent (its
  status call), from the same start.
- **Passes handed out / left in the queue**: `work_sender` tasks the dispatcher enqueued, and
  those still waiting in Redis when the last invitation was sent. A sender needs two passes
  here (submit, then poll); one handed out but not yet run is handed out again once its lease
  (`DISPATCH_LEASE`, 3 minutes) runs out, so a backlog longer than that fills the queue with
  repeats.
- **CPU**: CPU time during the run, from /proc: ours is our workers (the clusters and the
  dispatcher), our PostgreSQL (every backend but the sandbox's) and Redis; the sandbox's is
  gunicorn and its PostgreSQL backends (it has a database of its own and keeps its
  connections), which OutX would spend, not us; other work is whatever else the machine ran.
  Per invitation: over the whole run, polls included. Busy: the share of all cores' time not idle.
- **With OutX answering after {latency_ms} ms**: the same burst on {latency_senders} senders whose
  sandbox teams answer each call after that delay (the sandbox's latency switch), with 1 and 2
  clusters: there the workers mostly wait on OutX, as they would on the real one.
- **Successes not saved**: the 2-cluster run again with django-q2's `save_limit` at -1
  (bench/unsaved_settings.py): no result of a successful pass is saved, nor pruned.
- **Per invitation**: calls the sandbox answered (its access log), rows written to our
  database (pg_stat_user_tables; the sandbox's database is not counted) and our transactions.
- **One sender's pass**: `work_sender` on {pass_senders} fresh senders with OutX answering through
  httpx.MockTransport: queries (CaptureQueriesContext) and CPU time of the pass that submits one
  invitation, the one that polls it to `sent`, and one that finds nothing due.
- **One sender's working day**: bench/senders_bench.py `sender_day`: a Tuesday from 0:00 to 24:00
  with the production defaults (20 invitations a day, 100 a week, 9:00 to 18:00 on weekdays,
  2 to 5 minutes apart, the newest connections read every 30 minutes, all day), Monday's 20
  invitations already out and not accepted, each pass run when the sender's next moment of
  work comes (as the dispatcher hands it out), OutX answering through httpx.MockTransport with
  tasks that take about a minute. Writes: INSERT, UPDATE and DELETE statements.
- **The dispatcher**: `dispatch()` with every sender idle, timed 200 times, with its queries and
  the plan PostgreSQL chose for the look; then one look with 500 due, pushing them to Redis.
"""
