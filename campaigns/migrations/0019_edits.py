from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0018_pages")]

    # A long queue's notes re-rendered by a task after an edit, its progress on the campaign.
    operations = [
        migrations.AddField(
            model_name="campaign", name="notes_version",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="campaign", name="notes_to_render",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="campaign", name="notes_rendered",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="campaign", name="notes_render_started_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="campaign", name="notes_render_beat_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
