"""Data shaped like real use, built with set-based SQL (INSERT … SELECT over a series of
numbers), so that 1M connection requests take a minute or two rather than an hour:

    python -m bench.data build SIZE PASSWORD   (inside the server's environment; prints JSON)

The shape, at SIZE connection requests:
- sender accounts that each send about 20 invitations per working day: one per 20,800
  requests (20 a day × 260 working days × 4 years), at least one; the submissions of all of
  them spread over the working days this takes (1k rows: 10 weeks; 100k: 4 years; 1M: 4 years
  with 48 senders), never more than 5 years;
- SIZE // 1,000 campaigns (10 to 1,000) of skewed sizes; one big active campaign of
  min(50k, SIZE/2) rows whose newest tenth is queued; one paused campaign with
  min(10k, SIZE/10) queued; every fifth other campaign active with a tenth of its rows queued;
- states by age: submissions of the last 2 weeks mostly pending (with OutX), older ones
  accepted, sent (not accepted), not sent, some skipped, failed or uncertain;
- a prospect per request, with a name, company, title, headline and location; one event per
  submitted request (its last change).

The database triggers on campaigns_connectionrequest keep the per-campaign tallies and versions
as the rows go in. Columns this file does not know (added later) take their model default.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from contextlib import contextmanager

SENDS_PER_DAY = 20
WORKING_DAYS_PER_YEAR = 260
YEARS = 4
MAX_WORKING_DAYS = 5 * WORKING_DAYS_PER_YEAR
BIG_CAMPAIGN = 50_000
PAUSED_QUEUED = 10_000
USERNAME = "bench"
NOTE_TEMPLATE = (
    "Hi {first_name|there}, I came across your work at {company|your company} and would be glad "
    "to connect: we help sales teams like yours keep their outreach personal. Best, Ada"
)
FIRST_NAMES = ["Ada", "Grace", "Alan", "Maya", "Noor", "Luis", "Chen", "Amara", "Jonas", "Ines",
               "Kofi", "Sofia", "Ravi", "Elena", "Tomas", "Yuki", "Omar", "Lena", "Ivan", "Zoe", ""]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Okafor", "Haddad", "Garcia", "Wang", "Diallo",
              "Berg", "Moreau", "Mensah", "Rossi", "Patel", "Petrova", "Silva", "Sato", "Khan"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne"]
TITLES = ["Head of Sales", "Account Executive", "VP Marketing", "Founder", "CTO",
          "Sales Development Representative", "Growth Lead", "Customer Success Manager"]
CITIES = ["Paris", "Berlin", "London", "Lisbon", "Madrid", "Amsterdam", "Milan", "Warsaw"]
# Older than two weeks: (state, share in thousandths), by a hash of the row.
SETTLED = [("accepted", 300), ("sent", 450), ("not_sent", 150), ("skipped", 50), ("failed", 35), ("uncertain", 15)]
RECENT = [("pending", 650), ("accepted", 150), ("sent", 150), ("not_sent", 50)]


def shape(size: int) -> dict:
    senders = max(1, round(size / (SENDS_PER_DAY * WORKING_DAYS_PER_YEAR * YEARS)))
    big = min(BIG_CAMPAIGN, size // 2)
    paused = min(PAUSED_QUEUED, size // 10)
    return {
        "senders": senders,
        "campaigns": min(1000, max(10, size // 1000)),
        "big": big,
        "paused": paused,
        "working_days": min(MAX_WORKING_DAYS, math.ceil(size / (senders * SENDS_PER_DAY))),
    }


# --- SQL that reads the same on SQLite and PostgreSQL ---------------------------------------------


def numbers(vendor: str) -> str:
    """A subquery of the integers 1..%s as column i (one parameter)."""
    if vendor == "postgresql":
        return "(SELECT generate_series(1::bigint, %s::bigint) AS i) AS g"
    return "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) SELECT i FROM n) AS g"


def seconds_ago(vendor: str, seconds: str) -> str:
    if vendor == "postgresql":
        return f"(now() - ({seconds}) * interval '1 second')"
    # Django's SQLite datetimes are UTC text; this is the same text without the microseconds.
    return f"datetime('now', (-({seconds})) || ' seconds')"


def pick(number: str, choices: list[str]) -> str:
    """One of `choices` by `number` (SQL), as a CASE: no arrays in SQLite."""
    arms = " ".join(f"WHEN {k} THEN '{value}'" for k, value in enumerate(choices))
    return f"(CASE (({number}) %% {len(choices)}) {arms} END)"


def by_share(number: str, shares: list[tuple[str, int]]) -> str:
    """A state by `number` in 0..999 and the shares in thousandths."""
    arms, upto = [], 0
    for state, share in shares:
        upto += share
        arms.append(f"WHEN ({number}) < {upto} THEN '{state}'")
    return f"(CASE {' '.join(arms[:-1])} ELSE '{shares[-1][0]}' END)"


def insert_select(cursor, model, values: dict[str, str], source: str, params: list) -> None:
    """INSERT INTO model's table every column: `values` for those named (SQL over the source),
    the model's default for the others."""
    from django.db.models import NOT_PROVIDED

    columns, expressions, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if getattr(field, "generated", False) or (field.primary_key and field.column not in values):
            continue
        columns.append(cursor.db.ops.quote_name(field.column))
        if field.column in values:
            expressions.append(values[field.column])
        elif field.has_default() or field.null or getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            value = field.get_default() if field.has_default() else None
            if value is None and not field.null and field.blank:
                value = ""
            expressions.append("%s")
            defaults.append(field.get_db_prep_save(value, cursor.db))
        elif field.blank:
            expressions.append("''")
        else:
            raise RuntimeError(f"bench.data does not know how to fill {model.__name__}.{field.name}")
    table = cursor.db.ops.quote_name(model._meta.db_table)
    # The defaults come first in the SELECT list, so their parameters go before the source's.
    cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {source}",
                   defaults + params)


def next_id(cursor, model) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
    return cursor.fetchone()[0]


def reset_sequences(cursor, *models) -> None:
    if cursor.db.vendor != "postgresql":
        return
    for model in models:
        table = model._meta.db_table
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def add_prospects(cursor, count: int, first_id: int, tag: str) -> None:
    """`count` prospects with ids first_id + 1 … first_id + count."""
    from campaigns.models import Prospect

    vendor = cursor.db.vendor
    first, last = pick("i * 7", FIRST_NAMES), pick("i * 13", LAST_NAMES)
    company = f"({pick('i * 3', COMPANIES)} || ' ' || ((i * 31) %% 997))"
    title = pick("i * 11", TITLES)
    now = seconds_ago(vendor, "0")
    values = {
        "id": f"({first_id} + i)",
        "profile_urn": f"('urn:li:fsd_profile:ACoBench{tag}' || (i + {first_id}))",
        "profile_url": f"('https://www.linkedin.com/in/bench-{tag}-' || (i + {first_id}))",
        "first_name": first, "last_name": last, "company": company, "title": title,
        "headline": f"({title} || ' at ' || {company})",
        "location": f"({pick('i * 5', CITIES)} || ', Europe')",
        "created_at": now, "updated_at": now,
        # Review's search reads this stored, folded text (campaigns/textsearch.py); the names are ASCII.
        "search_text": (f"lower(CASE WHEN {first} = '' THEN '' ELSE {first} || ' ' END || {last} || ' ' || {company} "
                        f"|| ' ' || {title} || ' ' || {title} || ' at ' || {company} || ' ' "
                        f"|| 'https://www.linkedin.com/in/bench-{tag}-' || (i + {first_id}) || ' ' "
                        f"|| 'urn:li:fsd_profile:ACoBench{tag}' || (i + {first_id}))"),
        "first_name_note_length": f"length({first})", "last_name_note_length": f"length({last})",
        "company_note_length": f"length({company})", "title_note_length": f"length({title})",
    }
    insert_select(cursor, Prospect, values, numbers(vendor), [count])


def add_queue(cursor, campaign, count: int, tag: str) -> None:
    """`count` new prospects queued in `campaign`, notes rendered and spread over its senders as
    the product would (a queue left without senders would make the first edit place all of it)."""
    from campaigns.models import ConnectionRequest, Prospect

    vendor = cursor.db.vendor
    first_prospect, first_request = next_id(cursor, Prospect), next_id(cursor, ConnectionRequest)
    add_prospects(cursor, count, first_prospect, tag)
    now = seconds_ago(vendor, "0")
    values = {
        "id": f"({first_request} + g.i)", "campaign_id": str(campaign.pk),
        "prospect_id": f"({first_prospect} + g.i)", "state": "'queued'",
        "note": note_sql("p.first_name", "p.company"),
        "sender_id": f"(SELECT MIN(sender_id) FROM campaigns_campaign_senders WHERE campaign_id = {campaign.pk})",
        "created_at": now, "updated_at": now,
    }
    source = (f"{numbers(vendor)} JOIN campaigns_prospect p ON p.id = {first_prospect} + g.i")
    insert_select(cursor, ConnectionRequest, values, source, [count])
    reset_sequences(cursor, Prospect, ConnectionRequest)


@contextmanager
def without_secondary_indexes(cursor, *models):
    """On PostgreSQL, drop the tables' indexes that back no constraint while the rows go in, and
    build them again after: one sort each instead of a million index insertions (trigram GIN
    indexes above all). A no-op on SQLite."""
    if cursor.db.vendor != "postgresql":
        yield
        return
    definitions = []
    for model in models:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [model._meta.db_table],
        )
        definitions += cursor.fetchall()
    for name, _ in definitions:
        cursor.execute(f"DROP INDEX {name}")
    yield
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks, before CREATE INDEX
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in definitions:
        cursor.execute(definition)


def note_sql(first_name: str, company: str) -> str:
    return (f"('Hi ' || CASE WHEN {first_name} = '' THEN 'there' ELSE {first_name} END || ', I came across your "
            f"work at ' || {company} || ' and would be glad to connect: we help sales teams like yours keep "
            "their outreach personal. Best, Ada')")


def build(size: int, password: str) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from campaigns.models import Campaign, ConnectionRequest, Event, Prospect, Sender

    started = time.perf_counter()
    layout = shape(size)
    steps: dict[str, float] = {}
    vendor = connection.vendor
    user = User.objects.create_superuser(USERNAME, "bench@example.com", password)
    senders = [Sender.get()] + [Sender.objects.create(name=f"Bench account {n}") for n in range(1, layout["senders"])]
    now = timezone.now()
    big = Campaign.objects.create(name="Bench big campaign", owner=user, note_template=NOTE_TEMPLATE,
                                  state="active", launched_at=now)
    paused = Campaign.objects.create(name="Bench paused campaign", owner=user, note_template=NOTE_TEMPLATE,
                                     state="paused", launched_at=now, paused_cause="Paused by a person")
    others = Campaign.objects.bulk_create(
        Campaign(name=f"Bench campaign {n:04d} ({COMPANIES[n % len(COMPANIES)]} {TITLES[n % len(TITLES)]})",
                 owner=user, note_template=NOTE_TEMPLATE,
                 state="active" if n % 5 == 0 else ("completed" if n % 5 in (1, 2) else
                                                   "paused" if n % 5 == 3 else "archived"),
                 launched_at=now)
        for n in range(layout["campaigns"] - 2)
    )
    # Each campaign sends from one account, as a team splits its work; the edit form needs one.
    for k, campaign in enumerate([big, paused, *others]):
        campaign.senders.add(senders[k % len(senders)])
    # bulk_create gives ids on both databases; they are consecutive here.
    first_other, other_count = min(c.pk for c in others), len(others)
    active_others = {c.pk for c in others if c.state == "active"}
    n, b, p = size, layout["big"], layout["paused"]
    submitted_per_day = len(senders) * SENDS_PER_DAY
    first_sender = min(s.pk for s in senders)

    with transaction.atomic(), connection.cursor() as cursor, \
            without_secondary_indexes(cursor, Prospect, ConnectionRequest, Event):
        first_prospect, first_request = next_id(cursor, Prospect), next_id(cursor, ConnectionRequest)
        add_prospects(cursor, n, first_prospect, "p")
        steps["prospects"] = time.perf_counter() - started
        # Rows 1..n-b-p spread over the other campaigns (skewed: squares of a hash), then the
        # paused campaign's queue, then the big campaign, whose newest tenth is queued.
        h = "((g.i * 2654435761) %% 1000003)"
        other_campaign = f"({first_other} + ({h} * {h} / 1000003) * {other_count} / 1000003)"
        campaign = (f"(CASE WHEN g.i > {n - b} THEN {big.pk} WHEN g.i > {n - b - p} THEN {paused.pk} "
                    f"ELSE {other_campaign} END)")
        active = ", ".join(str(pk) for pk in sorted(active_others)) or "0"
        queued = (f"(g.i > {n - b // 10} OR (g.i > {n - b - p} AND g.i <= {n - b}) "
                  f"OR ({other_campaign} IN ({active}) AND (g.i * 7) %% 10 = 0))")
        # The order of submission: a permutation of 1..n, so every campaign spans the years.
        stride = next(s for s in (7919, 7927, 7933, 7937) if n % s)
        rank = f"(((g.i * {stride}) %% {n}) + 1)"  # 1 = the oldest
        working_days_ago = f"(({n} - {rank}) / {submitted_per_day})"
        age = (f"(({working_days_ago} / 5 * 7 + {working_days_ago} %% 5) * 86400 "
               f"+ 32400 - ({rank} * 37) %% 32400)")
        fate = "((g.i * 40503) %% 1000)"
        state = (f"(CASE WHEN {queued} THEN 'queued' WHEN {age} < 14 * 86400 THEN {by_share(fate, RECENT)} "
                 f"ELSE {by_share(fate, SETTLED)} END)")
        # The state first, in a subquery, so the columns below can depend on it.
        source = (
            f"(SELECT g.i AS i, {campaign} AS campaign_id, {state} AS state, {age} AS age, "
            f"{first_sender} + g.i %% {len(senders)} AS sender_id, {fate} AS fate "
            f"FROM {numbers(vendor)}) AS r JOIN campaigns_prospect p ON p.id = {first_prospect} + r.i"
        )
        submitted = "r.state <> 'queued' AND r.state <> 'skipped'"
        at = seconds_ago(vendor, "r.age")
        later = seconds_ago(vendor, "CASE WHEN r.fate * 300 < r.age THEN r.age - r.fate * 300 ELSE 0 END")
        values = {
            "id": f"({first_request} + r.i)", "campaign_id": "r.campaign_id", "prospect_id": "p.id",
            "state": "r.state", "note": note_sql("p.first_name", "p.company"),
            "sender_id": f"(CASE WHEN {submitted} THEN r.sender_id END)",
            "submitted_at": f"(CASE WHEN {submitted} THEN {at} END)",
            "claimed_at": f"(CASE WHEN {submitted} THEN {at} END)",
            "claimed_by": f"(CASE WHEN {submitted} THEN 'bench-worker' ELSE '' END)",
            "outx_task_id": "(CASE WHEN r.state IN ('pending', 'sent', 'accepted', 'not_sent') THEN 'bench-' || r.i END)",
            "attempts": f"(CASE WHEN {submitted} THEN 1 ELSE 0 END)",
            "poll_count": f"(CASE WHEN {submitted} THEN 1 + r.fate %% 3 ELSE 0 END)",
            "completed_at": f"(CASE WHEN r.state IN ('sent', 'accepted', 'not_sent') THEN {later} END)",
            "accepted_at": f"(CASE WHEN r.state = 'accepted' THEN {later} END)",
            "next_poll_at": f"(CASE WHEN r.state = 'pending' THEN {seconds_ago(vendor, '-600')} END)",
            "last_error": ("(CASE WHEN r.state = 'failed' THEN 'OutX refused the request (400): Invalid profile_urn' "
                           "WHEN r.state = 'uncertain' THEN 'The POST to OutX timed out after 20 s' ELSE '' END)"),
            "created_at": f"(CASE WHEN r.state = 'queued' THEN {seconds_ago(vendor, '0')} ELSE {at} END)",
            "updated_at": f"(CASE WHEN r.state = 'queued' THEN {seconds_ago(vendor, '0')} ELSE {later} END)",
        }
        insert_select(cursor, ConnectionRequest, values, source, [n])
        steps["requests"] = time.perf_counter() - started
        # One event per request that left the queue: its last change.
        event_values = {
            "at": "r.updated_at", "connection_request_id": "r.id", "campaign_id": "r.campaign_id",
            "from_state": "(CASE WHEN r.state = 'skipped' THEN 'queued' WHEN r.state = 'pending' THEN 'submitting' "
                          "WHEN r.state IN ('failed', 'uncertain') THEN 'submitting' ELSE 'pending' END)",
            "to_state": "r.state", "cause": "('Bench: ' || r.state)",
        }
        insert_select(cursor, Event, event_values,
                      "campaigns_connectionrequest r WHERE r.id > %s AND r.state <> 'queued'", [first_request])
        reset_sequences(cursor, Prospect, ConnectionRequest, Event)
        steps["events"] = time.perf_counter() - started
    steps["indexes"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        # As autovacuum would have by the time anyone looks: the statistics, and on PostgreSQL
        # the visibility map too, without which no index-only scan is chosen.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    states = dict(ConnectionRequest.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {
        **layout,
        "requests": ConnectionRequest.objects.count(),
        "events": Event.objects.count(),
        "big_campaign_id": big.pk,
        "paused_campaign_id": paused.pk,
        "big_campaign_requests": big.requests.count(),
        "paused_queued": paused.requests.filter(state="queued").count(),
        "states": states,
        "steps_s": {step: round(at, 1) for step, at in steps.items()},
        "seconds": time.perf_counter() - started,
    }


def queued_campaign(name: str, queued: int, tag: str) -> dict:
    """A draft campaign of the bench user's with `queued` new people queued."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from campaigns.models import Campaign, Sender

    started = time.perf_counter()
    campaign = Campaign.objects.create(name=name, owner=User.objects.get(username=USERNAME), note_template=NOTE_TEMPLATE)
    campaign.senders.add(Sender.get())
    if queued:
        with transaction.atomic(), connection.cursor() as cursor:
            add_queue(cursor, campaign, queued, tag)
    return {"campaign_id": campaign.pk, "queued": campaign.requests.count(), "seconds": time.perf_counter() - started}


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")
    django.setup()
    if argv[0] == "build":
        print(json.dumps(build(int(argv[1]), argv[2])))
    elif argv[0] == "queued-campaign":
        print(json.dumps(queued_campaign(argv[1], int(argv[2]), argv[3])))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
