# Written from makemigrations' output, keeping only the PendingUpload operations: other model
# changes under way at the same time get their own migration.

import campaigns.models
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0006_profile_lookup_tracked_task'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingUpload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(default=campaigns.models.new_upload_key, editable=False, max_length=64, unique=True)),
                ('filename', models.CharField(max_length=200)),
                ('table', models.JSONField(blank=True, help_text='The parsed file; dropped by the import.', null=True)),
                ('imported_at', models.DateTimeField(blank=True, null=True)),
                ('result', models.JSONField(blank=True, help_text='Once imported: how many prospects were added, and the rejected rows.', null=True)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pending_uploads', to='campaigns.campaign')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pending_uploads', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [
                    models.CheckConstraint(
                        condition=models.Q(('imported_at__isnull', True), ('table__isnull', True), _connector='OR'),
                        name='pending_upload_imported_has_no_table',
                    ),
                ],
            },
        ),
    ]
