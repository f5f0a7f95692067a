"""A real HTTP receiver for webhook tests: a ThreadingHTTPServer on 127.0.0.1 in a thread that
records every request and answers with the statuses a test queues (200 once they run out).
Its `verified()` checks a request's signature with standardwebhooks, as a receiver would."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> dict:
        """The body, parsed, once its signature checks out with this secret (raises if not)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    answer = receiver.answers.pop(0) if receiver.answers else Answer()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                try:
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client read what it wanted and hung up

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, *statuses: int | Answer) -> None:
        with self.lock:
            self.answers.extend(s if isinstance(s, Answer) else Answer(s) for s in statuses)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def running_receiver(settings):
    """The receiver, running; private URLs allowed, since it listens on 127.0.0.1. Test
    modules make it their `receiver` fixture: `yield from running_receiver(settings)`."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def receiver(settings):
    yield from running_receiver(settings)


def test_the_receiver_records_answers_and_refuses_a_forged_signature(receiver):
    import datetime as dt

    from webhooks.delivery import signed_headers
    from webhooks.models import new_secret

    secret, other = new_secret(), new_secret()
    body = '{"type":"invitation.sent","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    receiver.answer(500)
    headers = signed_headers(secret, "msg_test", body, dt.datetime.now(dt.timezone.utc))
    assert httpx.post(receiver.url(), content=body, headers=headers).status_code == 500
    assert httpx.post(receiver.url(), content=body, headers=headers).status_code == 200
    first = receiver.received[0]
    assert first.verified(secret)["type"] == "invitation.sent"
    with pytest.raises(WebhookVerificationError):
        first.verified(other)
    with pytest.raises(WebhookVerificationError):
        Received(first.path, first.headers, first.body.replace(b"sent", b"tent")).verified(secret)
