"""After the invitation: acceptance tracking, note variants, follow-ups, the safety brake."""

import datetime as dt

import httpx
import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from campaigns import acceptance, outx, pacing
from campaigns.models import Campaign, ConnectionRequest, FollowUp, Prospect, SendingAccount
from campaigns.sending import action_decision
from campaigns.worker import run_tick
from outx_sandbox.models import SentMessage
from tests.conftest import wait_for_sandbox_idle

pytestmark = pytest.mark.django_db(transaction=True)

State = ConnectionRequest.State
T0 = timezone.now().replace(microsecond=0)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def account(pacing_off):
    return pacing_off


@pytest.fixture
def owner(db):
    return User.objects.create_user("owner", password="x")


def campaign_with(owner, count, **fields):
    campaign = Campaign.objects.create(name="After", owner=owner, note_template="Hi {first_name}", **fields)
    for i in range(count):
        prospect = Prospect.objects.create(
            profile_urn=f"urn:li:fsd_profile:ACoAAAfter{i:04d}", first_name=f"P{i}", company="Acme"
        )
        ConnectionRequest.objects.create(campaign=campaign, prospect=prospect)
    campaign.freeze_queued_notes()
    campaign.move_to(Campaign.State.ACTIVE, "test")
    return campaign


def switch(sandbox, **fields):
    for name, value in fields.items():
        setattr(sandbox, name, value)
    sandbox.save()


def run_until(seconds_list):
    for seconds in seconds_list:
        run_tick(now=at(seconds))


def test_accepted_invitations_are_found_in_the_newest_connections(sandbox, account, owner):
    switch(sandbox, acceptance_rate=1, acceptance_delay_seconds=0)
    campaign = campaign_with(owner, 3)
    run_until([0, 5])  # submitted, then sent
    assert set(campaign.requests.values_list("state", flat=True)) == {State.SENT}
    run_until([6, 11])  # the connections list is asked for, then read
    requests = list(campaign.requests.all())
    assert {r.state for r in requests} == {State.ACCEPTED}
    assert all(r.accepted_at for r in requests)
    assert "is now a connection" in requests[0].events.last().cause
    account.refresh_from_db()
    assert account.connections_task_id == "" and account.next_acceptance_check_at == at(11) + dt.timedelta(minutes=1)


def test_nobody_is_marked_accepted_who_did_not_accept(sandbox, account, owner):
    switch(sandbox, acceptance_rate=0, acceptance_delay_seconds=0)
    campaign = campaign_with(owner, 2)
    run_until([0, 5, 6, 11])
    assert set(campaign.requests.values_list("state", flat=True)) == {State.SENT}


def test_the_list_is_read_only_as_far_as_needed():
    account = SendingAccount(connections_task_start=0, last_acceptance_check_at=at(0))
    newer = [{"connected_at": at(60 + i).isoformat()} for i in range(acceptance.PAGE_SIZE)]
    assert acceptance.needs_next_page(account, newer)
    reaching_back = newer[:-1] + [{"connected_at": at(-60).isoformat()}]
    assert not acceptance.needs_next_page(account, reaching_back)
    assert not acceptance.needs_next_page(account, newer[:10])  # the last page
    account.connections_task_start = (acceptance.MAX_PAGES - 1) * acceptance.PAGE_SIZE
    assert not acceptance.needs_next_page(account, newer)  # bounded however many are new


def test_variants_are_assigned_evenly_and_counted_apart(owner):
    campaign = Campaign.objects.create(
        name="AB", owner=owner, note_template="A: hi {first_name}",
        note_template_b="B: hello {first_name}", note_template_c="C: hey {first_name}",
    )
    for i in range(10):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAVar{i:03d}", first_name=f"P{i}")
        ConnectionRequest.objects.create(campaign=campaign, prospect=prospect)
    campaign.freeze_queued_notes()
    by_variant = {label: list(campaign.requests.filter(variant=label)) for label in "ABC"}
    assert sorted(len(requests) for requests in by_variant.values()) == [3, 3, 4]
    assert all(r.note.startswith(f"{label}: ") for label, requests in by_variant.items() for r in requests)
    sent_a, accepted_a = by_variant["A"][0], by_variant["A"][1]
    ConnectionRequest.objects.filter(pk=sent_a.pk).update(state=State.SENT)
    ConnectionRequest.objects.filter(pk=accepted_a.pk).update(state=State.ACCEPTED)
    stats = {row["variant"]: row for row in campaign.variant_stats()}
    assert (stats["A"]["sent"], stats["A"]["accepted"], stats["A"]["rate"]) == (2, 1, 0.5)
    assert stats["B"]["rate"] is None


def test_the_follow_up_goes_out_once_after_acceptance(sandbox, account, owner):
    switch(sandbox, acceptance_rate=1, acceptance_delay_seconds=0)
    campaign = campaign_with(owner, 1, followup_template="Thanks for connecting, {first_name}!", followup_delay_minutes=0)
    run_until([0, 5, 6, 11])  # sent, accepted
    assert campaign.requests.get().state == State.ACCEPTED
    run_until([12, 17])  # follow-up submitted, then polled
    followup = FollowUp.objects.get()
    assert followup.state == FollowUp.State.SENT and followup.message == "Thanks for connecting, P0!"
    run_until([60, 120, 180])
    assert SentMessage.objects.count() == 1 and FollowUp.objects.count() == 1


def test_the_follow_up_waits_for_its_delay(sandbox, account, owner):
    switch(sandbox, acceptance_rate=1, acceptance_delay_seconds=0)
    campaign_with(owner, 1, followup_template="Thanks!", followup_delay_minutes=60)
    run_until([0, 5, 6, 11, 12])
    assert not FollowUp.objects.exists()
    run_until([3700])
    assert FollowUp.objects.get().state in (FollowUp.State.PENDING, FollowUp.State.SUBMITTING, FollowUp.State.SENT)


def test_a_follow_up_that_cannot_be_written_is_skipped_with_the_reason(account, owner):
    campaign = campaign_with(owner, 1, followup_template="Hi {title}", followup_delay_minutes=0)
    ConnectionRequest.objects.update(state=State.ACCEPTED, accepted_at=at(0))
    client = outx.OutxClient("https://outx.test", "k", transport=httpx.MockTransport(lambda r: pytest.fail("no call")))
    run_tick(now=at(1), client=client)
    followup = FollowUp.objects.get(request__campaign=campaign)
    assert followup.state == FollowUp.State.SKIPPED
    assert "No value for {title}" in followup.events.last().cause


def test_a_follow_up_whose_post_timed_out_is_uncertain_and_never_resent(sandbox, account, owner, settings):
    campaign_with(owner, 1, followup_template="Thanks!", followup_delay_minutes=0)
    ConnectionRequest.objects.update(state=State.ACCEPTED, accepted_at=at(0), submitted_at=at(0))
    switch(sandbox, latency_ms=1500)
    settings.OUTX_READ_TIMEOUT = 0.5
    run_tick(now=at(1))
    wait_for_sandbox_idle()
    switch(sandbox, latency_ms=0)
    run_until([60, 120])
    followup = FollowUp.objects.get()
    assert followup.state == FollowUp.State.UNCERTAIN and followup.attempts == 1


def test_the_safety_brake_pauses_a_campaign_nobody_accepts(owner, account):
    campaign = campaign_with(owner, 25)
    long_ago = timezone.now() - dt.timedelta(days=account.acceptance_wait_days + 1)
    ConnectionRequest.objects.update(state=State.SENT, submitted_at=long_ago)
    ConnectionRequest.objects.filter(pk__in=list(campaign.requests.values_list("pk", flat=True)[:3])).update(
        state=State.ACCEPTED
    )
    braked = acceptance.apply_safety_brakes(timezone.now())
    campaign.refresh_from_db()
    assert braked == [campaign] and campaign.state == Campaign.State.PAUSED
    assert campaign.paused_cause.startswith("Safety brake: only 3 of 25 invitations answered so far were accepted (12%")

    campaign.move_to(Campaign.State.ACTIVE, "Resumed by owner")  # a person overrides it
    campaign.refresh_from_db()
    assert campaign.brake_released_count == 25 and campaign.paused_cause == ""
    assert acceptance.apply_safety_brakes(timezone.now()) == []  # not again at once


def test_the_brake_waits_for_enough_answered_invitations(owner, account):
    campaign = campaign_with(owner, 25)
    ConnectionRequest.objects.update(state=State.SENT, submitted_at=timezone.now())  # too recent to judge
    assert acceptance.apply_safety_brakes(timezone.now()) == []
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.ACTIVE


def test_old_unanswered_invitations(owner):
    campaign = campaign_with(owner, 3)
    old = timezone.now() - dt.timedelta(weeks=3, days=1)
    first, second, third = campaign.requests.order_by("id")
    ConnectionRequest.objects.filter(pk=first.pk).update(state=State.SENT, submitted_at=old)
    ConnectionRequest.objects.filter(pk=second.pk).update(state=State.ACCEPTED, submitted_at=old)
    ConnectionRequest.objects.filter(pk=third.pk).update(state=State.SENT, submitted_at=timezone.now())
    assert list(ConnectionRequest.objects.old_unanswered()) == [first]


def test_invitations_and_follow_ups_share_the_hourly_action_cap(account, owner):
    account.hourly_action_limit = 2
    account.save()
    campaign = campaign_with(owner, 2)
    ConnectionRequest.objects.update(state=State.SENT, submitted_at=timezone.now())
    decision = action_decision(account, timezone.now())
    assert not decision.allowed and "2 LinkedIn actions in the last hour" in decision.reason
    assert pacing.action_decision(account, timezone.now(), actions_last_hour=1).allowed
    assert campaign.requests.count() == 2


def test_a_variant_added_later_gets_its_share_of_the_queue(owner):
    campaign = Campaign.objects.create(name="Later B", owner=owner, note_template="A {first_name}")
    for i in range(6):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAALater{i:03d}", first_name=f"P{i}")
        ConnectionRequest.objects.create(campaign=campaign, prospect=prospect)
    campaign.freeze_queued_notes()
    first = campaign.requests.order_by("id").first()
    ConnectionRequest.objects.filter(pk=first.pk).update(state=State.SENT)  # already out: keeps A
    campaign.note_template_b = "B {first_name}"
    campaign.save()
    campaign.freeze_queued_notes()
    assert sorted(campaign.requests.values_list("variant", flat=True)) == ["A", "A", "A", "B", "B", "B"]
    assert campaign.requests.get(pk=first.pk).variant == "A"
    assert all(r.note.startswith(r.variant) for r in campaign.requests.filter(state=State.QUEUED))


def test_a_follow_up_too_long_once_filled_in_is_skipped(account, owner):
    campaign = campaign_with(owner, 1, followup_template="a" * 9_999 + "{company}", followup_delay_minutes=0)
    ConnectionRequest.objects.update(state=State.ACCEPTED, accepted_at=at(0))
    client = outx.OutxClient("https://outx.test", "k", transport=httpx.MockTransport(lambda r: pytest.fail("no call")))
    run_tick(now=at(1), client=client)
    followup = FollowUp.objects.get(request__campaign=campaign)
    assert followup.state == FollowUp.State.SKIPPED and "longer than 10,000" in followup.events.last().cause
