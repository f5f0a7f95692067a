"""django-q2 task entry points: plain functions with plain arguments that call services.

The schedule that runs `dispatch_senders` every minute is created by migrations 0002 and 0013;
it enqueues `work_sender` for each sender whose work is due.
"""

from .models import Sender
from .worker import dispatch_loop, run_worker_loop, work_sender as work_one_sender

# Each scheduled run dispatches for this long, then ends before the next one starts. It must
# stay well below Q_CLUSTER["timeout"] (120 s), after which django-q2 would kill it.
WORKER_RUN_SECONDS = 55


def dispatch_senders(seconds: float = WORKER_RUN_SECONDS) -> str:
    return f"Handed out {dispatch_loop(seconds)} sender passes."


def work_sender(sender_id: int) -> str:
    sender = Sender.objects.filter(pk=sender_id).first()
    if sender is None:
        return f"Sender {sender_id} no longer exists."
    return f"{sender.name}: {work_one_sender(sender).line()}"


def run_worker(seconds: float = WORKER_RUN_SECONDS) -> str:
    """Every sender's passes in one process, looping (a single-process install's alternative)."""
    return run_worker_loop(seconds).line()
