"""django-q2 task entry points for webhooks: plain functions that call the delivery service.

Migration 0002 schedules `deliver_due` every minute; each event also enqueues it once its
transaction commits (webhooks/outbox.py), so deliveries go out at once when a cluster runs.
"""

from django.utils import timezone

from .delivery import deliver_due as deliver_due_deliveries
from .delivery import prune

# One run delivers for at most this long (then the try in flight, bounded by the client's
# timeouts), well below Q_CLUSTER["timeout"] (120 s), itself below its "retry" (180 s).
DELIVER_RUN_SECONDS = 50
DELIVER_RUN_LIMIT = 200


def deliver_due(seconds: float = DELIVER_RUN_SECONDS, limit: int = DELIVER_RUN_LIMIT) -> str:
    line = deliver_due_deliveries(seconds=seconds, limit=limit).line()
    pruned = prune(timezone.now())
    return f"{line} {pruned} old messages deleted." if pruned else line
