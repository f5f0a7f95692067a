"""Peak memory (the kernel's high-water mark of resident memory) of a web process and a worker.

- A gunicorn worker: its VmHWM from /proc, read by the orchestrator after the page benchmark.
- The worker: `python -m bench.memory_bench queue N` queues N people, then
  `python -m bench.memory_bench worker SECONDS` runs `manage.py outreach_tick --loop SECONDS`
  as its only child, which submits and polls them, and prints the child's peak RSS (getrusage).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path


def vm_hwm_mib(pid: int) -> float:
    """The process's peak resident memory so far, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"No VmHWM for process {pid}")


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers under its master)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue  # the process ended meanwhile
        if int(fields.get("PPid", "0").strip()) == pid:
            found.append(int(status.parent.name))
    return found


def queue_requests(count: int) -> None:
    """Queue `count` new people in a new active campaign, for the worker to work through."""
    import django

    django.setup()
    from django.contrib.auth.models import User

    from bench.worker_bench import pacing_off
    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender

    pacing_off()
    sender = Sender.objects.working().order_by("pk").first() or Sender.get()
    owner, _ = User.objects.get_or_create(username="bench-memory")
    campaign = Campaign.objects.create(name="Memory bench", owner=owner, state=Campaign.State.ACTIVE)
    campaign.senders.set([sender])
    prospects = Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAMemory{i:07d}", first_name=f"M{i}") for i in range(count)
    )
    ConnectionRequest.objects.bulk_create(
        ConnectionRequest(campaign=campaign, prospect=prospect, sender=sender, note=f"Hi M{i}")
        for i, prospect in enumerate(prospects)
    )


def worker_peak(seconds: float) -> dict:
    from tests.stack import PYTHON, ROOT

    done = subprocess.run(
        [PYTHON, "manage.py", "outreach_tick", "--loop", str(seconds)], cwd=ROOT, capture_output=True, text=True,
    )
    if done.returncode:
        raise SystemExit(f"outreach_tick failed:\n{done.stdout}\n{done.stderr}")
    # ru_maxrss of the children: the largest of them, and this process has just the one.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"peak_mib": peak_kib / 1024, "summary": done.stdout.strip().splitlines()[-1]}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    if sys.argv[1] == "queue":
        queue_requests(int(sys.argv[2]))
    elif sys.argv[1] == "worker":
        print(json.dumps(worker_peak(float(sys.argv[2]))))
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
