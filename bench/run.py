"""`make bench`: build a stack with its own data, run the benchmarks, print one table and
write it to docs/benchmarks.md. Figures only: nothing here passes or fails on time."""

from __future__ import annotations

import json
import platform
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from tests.stack import PYTHON, ROOT, running_stack


def machine() -> str:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")), "")
    import os

    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores {cpu}, Python {platform.python_version()}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), database_url="") as stack:
        # 300 requests: enough for a steady rate, short enough for a 2-core machine.
        stack.seed(300, campaigns=3)
        done = subprocess.run(
            [PYTHON, "-m", "bench.worker_bench", "300"], cwd=ROOT, env=stack.env,
            capture_output=True, text=True,
        )
    if done.returncode:
        raise SystemExit(f"The worker benchmark failed:\n{done.stdout}\n{done.stderr}")
    results = json.loads(done.stdout.strip().splitlines()[-1])
    t = results["throughput"]
    lines = [
        f"# Benchmarks\n",
        f"Measured {date.today()} on {machine()}; SQLite, sandbox under gunicorn on loopback.\n",
        "## Worker throughput (pacing off, zero-delay sandbox)\n",
        "| calls | plain httpx loop | worker | worker / plain |",
        "|---|---|---|---|",
        f"| submit ({t['requests']} POSTs) | {t['plain_post_per_s']:.0f}/s | {t['worker_submit_per_s']:.0f}/s | {t['submit_ratio']:.2f} |",
        f"| poll ({t['requests']} GETs) | {t['plain_get_per_s']:.0f}/s | {t['worker_poll_per_s']:.0f}/s | {t['poll_ratio']:.2f} |",
        "",
        "## Polling: status calls per completed task and delay to notice completion (simulated clock)\n",
        "| task takes | status calls per task | mean delay | max delay |",
        "|---|---|---|---|",
    ]
    for p in results["polling"]:
        lines.append(
            f"| {p['task_seconds']:g} s | {p['calls_per_task']:.1f} | {p['mean_delay_s']:.1f} s | {p['max_delay_s']:.1f} s |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table)
    print(f"Written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
