"""A campaign's page after the invitation: its acceptance rate, overall and per note variant;
each row's variant and follow-up; the live status following follow-ups until they are sent and
then stopping; the safety brake's cause beside Resume; invitations unanswered for over three
weeks; its cost in queries, which does not grow with its rows; and the actions on a row (a row
redrawn keeps its variant; an uncertain follow-up retried or closed)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, FollowUp, Prospect, Sender
from tests.helpers import (
    WITHDRAW_WORDS,
    add_followup,
    add_request,
    count_queries,
    fingerprint_in,
    long_ago,
    page_url,
    status_url,
    words,
)

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
FState = FollowUp.State


@pytest.fixture
def account(always_open, ada):
    """Sending allowed at any moment, so nothing waits on the clock, from a sender ada may use."""
    always_open.users.add(ada)
    return always_open


# --- The page and its live status ----------------------------------------------------------------------


def test_the_page_shows_the_campaigns_acceptance_rate(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada)
    html = ada_client.get(page_url(campaign)).content.decode()
    assert "Acceptance rate: <strong>—</strong>" in html  # nothing sent yet

    add_request(campaign, State.SENT)
    add_request(campaign, State.SENT)
    add_request(campaign, State.ACCEPTED)
    add_request(campaign, State.PENDING)  # not sent yet: not counted
    html = ada_client.get(page_url(campaign)).content.decode()

    assert "Acceptance rate: <strong>33% (1 of 3)</strong>" in html
    assert "Acceptance by note variant" not in html  # a single variant: no table
    assert '<th scope="col">Variant</th>' not in html


def test_the_page_shows_each_variants_rate_and_each_rows_variant(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template="A {first_name}", note_template_b="B {first_name}")
    add_request(campaign, State.SENT, variant="A")
    add_request(campaign, State.ACCEPTED, variant="A")
    add_request(campaign, State.ACCEPTED, variant="A")
    add_request(campaign, State.SENT, variant="B")
    add_request(campaign, State.QUEUED, variant="B")

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "Acceptance rate: <strong>50% (2 of 4)</strong>" in html
    table = re.search(r'<table class="table variants-table".*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr><th scope=\"row\">(\w)</th><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td></tr>", table)
    assert rows == [("A", "3", "2", "67%"), ("B", "1", "0", "0%")]
    assert '<th scope="col">Variant</th>' in html
    assert html.count('<td class="request-variant">A</td>') == 3
    assert html.count('<td class="request-variant">B</td>') == 2


def test_a_variant_with_nothing_sent_shows_a_dash(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template="A", note_template_b="B")
    add_request(campaign, State.SENT, variant="A")

    html = ada_client.get(page_url(campaign)).content.decode()

    assert '<tr><th scope="row">B</th><td>0</td><td>0</td><td>—</td></tr>' in html


def test_rows_show_their_follow_up_and_its_message(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, followup_template="Thanks, {first_name}!", followup_delay_minutes=60)
    sent = add_request(campaign, State.ACCEPTED, first_name="Grace")
    add_followup(sent, FState.SENT, "Thanks, Grace!")
    queued = add_request(campaign, State.ACCEPTED, first_name="Alan")
    add_followup(queued, FState.QUEUED, "Thanks, Alan!")
    add_request(campaign, State.ACCEPTED, first_name="Ada", accepted_at=timezone.now())  # follow-up still to come

    html = ada_client.get(page_url(campaign)).content.decode()

    assert 'Follow-up: <span class="followup-state followup-state-sent">Sent</span>' in html
    assert 'title="Thanks, Grace!">Follow-up: Thanks, Grace!</span>' in html
    assert 'Follow-up: <span class="followup-state followup-state-queued">Queued</span>' in html
    assert "Follow-up message queued" in html
    assert "Follow-up message due " in html  # an hour after Ada accepted
    assert "Follow-up message" in html and "Thanks, {first_name}!" in html  # the template itself
    assert "1 hour after the acceptance is seen" in html  # 60 minutes, in the largest whole unit


def test_the_status_follows_a_follow_up_until_it_is_sent(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, followup_template="Thanks!")
    row = add_request(campaign, State.ACCEPTED)
    followup = add_followup(row, FState.QUEUED, "Thanks!")
    add_request(campaign, State.SENT)  # sent alone keeps the page polling, slowly
    fingerprint = fingerprint_in(ada_client.get(page_url(campaign)).content.decode())

    unchanged = ada_client.get(status_url(campaign), {"v": fingerprint}, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204

    assert followup.move_to(FState.SUBMITTING, "Follow-up: submitting to OutX.")
    submitting = ada_client.get(status_url(campaign), {"v": fingerprint}, HTTP_HX_REQUEST="true")
    assert submitting.status_code == 200
    assert 'followup-state-submitting">Submitting</span>' in submitting.content.decode()
    newer = fingerprint_in(submitting.content.decode())
    assert newer != fingerprint

    followup.move_to(FState.PENDING, "Follow-up: OutX created the task.", outx_task_id="task-f1")
    pending = ada_client.get(status_url(campaign), {"v": newer}, HTTP_HX_REQUEST="true")
    assert pending.status_code == 200 and fingerprint_in(pending.content.decode()) != newer

    followup.move_to(FState.SENT, "Follow-up: message sent.")
    sent = ada_client.get(status_url(campaign), {"v": fingerprint_in(pending.content.decode())}, HTTP_HX_REQUEST="true")
    html = sent.content.decode()
    assert sent.status_code == 200  # only the sent invitation may still change: ask slowly
    assert 'followup-state-sent">Sent</span>' in html and 'hx-trigger="every 60s"' in html


@pytest.mark.parametrize(
    ("followup_template", "followup_state", "polls"),
    [
        ("Thanks!", None, True),  # accepted, its follow-up still to come
        ("", None, False),  # accepted, no follow-up in this campaign
        ("Thanks!", FState.PENDING, True),
        ("Thanks!", FState.SENT, False),
        ("Thanks!", FState.UNCERTAIN, False),  # waits for a person
    ],
)
def test_the_page_polls_while_a_follow_up_may_change(
    ada_client, ada, make_campaign, account, followup_template, followup_state, polls
):
    campaign = make_campaign(owner=ada, followup_template=followup_template)
    row = add_request(campaign, State.ACCEPTED)
    if followup_state:
        add_followup(row, followup_state)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert ('hx-trigger="every 3s"' in html) == polls


def test_a_paused_campaign_does_not_poll_for_follow_ups_it_will_not_queue(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, state=Campaign.State.PAUSED, followup_template="Thanks!")
    add_request(campaign, State.ACCEPTED)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "hx-trigger" not in html
    assert "Follow-up message waits: the campaign is paused" in html


def test_sent_invitations_alone_keep_the_page_polling_slowly(ada_client, ada, make_campaign, account):
    # An acceptance may take weeks, or never come: the page asks every minute, never stops.
    campaign = make_campaign(owner=ada)
    add_request(campaign, State.SENT)

    assert 'hx-trigger="every 60s"' in ada_client.get(page_url(campaign)).content.decode()


def test_the_brakes_cause_is_shown_beside_resume(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada)
    add_request(campaign, State.QUEUED)
    cause = "Safety brake: only 1 of 20 invitations answered so far were accepted (5%, below 20%)."
    campaign.move_to(Campaign.State.PAUSED, cause, paused_cause=cause)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert f'<p class="campaign-paused-cause"><strong>Paused by itself.</strong> {cause}</p>' in html
    resume = reverse("campaign_action", args=[campaign.pk, "resume"])
    assert html.index("campaign-paused-cause") < html.index(f'action="{resume}"')
    assert re.search(r'<button type="submit" class="button primary"\s*>Resume</button>', html)

    response = ada_client.post(resume)
    campaign.refresh_from_db()
    assert response.status_code == 302 and campaign.state == Campaign.State.ACTIVE and campaign.paused_cause == ""
    assert "campaign-paused-cause" not in ada_client.get(page_url(campaign)).content.decode()


def test_old_unanswered_invitations_are_counted_marked_and_explained(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada)
    old_sent = add_request(campaign, State.SENT, submitted_at=long_ago(22))
    add_request(campaign, State.PENDING, submitted_at=long_ago(30))
    add_request(campaign, State.ACCEPTED, submitted_at=long_ago(30))  # answered
    add_request(campaign, State.SENT, submitted_at=long_ago(20))  # not three weeks yet
    add_request(make_campaign("Other", owner=ada), State.SENT, submitted_at=long_ago(40))  # another campaign

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "2 invitations sent more than 3 weeks ago are still unanswered." in html
    assert WITHDRAW_WORDS in words(html)
    review_link = f'{reverse("review")}?campaign={campaign.pk}&amp;old_unanswered=on'
    assert f'<a href="{review_link}">See them in Review</a>' in html
    assert html.count('<strong class="request-unanswered">Unanswered for over 3 weeks</strong>') == 2
    row = re.search(rf'<tr id="request-{old_sent.pk}".*?</tr>', html, re.S).group(0)
    assert "Unanswered for over 3 weeks" in row


def test_no_old_invitation_notice_without_old_invitations(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada)
    add_request(campaign, State.SENT)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "unanswered-notice" not in html and "Unanswered for over" not in html


def test_campaign_page_queries_do_not_grow_with_rows(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template="A", note_template_b="B", followup_template="Thanks!")

    def add_rows(count):
        for _ in range(count):
            add_followup(add_request(campaign, State.ACCEPTED, variant="A"), FState.SENT)
            add_followup(add_request(campaign, State.ACCEPTED, variant="B"), FState.PENDING)
            add_request(campaign, State.SENT, variant="B", submitted_at=long_ago(30))
            add_request(campaign, State.QUEUED, variant="A")

    add_rows(1)
    count_queries(ada_client, page_url(campaign))
    few_page = count_queries(ada_client, page_url(campaign))
    fingerprint = fingerprint_in(ada_client.get(page_url(campaign)).content.decode())
    few_unchanged = count_queries(ada_client, status_url(campaign), v=fingerprint)
    few_changed = count_queries(ada_client, status_url(campaign), v="old")

    add_rows(12)  # 48 rows: one page
    fingerprint = fingerprint_in(ada_client.get(page_url(campaign)).content.decode())

    assert count_queries(ada_client, page_url(campaign)) == few_page
    assert count_queries(ada_client, status_url(campaign), v=fingerprint) == few_unchanged
    assert count_queries(ada_client, status_url(campaign), v="old") == few_changed
    assert few_unchanged <= 5  # session, user, campaign, account, one aggregate


# --- Actions on a row ----------------------------------------------------------------------------------


def test_a_row_redrawn_after_an_action_keeps_its_variant_column(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, note_template="A", note_template_b="B")
    row = add_request(campaign, State.QUEUED, variant="B")

    response = ada_client.post(reverse("request_action", args=[row.pk, "remove"]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="request-{row.pk}"')
    assert '<td class="request-variant">B</td>' in html


@pytest.mark.django_db
def test_an_uncertain_follow_up_can_be_retried_or_closed_by_the_owner(client, owner, make_campaign):
    campaign = make_campaign("FU", followup_template="Thanks!")
    requests = []
    for i in range(2):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAFuAct{i}", first_name=f"F{i}")
        request = ConnectionRequest.objects.create(sender=Sender.get(), campaign=campaign, prospect=prospect, state="accepted")
        FollowUp.objects.create(request=request, message="Thanks!", state=FollowUp.State.UNCERTAIN, outx_task_id=f"t-{i}")
        requests.append(request)
    client.force_login(owner)
    page = client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert "Retry follow-up" in page and "Close follow-up" in page

    client.post(reverse("request_action", args=[requests[0].pk, "followup-retry"]))
    response = client.post(reverse("request_action", args=[requests[1].pk, "followup-close"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Follow-up closed without resending" in response.content.decode()
    retried, closed = (FollowUp.objects.get(request=r) for r in requests)
    assert (retried.state, retried.outx_task_id, closed.state) == ("queued", None, "skipped")
    assert "put it back in the queue" in retried.events.last().cause
    # Nothing left to decide: a second click changes nothing and says so.
    again = client.post(reverse("request_action", args=[requests[1].pk, "followup-close"]), follow=True)
    assert "Nothing changed: the follow-up to" in again.content.decode()
