"""The database refuses a second invitation to a person while one may be on LinkedIn.

Apart from 0011 because PostgreSQL refuses to alter a table in the transaction that updated
its rows (pending trigger events)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0011_senders")]

    operations = [
        migrations.AddConstraint(
            model_name="connectionrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state__in", ["submitting", "pending", "sent", "accepted", "uncertain"])),
                fields=("prospect",), name="one_invitation_per_prospect",
            ),
        ),
    ]
