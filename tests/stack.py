"""A whole running stack in separate processes: a database of its own, the sandbox served by
gunicorn, and worker processes — for the chaos, race and scale tests and for the benchmarks.

The test database pytest-django makes is invisible to other processes (SQLite in memory),
so this builds its own: a SQLite file, or a fresh PostgreSQL database when DATABASE_URL
points at PostgreSQL. Run as `python -m tests.stack seed N` / `report` / `work` inside such an
environment to fill it, read it, or run a worker in it.

Seeded senders each reach their own sandbox team by their own key, as each sender reaches its
own OutX team: the sandbox's per-team log is then each sender's record of what OutX received.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TERMINAL_STATES = {"sent", "not_sent", "accepted", "skipped", "failed", "uncertain"}
# The default sandbox team's key: the first seeded sender uses it (as OUTX_API_KEY, stored on
# no sender, the way a single-account install did); every other sender gets a key of its own.
DEFAULT_KEY = "sandbox-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sender_name(index: int) -> str:
    return f"Stack sender {index + 1}"


def team_key(index: int) -> str:
    """The OutX key of seeded sender `index` (0 is the default team's)."""
    return DEFAULT_KEY if index == 0 else f"stack-team-{index + 1:05d}-key"


class Stack:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: list[subprocess.Popen] = []
        self.clusters: list[subprocess.Popen] = []
        self.base_url = ""

    def manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def run_module(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [PYTHON, "-m", "tests.stack", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"tests.stack {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def seed(
        self, requests: int, campaigns: int = 3, *, senders: int = 1, sender_fields: list[dict] | dict | None = None,
        **sandbox: float,
    ) -> None:
        """`requests` queued requests in `campaigns` active campaigns, spread evenly over
        `senders` senders with pacing off; `sender_fields` (one dict for all, or one per sender)
        then sets caps and the like; `sandbox` sets every team's switches."""
        options = {"senders": senders, "sender_fields": sender_fields or {}, "sandbox": sandbox}
        self.run_module("seed", str(requests), str(campaigns), json.dumps(options), timeout=900)

    def report(self, times: bool = False) -> dict:
        """See `_report`; `times` adds every submission's moment, ours and the sandbox's, per sender."""
        return json.loads(self.run_module("report", *(["times"] if times else [])))

    def passes(self) -> dict:
        """The django-q2 Task rows of every sender's pass, and how many successes are kept."""
        return json.loads(self.run_module("passes"))

    def start_worker(self, seconds: float = 600, *, turn_lease: float | None = None) -> subprocess.Popen:
        """`manage.py outreach_tick --loop`: every sender's pass in turn, again and again. With
        `turn_lease` (seconds), the turn a killed worker leaves on a sender lapses that soon
        instead of after SENDER_TURN_LEASE (10 minutes), so survivors take over within a test."""
        if turn_lease is None:
            args = [PYTHON, "manage.py", "outreach_tick", "--loop", str(seconds)]
        else:
            args = [PYTHON, "-m", "tests.stack", "work", str(seconds), str(turn_lease)]
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def start_cluster(self, log: Path | None = None) -> subprocess.Popen:
        """`manage.py qcluster` in a session of its own (its workers are its children); its
        log (django-q names each task a process takes) goes to `log` if given."""
        output = open(log, "w") if log else subprocess.DEVNULL
        try:
            cluster = subprocess.Popen(
                [PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        finally:
            if log:
                output.close()
        self.clusters.append(cluster)
        return cluster

    def stop_clusters(self, stop_file: Path | None = None, timeout: float = 60) -> None:
        """As production stops them: SIGTERM to each cluster's main process, which lets running
        tasks finish (`stop_file`, if the env names it, ends the looping ones); then SIGKILL."""
        if stop_file is not None:
            stop_file.touch()
        for cluster in self.clusters:
            if cluster.poll() is None:
                cluster.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for cluster in self.clusters:
            try:
                cluster.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)
                cluster.wait()
        self.clusters.clear()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()
        self.processes.clear()
        for cluster in self.clusters:
            if cluster.poll() is None:
                os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
        self.clusters.clear()


def stack_env(database_url: str, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OUTX_SANDBOX": "1",
        "OUTX_BASE_URL": f"http://127.0.0.1:{port}/outx-sandbox",
        "OUTX_API_KEY": DEFAULT_KEY,
        "OUTX_SANDBOX_API_KEY": DEFAULT_KEY,
        "OUTX_SANDBOX_TASK_DELAY": "0",
        "OUTX_CONNECT_TIMEOUT": "1",
        "OUTX_READ_TIMEOUT": "2",
        "DJANGO_DEBUG": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@contextmanager
def running_stack(tmp_path: Path, *, database_url: str | None = None, web_workers: int = 2):
    """Migrate a fresh database, serve the sandbox with gunicorn, yield a Stack; clean up after."""
    database_url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
    created_pg = None
    if database_url.startswith("postgres"):
        created_pg = f"outreach_stack_{uuid.uuid4().hex[:10]}"
        admin_connection(database_url, f'CREATE DATABASE "{created_pg}"')
        database_url = with_database(database_url, created_pg)
    else:
        database_url = f"sqlite:///{tmp_path / 'stack.sqlite3'}"

    port = free_port()
    stack = Stack(stack_env(database_url, port))
    server = None
    try:
        stack.manage("migrate", "--no-input")
        server = start_sandbox(stack.env, port, web_workers)
        stack.base_url = f"http://127.0.0.1:{port}"
        yield stack
    finally:
        stack.stop()
        if server is not None:
            stop_process(server)
        if created_pg:
            admin_connection(database_url, f'DROP DATABASE IF EXISTS "{created_pg}" WITH (FORCE)')


def start_sandbox(
    env: dict[str, str], port: int, web_workers: int = 2, threads: int = 4, access_log: Path | None = None
) -> subprocess.Popen:
    """The sandbox (the whole site, OUTX_SANDBOX=1) under gunicorn, answering once started;
    every call it answers is written to `access_log`, if given."""
    server = subprocess.Popen(
        [
            PYTHON, "-m", "gunicorn", "outreach_site.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(web_workers), "--threads", str(threads), "--log-level", "warning",
            *(["--access-logfile", str(access_log)] if access_log else []),
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/accounts/login/")
    except BaseException:
        stop_process(server)
        raise
    return server


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def with_database(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/" + name))


def admin_connection(database_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(with_database(database_url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def wait_until_settled(stack: Stack, timeout: float, poll: float = 1.0, *, queued_ok: bool = False, times: bool = False) -> dict:
    """Until every request is terminal (or `uncertain`; or still `queued`, with `queued_ok`,
    when caps hold the rest back): nothing is being submitted or polled. Returns the last report."""
    settled = TERMINAL_STATES | ({"queued"} if queued_ok else set())
    deadline = time.monotonic() + timeout
    while True:
        report = stack.report(times=times)
        if set(report["states"]) <= settled or time.monotonic() > deadline:
            return report
        time.sleep(poll)


def redis_database(redis_url: str, number: int) -> str:
    """The same Redis server, database `number`: a queue of its own, nothing else's."""
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{number}"))


@contextmanager
def running_clusters(
    stack: Stack, tmp_path: Path, count: int, *, redis_url: str, q_workers: int = 2, dispatch_seconds: float = 40
):
    """`count` qcluster processes on the Redis broker `redis_url` (emptied first), with the
    dispatcher enqueued as the minute's schedule would enqueue it; yields their log files.
    On leaving, the looping tasks are asked to stop and the clusters are stopped."""
    import redis

    redis.from_url(redis_url).flushdb()
    stop_file = tmp_path / "stop-workers"
    stop_file.unlink(missing_ok=True)
    # INFO: django-q logs each task a worker process takes, which tells who did the work.
    stack.env.update(
        REDIS_URL=redis_url, Q_WORKERS=str(q_workers), OUTREACH_WORKER_STOP_FILE=str(stop_file), LOG_LEVEL="INFO"
    )
    stack.manage(
        "shell", "-c",
        f"from django_q.tasks import async_task\nasync_task('campaigns.tasks.dispatch_senders', {dispatch_seconds})",
    )
    logs = [tmp_path / f"cluster-{i}.log" for i in range(count)]
    try:
        for log in logs:
            stack.start_cluster(log)
        yield logs
    finally:
        stack.stop_clusters(stop_file)


def passes_per_process(logs: list[Path]) -> Counter:
    """How many sender passes each worker process (cluster log, process name) took."""
    taken = Counter()
    for index, log in enumerate(logs):
        for line in log.read_text().splitlines():
            match = re.search(r"(\S+) processing \S+ 'campaigns\.tasks\.work_sender'", line)
            if match:
                taken[(index, match.group(1))] += 1
    return taken


# --- Run inside the stack's environment ----------------------------------------------------


def _seed(requests: int, campaigns: int, options: dict) -> None:
    """Senders with pacing off, one sandbox team each; campaigns shared out over them; the
    requests spread evenly over the senders, each in one of its sender's campaigns."""
    import datetime as dt

    from django.contrib.auth.models import User
    from django.db import transaction

    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
    from outx_sandbox.models import SandboxSettings

    count = options.get("senders", 1)
    fields = options.get("sender_fields") or {}
    per_sender = fields if isinstance(fields, list) else [fields] * count
    sandbox_fields = options.get("sandbox", {})
    # Pacing off: every day and hour, no spacing, caps (invitations, weekly, OutX's hourly
    # actions) at the most allowed; `sender_fields` may then set caps that bind.
    pacing_off = {
        "working_days": [0, 1, 2, 3, 4, 5, 6], "work_start": dt.time(0, 0), "work_end": dt.time(23, 59, 59),
        "min_spacing_seconds": 0, "max_spacing_seconds": 0,
        "daily_limit": 1000, "weekly_limit": 1000, "hourly_action_limit": 1000,
    }
    with transaction.atomic():
        # Not Sender.get(): on PostgreSQL its explicit pk=1 leaves the id sequence behind.
        first = Sender.objects.order_by("pk").first() or Sender()
        new = []
        for index in range(count):
            sender = first if index == 0 else Sender()
            sender.name = sender_name(index)
            if index:
                sender.set_api_key(team_key(index))
            for name, value in {**pacing_off, **per_sender[index]}.items():
                setattr(sender, name, value)
            if index:
                new.append(sender)
        first.save()
        senders = [first, *Sender.objects.bulk_create(new, batch_size=500)]

        default_team = SandboxSettings.get()
        for name, value in sandbox_fields.items():
            setattr(default_team, name, value)
        default_team.save()
        SandboxSettings.objects.bulk_create(
            [SandboxSettings(name=f"Stack team {i + 1}", api_key=team_key(i), **sandbox_fields) for i in range(1, count)],
            batch_size=500,
        )

        # Sender s serves campaign s % campaigns; a campaign left without one gets c % senders.
        owner, _ = User.objects.get_or_create(username="stack")
        all_campaigns = Campaign.objects.bulk_create(
            Campaign(name=f"Stack {c}", owner=owner, state=Campaign.State.ACTIVE) for c in range(campaigns)
        )
        campaigns_of = defaultdict(list)
        for c, campaign in enumerate(all_campaigns):
            on = [s for s in range(count) if s % campaigns == c] or [c % count]
            campaign.senders.set([senders[s] for s in on])
            for s in on:
                campaigns_of[s].append(campaign)

        prospects = Prospect.objects.bulk_create(
            (Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAStack{i:07d}", first_name=f"P{i}") for i in range(requests)),
            batch_size=2000,
        )
        ConnectionRequest.objects.bulk_create(
            (
                ConnectionRequest(
                    campaign=campaigns_of[i % count][(i // count) % len(campaigns_of[i % count])],
                    sender=senders[i % count], prospect=prospect, note=f"Hi P{i}",
                )
                for i, prospect in enumerate(prospects)
            ),
            batch_size=2000,
        )
        # bulk_create queued them behind the launch's back: tell the dispatcher they have work.
        Sender.objects.filter(pk__in=[s.pk for s in senders]).wake()


def _report(times: bool = False) -> dict:
    """What the sandbox received, against what our database says: duplicates across all
    teams, then per sender its requests' states, its submissions counted against its budget,
    and its team's tasks and deliveries (with `times`, every one's moment, ISO 8601)."""
    from django.db.models import Count

    from campaigns.models import ConnectionRequest, Sender
    from outx_sandbox.extension import complete_due_tasks
    from outx_sandbox.models import Delivery, SandboxSettings, SandboxTask

    complete_due_tasks()
    invitations = SandboxTask.objects.filter(task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST)
    tasks_per_urn = Counter(invitations.values_list("task_input__profile_urn", flat=True))
    deliveries_per_urn = Counter(Delivery.objects.values_list("profile_urn", flat=True))
    sent_urns = set(
        ConnectionRequest.objects.filter(state="sent").values_list("prospect__profile_urn", flat=True)
    )

    team_of_key = dict(SandboxSettings.objects.values_list("api_key", "pk"))
    per_sender: dict[str, dict] = {}
    team_of_sender: dict[int, int | None] = {}
    for sender in Sender.objects.order_by("pk"):
        team_of_sender[sender.pk] = team_of_key.get(sender.api_key)
        per_sender[sender.name] = {"states": {}, "spent": 0, "tasks": 0, "deliveries": 0}
    names = dict(Sender.objects.values_list("pk", "name"))
    sender_of_team = {team: pk for pk, team in team_of_sender.items() if team is not None}
    for pk, state, n in ConnectionRequest.objects.values_list("sender", "state").annotate(n=Count("id")).order_by():
        if pk is not None:
            per_sender[names[pk]]["states"][state] = n
    spending = ConnectionRequest.objects.spending_budget()
    for pk, n in spending.values_list("sender").annotate(n=Count("id")).order_by():
        per_sender[names[pk]]["spent"] = n
    for team, n in invitations.values_list("team").annotate(n=Count("id")).order_by():
        if team in sender_of_team:
            per_sender[names[sender_of_team[team]]]["tasks"] = n
    for team, n in Delivery.objects.values_list("task__team").annotate(n=Count("id")).order_by():
        if team in sender_of_team:
            per_sender[names[sender_of_team[team]]]["deliveries"] = n
    if times:
        for name in per_sender.values():
            name["submitted_at"], name["received_at"] = [], []
        for pk, moment in spending.values_list("sender", "submitted_at").order_by("submitted_at"):
            per_sender[names[pk]]["submitted_at"].append(moment.isoformat())
        for team, moment in invitations.values_list("team", "created_at").order_by("created_at"):
            if team in sender_of_team:
                per_sender[names[sender_of_team[team]]]["received_at"].append(moment.isoformat())

    return {
        "states": dict(ConnectionRequest.objects.values_list("state").annotate(n=Count("id")).order_by()),
        "requests": ConnectionRequest.objects.count(),
        "tasks": sum(tasks_per_urn.values()),
        "invited_twice": sorted(urn for urn, n in tasks_per_urn.items() if n > 1),
        "delivered_twice": sorted(urn for urn, n in deliveries_per_urn.items() if n > 1),
        "duplicate_deliveries": Delivery.objects.duplicate_count(),
        "sent_without_delivery": sorted(sent_urns - set(deliveries_per_urn)),
        # Our side of "nobody twice": no request was POSTed more than once.
        "posted_twice": sorted(ConnectionRequest.objects.filter(attempts__gt=1).values_list("pk", flat=True)),
        "status_calls": sum(ConnectionRequest.objects.values_list("poll_count", flat=True)),
        "per_sender": per_sender,
    }


def _passes() -> dict:
    from django_q.models import Success, Task

    rows = Task.objects.filter(func="campaigns.tasks.work_sender").order_by("started")
    return {
        "passes": [
            {
                "sender": task.args[0], "started": task.started.isoformat(), "stopped": task.stopped.isoformat(),
                "success": task.success, "result": str(task.result),
            }
            for task in rows
        ],
        "successes_kept": Success.objects.count(),
    }


def _work(seconds: float, turn_lease: float) -> None:
    """`outreach_tick --loop`, with a sender turn's lease shortened to `turn_lease` seconds."""
    import datetime as dt

    from campaigns import models
    from campaigns.worker import run_worker_loop

    models.SENDER_TURN_LEASE = dt.timedelta(seconds=turn_lease)
    print(run_worker_loop(seconds).line())


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    if argv[0] == "seed":
        _seed(int(argv[1]), int(argv[2]), json.loads(argv[3]))
    elif argv[0] == "report":
        print(json.dumps(_report(times=argv[1:] == ["times"])))
    elif argv[0] == "passes":
        print(json.dumps(_passes()))
    elif argv[0] == "work":
        _work(float(argv[1]), float(argv[2]))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
