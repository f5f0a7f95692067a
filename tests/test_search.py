"""Find prospects: OutX's search-profiles run from the page on a sender, through the worker and
the real sandbox; its results with what the team already has to do with each person; adding
them to a campaign as pasting does; the next page as another search; the hourly budget; and
who may see and do what."""

import datetime as dt

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import outx
from campaigns.models import (
    Campaign,
    ConnectionRequest,
    DoNotContact,
    ProfileLookup,
    ProfileSearch,
    Prospect,
    SearchResult,
    Sender,
    SenderConnection,
    TaskState,
)
from campaigns.sending import actions_last_hour, search_decision
from campaigns.worker import next_due_at, run_tick
from outx_sandbox.extension import _search_profiles_output, fake_profile
from tests.helpers import words

pytestmark = pytest.mark.django_db(transaction=True)

QUERY = {"company": "Globex", "title": "CTO"}  # the sandbox finds 92 people for it


def sandbox_people(start=0, count=10):
    return _search_profiles_output({**QUERY, "start": start, "count": count})["profiles"]


def post_search(client, **fields):
    body = {"keywords": "", "title": "", "company": "", "first_name": "", "last_name": "", "geo_urns": "",
            "count": "10", "sender": str(Sender.get().pk), **fields}
    return client.post(reverse("search"), body)


def run_search_to_the_end():
    """The worker's passes: the search is submitted, then (5 s later) its task read."""
    run_tick(now=timezone.now())
    run_tick(now=timezone.now() + dt.timedelta(seconds=10))


def test_a_search_from_the_page_shows_its_results_and_adds_them_to_a_campaign(
    sandbox, pacing_off, ada, ada_client, make_campaign, django_assert_max_num_queries
):
    campaign = make_campaign("Globex CTOs", Campaign.State.DRAFT, owner=ada)
    other = make_campaign("Earlier campaign", owner=ada)
    people = sandbox_people()
    # The team already knows three of them: invited, connected, on the do-not-contact list.
    invited = Prospect.objects.create(profile_urn=people[0]["profile_urn"])
    ConnectionRequest.objects.create(campaign=other, prospect=invited, state=ConnectionRequest.State.SENT,
                                     sender=Sender.get(), submitted_at=timezone.now())
    SenderConnection.objects.create(sender=Sender.get(), profile_urn=people[1]["profile_urn"])
    DoNotContact.objects.create(kind="profile", profile_urn=people[2]["profile_urn"], value=people[2]["profile_url"],
                                reason="Asked us not to")
    Sender.objects.update(next_due_at=None)

    response = post_search(ada_client, company=" Globex ", title="CTO")
    search = ProfileSearch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("search_detail", args=[search.pk])
    assert (search.company, search.title, search.start, search.count, search.requested_by) == ("Globex", "CTO", 0, 10, ada)
    assert Sender.get().next_due_at is not None  # the search woke its sender
    assert next_due_at(Sender.get(), timezone.now()) <= timezone.now()

    page = words(ada_client.get(reverse("search_detail", args=[search.pk])).content.decode())
    assert "State: <span class=\"search-state search-state-queued\">Waiting to run</span>" in page
    assert "runs at the worker's next pass" in page.replace("&#x27;", "'")
    assert 'hx-trigger="every 3s"' in page

    run_search_to_the_end()
    search.refresh_from_db()
    assert search.state == TaskState.SENT and search.events.last().cause == "Search: OutX found 10 profiles."
    results = list(search.results.all())
    assert [(r.profile_urn, r.first_name, r.last_name) for r in results] == [
        (p["profile_urn"], p["first_name"], p["last_name"]) for p in people
    ]
    assert {(r.company, r.title) for r in results} == {("Globex", "CTO")}

    with django_assert_max_num_queries(16):
        status = ada_client.get(reverse("search_status", args=[search.pk]), HTTP_HX_REQUEST="true")
    assert status.status_code == 286  # finished: the page stops polling
    html = words(status.content.decode())
    assert people[3]["name"] in html and "CTO at Globex" in html and people[3]["location"] in html
    row = {r.position: html.split(f'id="flags-{r.pk}"')[1].split("</td>")[0] for r in results}
    assert "Already invited" in row[0] and "Already a connection" in row[1]
    assert "Do not contact" in row[2] and people[2]["profile_url"] in row[2]
    assert "Already" not in row[3] and "Do not contact" not in row[3]

    # Add two chosen people, then all of the page: the same checks and reasons as pasting.
    added = ada_client.post(reverse("search_add", args=[search.pk]),
                            {"campaign": campaign.pk, "add": "selected", "results": [results[3].pk, results[4].pk]})
    assert added.status_code == 302
    assert set(campaign.requests.values_list("prospect__profile_urn", flat=True)) == {people[3]["profile_urn"], people[4]["profile_urn"]}
    prospect = Prospect.objects.get(profile_urn=people[3]["profile_urn"])
    assert (prospect.first_name, prospect.last_name, prospect.company, prospect.title, prospect.headline, prospect.location) == (
        people[3]["first_name"], people[3]["last_name"], "Globex", "CTO", "CTO at Globex", people[3]["location"])

    ada_client.post(reverse("search_add", args=[search.pk]), {"campaign": campaign.pk, "add": "all"})
    page = words(ada_client.get(reverse("search_detail", args=[search.pk])).content.decode())
    assert "Already in this campaign." in page and people[4]["name"] in page
    assert campaign.requests.count() >= 9  # the others joined (the do-not-contact one may be refused)

    # The next page is another search, asked for once.
    next_page = ada_client.post(reverse("search_next", args=[search.pk]))
    following = ProfileSearch.objects.get(previous=search)
    assert next_page["Location"] == reverse("search_detail", args=[following.pk])
    assert (following.start, following.count, following.state, following.company) == (10, 10, TaskState.QUEUED, "Globex")
    again = ada_client.post(reverse("search_next", args=[search.pk]))
    assert again["Location"] == reverse("search_detail", args=[following.pk]) and ProfileSearch.objects.count() == 2
    # Searches are 20–40 s apart (searches.SEARCH_SPACING_SECONDS), whatever the sender's pacing.
    run_tick(now=timezone.now() + dt.timedelta(seconds=45))
    run_tick(now=timezone.now() + dt.timedelta(seconds=60))
    following.refresh_from_db()
    assert following.state == TaskState.SENT
    assert list(following.results.values_list("profile_urn", flat=True)) == [p["profile_urn"] for p in sandbox_people(10, 10)]


def test_found_people_are_the_ones_fetch_profile_reports(sandbox):
    for person in sandbox_people(0, 5):
        fetched = fake_profile(person["profile_url"].rsplit("/", 1)[1])
        assert (fetched["profile_urn"], fetched["first_name"], fetched["last_name"]) == (
            person["profile_urn"], person["first_name"], person["last_name"])


def test_the_sandbox_search_follows_the_filters_and_pages(outx_client):
    first = outx_client.search_profiles(first_name="Sabine", company="Hooli", geo_urns=["urn:li:geo:101282230"], count=5)
    status = outx_client.get_task_status(first.task_id)
    found = status.search_results()
    assert 0 < len(found) <= 5 and status.search_total() is not None
    assert {(p.first_name, p.company) for p in found} == {("Sabine", "Hooli")}
    assert all(p.location.endswith("Germany") for p in found)
    again = outx_client.get_task_status(outx_client.search_profiles(first_name="sabine", company="hooli",
                                                                    geo_urns=["101282230"], count=5).task_id)
    assert [p.urn for p in again.search_results()] == [p.urn for p in found]  # the same query, the same people


def test_the_sandbox_refuses_a_search_without_filters(sandbox, live_server, settings):
    url = f"{settings.OUTX_BASE_URL}/linkedin-agent/search-profiles"
    headers = {"x-api-key": settings.OUTX_API_KEY}
    for body, text in [
        ({}, "At least one search filter is required"),
        ({"keywords": "  ", "geo_urn": []}, "At least one search filter is required"),
        ({"geo_urn": ["Berlin"]}, "Invalid 'geo_urn': must be an array of LinkedIn geographic URNs"),
        ({"title": 12}, "Invalid 'title'"),
        ({"title": "CTO", "count": 0}, "Missing or invalid 'count'"),
    ]:
        answer = httpx.post(url, json=body, headers=headers)
        assert answer.status_code == 400 and answer.json()["error"].startswith(text)


def test_the_client_checks_the_filters_before_any_call():
    calls = []
    client = outx.OutxClient("http://outx.test", "key", transport=httpx.MockTransport(lambda r: calls.append(r)))
    for kwargs, reason in [
        ({}, "At least one search filter is required."),
        ({"keywords": "   "}, "At least one search filter is required."),
        ({"company": "x" * 201}, "longer than 200"),
        ({"geo_urns": ["Berlin"]}, "not a LinkedIn geographic URN"),
        ({"geo_urns": "103644278"}, "must be a list"),
        ({"title": "CTO", "count": 51}, "from 1 to 50"),
        ({"title": "CTO", "start": -1}, "from 0 to 10000"),
        ({"title": 5}, "must be text"),
    ]:
        with pytest.raises(outx.OutxBadRequest, match=reason):
            client.search_profiles(**kwargs)
    assert calls == []


def test_bad_filters_are_refused_with_reasons_and_nothing_is_queued(ada_client):
    page = words(post_search(ada_client).content.decode())
    assert "Give at least one filter" in page
    page = words(post_search(ada_client, geo_urns="103644278, Berlin, urn:li:geo:12x").content.decode())
    assert "Not a LinkedIn geographic URN: Berlin, urn:li:geo:12x" in page
    page = words(post_search(ada_client, company="x" * 201).content.decode())
    assert "at most 200 characters" in page
    page = words(post_search(ada_client, title="CTO", count="500").content.decode())
    assert "Select a valid choice" in page
    assert not ProfileSearch.objects.exists()
    assert post_search(ada_client, geo_urns="103644278, urn:li:geo:101165590").status_code == 302
    assert ProfileSearch.objects.get().geo_urns == ["103644278", "101165590"]


def test_a_full_hourly_budget_makes_the_search_wait_with_its_reason(pacing_off, ada_client, ada):
    account = Sender.get()
    account.hourly_action_limit = 3
    account.save()
    now = timezone.now()
    prospect = Prospect.objects.create(profile_url="https://www.linkedin.com/in/someone")
    ProfileLookup.objects.create(prospect=prospect, sender=account, state=TaskState.SENT, submitted_at=now)
    for _ in range(2):
        ProfileSearch.objects.create(sender=account, requested_by=ada, title="CTO", state=TaskState.SENT, submitted_at=now)
    ProfileSearch.objects.create(sender=account, requested_by=ada, title="CEO", state=TaskState.FAILED, submitted_at=now)
    assert actions_last_hour(account, now) == 3  # the look-up and two searches; the refused one is none
    waiting = ProfileSearch.objects.create(sender=account, requested_by=ada, title="CFO")
    assert not search_decision(account, now).allowed

    page = words(ada_client.get(reverse("search_detail", args=[waiting.pk])).content.decode())
    assert "3 LinkedIn actions in the last hour" in page and "waits for room in the hourly budget" in page

    calls = []
    client = outx.OutxClient("http://outx.test", "key", transport=httpx.MockTransport(lambda r: calls.append(r)))
    run_tick(now=now, client=client)
    waiting.refresh_from_db()
    assert waiting.state == TaskState.QUEUED and calls == []
    # The invitations' own decision sees the same budget spent.
    from campaigns.sending import submission_decision
    assert "LinkedIn actions in the last hour" in submission_decision(account, now).reason


def test_searches_keep_their_own_spacing(pacing_off, ada):
    account = Sender.get()
    account.next_search_at = timezone.now() + dt.timedelta(seconds=30)
    account.save()
    decision = search_decision(account, timezone.now())
    assert not decision.allowed and decision.reason.startswith("Spacing out searches")
    assert decision.retry_at == account.next_search_at


# --- OutX's search output is input ------------------------------------------------------------------

URN = "urn:li:fsd_profile:ACoAAFound"


def status_of(output):
    return outx.TaskStatus("t", outx.COMPLETED, None, outx.clean_json(output), {})


@pytest.mark.parametrize("output", ["not a list", None, 12, {"profiles": "nope"}, {"total": 3}, {"profiles": {"a": 1}}])
def test_a_search_output_without_a_list_is_unreadable(output):
    assert status_of(output).search_results() is None


def test_search_entries_are_read_safely():
    entries = [
        "a string", 7, None, [URN],
        {"name": "Nobody"},  # names nobody we could invite
        {"profile_urn": "urn:li:fsd_profile:bad urn!", "name": "Bad Urn"},  # and no URL either
        {"profile_urn": "not-an-urn!", "profile_url": "linkedin.com/in/Kept-By-Url/", "name": "Kept ByUrl"},
        {"profile_urn": URN + "1", "name": "  Mary Ann Lee  ", "headline": "H\x00" * 500, "company": ["x"],
         "title": {"a": 1}, "location": "Lisbon\x07"},
        {"urn": "ACoAABareId", "first_name": "Zoë", "last_name": None},
    ]
    found = status_of({"results": entries, "total": True}).search_results()
    assert [(p.urn, p.url) for p in found] == [
        (None, "https://www.linkedin.com/in/kept-by-url"), (URN + "1", None), ("urn:li:fsd_profile:ACoAABareId", None)]
    mary = found[1]
    assert (mary.first_name, mary.last_name, mary.company, mary.title, mary.location) == ("Mary", "Ann Lee", "", "", "Lisbon ")
    assert len(mary.headline) <= 300 and "\x00" not in mary.headline
    assert found[2].first_name == "Zoë" and found[2].last_name == ""
    assert status_of({"results": entries, "total": True}).search_total() is None


@pytest.mark.parametrize("key", ["profiles", "results", "people", None])
def test_ten_thousand_results_are_cut_to_one_page(key):
    entries = [{"profile_urn": f"{URN}{i}", "name": f"P {i}"} for i in range(10_000)]
    found = status_of({key: entries, "total": 10_000} if key else entries).search_results()
    assert len(found) == ProfileSearch.MAX_COUNT and found[-1].urn == f"{URN}49"


def test_a_list_of_junk_is_looked_at_only_so_far():
    entries = [{"name": "junk"}] * 5_000 + [{"profile_urn": URN + "late"}]
    assert status_of({"profiles": entries}).search_results() == []


class FakeSearchOutx:
    """OutX answering search-profiles with a task whose output is `output`."""

    def __init__(self, output, status="completed"):
        self.output, self.status = output, status

    def handle(self, request):
        if request.url.path.endswith("search-profiles"):
            return httpx.Response(200, json={"success": True, "api_agent_task_id": "task-1", "message": "ok"})
        return httpx.Response(200, json={"success": True, "data": {
            "id": "task-1", "status": self.status, "task_input": {}, "task_output": self.output}})


@pytest.mark.parametrize("output, status, reason", [
    ("garbage", "completed", "held no list of profiles we could read"),
    ({"profiles": None}, "completed", "held no list of profiles we could read"),
    ({"reason": "LinkedIn asked for a captcha"}, "failed", "OutX failed the search: LinkedIn asked for a captcha"),
])
def test_an_unreadable_search_ends_not_sent_with_its_reason(pacing_off, ada, output, status, reason):
    pacing_off.users.add(ada)
    search = ProfileSearch.objects.create(sender=Sender.get(), requested_by=ada, title="CTO")
    client = outx.OutxClient("http://outx.test", "key", transport=httpx.MockTransport(FakeSearchOutx(output, status).handle))
    now = timezone.now()
    run_tick(now=now, client=client)
    run_tick(now=now + dt.timedelta(seconds=10), client=client)
    search.refresh_from_db()
    assert search.state == TaskState.NOT_SENT and reason in search.events.last().cause
    assert not SearchResult.objects.exists()
    client = Client()
    client.force_login(ada)
    response = client.get(reverse("search_status", args=[search.pk]))
    assert response.status_code == 286 and reason in words(response.content.decode())


def test_a_search_stores_at_most_its_page(pacing_off, ada):
    pacing_off.users.add(ada)
    entries = [{"profile_urn": f"{URN}{i}", "profile_url": f"https://www.linkedin.com/in/p-{i}", "name": f"P {i}"} for i in range(10_000)]
    search = ProfileSearch.objects.create(sender=Sender.get(), requested_by=ada, title="CTO", count=10)
    client = outx.OutxClient("http://outx.test", "key", transport=httpx.MockTransport(FakeSearchOutx({"profiles": entries}).handle))
    now = timezone.now()
    run_tick(now=now, client=client)
    run_tick(now=now + dt.timedelta(seconds=10), client=client)
    search.refresh_from_db()
    assert search.state == TaskState.SENT and search.results.count() == 10


# --- Who may see and do what ------------------------------------------------------------------------


def test_only_the_searcher_or_an_admin_sees_a_search(client, ada, pacing_off):
    search = ProfileSearch.objects.create(sender=Sender.get(), requested_by=ada, title="CTO")
    grace = User.objects.create_user("grace")
    client.force_login(grace)
    for name in ("search_detail", "search_status"):
        assert client.get(reverse(name, args=[search.pk])).status_code == 404
    assert client.post(reverse("search_next", args=[search.pk])).status_code == 404
    assert client.post(reverse("search_add", args=[search.pk]), {"add": "all"}).status_code == 404
    admin = User.objects.create_user("boss", is_staff=True)
    client.force_login(admin)
    assert client.get(reverse("search_detail", args=[search.pk])).status_code == 200


def test_a_member_searches_only_from_a_sender_they_may_use(client, ada, pacing_off):
    client.force_login(ada)  # not given any sender
    page = words(client.get(reverse("search")).content.decode())
    assert "You may not search from any sender yet" in page
    assert post_search(client, title="CTO").status_code == 403
    assert not ProfileSearch.objects.exists()


def test_the_next_page_needs_the_sender_still(client, ada, pacing_off):
    search = ProfileSearch.objects.create(sender=Sender.get(), requested_by=ada, title="CTO", state=TaskState.SENT,
                                          count=10, task_output={"profiles": [], "total": 50})
    client.force_login(ada)  # she ran it, but may no longer use the sender
    assert client.post(reverse("search_next", args=[search.pk])).status_code == 403
    assert ProfileSearch.objects.count() == 1


def test_the_last_page_has_no_next(ada_client, ada):
    search = ProfileSearch.objects.create(sender=Sender.get(), requested_by=ada, title="CTO", state=TaskState.SENT,
                                          count=10, task_output={"profiles": [], "total": 8})
    response = ada_client.post(reverse("search_next", args=[search.pk]), follow=True)
    assert "This is the last page of results." in words(response.content.decode())
    assert ProfileSearch.objects.count() == 1


def test_results_go_only_to_a_campaign_the_member_may_change(ada_client, ada, owner, make_campaign):
    theirs = make_campaign("Owner's", owner=owner)
    search = ProfileSearch.objects.create(sender=Sender.get(), requested_by=ada, title="CTO", state=TaskState.SENT)
    result = SearchResult.objects.create(search=search, position=0, profile_urn=URN + "x", first_name="X")
    response = ada_client.post(reverse("search_add", args=[search.pk]),
                               {"campaign": theirs.pk, "add": "selected", "results": [result.pk]})
    assert response.status_code == 403 and not theirs.requests.exists()
    archived = make_campaign("Old", Campaign.State.ARCHIVED, owner=ada)
    response = ada_client.post(reverse("search_add", args=[search.pk]), {"campaign": archived.pk, "add": "all"}, follow=True)
    assert "is archived" in words(response.content.decode()) and not archived.requests.exists()
    mine = make_campaign("Mine", Campaign.State.DRAFT, owner=ada)
    response = ada_client.post(reverse("search_add", args=[search.pk]), {"campaign": mine.pk, "add": "selected"}, follow=True)
    assert "Tick at least one person" in words(response.content.decode()) and not mine.requests.exists()


def test_a_queued_search_is_skipped_once_its_requester_loses_the_sender(pacing_off, ada):
    search = ProfileSearch.objects.create(sender=Sender.get(), requested_by=ada, title="CTO")
    calls = []
    client = outx.OutxClient("http://outx.test", "key", transport=httpx.MockTransport(lambda r: calls.append(r)))
    run_tick(now=timezone.now(), client=client)
    search.refresh_from_db()
    assert search.state == TaskState.SKIPPED and "may no longer use" in search.events.last().cause and calls == []
