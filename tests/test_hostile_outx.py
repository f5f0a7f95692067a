"""OutX's answers are input: a hostile OutX that answers every malformed shape we could think
of never stops a worker pass. The one item an answer concerns is quarantined with a visible
cause (its raw answer kept in its history), and everything else in the pass goes on.

The fake OutX answers normally unless a test gives it a malformed answer for one call; the
same pass then sends the other invitations, so each test shows both halves.
"""

import datetime as dt
import json
from collections import Counter

import httpx
import pytest
from django.utils import timezone

from campaigns import outx
from campaigns.invitations import Invitations
from campaigns.models import ConnectionRequest, Event, FollowUp, ProfileLookup, Prospect, Sender, TaskState
from campaigns.outx import OutxClient
from campaigns.worker import run_tick

pytestmark = pytest.mark.django_db(transaction=True)

State = ConnectionRequest.State
NOW = timezone.now().replace(microsecond=0)


def later(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def respond(body, status: int = 200) -> httpx.Response:
    """A response with `body` as JSON, or as raw bytes/text when it is bytes or str."""
    if isinstance(body, bytes):
        return httpx.Response(status, content=body)
    if isinstance(body, str):
        return httpx.Response(status, text=body)
    # json.dumps escapes lone surrogates (\ud800), as a hostile server may send them.
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


class HostileOutx:
    """OutX answering normally — except where a test set a malformed answer for the next POST
    to a path (`post_answers`) or for a task's status (`status_answers`)."""

    def __init__(self):
        self.created = 0
        self.posts: Counter[str] = Counter()  # POSTs per endpoint, whatever was answered
        self.post_answers: dict[str, list[httpx.Response]] = {}
        self.status_answers: dict[str, httpx.Response] = {}
        self.outputs: dict[str, object] = {}  # task id → the output it completes with

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        if request.method == "POST":
            self.posts[path] += 1
            waiting = self.post_answers.get(path)
            if waiting:
                return waiting.pop(0)
            self.created += 1
            task_id = f"task-{self.created}"
            body = json.loads(request.content)
            self.outputs.setdefault(task_id, self.normal_output(path, body))
            return respond({"success": True, "api_agent_task_id": task_id, "message": "created"})
        task_id = request.url.params["api_agent_task_id"]
        if task_id in self.status_answers:
            return self.status_answers[task_id]
        if task_id not in self.outputs:
            return respond({"error": "Agent task not found"}, 404)
        task = {"id": task_id, "status": "completed", "task_input": {}, "task_output": self.outputs[task_id]}
        return respond({"success": True, "data": task})

    @staticmethod
    def normal_output(path: str, body: dict):
        if path == "fetch-profile":
            return {"profile_urn": f"urn:li:fsd_profile:ACoAAL{body['profile_slug'].replace('-', '')}", "name": "Lena Ott"}
        if path == "fetch-connections":
            return {"connections": []}
        return {"sent": True}

    def client(self) -> OutxClient:
        return OutxClient("http://outx.test", "key", transport=httpx.MockTransport(self.handle))


@pytest.fixture
def hostile():
    return HostileOutx()


@pytest.fixture
def account(pacing_off):
    return pacing_off


def tick(hostile: HostileOutx, at: float):
    with hostile.client() as client:
        return run_tick(now=later(at), client=client)


def assert_storable(texts):
    """Every text we kept fits its column and holds nothing PostgreSQL or UTF-8 refuses."""
    for text in texts:
        assert "\x00" not in text and not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def assert_history_storable():
    causes = list(Event.objects.values_list("cause", flat=True))
    assert all(len(cause) <= 1000 for cause in causes)
    assert_storable(causes)
    assert_storable(ConnectionRequest.objects.values_list("last_error", flat=True))
    assert all(len(cause) <= 500 for cause in Sender.objects.values_list("state_cause", flat=True))


# --- The POST's answer ----------------------------------------------------------------------------

UNREADABLE_POST_ANSWERS = {
    "not JSON": respond(b"<html>Bad gateway</html>"),
    "a JSON list": respond([1, 2, 3]),
    "no task id": respond({"success": True, "message": "created"}),
    "a task id that is a number": respond({"success": True, "api_agent_task_id": 12345}),
    "a task id of 10,000 characters": respond({"success": True, "api_agent_task_id": "x" * 10_000}),
    "a task id with spaces and a NUL": respond({"success": True, "api_agent_task_id": "abc def\x00"}),
    "success false": respond({"success": False, "api_agent_task_id": "task-x"}),
    "JSON nested 100,000 deep": respond(b"[" * 100_000 + b"]" * 100_000),
    "NaN": respond(b'{"success": true, "api_agent_task_id": NaN}'),
    "3 MB": respond({"success": True, "api_agent_task_id": "task-big", "padding": "x" * 3_000_000}),
}


@pytest.mark.parametrize("answer", UNREADABLE_POST_ANSWERS.values(), ids=UNREADABLE_POST_ANSWERS.keys())
def test_an_unreadable_answer_to_an_invitation_quarantines_it_and_the_pass_goes_on(hostile, account, make_campaign, answer):
    campaign = make_campaign(prospects=3)
    first = campaign.requests.order_by("created_at", "id").first()
    hostile.post_answers["send-connection-request"] = [answer]

    summary = tick(hostile, 0)  # the first POST is answered badly: submissions stop for this pass
    first.refresh_from_db()
    assert first.state == State.UNCERTAIN  # OutX may have created a task we cannot see: never resent
    assert "OutX answered something we could not read" in first.events.last().cause
    assert first.task_output and "unreadable_answer" in first.task_output
    assert summary.uncertain == 1 and summary.problems

    tick(hostile, 10)  # the next pass goes on with the others
    tick(hostile, 20)
    assert sorted(campaign.requests.values_list("state", flat=True)) == [State.SENT, State.SENT, State.UNCERTAIN]
    assert hostile.posts["send-connection-request"] == 3  # the quarantined one was never sent again
    assert_history_storable()


REFUSALS = {
    "a 1,500-character reason": (400, {"error": "No. " * 375}),
    "a reason with NUL and a lone surrogate": (400, {"error": "bad\x00 note \ud800 here"}),
    "a reason that is not a string": (400, {"error": {"nested": ["x"] * 10}}),
    "no body": (400, b""),
}


@pytest.mark.parametrize(("status", "body"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_with_a_hostile_reason_fails_the_invitation_with_a_storable_cause(hostile, account, make_campaign, status, body):
    campaign = make_campaign(prospects=2)
    first = campaign.requests.order_by("created_at", "id").first()
    hostile.post_answers["send-connection-request"] = [respond(body, status)]

    tick(hostile, 0)
    first.refresh_from_db()
    assert first.state == State.FAILED and first.events.last().cause.startswith("Invitation: OutX refused it:")
    assert len(first.last_error) <= 500
    # A 400 is a normal answer: the pass went on and sent the other invitation.
    assert sorted(campaign.requests.values_list("state", flat=True)) == [State.FAILED, State.PENDING]
    assert_history_storable()


def test_an_account_wide_refusal_with_a_hostile_reason_pauses_with_a_storable_cause(hostile, account, make_campaign):
    make_campaign(prospects=2)
    hostile.post_answers["send-connection-request"] = [respond({"error": "offline \x00" + "z" * 2_000}, 403)]
    tick(hostile, 0)
    account = Sender.get()
    assert account.state == Sender.State.EXTENSION_OFFLINE
    assert_history_storable()


# --- The status call's answer -------------------------------------------------------------------

UNREADABLE_STATUSES = {
    "not JSON": respond(b"\xff\xfe garbage"),
    "no data": respond({"success": True}),
    "data for another task": respond({"success": True, "data": {"id": "someone-else", "status": "completed"}}),
    "data that is a list": respond({"success": True, "data": ["completed"]}),
    "3 MB": respond({"success": True, "data": {"id": "task-1", "status": "completed", "task_output": "x" * 3_000_000}}),
}


@pytest.mark.parametrize("answer", UNREADABLE_STATUSES.values(), ids=UNREADABLE_STATUSES.keys())
def test_an_unreadable_status_quarantines_that_invitation_and_the_others_are_polled(hostile, account, make_campaign, answer):
    campaign = make_campaign(prospects=3)
    tick(hostile, 0)  # three tasks created: task-1, task-2, task-3
    assert set(campaign.requests.values_list("state", flat=True)) == {State.PENDING}
    hostile.status_answers["task-1"] = answer

    summary = tick(hostile, 10)
    by_task = dict(campaign.requests.values_list("outx_task_id", "state"))
    assert by_task == {"task-1": State.UNCERTAIN, "task-2": State.SENT, "task-3": State.SENT}
    quarantined = ConnectionRequest.objects.get(outx_task_id="task-1")
    assert "OutX answered something we could not read" in quarantined.events.last().cause
    assert summary.sent == 2 and summary.uncertain == 1
    assert_history_storable()


ODD_BUT_READABLE_OUTPUTS = {
    "an unknown status": ({"status": 12}, State.PENDING),
    "an output with NUL and lone surrogates": ({"task_output": {"sent": False, "reason": "no\x00pe \udc00"}}, State.NOT_SENT),
    "an output that is a number": ({"task_output": 42}, State.NOT_SENT),
    "an output 100 levels deep": ({"task_output": json.loads("[" * 100 + "]" * 100)}, State.NOT_SENT),
    "an output of 1 MB": ({"task_output": {"sent": True, "log": "y" * 1_000_000}}, State.SENT),
    "a reason of 50,000 characters": ({"task_output": {"sent": False, "reason": "r" * 50_000}}, State.NOT_SENT),
}


@pytest.mark.parametrize(("fields", "expected"), ODD_BUT_READABLE_OUTPUTS.values(), ids=ODD_BUT_READABLE_OUTPUTS.keys())
def test_odd_but_readable_outputs_are_kept_bounded_and_storable(hostile, account, make_campaign, fields, expected):
    campaign = make_campaign(prospects=1)
    tick(hostile, 0)
    task = {"id": "task-1", "status": "completed", "task_input": {}, **fields}
    hostile.status_answers["task-1"] = respond({"success": True, "data": task})

    tick(hostile, 10)
    request = campaign.requests.get()
    assert request.state == expected
    assert len(json.dumps(request.task_output, ensure_ascii=False)) <= outx.OUTPUT_MAX_CHARS + 100
    assert_storable([json.dumps(request.task_output)])
    assert_history_storable()


def test_an_item_whose_outcome_cannot_be_worked_out_is_quarantined_and_the_pass_goes_on(hostile, account, make_campaign, monkeypatch):
    campaign = make_campaign(prospects=3)
    tick(hostile, 0)
    real_finish = Invitations.finish

    def finish(self, item, status, fields, summary):
        if item.outx_task_id == "task-2":
            raise RuntimeError("a bug in what the output means")
        return real_finish(self, item, status, fields, summary)

    monkeypatch.setattr(Invitations, "finish", finish)
    summary = tick(hostile, 10)
    by_task = dict(campaign.requests.values_list("outx_task_id", "state"))
    assert by_task == {"task-1": State.SENT, "task-2": State.UNCERTAIN, "task-3": State.SENT}
    assert any("task-2" in problem or "RuntimeError" in problem for problem in summary.problems)


# --- Profile look-ups -----------------------------------------------------------------------------

HOSTILE_PROFILES = {
    "a javascript: URN": {"profile_urn": "javascript:alert(1)//", "name": "Eve"},
    "a URN of 500 characters": {"profile_urn": "urn:li:fsd_profile:" + "A" * 500},
    "a URN that is a number": {"profile_urn": 12345},
    "no URN": {"name": "Nobody"},
    "a profile that is a list": {"profile": ["urn:li:fsd_profile:ACoAAX"]},
    "not an object": "just text",
}


@pytest.mark.parametrize("output", HOSTILE_PROFILES.values(), ids=HOSTILE_PROFILES.keys())
def test_a_look_up_with_a_hostile_profile_fails_that_prospect_with_the_reason(hostile, account, make_campaign, output):
    campaign = make_campaign(prospects=1)
    url_only = Prospect.objects.create(profile_url="https://www.linkedin.com/in/eve-hostile")
    request = ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=url_only, note="Hi")

    tick(hostile, 0)  # the look-up is created, and the prospect known by URN invited
    lookup = ProfileLookup.objects.get(prospect=url_only)
    hostile.outputs[lookup.outx_task_id] = output
    tick(hostile, 10)

    lookup.refresh_from_db()
    url_only.refresh_from_db()
    request.refresh_from_db()
    assert lookup.state == TaskState.NOT_SENT and url_only.profile_urn is None
    assert url_only.lookup_error.startswith("OutX could not read the profile")
    assert request.state == State.SKIPPED and "Could not look up the LinkedIn profile" in request.events.last().cause
    assert campaign.requests.exclude(pk=request.pk).get().state == State.SENT  # the rest went on
    assert_history_storable()


def test_a_look_up_with_overlong_names_is_cut_to_the_columns(hostile, account, make_campaign):
    campaign = make_campaign(prospects=0, note_template="Hi {first_name}")
    url_only = Prospect.objects.create(profile_url="https://www.linkedin.com/in/long-names")
    ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=url_only)
    campaign.render_queued_notes()
    tick(hostile, 0)
    lookup = ProfileLookup.objects.get(prospect=url_only)
    hostile.outputs[lookup.outx_task_id] = {
        "profile_urn": "urn:li:fsd_profile:ACoAALongNames", "name": "F" * 5_000 + " " + "L" * 5_000,
        "headline": "H\x00" * 5_000, "location": ["not", "text"],
    }
    tick(hostile, 10)
    url_only.refresh_from_db()
    assert url_only.profile_urn == "urn:li:fsd_profile:ACoAALongNames"
    assert len(url_only.first_name) == 100 and len(url_only.last_name) == 100
    assert len(url_only.headline) <= 300 and "\x00" not in url_only.headline and url_only.location == ""


# --- The newest connections ---------------------------------------------------------------------


def test_hostile_connections_are_skipped_one_by_one_and_the_good_one_counts(hostile, account, make_campaign):
    campaign = make_campaign(prospects=2)
    tick(hostile, 0)
    tick(hostile, 10)  # both sent; the newest connections are read after a minute
    assert set(campaign.requests.values_list("state", flat=True)) == {State.SENT}
    accepted, other = campaign.requests.select_related("prospect").order_by("id")
    hostile.outputs.clear()
    hostile.created = 100
    hostile.outputs["task-101"] = {"connections": [
        "not an object",
        {"profile_url": "https://[linkedin.com/in/abc", "connected_at": "2026-13-45T10:00:00Z"},
        {"profile_urn": 7, "connected_at": ["2026"]},
        {"profile_urn": "javascript:alert(1)//"},
        {"profile_urn": accepted.prospect.profile_urn, "connected_at": "9999-12-31T23:59:59Z"},
    ]}
    # At 70 the read under way is lost (cleared above): the next starts a minute later.
    for at in (70, 130, 140):
        tick(hostile, at)
    accepted.refresh_from_db()
    other.refresh_from_db()
    assert accepted.state == State.ACCEPTED and accepted.accepted_at <= later(140)
    assert other.state == State.SENT


@pytest.mark.parametrize("output", [{"connections": "all of them"}, ["a", "list"], None, {"connections": None}])
def test_a_connections_list_we_cannot_read_ends_that_check_only(hostile, account, make_campaign, output):
    campaign = make_campaign(prospects=1)
    tick(hostile, 0)
    tick(hostile, 10)
    hostile.created = 100
    hostile.outputs["task-101"] = output
    for at in (70, 130):
        tick(hostile, at)
    assert Sender.get().connections_task_id == "task-101"
    summary = tick(hostile, 140)
    assert Sender.get().connections_task_id == ""  # the check ended; the next one starts afresh
    assert campaign.requests.get().state == State.SENT
    assert "OutX answered a list of connections we could not read." in summary.problems


# --- Follow-ups share the life ------------------------------------------------------------------


def test_an_unreadable_answer_to_a_follow_up_quarantines_it(hostile, account, make_campaign):
    campaign = make_campaign(prospects=1, followup_template="Thanks {first_name}!", followup_delay_minutes=0)
    request = campaign.requests.get()
    ConnectionRequest.objects.filter(pk=request.pk).update(
        state=State.ACCEPTED, submitted_at=later(-60), accepted_at=later(-30), outx_task_id="old"
    )
    hostile.post_answers["send-message"] = [respond(b"not json")]
    tick(hostile, 0)
    followup = FollowUp.objects.get(request=request)
    assert followup.state == TaskState.UNCERTAIN
    assert followup.events.last().cause.startswith("Follow-up: OutX answered something we could not read")


def test_a_failure_of_our_own_while_submitting_stops_that_invitation_not_the_pass(hostile, account, make_campaign, monkeypatch):
    campaign = make_campaign(prospects=2)
    tick(hostile, 0)  # both pending
    later_one = make_campaign("Second", prospects=1, start=5).requests.get()

    def post(self, client, item):
        raise RuntimeError("a bug before the POST")

    monkeypatch.setattr(Invitations, "post", post)
    summary = tick(hostile, 10)
    later_one.refresh_from_db()
    assert later_one.state == State.UNCERTAIN  # whether a POST left is unknown: a person decides
    assert later_one.events.last().cause.startswith("The worker failed on it (RuntimeError: a bug before the POST)")
    assert summary.sent == 2  # the polls of the pass went on
    assert set(campaign.requests.values_list("state", flat=True)) == {State.SENT}
