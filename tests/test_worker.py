"""The worker: a request's whole life on the sandbox over real HTTP, and every OutX answer's effect.

Ticks run with an explicit `now`, so pacing and polling are tested against a controlled clock
while the calls themselves really go over HTTP to the sandbox.
"""

import datetime as dt

import httpx
import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns import outx
from campaigns.models import Campaign, ConnectionRequest, Prospect, Sender
from campaigns.worker import run_tick
from outx_sandbox.models import Delivery, SandboxTask
from tests.conftest import wait_for_sandbox_idle

pytestmark = pytest.mark.django_db(transaction=True)

State = ConnectionRequest.State
T0 = timezone.now().replace(microsecond=0)


def seconds(n: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=n)


@pytest.fixture
def account(pacing_off):
    return pacing_off


def states(campaign=None):
    requests = ConnectionRequest.objects.filter(campaign=campaign) if campaign else ConnectionRequest.objects
    return sorted(requests.values_list("state", flat=True))


def test_a_request_lives_queued_submitting_pending_sent(sandbox, account, make_campaign):
    campaign = make_campaign(prospects=1)
    summary = run_tick(now=seconds(0))
    request = ConnectionRequest.objects.get()
    assert (summary.submitted, request.state) == (1, State.PENDING)
    assert request.outx_task_id and request.attempts == 1 and request.submitted_at == seconds(0)

    assert run_tick(now=seconds(1)).polls == 0  # OutX asks for at least 5 s between status calls
    summary = run_tick(now=seconds(5))
    request.refresh_from_db()
    assert (summary.sent, request.state, request.poll_count) == (1, State.SENT, 1)
    assert request.task_output == {"sent": True}
    assert [(e.from_state, e.to_state) for e in request.events.all()] == [
        ("queued", "submitting"), ("submitting", "pending"), ("pending", "sent"),
    ]
    delivered = Delivery.objects.get()
    assert (delivered.profile_urn, delivered.note) == (request.prospect.profile_urn, "Hi P0")
    assert campaign.requests.get().note == "Hi P0"


def test_tick_command_prints_one_line_and_shares_the_code_path(sandbox, account, make_campaign, capsys):
    make_campaign(prospects=2)
    call_command("outreach_tick")
    out = capsys.readouterr().out.strip()
    assert out.startswith("Outreach tick: submitted 2, polled 0")
    assert "\n" not in out
    assert states() == ["pending", "pending"]


def test_pending_is_polled_with_backoff_until_completed(switch, account, make_campaign):
    # A sender's oldest pending task waits 3× its age between calls, at most 180 s
    # (pacing.task_poll_delay): a task of a minute costs 3 calls.
    make_campaign(prospects=1)
    switch(task_delay_seconds=3600)
    run_tick(now=seconds(0))
    for moment in (5, 20, 80, 260):
        assert run_tick(now=seconds(moment)).polls == 1
        assert run_tick(now=seconds(moment + 1)).polls == 0
    request = ConnectionRequest.objects.get()
    assert request.state == State.PENDING and request.poll_count == 4
    assert request.next_poll_at == seconds(440)


def test_not_sent_keeps_the_output(switch, account, make_campaign):
    make_campaign(prospects=1)
    switch(not_sent_rate=1)
    run_tick(now=seconds(0))
    run_tick(now=seconds(5))
    request = ConnectionRequest.objects.get()
    assert request.state == State.NOT_SENT
    assert request.task_output["sent"] is False
    assert "without sending" in request.events.last().cause


def test_draft_and_paused_campaigns_send_nothing(sandbox, account, make_campaign):
    make_campaign("draft", state=Campaign.State.DRAFT, prospects=1)
    make_campaign("paused", state=Campaign.State.PAUSED, prospects=1, start=1)
    assert run_tick(now=seconds(0)).submitted == 0
    assert SandboxTask.objects.count() == 0


def test_nobody_is_invited_twice_across_campaigns(sandbox, account, make_campaign):
    make_campaign("first", prospects=1)
    second = make_campaign("second", prospects=1)  # the same person
    summary = run_tick(now=seconds(0))
    assert (summary.submitted, summary.skipped) == (1, 1)
    skipped = second.requests.get()
    assert skipped.state == State.SKIPPED
    assert skipped.events.last().cause == "Already invited by Team LinkedIn account in campaign “first” (with OutX)."
    assert SandboxTask.objects.count() == 1


def test_campaigns_take_turns(sandbox, account, make_campaign):
    a = make_campaign("A", prospects=3, start=0)
    b = make_campaign("B", prospects=3, start=10)
    order = []
    for i in range(4):
        run_tick(now=seconds(i), max_submissions=1)
        latest = ConnectionRequest.objects.filter(submitted_at=seconds(i)).get()
        order.append(latest.campaign.name)
    assert order in (["A", "B", "A", "B"], ["B", "A", "B", "A"])
    assert a.requests.filter(state=State.QUEUED).count() == b.requests.filter(state=State.QUEUED).count() == 1


def noon_time_zone(moment: dt.datetime) -> str:
    """A time zone in which `moment` is about noon: a test that spans a few minutes from it
    never crosses the sender's midnight, when the daily count starts again (as CI once did)."""
    offset = 12 - moment.astimezone(dt.timezone.utc).hour  # -11 … 12 hours
    return f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"  # Etc/GMT-3 is UTC+3


def test_spacing_and_caps_hold_submissions_and_say_why(sandbox, account, make_campaign):
    account.min_spacing_seconds, account.max_spacing_seconds, account.daily_limit = 120, 300, 2
    account.time_zone = noon_time_zone(T0)
    account.save()
    make_campaign(prospects=5)
    first = run_tick(now=seconds(0))
    assert first.submitted == 1
    held = run_tick(now=seconds(60))
    assert held.submitted == 0 and held.waiting == "Spacing out invitations so they never come in bursts."
    assert run_tick(now=seconds(301)).submitted == 1
    capped = run_tick(now=seconds(700))
    assert capped.submitted == 0 and capped.waiting.startswith("Daily limit of 2 reached")


def test_400_fails_the_request_with_outx_reason(account, make_campaign, settings):
    make_campaign(prospects=1)
    reason = "Missing or invalid 'profile_urn'"
    client = outx.OutxClient("https://outx.test", "k", transport=httpx.MockTransport(
        lambda request: httpx.Response(400, json={"error": reason})))
    summary = run_tick(now=seconds(0), client=client)
    request = ConnectionRequest.objects.get()
    assert (summary.failed, request.state, request.last_error) == (1, State.FAILED, reason)
    assert request.events.last().cause == f"Invitation: OutX refused it: {reason}"


@pytest.mark.parametrize(
    ("switches", "account_state"),
    [
        ({"wrong_key": True}, Sender.State.INVALID_KEY),
        ({"no_admin": True}, Sender.State.NO_ADMIN),
    ],
)
def test_401_and_404_stop_all_calls_until_an_admin_acts(switch, account, make_campaign, switches, account_state):
    make_campaign(prospects=2)
    switch(**switches)
    run_tick(now=seconds(0))
    account.refresh_from_db()
    assert account.state == account_state
    assert "An admin must" in account.state_cause
    assert states() == ["queued", "queued"]  # refused outright: nothing was sent, nothing lost
    switch(wrong_key=False, no_admin=False)
    calls_before = SandboxTask.objects.count()
    later = run_tick(now=seconds(600))
    assert later.submitted == 0 and later.waiting == account.state_cause
    assert SandboxTask.objects.count() == calls_before == 0


def test_403_pauses_rechecks_and_resumes_by_itself(switch, account, make_campaign):
    make_campaign(prospects=1)
    switch(extension_offline=True)
    run_tick(now=seconds(0))
    account.refresh_from_db()
    assert account.state == Sender.State.EXTENSION_OFFLINE
    assert account.resume_at == seconds(300)
    assert "Waiting for the OutX extension of Team LinkedIn account to come online" in account.state_cause

    assert run_tick(now=seconds(310)).submitted == 0  # re-checked, still offline
    account.refresh_from_db()
    assert account.state == Sender.State.EXTENSION_OFFLINE and account.resume_at == seconds(610)

    switch(extension_offline=False)
    assert run_tick(now=seconds(400)).submitted == 0  # not yet time to re-check
    summary = run_tick(now=seconds(620))
    account.refresh_from_db()
    assert account.state == Sender.State.ACTIVE and summary.submitted == 1
    assert account.events.last().cause == "The OutX extension is online again; sending resumes."


def test_429_pauses_until_the_weekly_window_frees_budget(switch, account, make_campaign):
    make_campaign(prospects=3)
    switch(weekly_invitation_limit=1)
    summary = run_tick(now=seconds(0))
    account.refresh_from_db()
    assert summary.submitted == 1
    assert account.state == Sender.State.LIMIT_REACHED
    assert account.resume_at == seconds(0) + dt.timedelta(days=7)
    assert "LinkedIn invitation limit reached, resumes around" in account.state_cause
    assert sorted(states()) == ["pending", "queued", "queued"]
    assert run_tick(now=seconds(3600)).submitted == 0

    switch(weekly_invitation_limit=None)
    resumed = run_tick(now=seconds(0) + dt.timedelta(days=7, seconds=1))
    assert resumed.submitted == 2


@pytest.mark.parametrize("fault", ["server_error", "timeout"])
def test_a_post_that_may_have_reached_outx_becomes_uncertain_and_is_never_resent(
    switch, account, make_campaign, settings, fault
):
    make_campaign(prospects=1)
    if fault == "server_error":
        switch(server_error_rate=1)
    else:
        switch(latency_ms=1500)
        settings.OUTX_READ_TIMEOUT = 0.5
    summary = run_tick(now=seconds(0))
    wait_for_sandbox_idle()  # the slow answer the client gave up on
    request = ConnectionRequest.objects.get()
    assert (summary.uncertain, request.state) == (1, State.UNCERTAIN)
    assert "will not be sent again unless a person retries it" in request.events.last().cause
    switch(server_error_rate=0, latency_ms=0)
    for minute in range(1, 5):
        assert run_tick(now=seconds(60 * minute)).submitted == 0
    request.refresh_from_db()
    assert request.state == State.UNCERTAIN and request.attempts == 1


def test_a_refused_connection_on_the_post_leaves_it_queued(account, make_campaign, settings):
    make_campaign(prospects=1)
    settings.OUTX_BASE_URL = "http://127.0.0.1:9"
    summary = run_tick(now=seconds(0))
    request = ConnectionRequest.objects.get()
    assert (summary.submitted, request.state, request.submitted_at) == (0, State.QUEUED, None)
    assert request.events.last().cause.startswith("Invitation: could not reach OutX")


def test_status_call_failures_are_retried_later(switch, account, make_campaign):
    make_campaign(prospects=1)
    run_tick(now=seconds(0))
    switch(server_error_rate=1)
    summary = run_tick(now=seconds(5))
    request = ConnectionRequest.objects.get()
    assert request.state == State.PENDING and summary.polls == 1
    assert request.last_error == "Checking the task failed: Internal server error"
    switch(server_error_rate=0)
    run_tick(now=request.next_poll_at)
    request.refresh_from_db()
    assert request.state == State.SENT and request.poll_count == 2


def test_a_task_outx_no_longer_knows_becomes_uncertain(sandbox, account, make_campaign):
    make_campaign(prospects=1)
    run_tick(now=seconds(0))
    SandboxTask.objects.all().delete()
    run_tick(now=seconds(5))
    request = ConnectionRequest.objects.get()
    assert request.state == State.UNCERTAIN
    assert "A person should check LinkedIn" in request.events.last().cause


def test_a_submission_whose_worker_died_becomes_uncertain(account, make_campaign, settings):
    campaign = make_campaign(prospects=2)
    crashed, live = campaign.requests.order_by("id")
    crashed.move_to(State.SUBMITTING, "claimed", claimed_by="dead", claimed_at=seconds(0), submitted_at=seconds(0))
    live.move_to(State.SUBMITTING, "claimed", claimed_by="busy", claimed_at=seconds(100), submitted_at=seconds(100))
    settings.OUTX_BASE_URL = "http://127.0.0.1:9"
    summary = run_tick(now=seconds(100))
    crashed.refresh_from_db()
    live.refresh_from_db()
    assert (crashed.state, live.state, summary.uncertain) == (State.UNCERTAIN, State.SUBMITTING, 1)
    assert crashed.events.last().cause.startswith("The worker stopped while submitting")


def test_a_prospect_known_by_url_is_looked_up_then_invited(sandbox, account, owner):
    campaign = Campaign.objects.create(name="By URL", owner=owner, state=Campaign.State.ACTIVE)
    prospect = Prospect.objects.create(profile_url="https://www.linkedin.com/in/williamhgates")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect, note="Hello")
    assert run_tick(now=seconds(0)).lookups == 1
    run_tick(now=seconds(5))  # the look-up completes; the request may go out in the same pass
    prospect.refresh_from_db()
    assert prospect.profile_urn.startswith("urn:li:fsd_profile:ACoAA") and prospect.first_name
    run_tick(now=seconds(10))
    request = campaign.requests.get()
    assert request.state == State.SENT
    assert Delivery.objects.get().profile_urn == prospect.profile_urn


def test_a_looked_up_profile_already_known_by_urn_is_merged(sandbox, account, owner, make_campaign):
    from outx_sandbox.extension import fake_profile

    known = Prospect.objects.create(profile_urn=fake_profile("ada")["profile_urn"], first_name="Ada")
    by_url = Prospect.objects.create(profile_url="https://www.linkedin.com/in/ada")
    first = make_campaign("first", prospects=0)
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=first, prospect=known, note="Hi")
    second = Campaign.objects.create(name="second", owner=owner, state=Campaign.State.ACTIVE)
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=second, prospect=by_url, note="Hi")
    first.state = Campaign.State.DRAFT
    first.save()
    run_tick(now=seconds(0))
    run_tick(now=seconds(5))
    known.refresh_from_db()
    assert known.profile_url == "https://www.linkedin.com/in/ada"
    assert not Prospect.objects.filter(pk=by_url.pk).exists()
    assert second.requests.get().prospect == known
