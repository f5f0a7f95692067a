"""The minute's schedule now runs the dispatcher, which hands out one task per sender due."""

from django.db import migrations

SCHEDULE_NAME = "outreach worker"


def dispatch(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "campaigns.tasks.dispatch_senders", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def run_worker(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).update(func="campaigns.tasks.run_worker")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0012_one_invitation_per_prospect"), ("campaigns", "0002_worker_schedule")]

    operations = [migrations.RunPython(dispatch, run_worker)]
