"""The note preview at 20,000 queued prospects: what one keystroke in the note editor costs.

Three parts, run in different processes (see bench/run.py):
- `python -m bench.note_preview_bench seed N PASSWORD`, inside the server's environment, adds a
  draft campaign with N queued prospects (varied names, a few without a first name, a few with
  long company names) and the user who logs in;
- `python -m bench.note_preview_bench render-every-note CAMPAIGN_ID RUNS`, the baseline: the
  preview as it was computed before QueuedNotes, every queued note rendered in Python
  (`Campaign.rendered_notes`), timed in process, so without the request's own cost;
- `measure()`, in the orchestrating process, times the preview request over HTTP as the editor
  sends it (htmx, the template being typed).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from urllib.parse import urlencode

from bench.pages_bench import USERNAME, Browser, percentiles, prospect_fields

QUEUED = 20_000
BATCH = 5_000
# The editor sends the template being typed; this one has a variable without fallback, so some
# notes cannot be rendered, and a company long enough makes a few notes too long.
TEMPLATE = (
    "Hi {first_name}, I came across your work as {title|a leader} at {company|your company} and would "
    "be glad to connect: we help sales teams like yours keep their outreach personal. Best, Ada"
)
FIRST_PERSON = 80_000_000  # far above the other benchmarks' people: every one is new


def seed(queued: int, password: str) -> dict:
    from django.contrib.auth.models import User

    from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender

    started = time.perf_counter()
    user = User.objects.filter(username=USERNAME).first() or User.objects.create_superuser(
        USERNAME, "bench@example.com", password
    )
    Sender.get()
    campaign = Campaign.objects.create(name="Bench note preview", owner=user, note_template=TEMPLATE)
    rng = random.Random(queued)
    for start in range(0, queued, BATCH):
        prospects = []
        for i in range(FIRST_PERSON + start, FIRST_PERSON + min(start + BATCH, queued)):
            fields = prospect_fields(i, rng)
            if rng.random() < 0.02:
                fields["first_name"] = ""
            elif rng.random() < 0.05:
                fields["first_name"] += " 😀"
            if rng.random() < 0.001:
                fields["company"] = "Initech Worldwide Holdings " * 7
            prospects.append(Prospect(**fields))
        prospects = Prospect.objects.bulk_create(prospects)
        ConnectionRequest.objects.bulk_create(ConnectionRequest(campaign=campaign, prospect=p) for p in prospects)
    return {"campaign_id": campaign.pk, "queued": campaign.requests.count(), "seconds": time.perf_counter() - started}


def render_every_note(campaign_id: int, runs: int) -> dict:
    """The baseline: NotePreview's figures from every queued note rendered, as before."""
    from campaigns.models import Campaign
    from campaigns.views.notes import PROBLEMS_SHOWN

    campaign = Campaign.objects.get(pk=campaign_id)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        notes = campaign.rendered_notes(TEMPLATE)
        with_problem = [note for note in notes if note.problem]
        rendered = [note for note in notes if note.length]
        max(rendered, key=lambda note: note.length, default=None)
        with_problem[:PROBLEMS_SHOWN], sum(note.blocks_launch for note in with_problem)
        times.append((time.perf_counter() - started) * 1000)
    return {**percentiles(times), "problems": len(with_problem)}


def measure(browser: Browser, campaign_id: int, timed: int, warm_up: int = 3) -> dict:
    """The preview request as the editor sends it, `warm_up` times untimed then `timed` times."""
    url = f"/campaigns/{campaign_id}/note-preview/?" + urlencode({"note_template": TEMPLATE})
    times = []
    for round_number in range(warm_up + timed):
        started = time.perf_counter()
        answer = browser.get(url, HX_Request="true")
        elapsed = time.perf_counter() - started
        if answer.status_code != 200 or "queued prospects" not in answer.text:
            raise RuntimeError(f"The note preview answered {answer.status_code}:\n{answer.text[:2000]}")
        if round_number >= warm_up:
            times.append(elapsed * 1000)
    return {**percentiles(times), "bytes": len(answer.content)}


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    if argv[0] == "seed":
        print(json.dumps(seed(int(argv[1]), argv[2])))
    elif argv[0] == "render-every-note":
        print(json.dumps(render_every_note(int(argv[1]), int(argv[2]))))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
