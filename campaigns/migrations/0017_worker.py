"""A leaner worker (issue 14): indexes for what its pass reads.

- `campaign_turn_idx` (state, last_submission_at): the next campaign to send, from the campaigns.
- `request_sender_queue_idx` (sender, state, campaign, created_at, id): a sender's queue per
  campaign in the queue's order, so the next invitation is read without a sort or a scan of
  what was sent before it.
- `request_sender_pending_idx` (sender, state, submitted_at): a sender's oldest pending
  invitation, whose status calls stand for the others while its browser is closed.
- `followup_submitted_idx`, `lookup_sender_submitted_idx`, `search_sender_submitted_idx`: the
  hourly count of LinkedIn actions (invitations use `request_sender_submitted_idx`).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0016_request_tallies_version")]

    operations = [
        migrations.AddIndex(
            model_name="campaign",
            index=models.Index(fields=["state", "last_submission_at"], name="campaign_turn_idx"),
        ),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["sender", "state", "campaign", "created_at", "id"], name="request_sender_queue_idx"),
        ),
        migrations.AddIndex(
            model_name="connectionrequest",
            index=models.Index(fields=["sender", "state", "submitted_at"], name="request_sender_pending_idx"),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(fields=["submitted_at"], name="followup_submitted_idx"),
        ),
        migrations.AddIndex(
            model_name="profilelookup",
            index=models.Index(fields=["sender", "submitted_at"], name="lookup_sender_submitted_idx"),
        ),
        migrations.AddIndex(
            model_name="profilesearch",
            index=models.Index(fields=["sender", "submitted_at"], name="search_sender_submitted_idx"),
        ),
    ]
