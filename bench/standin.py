"""A zero-delay OutX stand-in for the worker's benchmark: the endpoints of docs/outx-api.md,
answered at once from memory by a bare asyncio server (HTTP/1.1, keep-alive), in a process of
its own. Not the Django sandbox: no database, no middleware, no switches, so what a benchmark
measures against it is the client's own cost.

Every POST creates a task; every task is completed when first asked about: an invitation or a
message `{"sent": true}`, a profile look-up a profile, a connections read an empty list, a
search no profiles. Any key is accepted.

`python -m bench.standin [port]` serves until stopped, printing its port first;
`with running() as url:` serves in a child process for the duration of the block.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

# What a completed task of each POST reports.
OUTPUTS = {
    "/linkedin-agent/send-connection-request": {"sent": True},
    "/linkedin-agent/send-message": {"sent": True},
    "/linkedin-agent/fetch-connections": {"connections": []},
    "/linkedin-agent/search-profiles": {"profiles": []},
}


def profile_output(body: dict) -> dict:
    slug = str(body.get("profile_slug") or "someone")
    return {"name": "Stand In", "profile_urn": f"urn:li:fsd_profile:ACoAA{uuid.uuid5(uuid.NAMESPACE_URL, slug).hex[:12]}"}


TASKS: dict[str, tuple[str, dict, dict]] = {}


def respond(method: str, target: str, body: bytes) -> tuple[int, dict]:
    """OutX's answer to one request: (status, JSON payload)."""
    url = urlsplit(target)
    if method == "POST":
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": "Invalid JSON"}
        if url.path == "/linkedin-agent/fetch-profile":
            output = profile_output(fields)
        elif url.path in OUTPUTS:
            output = OUTPUTS[url.path]
        else:
            return 404, {"error": "Not found"}
        task_id = str(uuid.uuid4())
        TASKS[task_id] = (url.path, fields, output)
        return 200, {"success": True, "api_agent_task_id": task_id, "message": "Task created successfully"}
    if method == "GET" and url.path == "/linkedin-agent/get-task-status":
        task_id = (parse_qs(url.query).get("api_agent_task_id") or [""])[0]
        task = TASKS.get(task_id)
        if task is None:
            return 404, {"error": "Agent task not found"}
        path, fields, output = task
        return 200, {"success": True, "data": {
            "id": task_id, "status": "completed", "task_input": {"task_type": path.rsplit("/", 1)[-1], **fields},
            "task_output": output,
        }}
    return 405 if method not in ("GET", "POST") else 404, {"error": "Not found"}


class OutxProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for an HTTP client: the request line, the headers'
    Content-Length, the body; one write per answer."""

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4:head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length:]
            method, target, _ = head[0].split(" ", 2)
            status, payload = respond(method, target, body)
            content = json.dumps(payload).encode()
            self.transport.write(
                f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(content)}\r\n\r\n".encode() + content
            )


REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


def serve(port: int = 0) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(OutxProtocol, "127.0.0.1", port)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


@contextmanager
def running():
    """The stand-in in a child process; yields its base URL."""
    child = subprocess.Popen([sys.executable, "-m", "bench.standin"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(child.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)


def wait_until_up(url: str, seconds: float = 10.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(f"{url}/linkedin-agent/get-task-status", params={"api_agent_task_id": "none"})
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
