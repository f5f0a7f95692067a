"""A whole running stack in separate processes: a database of its own, the sandbox served by
gunicorn, and worker processes — for the chaos and race tests and for the benchmarks.

The test database pytest-django makes is invisible to other processes (SQLite in memory),
so this builds its own: a SQLite file, or a fresh PostgreSQL database when DATABASE_URL
points at PostgreSQL. Run as `python -m tests.stack seed N` / `report` inside such an
environment to fill or read it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TERMINAL_STATES = {"sent", "not_sent", "accepted", "skipped", "failed", "uncertain"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: list[subprocess.Popen] = []
        self.base_url = ""

    def manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def run_module(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "-m", "tests.stack", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if done.returncode:
            raise RuntimeError(f"tests.stack {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def seed(self, requests: int, campaigns: int = 3, **sandbox: float) -> None:
        self.run_module("seed", str(requests), str(campaigns), json.dumps(sandbox))

    def report(self) -> dict:
        return json.loads(self.run_module("report"))

    def start_worker(self, seconds: float = 600) -> subprocess.Popen:
        process = subprocess.Popen(
            [PYTHON, "manage.py", "outreach_tick", "--loop", str(seconds)],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()
        self.processes.clear()


@contextmanager
def running_stack(tmp_path: Path, *, database_url: str | None = None, web_workers: int = 2):
    """Migrate a fresh database, serve the sandbox with gunicorn, yield a Stack; clean up after."""
    database_url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
    created_pg = None
    if database_url.startswith("postgres"):
        created_pg = f"outreach_stack_{uuid.uuid4().hex[:10]}"
        admin_connection(database_url, f'CREATE DATABASE "{created_pg}"')
        parts = urlsplit(database_url)
        database_url = urlunsplit(parts._replace(path="/" + created_pg))
    else:
        database_url = f"sqlite:///{tmp_path / 'stack.sqlite3'}"

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OUTX_SANDBOX": "1",
        "OUTX_BASE_URL": f"http://127.0.0.1:{port}/outx-sandbox",
        "OUTX_API_KEY": "sandbox-key",
        "OUTX_SANDBOX_API_KEY": "sandbox-key",
        "OUTX_SANDBOX_TASK_DELAY": "0",
        "OUTX_CONNECT_TIMEOUT": "1",
        "OUTX_READ_TIMEOUT": "2",
        "DJANGO_DEBUG": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    stack = Stack(env)
    server = None
    try:
        stack.manage("migrate", "--no-input")
        server = subprocess.Popen(
            [
                PYTHON, "-m", "gunicorn", "outreach_site.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", str(web_workers), "--threads", "4", "--log-level", "warning",
            ],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_http(f"http://127.0.0.1:{port}/accounts/login/")
        stack.base_url = f"http://127.0.0.1:{port}"
        yield stack
    finally:
        stack.stop()
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if created_pg:
            admin_connection(database_url, f'DROP DATABASE IF EXISTS "{created_pg}" WITH (FORCE)')


def admin_connection(database_url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
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


def wait_until_settled(stack: Stack, timeout: float, poll: float = 1.0) -> dict:
    """Until every request is terminal (or `uncertain`); returns the last report."""
    deadline = time.monotonic() + timeout
    while True:
        report = stack.report()
        if set(report["states"]) <= TERMINAL_STATES or time.monotonic() > deadline:
            return report
        time.sleep(poll)


# --- Run inside the stack's environment ----------------------------------------------------


def _seed(requests: int, campaigns: int, sandbox_fields: dict) -> None:
    import datetime as dt

    from django.contrib.auth.models import User

    from campaigns.models import Campaign, ConnectionRequest, Prospect, SendingAccount
    from outx_sandbox.models import SandboxSettings

    account = SendingAccount.get()
    account.working_days = [0, 1, 2, 3, 4, 5, 6]
    account.work_start, account.work_end = dt.time(0, 0), dt.time(23, 59, 59)
    account.min_spacing_seconds = account.max_spacing_seconds = 0
    # Pacing off: no caps (invitations, weekly, OutX's hourly actions), no spacing.
    account.daily_limit = account.weekly_limit = account.hourly_action_limit = 1000  # the most allowed
    account.save()
    sandbox = SandboxSettings.get()
    for name, value in sandbox_fields.items():
        setattr(sandbox, name, value)
    sandbox.save()

    owner, _ = User.objects.get_or_create(username="stack")
    all_campaigns = [
        Campaign.objects.create(name=f"Stack {i}", owner=owner, state=Campaign.State.ACTIVE) for i in range(campaigns)
    ]
    prospects = Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAStack{i:07d}", first_name=f"P{i}") for i in range(requests)
    )
    ConnectionRequest.objects.bulk_create(
        ConnectionRequest(campaign=all_campaigns[i % campaigns], prospect=prospect, note=f"Hi P{i}")
        for i, prospect in enumerate(prospects)
    )


def _report() -> dict:
    from django.db.models import Count

    from campaigns.models import ConnectionRequest
    from outx_sandbox.extension import complete_due_tasks
    from outx_sandbox.models import Delivery, SandboxTask

    complete_due_tasks()
    tasks_per_urn = Counter(
        SandboxTask.objects.filter(task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST)
        .values_list("task_input__profile_urn", flat=True)
    )
    deliveries_per_urn = Counter(Delivery.objects.values_list("profile_urn", flat=True))
    sent_urns = set(
        ConnectionRequest.objects.filter(state="sent").values_list("prospect__profile_urn", flat=True)
    )
    return {
        "states": dict(ConnectionRequest.objects.values_list("state").annotate(n=Count("id")).order_by()),
        "requests": ConnectionRequest.objects.count(),
        "tasks": sum(tasks_per_urn.values()),
        "invited_twice": sorted(urn for urn, n in tasks_per_urn.items() if n > 1),
        "delivered_twice": sorted(urn for urn, n in deliveries_per_urn.items() if n > 1),
        "sent_without_delivery": sorted(sent_urns - set(deliveries_per_urn)),
        "status_calls": sum(ConnectionRequest.objects.values_list("poll_count", flat=True)),
    }


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    if argv[0] == "seed":
        _seed(int(argv[1]), int(argv[2]), json.loads(argv[3]))
    elif argv[0] == "report":
        print(json.dumps(_report()))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
