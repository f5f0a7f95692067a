"""One sending account becomes the first of many senders, with all its history.

The row is renamed, not copied: its events, pacing, state and acceptance tracking stay as they
were; every invitation and look-up so far is marked as sent from it, every campaign rotates
over it alone, and every user may use it (as everyone could before). An OUTX_API_KEY set in
the environment is stored encrypted on it; without one it keeps reading OUTX_API_KEY.
"""

import os

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def carry_over_the_account(apps, schema_editor):
    from campaigns import keys

    Sender = apps.get_model("campaigns", "Sender")
    first = Sender.objects.order_by("pk").first()
    ConnectionRequest = apps.get_model("campaigns", "ConnectionRequest")
    if first is None:
        if not ConnectionRequest.objects.exists():
            return  # a new install: the first sender is made when first needed
        first = Sender.objects.create()
    api_key = os.environ.get("OUTX_API_KEY", "").strip()
    if api_key:
        first.api_key_encrypted = keys.encrypt(api_key)
        first.key_fingerprint = keys.fingerprint(api_key)
        first.key_hint = api_key[-4:] if len(api_key) >= 12 else ""
        first.save(update_fields=["api_key_encrypted", "key_fingerprint", "key_hint"])
    first.next_due_at = django.utils.timezone.now()  # the dispatcher looks at it at once
    first.save(update_fields=["next_due_at"])
    ConnectionRequest.objects.update(sender=first)
    apps.get_model("campaigns", "ProfileLookup").objects.update(sender=first)
    for campaign in apps.get_model("campaigns", "Campaign").objects.all():
        campaign.senders.add(first)
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    first.users.add(*User.objects.filter(is_active=True))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0010_prospect_note_lengths"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("SendingAccount", "Sender"),
        migrations.RenameField("event", "account", "sender"),
        migrations.AddField(
            model_name="sender", name="users",
            field=models.ManyToManyField(
                blank=True, help_text="Who may launch campaigns on this sender; admins may use every sender.",
                related_name="senders", to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(model_name="sender", name="api_key_encrypted", field=models.TextField(blank=True)),
        migrations.AddField(
            model_name="sender", name="key_fingerprint",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="sender", name="key_hint", field=models.CharField(blank=True, editable=False, max_length=4)
        ),
        migrations.AddField(
            model_name="sender", name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AddField(
            model_name="sender", name="retired_at",
            field=models.DateTimeField(
                blank=True, null=True, help_text="A retired sender sends nothing and keeps its history."
            ),
        ),
        migrations.AddField(
            model_name="sender", name="next_due_at", field=models.DateTimeField(blank=True, db_index=True, null=True)
        ),
        migrations.AddField(
            model_name="sender", name="worked_by", field=models.CharField(blank=True, editable=False, max_length=200)
        ),
        migrations.AddField(
            model_name="sender", name="worked_until", field=models.DateTimeField(blank=True, editable=False, null=True)
        ),
        migrations.AddField(
            model_name="campaign", name="senders",
            field=models.ManyToManyField(blank=True, related_name="campaigns", to="campaigns.sender"),
        ),
        migrations.AddField(
            model_name="connectionrequest", name="sender",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="requests",
                to="campaigns.sender",
            ),
        ),
        migrations.AddField(
            model_name="profilelookup", name="sender",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="lookups",
                to="campaigns.sender",
            ),
        ),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["sender", "state", "next_poll_at"], name="request_sender_state_idx"),
        ),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["sender", "submitted_at"], name="request_sender_submitted_idx"),
        ),
        migrations.RunPython(carry_over_the_account, migrations.RunPython.noop),
    ]
