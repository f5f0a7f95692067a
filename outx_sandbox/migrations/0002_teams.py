"""The sandbox's one row of switches becomes the first of many simulated OutX teams.

The existing row is the default team, with the key the sandbox has always accepted
(OUTX_SANDBOX_API_KEY), and every task so far is its team's. The keys become unique and
the team required in 0003: PostgreSQL alters no table with updates pending in the same
transaction.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def key_the_existing_rows(apps, schema_editor):
    SandboxSettings = apps.get_model("outx_sandbox", "SandboxSettings")
    rows = list(SandboxSettings.objects.order_by("pk"))
    for number, row in enumerate(rows):
        # Only one row ever existed; should there be more, each still needs its own key.
        row.api_key = settings.OUTX_SANDBOX_API_KEY if number == 0 else f"{settings.OUTX_SANDBOX_API_KEY}-{row.pk}"
        row.save(update_fields=["api_key"])


def give_tasks_the_default_team(apps, schema_editor):
    SandboxSettings = apps.get_model("outx_sandbox", "SandboxSettings")
    SandboxTask = apps.get_model("outx_sandbox", "SandboxTask")
    if not SandboxTask.objects.exists():
        return
    team, _ = SandboxSettings.objects.get_or_create(api_key=settings.OUTX_SANDBOX_API_KEY)
    SandboxTask.objects.update(team=team)


class Migration(migrations.Migration):

    dependencies = [
        ("outx_sandbox", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="sandboxsettings",
            options={"verbose_name": "sandbox team", "verbose_name_plural": "sandbox teams"},
        ),
        migrations.AddField(
            model_name="sandboxsettings",
            name="name",
            field=models.CharField(default="Sandbox team", max_length=100),
        ),
        migrations.AddField(
            model_name="sandboxsettings",
            name="api_key",
            field=models.CharField(default="", max_length=200),
            preserve_default=False,
        ),
        migrations.RunPython(key_the_existing_rows, migrations.RunPython.noop),
        migrations.AddField(
            model_name="sandboxtask",
            name="team",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="tasks",
                to="outx_sandbox.sandboxsettings",
            ),
        ),
        migrations.RunPython(give_tasks_the_default_team, migrations.RunPython.noop),
    ]
