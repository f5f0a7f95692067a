"""Run the web server and the worker together in the foreground, as `make run` does.

Both run as child processes in sessions of their own, so a Ctrl-C in the terminal reaches
only this command, which then stops them in order: the web server at once, the worker
through its own shutdown (django-q2 finishes the task at hand and stops its processes).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

# How long the children get to stop after SIGTERM before they are killed.
STOP_TIMEOUT_SECONDS = 20


class Command(BaseCommand):
    help = "Run the web server and the django-q2 worker together; Ctrl-C stops both."
    requires_system_checks = []  # runserver and qcluster run them

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--port", type=int, default=None,
            help="Port of the web server on 127.0.0.1 (default: the PORT setting, %(default)s).",
        )

    def handle(self, *args, port: int | None, **options) -> None:
        port = port or settings.PORT
        self.stop_signals = 0
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGTERM, self.on_signal)

        manage = str(Path(settings.BASE_DIR) / "manage.py")
        # Both children read PORT, so the default OutX base URL (the built-in sandbox) points
        # at this server even when --port differs from the environment.
        env = {**os.environ, "PORT": str(port)}
        # Created when stopping: the worker's loop sees it and ends its pass early (worker.py).
        self.stop_dir = tempfile.TemporaryDirectory(prefix="outreach-")
        self.stop_file = Path(self.stop_dir.name) / "stop"
        env["OUTREACH_WORKER_STOP_FILE"] = str(self.stop_file)
        children: dict[str, subprocess.Popen] = {}
        failure = ""
        try:
            children["web server"] = self.start(
                [sys.executable, manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env
            )
            children["worker"] = self.start([sys.executable, manage, "qcluster"], env)
            if self.wait_until_listening(port, children):
                self.announce(port)
            while not self.stop_signals and not failure:
                for name, child in children.items():
                    if child.poll() is not None:
                        failure = f"The {name} exited (code {child.returncode}); stopping."
                time.sleep(0.2)
        finally:
            if failure:
                self.stderr.write(failure)
            self.stop(children)
            self.stop_dir.cleanup()
        if failure:
            raise CommandError("Stopped because a child process exited.")
        self.stdout.write("Stopped the web server and the worker.")

    def on_signal(self, signum, frame) -> None:
        self.stop_signals += 1
        if self.stop_signals == 1:
            self.stdout.write("\nStopping the web server and the worker… (Ctrl-C again to kill them)")

    def start(self, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        # A session of its own: the terminal's Ctrl-C reaches this command only, which stops
        # the children in order, instead of interrupting the worker mid-task.
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_until_listening(self, port: int, children: dict[str, subprocess.Popen]) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.stop_signals:
            if any(child.poll() is not None for child in children.values()):
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.2)
        return False

    def announce(self, port: int) -> None:
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\nOutreach is running at {url}"))
        if self.demo_login_works():
            self.stdout.write(self.style.SUCCESS(f"Log in at {url} as demo / demo"))
        self.stdout.write("The worker runs beside it. Press Ctrl-C to stop both.\n")

    def demo_login_works(self) -> bool:
        try:
            user = get_user_model().objects.filter(username="demo", is_active=True).first()
        except DatabaseError:
            return False
        return user is not None and user.check_password("demo")

    def stop(self, children: dict[str, subprocess.Popen]) -> None:
        web, worker = children.get("web server"), children.get("worker")
        if web is not None and web.poll() is None:
            web.terminate()
        self.stop_file.touch()
        if worker is not None and worker.poll() is None:
            # The qcluster's main process only: it stops its own processes in order. Signalling
            # its whole process group makes django-q2 hang.
            worker.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        first_signals = self.stop_signals
        while time.monotonic() < deadline and self.stop_signals <= max(first_signals, 1):
            if not any(self.running(child) for child in children.values()):
                return
            time.sleep(0.1)
        for name, child in children.items():
            if self.running(child):
                self.stderr.write(f"The {name} did not stop in time; killing it.")
                # Now the whole process group, to take the worker's processes with it.
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.wait()

    @staticmethod
    def running(child: subprocess.Popen) -> bool:
        """Is the child, or any process of its group (its own session), still alive?"""
        if child.poll() is None:
            return True
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
