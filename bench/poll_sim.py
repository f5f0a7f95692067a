"""Status calls per task on a simulated clock: the worker's polling rules (campaigns/pacing.py)
against an OutX whose extension works only while its browser is open.

One sender submits a task every 2–5 minutes (the default spacing). Its browser alternates
between closed, for about the scenario's task time (3 s, 1 min, 1 h, ±20%), and open while the
extension performs the waiting tasks, oldest first, one every 3 s, and 30 s more. The worker
passes every second, as the dispatcher does, and applies the same rules as
campaigns/lifecycle.py: the sender's oldest pending task is asked about on a schedule growing
with its age, the others are parked until a finished task wakes them (or the oldest OutX has
said is pending has waited long enough at a submission to park the new task at once).

Prints, per scenario: status calls per completed task, the mean delay between a task finishing
at OutX and the worker knowing it, and the shortest gap between two calls for one task.
`python -m bench.poll_sim [--old]` (`--old`: every task on its own doubling schedule, as before).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import sys
from dataclasses import dataclass, field

OPEN_FOR = 30.0  # seconds the browser stays open once the extension has nothing left to do
ACTION_SECONDS = 3.0  # the extension performs one task every 3 s while open
SPACING = (120.0, 300.0)  # seconds between two submissions


@dataclass
class Task:
    created: float
    next_poll: float
    done_at: float | None = None  # when OutX finished it
    noticed_at: float | None = None  # when the worker learned it
    polls: list[float] = field(default_factory=list)


def seconds(delta: dt.timedelta) -> float:
    return delta.total_seconds()


def simulate(task_seconds: float, *, hours: float = 24.0, seed: int = 1, old_rules: bool = False) -> dict:
    from campaigns import pacing

    rng = random.Random(seed)
    end = hours * 3600
    tasks: list[Task] = []
    # The browser: closed for ~task_seconds, then open until the extension has been idle for
    # OPEN_FOR, again and again.
    opens_at = task_seconds * rng.uniform(0.8, 1.2)
    closes_at = opens_at + OPEN_FOR
    extension_free_at = 0.0
    next_submission = 0.0
    now = 0.0
    while now < end or any(task.noticed_at is None for task in tasks):
        if now >= closes_at:
            opens_at = now + task_seconds * rng.uniform(0.8, 1.2)
            closes_at = opens_at + OPEN_FOR
        # OutX: while the browser is open the extension performs the oldest waiting task.
        if opens_at <= now < closes_at and extension_free_at <= now:
            waiting = [task for task in tasks if task.done_at is None and task.created <= now]
            if waiting:
                task = min(waiting, key=lambda task: task.created)
                task.done_at = now + ACTION_SECONDS
                extension_free_at = task.done_at
                closes_at = max(closes_at, task.done_at + OPEN_FOR)
        # The worker's pass: submit when the spacing allows, then poll what is due.
        pending = [task for task in tasks if task.noticed_at is None]
        if now < end and now >= next_submission:
            oldest_since = min((task.created for task in pending if task.polls), default=None)
            finished_lately = any(
                task.noticed_at is not None and now - task.noticed_at < seconds(pacing.STALLED_AFTER) for task in tasks[-50:]
            )
            since = None if oldest_since is None else dt.timedelta(seconds=oldest_since)
            stalled = not old_rules and pacing.is_stalled(since, dt.timedelta(seconds=now), finished_lately=finished_lately)
            delay = seconds(pacing.PARKED_POLL_INTERVAL) if stalled else seconds(pacing.MIN_POLL_INTERVAL)
            tasks.append(Task(created=now, next_poll=now + delay))
            next_submission = now + rng.uniform(*SPACING)
            pending = [task for task in tasks if task.noticed_at is None]
        oldest = min(pending, key=lambda task: task.created, default=None)
        finished: list[Task] = []
        for task in sorted((task for task in pending if task.next_poll <= now), key=lambda task: task.next_poll):
            task.polls.append(now)
            if task.done_at is not None and task.done_at <= now:
                task.noticed_at = now
                finished.append(task)
                continue
            age = dt.timedelta(seconds=now - task.created)
            if old_rules:
                delay = pacing.next_poll_delay(age)
            else:
                delay = pacing.task_poll_delay(age, oldest=task is oldest)
            task.next_poll = now + seconds(delay)
        if finished and not old_rules:
            # Wake the parked tasks older than the newest finished one, and the next few.
            newest_done = max(task.created for task in finished)
            still = sorted((task for task in pending if task.noticed_at is None), key=lambda task: task.created)
            wake_at = now + seconds(pacing.WAKE_AFTER)
            for rank, task in enumerate(still):
                if (task.created <= newest_done or rank < pacing.tasks_to_wake(len(finished))) and task.next_poll > wake_at:
                    task.next_poll = wake_at
        now += 1.0
    done = [task for task in tasks if task.noticed_at is not None]
    gaps = [b - a for task in done for a, b in zip(task.polls, task.polls[1:])]
    return {
        "task_seconds": task_seconds,
        "tasks": len(done),
        "mean_task_s": round(statistics.mean(task.done_at - task.created for task in done), 1),
        "calls_per_task": round(sum(len(task.polls) for task in done) / len(done), 2),
        "mean_delay_s": round(statistics.mean(task.noticed_at - task.done_at for task in done), 1),
        "max_delay_s": max(task.noticed_at - task.done_at for task in done),
        "min_gap_s": min(gaps) if gaps else None,
    }


def main() -> None:
    old = "--old" in sys.argv
    for task_seconds in (3, 60, 3600):
        print(json.dumps(simulate(task_seconds, old_rules=old)))


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    main()
