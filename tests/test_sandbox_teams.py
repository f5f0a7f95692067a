"""Several OutX teams in one sandbox, over real HTTP: each API key is one team, one LinkedIn
account, with its own switches, tasks and delivery log; and the worker sends from each sender
through its own team, so a condition on one team stops only that team's sender."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import outx
from campaigns.models import ConnectionRequest, Sender
from campaigns.worker import run_tick
from outx_sandbox.models import Delivery, SandboxSettings, SandboxTask

pytestmark = pytest.mark.django_db(transaction=True)

URN = "urn:li:fsd_profile:ACoAAB1234"
OTHER_URN = "urn:li:fsd_profile:ACoAAB5678"
KEY_A, KEY_B = "sandbox-key-a", "sandbox-key-b"
T0 = timezone.now().replace(microsecond=0)


def seconds(n: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=n)


@pytest.fixture
def team_b(make_team):
    return make_team("Team B", KEY_B)


@pytest.fixture
def b_client(team_b):
    with outx.get_client(api_key=KEY_B) as client:
        yield client


def test_a_429_switch_on_team_b_answers_429_to_b_s_key_only(outx_client, b_client, team_b, switch):
    switch(team=team_b, weekly_invitation_limit=0)

    with pytest.raises(outx.OutxRateLimited, match="^LinkedIn invitation limit reached$"):
        b_client.send_connection_request(URN)

    created = outx_client.send_connection_request(URN)
    assert outx_client.get_task_status(created.task_id).sent
    assert not team_b.tasks.exists()


def test_extension_offline_on_one_team_leaves_the_other_working(outx_client, b_client, sandbox, switch):
    switch(extension_offline=True)

    with pytest.raises(outx.OutxExtensionOffline):
        outx_client.send_connection_request(URN)

    assert b_client.get_task_status(b_client.send_connection_request(URN).task_id).sent


def test_a_key_cannot_read_another_team_s_task(outx_client, b_client):
    theirs = outx_client.send_connection_request(URN).task_id

    with pytest.raises(outx.OutxTaskNotFound, match="^Agent task not found$"):
        b_client.get_task_status(theirs)

    assert outx_client.get_task_status(theirs).sent


def test_each_team_has_its_own_delivery_log(outx_client, b_client, sandbox, team_b):
    outx_client.get_task_status(outx_client.send_connection_request(URN, "From A").task_id)
    b_client.get_task_status(b_client.send_connection_request(OTHER_URN, "From B").task_id)

    assert [(d.profile_urn, d.note) for d in Delivery.objects.filter(task__team=sandbox)] == [(URN, "From A")]
    assert [(d.profile_urn, d.note) for d in Delivery.objects.filter(task__team=team_b)] == [(OTHER_URN, "From B")]


def test_a_sender_s_client_reaches_its_own_team(sandbox, team_b):
    sender = Sender.objects.create(name="Grace's LinkedIn")
    sender.set_api_key(KEY_B)
    sender.save()

    with outx.client_for(Sender.objects.get(pk=sender.pk)) as client:
        client.fetch_profile("grace-hopper")

    assert SandboxTask.objects.get().team == team_b


# --- The worker, one sender per team -------------------------------------------------------------

PACING_OFF = {
    "working_days": [0, 1, 2, 3, 4, 5, 6],
    "work_start": dt.time(0, 0),
    "work_end": dt.time(23, 59, 59),
    "min_spacing_seconds": 0,
    "max_spacing_seconds": 0,
    "daily_limit": 1000,
    "weekly_limit": 1000,
    "hourly_action_limit": 1000,
}


def sender_on(team: SandboxSettings, name: str) -> Sender:
    sender = Sender(name=name, **PACING_OFF)
    sender.set_api_key(team.api_key)
    sender.save()
    return sender


def test_one_team_s_extension_offline_pauses_only_its_sender(make_team, switch, make_campaign):
    team_a, team_b = make_team("Team A", KEY_A), make_team("Team B", KEY_B)
    sender_a, sender_b = sender_on(team_a, "Ada's LinkedIn"), sender_on(team_b, "Grace's LinkedIn")
    campaign_a = make_campaign("A's campaign", prospects=2, start=0, senders=[sender_a])
    campaign_b = make_campaign("B's campaign", prospects=2, start=10, senders=[sender_b])
    switch(team=team_a, extension_offline=True)

    run_tick(now=seconds(0))
    run_tick(now=seconds(5))  # OutX asks for 5 s between status calls

    sender_a.refresh_from_db()
    sender_b.refresh_from_db()
    assert sender_a.state == Sender.State.EXTENSION_OFFLINE
    assert sender_b.state == Sender.State.ACTIVE
    assert set(campaign_a.requests.values_list("state", flat=True)) == {ConnectionRequest.State.QUEUED}
    assert set(campaign_b.requests.values_list("state", flat=True)) == {ConnectionRequest.State.SENT}
    assert not team_a.tasks.exists()
    delivered = {d.profile_urn for d in Delivery.objects.filter(task__team=team_b)}
    assert delivered == set(campaign_b.requests.values_list("prospect__profile_urn", flat=True))
    assert Delivery.objects.count() == 2
