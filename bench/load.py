"""Load on one URL at a given concurrency: p50, p95 and requests per second.

`hey` (Debian's package, a Go load generator) when it is installed, since on a 2-core machine a
Python client's own CPU time would eat into the server's; otherwise threads with httpx. Each
request's time is from sending it to having the whole body; requests answered with another
status than the expected one are counted, not timed.
"""

from __future__ import annotations

import csv
import io
import shutil
import statistics
import subprocess
import threading
import time

import httpx


def tool() -> str:
    return "hey" if shutil.which("hey") else "python threads + httpx"


def percentiles(samples_ms: list[float]) -> dict:
    if len(samples_ms) < 2:
        only = samples_ms[0] if samples_ms else float("nan")
        return {"p50": only, "p95": only, "n": len(samples_ms)}
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": statistics.median(samples_ms), "p95": cuts[94], "n": len(samples_ms)}


def measure(url: str, headers: dict[str, str], concurrency: int, *, requests: int | None = None,
            seconds: float | None = None, expect: int = 200) -> dict:
    """Load `url` with `concurrency` clients for `requests` requests or `seconds` seconds."""
    if shutil.which("hey"):
        return _hey(url, headers, concurrency, requests, seconds, expect)
    return _threads(url, headers, concurrency, requests, seconds, expect)


def _figures(times_ms: list[float], statuses: list[int], wall_s: float, expect: int) -> dict:
    good = [t for t, status in zip(times_ms, statuses) if status == expect]
    return {
        **percentiles(good),
        "rps": len(good) / wall_s if wall_s else 0.0,
        "unexpected": len(statuses) - len(good),
        "statuses": sorted(set(statuses)),
    }


def _hey(url, headers, concurrency, requests, seconds, expect) -> dict:
    args = ["hey", "-c", str(concurrency), "-o", "csv", "-t", "120", "-disable-redirects", "-disable-compression"]
    args += ["-z", f"{seconds}s"] if seconds else ["-n", str(max(requests, concurrency))]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=(seconds or 0) + 600)
    if done.returncode:
        raise RuntimeError(f"hey failed: {done.stderr[:2000]}")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    times = [float(row["response-time"]) * 1000 for row in rows]
    statuses = [int(row["status-code"]) for row in rows]
    # offset: when the request started, from the run's start; the run ends with its last answer.
    wall = max((float(row["offset"]) + float(row["response-time"]) for row in rows), default=0.0)
    return _figures(times, statuses, wall, expect)


def _threads(url, headers, concurrency, requests, seconds, expect) -> dict:
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    left = [requests or 0]
    deadline = time.perf_counter() + seconds if seconds else None

    def client() -> None:
        with httpx.Client(timeout=120, headers=headers) as http:
            while True:
                with lock:
                    if deadline is None:
                        if left[0] <= 0:
                            return
                        left[0] -= 1
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                started = time.perf_counter()
                status = http.get(url).status_code
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    times.append(elapsed)
                    statuses.append(status)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _figures(times, statuses, time.perf_counter() - started, expect)
