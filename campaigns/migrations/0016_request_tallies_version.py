"""Per-campaign counters (RequestTally) and Campaign.version, kept by database triggers: see
campaigns/triggers.py. They are created after `migrate` (post_migrate), not here: SQLite's
table rebuilds in later migrations would trip on them. Going back past this migration drops them."""

from django.db import migrations, models
import django.db.models.deletion

from campaigns import triggers


def drop_triggers(apps, schema_editor):
    triggers.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0015_pending_reads_with_outx")]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="version",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.CreateModel(
            name="RequestTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sender_key", models.BigIntegerField()),
                ("variant", models.CharField(max_length=1)),
                ("state", models.CharField(max_length=20)),
                ("n", models.BigIntegerField(default=0)),
                (
                    "campaign",
                    models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE,
                        related_name="tallies", to="campaigns.campaign",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "sender_key", "variant", "state"), name="one_tally_per_campaign_key"
                    )
                ],
                "indexes": [models.Index(fields=["sender_key", "state"], name="tally_sender_state_idx")],
            },
        ),
        migrations.RemoveIndex(model_name="connectionrequest", name="request_campaign_created_idx"),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["campaign", "id"], name="request_campaign_id_idx"),
        ),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["campaign", "state", "note_problem"], name="request_note_problem_idx"),
        ),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["campaign", "state", "submitted_at"], name="request_campaign_state_sub_idx"),
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_triggers),
    ]
