"""Follow-up messages: sent once, a set delay after an acceptance; skipped with the reason when
they cannot be written; uncertain, and never resent, when their submission may have reached OutX;
and counted with the invitations against the hourly cap of LinkedIn actions."""

import httpx
import pytest
from django.utils import timezone

from campaigns import outx, pacing
from campaigns.models import ConnectionRequest, FollowUp
from campaigns.sending import action_decision
from campaigns.worker import run_tick
from outx_sandbox.models import SentMessage
from tests.conftest import wait_for_sandbox_idle
from tests.helpers import at, run_until

pytestmark = pytest.mark.django_db(transaction=True)

State = ConnectionRequest.State


@pytest.fixture
def account(pacing_off):
    return pacing_off


def test_the_follow_up_goes_out_once_after_acceptance(switch, account, make_campaign):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    campaign = make_campaign(prospects=1, followup_template="Thanks for connecting, {first_name}!", followup_delay_minutes=0)
    run_until([0, 5, 6, 11])  # sent, accepted
    assert campaign.requests.get().state == State.ACCEPTED
    run_until([12, 17])  # follow-up submitted, then polled
    followup = FollowUp.objects.get()
    assert followup.state == FollowUp.State.SENT and followup.message == "Thanks for connecting, P0!"
    run_until([60, 120, 180])
    assert SentMessage.objects.count() == 1 and FollowUp.objects.count() == 1


def test_the_follow_up_waits_for_its_delay(switch, account, make_campaign):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    make_campaign(prospects=1, followup_template="Thanks!", followup_delay_minutes=60)
    run_until([0, 5, 6, 11, 12])
    assert not FollowUp.objects.exists()
    run_until([3700])
    assert FollowUp.objects.get().state in (FollowUp.State.PENDING, FollowUp.State.SUBMITTING, FollowUp.State.SENT)


def test_a_follow_up_that_cannot_be_written_is_skipped_with_the_reason(account, make_campaign):
    campaign = make_campaign(prospects=1, followup_template="Hi {title}", followup_delay_minutes=0)
    ConnectionRequest.objects.update(state=State.ACCEPTED, accepted_at=at(0))
    client = outx.OutxClient("https://outx.test", "k", transport=httpx.MockTransport(lambda r: pytest.fail("no call")))
    run_tick(now=at(1), client=client)
    followup = FollowUp.objects.get(request__campaign=campaign)
    assert followup.state == FollowUp.State.SKIPPED
    assert "No value for {title}" in followup.events.last().cause


def test_a_follow_up_whose_post_timed_out_is_uncertain_and_never_resent(switch, account, make_campaign, settings):
    make_campaign(prospects=1, followup_template="Thanks!", followup_delay_minutes=0)
    ConnectionRequest.objects.update(state=State.ACCEPTED, accepted_at=at(0), submitted_at=at(0))
    switch(latency_ms=1500)
    settings.OUTX_READ_TIMEOUT = 0.5
    run_tick(now=at(1))
    wait_for_sandbox_idle()
    switch(latency_ms=0)
    run_until([60, 120])
    followup = FollowUp.objects.get()
    assert followup.state == FollowUp.State.UNCERTAIN and followup.attempts == 1


def test_invitations_and_follow_ups_share_the_hourly_action_cap(account, make_campaign):
    account.hourly_action_limit = 2
    account.save()
    campaign = make_campaign(prospects=2)
    ConnectionRequest.objects.update(state=State.SENT, submitted_at=timezone.now())
    decision = action_decision(account, timezone.now())
    assert not decision.allowed and "2 LinkedIn actions in the last hour" in decision.reason
    assert pacing.action_decision(account, timezone.now(), actions_last_hour=1).allowed
    assert campaign.requests.count() == 2


def test_a_follow_up_too_long_once_filled_in_is_skipped(account, make_campaign):
    campaign = make_campaign(prospects=1, followup_template="a" * 9_999 + "{company}", followup_delay_minutes=0)
    ConnectionRequest.objects.update(state=State.ACCEPTED, accepted_at=at(0))
    client = outx.OutxClient("https://outx.test", "k", transport=httpx.MockTransport(lambda r: pytest.fail("no call")))
    run_tick(now=at(1), client=client)
    followup = FollowUp.objects.get(request__campaign=campaign)
    assert followup.state == FollowUp.State.SKIPPED and "longer than 10,000" in followup.events.last().cause
