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
Each runs three times, alternating, on new people each time; the median counts.
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


def import_through_product(data: bytes, run: int) -> float:
    from campaigns import importing

    campaign = fresh_campaign(f"Import bench {run}")
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


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    from campaigns import importing
    from campaigns.models import ConnectionRequest

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    importing.MAX_CSV_ROWS = max(importing.MAX_CSV_ROWS, rows)  # see the module's docstring
    before = ConnectionRequest.objects.count()
    ours, bare = [], []
    first = 50_000_000  # far above the page benchmark's people: every row is somebody new
    for run in range(RUNS):
        ours.append(import_through_product(csv_file(first, rows), run))
        first += rows
        bare.append(bare_bulk_create(csv_file(first, rows), run))
        first += rows
    print(json.dumps({
        "rows": rows,
        "existing_requests": before,
        "csv_bytes": len(csv_file(0, rows)),
        "ours_s": statistics.median(ours),
        "bare_s": statistics.median(bare),
        "ratio": statistics.median(ours) / statistics.median(bare),
        "ours_all": ours,
        "bare_all": bare,
    }))


if __name__ == "__main__":
    main()
