"""Importing prospects from a CSV file through the product's own code path, beside a bare
bulk_create of the same rows. Run inside a stack's environment (see bench/run.py):

    python -m bench.import_bench 10000

The product's path is what the import page does once a person has confirmed the mapping:
read_csv → guess_mapping → rows_to_prospects → save_batch into a fresh campaign, which looks
every row up among the known prospects, creates the new ones and their queued requests, and
renders every note. The page takes at most MAX_CSV_ROWS rows per file; here the code is
called directly with a larger file, so that limit is lifted for this process only.

The bare path creates the same Prospect rows and one queued ConnectionRequest each, with
bulk_create into another fresh campaign, and nothing else: the floor for writing those rows.
Each runs three times, alternating, on new people each time; the median counts. The goal
(issue 14): ours at least half as fast as the bare path, `ratio` (ours / bare) at most 2.

With `--queued N`, the product's import goes into a campaign that already has N queued
invitations (written beforehand, not timed): adding must not read or rewrite that queue.

`python -m bench.import_bench --edits 25000` measures the edits instead (`edit_figures`):
adding 10 prospects to an empty campaign and to one with that many queued (queries, rows read,
ms), and a note edit of the long one: the request, then the task that re-renders its queue.

The bench runner may call `measure(rows, runs=RUNS, queued=0) -> dict` and
`edit_figures(queued=25_000, added=10) -> dict` in a process with Django set up.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import statistics
import sys
import time

import django

RUNS = 3


def csv_file(first: int, rows: int) -> bytes:
    """A Sales Navigator-like export of `rows` invented people, numbered from `first`."""
    from bench.pages_bench import prospect_fields

    rng = random.Random(first)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["First Name", "Last Name", "Company", "Title", "Headline", "Location", "LinkedIn URL", "Profile URN"])
    for i in range(first, first + rows):
        p = prospect_fields(i, rng)
        writer.writerow([p["first_name"], p["last_name"], p["company"], p["title"], p["headline"],
                         p["location"], p["profile_url"], p["profile_urn"]])
    return out.getvalue().encode("utf-8")


def fresh_campaign(name: str):
    from django.contrib.auth.models import User

    from bench.pages_bench import NOTE_TEMPLATE
    from campaigns.models import Campaign

    owner, _ = User.objects.get_or_create(username="bench-import")
    return Campaign.objects.create(name=name, owner=owner, note_template=NOTE_TEMPLATE)


def queue_in(campaign, n: int, first: int) -> None:
    """`n` queued invitations, notes stored, written in bulk (not timed)."""
    from campaigns.models import ConnectionRequest, Prospect

    prospects = Prospect.objects.bulk_create(
        (Prospect(profile_urn=f"urn:li:fsd_profile:ACoAABenchQueue{first + i:09d}", first_name=f"Q{i}", company="Acme")
         for i in range(n)), batch_size=1000,
    )
    ConnectionRequest.objects.bulk_create(
        (ConnectionRequest(campaign=campaign, prospect=p) for p in prospects), batch_size=1000
    )
    campaign.spread_queued_over_senders()
    campaign.render_queued_notes()


def import_through_product(data: bytes, run: int, queued: int = 0, first_queued: int = 0) -> float:
    from campaigns import importing

    campaign = fresh_campaign(f"Import bench {run}")
    if queued:
        queue_in(campaign, queued, first_queued)
    started = time.perf_counter()
    table = importing.read_csv(data)
    mapping = importing.guess_mapping(table.headers, table.rows)
    entries, rejected = importing.rows_to_prospects(table.rows, mapping)
    result, _ = importing.save_batch(campaign, entries)
    seconds = time.perf_counter() - started
    assert not rejected and result.added == len(table.rows), (len(rejected), result.added)
    return seconds


def bare_bulk_create(data: bytes, run: int) -> float:
    from django.db import transaction

    from campaigns.models import ConnectionRequest, Prospect

    campaign = fresh_campaign(f"Bare bench {run}")
    started = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    next(reader)
    with transaction.atomic():
        prospects = Prospect.objects.bulk_create(
            Prospect(first_name=first, last_name=last, company=company, title=title, headline=headline,
                     location=location, profile_url=url, profile_urn=urn)
            for first, last, company, title, headline, location, url, urn in reader
        )
        ConnectionRequest.objects.bulk_create(
            ConnectionRequest(campaign=campaign, prospect=prospect) for prospect in prospects
        )
    return time.perf_counter() - started


def measure(rows: int = 10_000, runs: int = RUNS, queued: int = 0) -> dict:
    """The product's import of `rows` new people (into a campaign with `queued` queued, if any)
    beside a bare bulk_create of the same rows; medians of `runs` alternating runs."""
    from campaigns import importing
    from campaigns.models import ConnectionRequest

    importing.MAX_CSV_ROWS = max(importing.MAX_CSV_ROWS, rows)  # see the module's docstring
    before = ConnectionRequest.objects.count()
    ours, bare = [], []
    first = 50_000_000 + random.randrange(10_000) * 100_000  # somebody new each run, each time
    first_queued = random.randrange(1_000) * 1_000_000
    for run in range(runs):
        ours.append(import_through_product(csv_file(first, rows), run, queued, first_queued + run * queued))
        first += rows
        bare.append(bare_bulk_create(csv_file(first, rows), run))
        first += rows
    return {
        "rows": rows,
        "existing_requests": before,
        "queued_in_campaign": queued,
        "csv_bytes": len(csv_file(0, rows)),
        "ours_s": statistics.median(ours),
        "bare_s": statistics.median(bare),
        "ratio": statistics.median(ours) / statistics.median(bare),  # goal: at most 2
        "ours_all": ours,
        "bare_all": bare,
    }


def edit_figures(queued: int = 25_000, added: int = 10) -> dict:
    """Adding `added` people to an empty campaign and to one with `queued` queued, through the
    paste path (queries, rows read, ms); then a note edit of the long one: the request
    (save_edited, which enqueues the re-render) and the task's work, timed apart."""
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import importing
    from campaigns.models import Campaign, Sender

    def add_to(campaign, first: int) -> dict:
        text = "\n".join(f"https://www.linkedin.com/in/bench-added-{first + i}" for i in range(added))
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            result = importing.add_pasted_profiles(campaign, text)
        seconds = time.perf_counter() - started
        assert result.added == added
        return {"queries": len(queries), "ms": round(seconds * 1000, 1)}

    first = 70_000_000 + random.randrange(10_000) * 100_000
    empty, long = fresh_campaign("Edit bench empty"), fresh_campaign("Edit bench long")
    for campaign in (empty, long):
        campaign.senders.set([Sender.get()])
    queue_in(long, queued, first)
    figures = {"queued": queued, "add_to_empty": add_to(empty, first + queued),
               "add_to_queued": add_to(long, first + queued + added)}

    long.note_template = "Hello {first_name|there}, a note edited by the bench."
    enqueued = []
    with mock.patch.object(Campaign, "enqueue_note_render", lambda self, version, after_id=0: enqueued.append(version)):
        started = time.perf_counter()
        long.save_edited()
        figures["edit_request_ms"] = round((time.perf_counter() - started) * 1000, 1)
    started = time.perf_counter()
    after_id = 0
    while after_id is not None:  # as the task hands on its rest, without the broker
        after_id = long.continue_note_render(enqueued[-1], after_id, seconds=Campaign.NOTE_RENDER_TASK_SECONDS)
    figures["edit_task_s"] = round(time.perf_counter() - started, 2)
    long.refresh_from_db()
    assert not long.is_rendering_notes
    assert long.requests.filter(state="queued", note__startswith="Hello Q").count() == queued
    return figures


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    args = sys.argv[1:]
    if args[:1] == ["--edits"]:
        print(json.dumps(edit_figures(int(args[1]) if len(args) > 1 else 25_000)))
        return
    queued = 0
    if "--queued" in args:
        at = args.index("--queued")
        queued = int(args[at + 1])
        del args[at:at + 2]
    rows = int(args[0]) if args else 10_000
    print(json.dumps(measure(rows, queued=queued)))


if __name__ == "__main__":
    main()
