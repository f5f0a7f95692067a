"""Lists that cost the same at any size (issue 14): Review's keyset order served by an index,
and the prospects' folded search text, with trigram indexes on PostgreSQL.

- `Prospect.search_text`: its searched fields folded (textsearch.search_text_of), filled here in
  batches of 1,000 and kept by the ORM since (ProspectQuerySet, Prospect.save).
- `request_submitted_id_idx` (submitted_at DESC, id DESC) replaces `request_submitted_idx`
  (submitted_at DESC): Review's order, ties broken by id, and the 30-day chart's range.
  `request_campaign_submitted_idx`: the same order within one campaign (Review's campaign filter).
- `request_campaign_state_id_idx` (campaign, state, id) replaces (campaign, state): a campaign's
  queue in the queue's order, so the note preview reads its first 1,000 without a sort.
- PostgreSQL only: pg_trgm, and GIN trigram indexes on the search text and on UPPER(note), which
  serve `search_text LIKE '%…%'` and the note's `icontains` (UPPER(note) LIKE UPPER('%…%')).
"""

from django.db import migrations, models

from campaigns.textsearch import search_text_of

BATCH = 1000

TRIGRAM_INDEXES = [
    ("prospect_search_trgm_idx", "campaigns_prospect", "search_text gin_trgm_ops"),
    ("request_note_trgm_idx", "campaigns_connectionrequest", "UPPER(note) gin_trgm_ops"),
]


def fill_search_text(apps, schema_editor):
    Prospect = apps.get_model("campaigns", "Prospect")
    last_pk = 0
    while True:
        batch = list(Prospect.objects.filter(pk__gt=last_pk).order_by("pk")[:BATCH])
        if not batch:
            return
        for prospect in batch:
            prospect.search_text = search_text_of(prospect)
        Prospect.objects.bulk_update(batch, ["search_text"])
        last_pk = batch[-1].pk


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column})")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0017_worker")]

    operations = [
        migrations.AddField(
            model_name="prospect",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(model_name="connectionrequest", name="request_submitted_idx"),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["-submitted_at", "-id"], name="request_submitted_id_idx"),
        ),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["campaign", "-submitted_at", "-id"], name="request_campaign_submitted_idx"),
        ),
        migrations.RemoveIndex(model_name="connectionrequest", name="request_campaign_state_idx"),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["campaign", "state", "id"], name="request_campaign_state_id_idx"),
        ),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
