# The bounds' check constraints, in a migration of their own: PostgreSQL refuses to ALTER a
# table in the transaction that just updated its rows (0008 clamps them), "because it has
# pending trigger events".

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0008_number_bounds"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='campaign',
            constraint=models.CheckConstraint(condition=models.Q(('followup_delay_minutes__lte', 129600)), name='campaign_followup_delay_minutes_bounded'),
        ),
        migrations.AddConstraint(
            model_name='campaign',
            constraint=models.CheckConstraint(condition=models.Q(('brake_min_invitations__lte', 1000)), name='campaign_brake_min_invitations_bounded'),
        ),
        migrations.AddConstraint(
            model_name='campaign',
            constraint=models.CheckConstraint(condition=models.Q(('brake_min_acceptance_percent__lte', 100)), name='campaign_brake_min_acceptance_percent_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('daily_limit__lte', 1000)), name='sending_account_daily_limit_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('weekly_limit__lte', 7000)), name='sending_account_weekly_limit_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('hourly_action_limit__lte', 1000)), name='sending_account_hourly_action_limit_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('min_spacing_seconds__lte', 86400)), name='sending_account_min_spacing_seconds_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('max_spacing_seconds__lte', 86400)), name='sending_account_max_spacing_seconds_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('offline_recheck_seconds__lte', 86400)), name='sending_account_offline_recheck_seconds_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('acceptance_check_minutes__lte', 1440)), name='sending_account_acceptance_check_minutes_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('acceptance_wait_days__lte', 90)), name='sending_account_acceptance_wait_days_bounded'),
        ),
        migrations.AddConstraint(
            model_name='sendingaccount',
            constraint=models.CheckConstraint(condition=models.Q(('stale_after_days__lte', 365)), name='sending_account_stale_after_days_bounded'),
        ),
    ]
