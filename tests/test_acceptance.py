"""Acceptance tracking: accepted invitations found in OutX's list of newest connections, read
only as far as needed; the safety brake that pauses a campaign whose invitations are too rarely
accepted; and invitations left unanswered for over three weeks."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import acceptance, outx
from campaigns.models import Campaign, ConnectionRequest, Sender
from tests.helpers import at, run_until

pytestmark = pytest.mark.django_db(transaction=True)

State = ConnectionRequest.State


@pytest.fixture
def account(pacing_off):
    return pacing_off


def test_accepted_invitations_are_found_in_the_newest_connections(switch, account, make_campaign):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    campaign = make_campaign(prospects=3)
    run_until([0, 5])  # submitted, then sent
    assert set(campaign.requests.values_list("state", flat=True)) == {State.SENT}
    run_until([6, 11])  # the connections list is asked for, then read
    requests = list(campaign.requests.all())
    assert {r.state for r in requests} == {State.ACCEPTED}
    assert all(r.accepted_at for r in requests)
    assert "is now a connection" in requests[0].events.last().cause
    account.refresh_from_db()
    assert account.connections_task_id == "" and account.next_acceptance_check_at == at(11) + dt.timedelta(minutes=1)


def test_nobody_is_marked_accepted_who_did_not_accept(switch, account, make_campaign):
    switch(acceptance_rate=0, acceptance_delay_seconds=0)
    campaign = make_campaign(prospects=2)
    run_until([0, 5, 6, 11])
    assert set(campaign.requests.values_list("state", flat=True)) == {State.SENT}


def test_the_list_is_read_only_as_far_as_needed():
    account = Sender(connections_task_start=0, last_acceptance_check_at=at(0))
    newer = [outx.read_connection({"connected_at": at(60 + i).isoformat()}) for i in range(acceptance.PAGE_SIZE)]
    assert acceptance.needs_next_page(account, newer)
    reaching_back = newer[:-1] + [outx.read_connection({"connected_at": at(-60).isoformat()})]
    assert not acceptance.needs_next_page(account, reaching_back)
    assert not acceptance.needs_next_page(account, newer[:10])  # the last page
    account.connections_task_start = (acceptance.MAX_PAGES - 1) * acceptance.PAGE_SIZE
    assert not acceptance.needs_next_page(account, newer)  # bounded however many are new


def test_the_safety_brake_pauses_a_campaign_nobody_accepts(make_campaign, account):
    campaign = make_campaign(prospects=25)
    long_ago = timezone.now() - dt.timedelta(days=account.acceptance_wait_days + 1)
    ConnectionRequest.objects.update(state=State.SENT, submitted_at=long_ago)
    ConnectionRequest.objects.filter(pk__in=list(campaign.requests.values_list("pk", flat=True)[:3])).update(
        state=State.ACCEPTED
    )
    braked = acceptance.apply_safety_brakes(account, timezone.now())
    campaign.refresh_from_db()
    assert braked == [campaign] and campaign.state == Campaign.State.PAUSED
    assert campaign.paused_cause.startswith("Safety brake: only 3 of 25 invitations answered so far were accepted (12%")

    campaign.move_to(Campaign.State.ACTIVE, "Resumed by owner")  # a person overrides it
    campaign.refresh_from_db()
    assert campaign.brake_released_count == 25 and campaign.paused_cause == ""
    assert acceptance.apply_safety_brakes(account, timezone.now()) == []  # not again at once


def test_the_brake_waits_for_enough_answered_invitations(make_campaign, account):
    campaign = make_campaign(prospects=25)
    ConnectionRequest.objects.update(state=State.SENT, submitted_at=timezone.now())  # too recent to judge
    assert acceptance.apply_safety_brakes(account, timezone.now()) == []
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.ACTIVE


def test_old_unanswered_invitations(make_campaign):
    campaign = make_campaign(prospects=3)
    old = timezone.now() - dt.timedelta(weeks=3, days=1)
    first, second, third = campaign.requests.order_by("id")
    ConnectionRequest.objects.filter(pk=first.pk).update(state=State.SENT, submitted_at=old)
    ConnectionRequest.objects.filter(pk=second.pk).update(state=State.ACCEPTED, submitted_at=old)
    ConnectionRequest.objects.filter(pk=third.pk).update(state=State.SENT, submitted_at=timezone.now())
    assert list(ConnectionRequest.objects.old_unanswered()) == [first]
