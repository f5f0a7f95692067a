"""`manage.py demo_setup` creates demo / demo as a superuser, so it refuses to run with
DJANGO_DEBUG=0 unless given --force. It makes three senders, each its own sandbox team, and a
campaign over two of them, which the worker sends in full; run twice, it changes nothing."""

import datetime as dt
import io
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, Event, Sender
from campaigns.worker import run_tick
from outx_sandbox.models import Delivery, SandboxSettings
from tests.test_production import manage, production_env

State = ConnectionRequest.State

REFUSAL = (
    "demo_setup refuses to run with DJANGO_DEBUG=0: it creates the superuser 'demo' with the "
    "password 'demo', which anyone could log in as. Run it on a development copy (DJANGO_DEBUG=1), "
    "or add --force if this site really is a demo."
)


@pytest.mark.django_db
def test_with_debug_off_it_refuses_and_creates_nothing(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError) as refused:
        call_command("demo_setup")

    assert str(refused.value) == REFUSAL
    assert not User.objects.exists()
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_with_debug_off_and_force_it_sets_up_the_demo(settings):
    settings.DEBUG = False

    out = io.StringIO()
    call_command("demo_setup", "--force", stdout=out)

    assert "Created the admin user 'demo' (password 'demo')." in out.getvalue()

    demo = User.objects.get(username="demo")
    assert demo.is_superuser and demo.check_password("demo")
    assert Campaign.objects.get().name == "Demo campaign"


@pytest.mark.django_db
def test_with_debug_on_it_sets_up_the_demo_as_make_run_does(settings):
    settings.DEBUG = True

    call_command("demo_setup", stdout=io.StringIO())

    assert User.objects.get(username="demo").is_superuser


def test_a_production_process_is_refused_with_the_reason(tmp_path):
    # Refused before it touches the database: this one has not even been migrated.
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    done = manage(env, "demo_setup")

    assert done.returncode == 1
    assert "CommandError: " + REFUSAL in done.stderr
    assert "Created the admin user" not in done.stdout


# --- Three senders, each its own sandbox team; a campaign over two ------------------------------


def demo_senders() -> list[Sender]:
    return list(Sender.objects.order_by("pk"))


@pytest.mark.django_db
def test_the_demo_has_three_senders_each_on_its_own_sandbox_team(settings):
    settings.DEBUG = True
    settings.OUTX_API_KEY = settings.OUTX_SANDBOX_API_KEY  # as `make run` has it

    call_command("demo_setup", stdout=io.StringIO())

    ada, grace, linus = demo_senders()
    assert [s.name for s in (ada, grace, linus)] == ["Ada's LinkedIn", "Grace's LinkedIn", "Linus's LinkedIn"]
    # The first uses OUTX_API_KEY (the sandbox's default key); the others store their own.
    assert (ada.key_from_environment, ada.api_key) == (True, settings.OUTX_SANDBOX_API_KEY)
    assert (grace.api_key, linus.api_key) == ("sandbox-key-grace", "sandbox-key-linus")
    assert grace.masked_key == "••••••••race"
    teams = [SandboxSettings.for_key(sender.api_key) for sender in (ada, grace, linus)]
    assert [team.name for team in teams] == ["Ada's team", "Grace's team", "Linus's team"]
    assert teams[0] == SandboxSettings.get()
    demo = User.objects.get(username="demo")
    for sender in (ada, grace, linus):
        assert list(sender.users.all()) == [demo]
        assert (sender.min_spacing_seconds, sender.max_spacing_seconds, sender.working_days) == (5, 10, list(range(7)))


@pytest.mark.django_db
def test_the_demo_campaign_rotates_over_two_senders_with_its_prospects_split_evenly(settings):
    settings.DEBUG = True

    call_command("demo_setup", stdout=io.StringIO())

    ada, grace, linus = demo_senders()
    campaign = Campaign.objects.get()
    assert list(campaign.senders.order_by("pk")) == [ada, grace]
    per_sender = Counter(campaign.requests.values_list("sender__name", flat=True))
    assert per_sender == {"Ada's LinkedIn": 5, "Grace's LinkedIn": 5}
    assert campaign.state == Campaign.State.ACTIVE
    # Woken: the worker's dispatcher hands out only senders whose work is due.
    assert ada.next_due_at is not None and grace.next_due_at is not None
    assert linus.next_due_at is None and not linus.campaigns.exists()


@pytest.mark.django_db
def test_running_it_twice_changes_nothing(settings):
    settings.DEBUG = True

    def rows():
        campaign = Campaign.objects.get()
        return {
            "users": list(User.objects.values_list("username", flat=True)),
            "senders": list(Sender.objects.order_by("pk").values_list("pk", "name", "key_fingerprint", "daily_limit")),
            "teams": list(SandboxSettings.objects.order_by("pk").values_list("pk", "name", "api_key")),
            "campaign senders": list(campaign.senders.order_by("pk").values_list("pk", flat=True)),
            "requests": list(campaign.requests.order_by("pk").values_list("pk", "sender_id", "variant", "note")),
            "events": Event.objects.count(),
        }

    call_command("demo_setup", stdout=io.StringIO())
    first = rows()
    again = io.StringIO()
    call_command("demo_setup", stdout=again)

    assert rows() == first
    assert "Sender \"Grace's LinkedIn\" exists; its pacing left as it is" in again.getvalue()
    assert "'Demo campaign' exists; adding only what it lacks." in again.getvalue()
    assert "Created" not in again.getvalue()


@pytest.mark.django_db
def test_a_sender_a_person_paced_since_is_left_as_it_is(settings):
    settings.DEBUG = True
    call_command("demo_setup", stdout=io.StringIO())
    Sender.objects.filter(name="Grace's LinkedIn").update(min_spacing_seconds=60, max_spacing_seconds=120)

    call_command("demo_setup", stdout=io.StringIO())

    grace = Sender.objects.get(name="Grace's LinkedIn")
    assert (grace.min_spacing_seconds, grace.max_spacing_seconds) == (60, 120)
    assert Sender.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_every_demo_invitation_each_through_its_sender_s_team(sandbox, settings):
    """What `make run` shows: the worker sends the whole demo campaign, half from each sender,
    each invitation delivered by that sender's own sandbox team."""
    settings.DEBUG = True
    settings.OUTX_SANDBOX_TASK_DELAY = 0  # the teams demo_setup makes complete tasks at once
    call_command("demo_setup", stdout=io.StringIO())
    campaign = Campaign.objects.get()
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)  # inside the demo's hours

    for tick in range(120):
        run_tick(now=noon + dt.timedelta(seconds=5 * tick))
        if not campaign.requests.exclude(state__in=[State.SENT, State.ACCEPTED]).exists():
            break

    assert sorted(campaign.requests.values_list("state", flat=True)) == [State.SENT] * 10
    ada, grace, _ = demo_senders()
    for sender in (ada, grace):
        team = SandboxSettings.for_key(sender.api_key)
        delivered = set(Delivery.objects.filter(task__team=team).values_list("profile_urn", flat=True))
        invited = set(campaign.requests.filter(sender=sender).values_list("prospect__profile_urn", flat=True))
        assert len(delivered) == 5 and delivered == invited
    assert Delivery.objects.duplicate_count() == 0
