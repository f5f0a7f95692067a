"""django-q2 task entry points: plain functions with plain arguments that call services.

The schedule that runs `dispatch_senders` every minute is created by migrations 0002 and 0013;
it enqueues `work_sender` for each sender whose work is due.
"""

from django.utils import timezone

from .models import Campaign, Sender
from .worker import dispatch_loop, run_worker_loop, work_sender as work_one_sender

# Each scheduled run dispatches for this long, then ends before the next one starts. It must
# stay well below Q_CLUSTER["timeout"] (120 s), after which django-q2 would kill it.
WORKER_RUN_SECONDS = 55


def dispatch_senders(seconds: float = WORKER_RUN_SECONDS) -> str:
    restarted = restart_stalled_note_renders()
    line = f"Handed out {dispatch_loop(seconds)} sender passes."
    return line + (f" Restarted {restarted} note renders." if restarted else "")


def render_notes(campaign_id: int, version: int, after_id: int = 0) -> str:
    """Place a long queue over its campaign's senders and re-render its notes after an edit or
    a sender's retirement (Campaign.start_note_render), for at most NOTE_RENDER_TASK_SECONDS;
    the rest goes to a new task, so none nears django-q2's timeout."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return f"Campaign {campaign_id} no longer exists."
    last_id = campaign.continue_note_render(version, after_id, seconds=Campaign.NOTE_RENDER_TASK_SECONDS)
    if last_id is not None:
        campaign.enqueue_note_render(version, last_id)
        return f"{campaign.name}: notes rendered through request {last_id}, continuing."
    campaign.refresh_from_db(fields=["notes_version", "notes_rendered"])
    if campaign.notes_version != version:
        return f"{campaign.name}: notes version {version} superseded by {campaign.notes_version}."
    return f"{campaign.name}: {campaign.notes_rendered:,} notes rendered (version {version})."


def restart_stalled_note_renders() -> int:
    """A render whose task died (killed, a lost broker message) would hold the campaign's
    queue back for ever: start it again from the beginning, under a new version (the batches
    already placed and rendered are read again, not written)."""
    stalled = Campaign.objects.filter(
        notes_render_started_at__isnull=False,
        notes_render_beat_at__lt=timezone.now() - Campaign.NOTE_RENDER_STALLED_AFTER,
    )
    restarted = 0
    for campaign in stalled:
        campaign.start_note_render(campaign.queued_count())
        restarted += 1
    return restarted


def work_sender(sender_id: int) -> str:
    sender = Sender.objects.filter(pk=sender_id).first()
    if sender is None:
        return f"Sender {sender_id} no longer exists."
    return f"{sender.name}: {work_one_sender(sender).line()}"


def run_worker(seconds: float = WORKER_RUN_SECONDS) -> str:
    """Every sender's passes in one process, looping (a single-process install's alternative)."""
    return run_worker_loop(seconds).line()
