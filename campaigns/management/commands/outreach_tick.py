from django.core.management.base import BaseCommand

from campaigns.worker import run_tick, run_worker_loop


class Command(BaseCommand):
    help = (
        "Run the worker once, synchronously: submit what pacing allows, poll what is due, "
        "print a one-line summary. The scheduled worker runs the same code."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", default=0,
            help="Keep ticking for this many seconds, as the scheduled worker does.",
        )

    def handle(self, *args, loop: float, **options) -> None:
        summary = run_worker_loop(loop) if loop > 0 else run_tick()
        self.stdout.write(summary.line())
