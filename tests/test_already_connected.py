"""'Already a connection': a prospect the sender is already connected to (its connections as
acceptance tracking read them, kept as SenderConnection rows) is skipped before any POST."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender, SenderConnection
from campaigns.worker import run_tick
from outx_sandbox.models import SandboxTask
from tests.helpers import at, run_until

pytestmark = pytest.mark.django_db(transaction=True)

State = ConnectionRequest.State
SEEN = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


def invitation_posts() -> int:
    return SandboxTask.objects.filter(task_type=SandboxTask.TaskType.SEND_CONNECTION_REQUEST).count()


def test_of_prospect_matches_by_urn_or_url_and_only_for_that_sender():
    team, other = Sender.get(), Sender.objects.create(name="Other account")
    by_urn = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAAOne", profile_url="https://www.linkedin.com/in/one")
    by_url = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAATwo", profile_url="https://www.linkedin.com/in/two")
    stranger = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAAThree")
    SenderConnection.objects.create(sender=team, profile_urn=by_urn.profile_urn)
    SenderConnection.objects.create(sender=team, profile_url=by_url.profile_url)
    SenderConnection.objects.create(sender=other, profile_urn=stranger.profile_urn)

    assert SenderConnection.objects.of_prospect(team, by_urn).exists()
    assert SenderConnection.objects.of_prospect(team, by_url).exists()
    assert not SenderConnection.objects.of_prospect(team, stranger).exists()
    assert SenderConnection.objects.of_prospect(other, stranger).exists()
    assert SenderConnection.objects.of_prospect(other.pk, by_urn).first() is None


def test_a_connection_of_the_sender_is_skipped_before_any_post(sandbox, pacing_off, make_campaign):
    campaign = make_campaign(prospects=3)
    connected = campaign.requests.order_by("id")[0]
    SenderConnection.objects.create(sender=pacing_off, profile_urn=connected.prospect.profile_urn, seen_at=SEEN)

    summary = run_tick(now=timezone.now())

    assert (summary.skipped, summary.submitted) == (1, 2)
    connected.refresh_from_db()
    assert (connected.state, connected.attempts) == (State.SKIPPED, 0)
    assert connected.events.get().cause == (
        f"Already a connection of {pacing_off.name} (seen in its LinkedIn connections on 2026-03-04)."
    )
    invited = set(SandboxTask.objects.values_list("task_input__profile_urn", flat=True))
    assert connected.prospect.profile_urn not in invited and len(invited) == 2


def test_a_connection_of_another_sender_is_still_invited(sandbox, pacing_off, make_campaign):
    other = Sender.objects.create(name="Someone else's account")
    campaign = make_campaign(prospects=1)
    SenderConnection.objects.create(sender=other, profile_urn=campaign.requests.get().prospect.profile_urn)

    assert run_tick(now=timezone.now()).submitted == 1
    assert invitation_posts() == 1


def test_a_connection_known_by_url_stops_the_invitation_too(sandbox, pacing_off, make_campaign):
    campaign = make_campaign()
    prospect = Prospect.objects.create(
        profile_urn="urn:li:fsd_profile:ACoAAByUrl", profile_url="https://www.linkedin.com/in/by-url", first_name="U",
    )
    ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, sender=pacing_off)
    SenderConnection.objects.create(sender=pacing_off, profile_url=prospect.profile_url, seen_at=SEEN)

    assert run_tick(now=timezone.now()).skipped == 1
    assert invitation_posts() == 0


def test_end_to_end_a_connection_read_by_acceptance_tracking_is_never_invited_again(switch, pacing_off, owner):
    """Invited and accepted through the sandbox, its invitation then gone from our records
    (the campaign deleted): the connection acceptance tracking kept still stops a new one."""
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    first = Campaign.objects.create(name="First", owner=owner, state=Campaign.State.ACTIVE, note_template="Hi")
    first.senders.set([pacing_off])
    prospect = Prospect.objects.create(profile_urn="urn:li:fsd_profile:ACoAAFriend", first_name="Fran")
    first.add_prospects([prospect])
    run_until([0, 5, 6, 11])  # submitted, sent, the connections asked for, then read
    assert first.requests.get().state == State.ACCEPTED
    assert SenderConnection.objects.of_prospect(pacing_off, prospect).exists()
    first.delete()

    second = Campaign.objects.create(name="Second", owner=owner, state=Campaign.State.ACTIVE, note_template="Hi again")
    second.senders.set([pacing_off])
    second.add_prospects([prospect])
    summary = run_tick(now=at(20))

    request = second.requests.get()
    assert (summary.skipped, request.state) == (1, State.SKIPPED)
    assert request.events.get().cause.startswith(f"Already a connection of {pacing_off.name}")
    assert invitation_posts() == 1  # the first campaign's only
