"""django-q2 task entry points: plain functions with plain arguments that call services.

The schedule that runs `run_worker` every minute is created by migration 0002.
"""

from .worker import run_worker_loop

# Each scheduled run ticks for this long, then ends before the next one starts. It must stay
# well below Q_CLUSTER["timeout"] (120 s), after which django-q2 would kill it mid-call.
WORKER_RUN_SECONDS = 55


def run_worker(seconds: float = WORKER_RUN_SECONDS) -> str:
    return run_worker_loop(seconds).line()
