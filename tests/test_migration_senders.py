"""Upgrading from one sending account: it becomes the first sender, with all its history, and
the OUTX_API_KEY it ran with is stored encrypted on it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns import keys, triggers

BEFORE = [("campaigns", "0010_prospect_note_lengths")]
AFTER = [("campaigns", "0013_dispatch_schedule")]


@pytest.fixture(autouse=True)
def back_to_the_latest():
    """Leave the database as every other test expects it: every app at its latest migration
    (going back to 0010 also took back the apps that depend on campaigns, such as webhooks)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    triggers.install(connection)  # as `migrate` does after migrating (post_migrate)


def migrate(targets):
    triggers.drop_before_migrate(connection.alias)  # as `migrate` does (pre_migrate)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_one_account_becomes_the_first_sender_with_its_history(monkeypatch):
    old = migrate(BEFORE)
    User = old.get_model("auth", "User")
    rep = User.objects.create(username="rep", is_active=True)
    User.objects.create(username="gone", is_active=False)
    account = old.get_model("campaigns", "SendingAccount").objects.create(name="Team account", daily_limit=15)
    old.get_model("campaigns", "Event").objects.create(account=account, to_state="paused", cause="Paused by rep")
    campaign = old.get_model("campaigns", "Campaign").objects.create(name="Q3", owner=rep, state="active")
    Prospect = old.get_model("campaigns", "Prospect")
    sent = old.get_model("campaigns", "ConnectionRequest").objects.create(
        campaign=campaign, prospect=Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAAOld1"), state="sent",
    )
    monkeypatch.setenv("OUTX_API_KEY", "the-old-environment-key-1234")

    new = migrate(AFTER)

    Sender = new.get_model("campaigns", "Sender")
    sender = Sender.objects.get()
    assert (sender.pk, sender.name, sender.daily_limit) == (account.pk, "Team account", 15)
    assert new.get_model("campaigns", "Event").objects.get(sender=sender).cause == "Paused by rep"
    assert new.get_model("campaigns", "ConnectionRequest").objects.get(pk=sent.pk).sender_id == sender.pk
    assert list(new.get_model("campaigns", "Campaign").objects.get(pk=campaign.pk).senders.all()) == [sender]
    assert list(sender.users.values_list("username", flat=True)) == ["rep"]
    assert sender.next_due_at is not None  # the dispatcher serves it at once
    assert "the-old-environment-key" not in sender.api_key_encrypted
    assert keys.decrypt(sender.api_key_encrypted) == "the-old-environment-key-1234"
    assert sender.key_fingerprint == keys.fingerprint("the-old-environment-key-1234") and sender.key_hint == "1234"
    schedule = new.get_model("django_q", "Schedule").objects.get(name="outreach worker")
    assert schedule.func == "campaigns.tasks.dispatch_senders"


@pytest.mark.django_db(transaction=True)
def test_a_new_install_starts_with_no_sender_until_one_is_needed(monkeypatch):
    monkeypatch.delenv("OUTX_API_KEY", raising=False)
    migrate(BEFORE)
    new = migrate(AFTER)
    assert not new.get_model("campaigns", "Sender").objects.exists()
