"""Every team has its own key, and every task a team (given them in 0002)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("outx_sandbox", "0002_teams"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sandboxsettings",
            name="api_key",
            field=models.CharField(
                help_text="The x-api-key this team answers to: give it to one sender in the product.",
                max_length=200, unique=True, verbose_name="API key",
            ),
        ),
        migrations.AlterField(
            model_name="sandboxtask",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="tasks", to="outx_sandbox.sandboxsettings",
            ),
        ),
    ]
