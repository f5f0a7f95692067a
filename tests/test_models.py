"""The database keeps the rules the product depends on, even if code forgets them."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from campaigns.models import Campaign, ConnectionRequest, Event, Prospect, Sender

pytestmark = pytest.mark.django_db

URN = "urn:li:fsd_profile:ACoAAB1234"


@pytest.fixture
def campaign(make_campaign):
    return make_campaign("Q4", Campaign.State.DRAFT)


def test_one_prospect_per_urn():
    Prospect.objects.create(profile_urn=URN)
    with pytest.raises(IntegrityError), transaction.atomic():
        Prospect.objects.create(profile_urn=URN)


def test_one_prospect_per_profile_url():
    Prospect.objects.create(profile_url="https://www.linkedin.com/in/ada")
    with pytest.raises(IntegrityError), transaction.atomic():
        Prospect.objects.create(profile_url="https://www.linkedin.com/in/ada")


def test_many_prospects_may_lack_a_urn():
    Prospect.objects.create(profile_url="https://www.linkedin.com/in/ada")
    Prospect.objects.create(profile_url="https://www.linkedin.com/in/grace")
    assert Prospect.objects.filter(profile_urn__isnull=True).count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {},  # neither URN nor URL
        {"profile_urn": "ACoAAB1234"},  # URN stored without its prefix
        {"profile_url": "linkedin.com/in/ada"},  # URL stored unnormalised
    ],
)
def test_database_refuses_unnormalised_or_anonymous_prospects(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Prospect.objects.create(**fields)


def test_clean_normalises_what_a_person_typed():
    prospect = Prospect(profile_urn="ACoAAB1234", profile_url="https://fr.linkedin.com/in/Ada/?x=1")
    prospect.full_clean()
    assert prospect.profile_urn == URN
    assert prospect.profile_url == "https://www.linkedin.com/in/ada"


def test_clean_explains_a_bad_profile():
    with pytest.raises(ValidationError, match="not a linkedin.com address"):
        Prospect(profile_url="https://example.com/in/ada").full_clean()


def test_one_request_per_prospect_per_campaign(campaign):
    prospect = Prospect.objects.create(profile_urn=URN)
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect)


def test_the_same_prospect_may_be_in_two_campaigns(campaign, owner):
    prospect = Prospect.objects.create(profile_urn=URN)
    other = Campaign.objects.create(name="Q1", owner=owner)
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect)
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=other, prospect=prospect)
    assert prospect.requests.count() == 2


def test_a_task_id_belongs_to_one_request(campaign):
    first = Prospect.objects.create(profile_urn=URN)
    second = Prospect.objects.create(profile_urn=URN + "9")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=first, outx_task_id="t-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=second, outx_task_id="t-1")


def test_database_refuses_an_unknown_state(campaign):
    prospect = Prospect.objects.create(profile_urn=URN)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect, state="lost")


def test_move_to_records_the_cause(campaign):
    request = ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=Prospect.objects.create(profile_urn=URN))
    assert request.move_to(ConnectionRequest.State.SUBMITTING, "Submitting to OutX", attempts=1)
    request.refresh_from_db()
    assert (request.state, request.attempts) == ("submitting", 1)
    event = Event.objects.get(connection_request=request)
    assert (event.from_state, event.to_state, event.cause) == ("queued", "submitting", "Submitting to OutX")
    assert event.campaign == campaign


def test_move_to_loses_the_race_when_someone_moved_the_row_first(campaign):
    request = ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=Prospect.objects.create(profile_urn=URN))
    stale_copy = ConnectionRequest.objects.get(pk=request.pk)
    assert request.move_to("submitting", "worker 1 claims it")
    assert not stale_copy.move_to("submitting", "worker 2 claims it too")
    assert Event.objects.filter(connection_request=request).count() == 1


def test_move_to_refuses_a_move_the_life_cycle_forbids(campaign):
    request = ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=Prospect.objects.create(profile_urn=URN))
    with pytest.raises(ValueError, match="A queued connection request cannot become sent"):
        request.move_to("sent", "skipping ahead")
    # An uncertain request is never simply resubmitted: only a person sends it back to the queue.
    assert "submitting" not in ConnectionRequest.TRANSITIONS["uncertain"]


def test_every_state_has_its_transitions():
    assert set(ConnectionRequest.TRANSITIONS) == set(ConnectionRequest.State.values)


def test_sending_account_defaults_are_the_safe_ones():
    account = Sender.get()
    assert (account.daily_limit, account.weekly_limit) == (20, 100)
    assert account.working_days == [0, 1, 2, 3, 4]
    assert (str(account.work_start), str(account.work_end)) == ("09:00:00", "18:00:00")
    assert (account.min_spacing_seconds, account.max_spacing_seconds) == (120, 300)
    assert Sender.get().pk == account.pk


def test_account_pause_is_recorded():
    account = Sender.get()
    account.set_state(Sender.State.LIMIT_REACHED, "LinkedIn invitation limit reached")
    account.refresh_from_db()
    assert account.state == "limit_reached" and not account.is_sending
    assert Event.objects.get(sender=account).cause == "LinkedIn invitation limit reached"


def test_account_pacing_is_validated():
    account = Sender(time_zone="Mars/Olympus", working_days=[7])
    with pytest.raises(ValidationError) as raised:
        account.full_clean()
    assert "time_zone" in raised.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Sender.objects.create(min_spacing_seconds=600, max_spacing_seconds=60)


def test_campaign_state_change_is_recorded(campaign):
    campaign.move_to(Campaign.State.ACTIVE, "Launched by owner")
    assert campaign.launched_at is not None
    assert Event.objects.get(campaign=campaign, connection_request=None).to_state == "active"
    assert campaign.can_be_changed_by(campaign.owner)
    assert not campaign.can_be_changed_by(User.objects.create_user("someone"))
