"""Replies and "Not interested": marked by hand on an invitation (OutX cannot read the inbox),
from its row on the campaign page or Review, or from its own page."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from campaigns.followups import FOLLOW_UPS, queue_due_followups
from campaigns.models import ConnectionRequest, DoNotContact, FollowUp
from campaigns.worker import run_tick
from outx_sandbox.models import SandboxTask
from tests.helpers import add_followup, add_request, words

State = ConnectionRequest.State
FState = FollowUp.State
INBOX_NOTE = "OutX cannot read your LinkedIn inbox, so replies are marked by hand."


def mark(client, row, response, origin="campaign", **extra):
    return client.post(reverse("request_response", args=[row.pk]), {"response": response, "origin": origin}, **extra)


@pytest.mark.django_db
def test_replied_from_a_campaign_row_cancels_the_queued_follow_up_and_records_it(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada, followup_template="Thanks!")
    row = add_request(campaign, State.ACCEPTED, first_name="Ann")
    followup = add_followup(row, FState.QUEUED)

    page = ada_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert f'hx-post="{reverse("request_response", args=[row.pk])}"' in page
    response = mark(ada_client, row, "replied", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = words(response.content.decode())
    assert html.lstrip().startswith(f'<tr id="request-{row.pk}"')
    assert '<span class="response-badge response-replied">Replied</span>' in html
    assert "Marked “Replied”: Ann." in html
    assert 'Follow-up: <span class="followup-state followup-state-skipped">Skipped</span>' in html
    row.refresh_from_db()
    followup.refresh_from_db()
    assert (row.response, row.responded_by, row.state) == ("replied", ada, State.ACCEPTED)
    assert row.responded_at is not None
    event = row.events.filter(followup__isnull=True).last()
    assert (event.from_state, event.to_state, event.cause) == ("accepted", "replied", "Marked “Replied” by ada.")
    assert followup.state == FState.SKIPPED
    assert followup.events.last().cause == "Follow-up: not sent, Ann was marked “Replied” by ada."


@pytest.mark.django_db
def test_not_interested_from_the_detail_page_adds_to_the_list(ada_client, ada, make_campaign):
    campaign = make_campaign("Lisbon", owner=ada)
    row = add_request(campaign, State.SENT, first_name="Bo")
    queued_elsewhere = ConnectionRequest.objects.create(campaign=make_campaign("Porto", owner=ada), prospect=row.prospect)

    detail = words(ada_client.get(reverse("request_detail", args=[row.pk])).content.decode())
    assert INBOX_NOTE in detail
    assert "Not interested</button>" in detail and "Replied</button>" in detail
    response = mark(ada_client, row, "not_interested", origin="detail", follow=True)

    assert response.redirect_chain == [(reverse("request_detail", args=[row.pk]), 302)]
    html = words(response.content.decode())
    assert "Marked “Not interested”: Bo. They are on the do-not-contact list now." in html
    assert '<span class="response-badge response-not_interested">Not interested</span> marked by ada' in html
    entry = DoNotContact.objects.get()
    assert (entry.profile_urn, entry.added_by, entry.reason) == (
        row.prospect.profile_urn, ada, "Not interested (marked by ada on the invitation in “Lisbon”).",
    )
    queued_elsewhere.refresh_from_db()
    assert queued_elsewhere.state == State.SKIPPED
    assert queued_elsewhere.events.get().cause.startswith("On the do-not-contact list (person “Bo (")


@pytest.mark.django_db
@pytest.mark.parametrize("state", [State.QUEUED, State.SKIPPED, State.FAILED, State.NOT_SENT])
def test_an_invitation_that_never_went_out_cannot_be_marked(ada_client, ada, make_campaign, state):
    row = add_request(make_campaign(owner=ada), state)
    response = mark(ada_client, row, "replied", follow=True)
    assert f"this one is {row.get_state_display().lower()}. To keep this person from being invited, use Do not contact." in (
        response.content.decode()
    )
    row.refresh_from_db()
    assert row.response == "" and not row.events.exists()


@pytest.mark.django_db
def test_a_mark_can_be_cleared_and_an_unknown_mark_is_refused(ada_client, ada, make_campaign):
    row = add_request(make_campaign(owner=ada), State.PENDING, first_name="Cy")
    assert "not a mark" in mark(ada_client, row, "maybe", follow=True).content.decode()
    mark(ada_client, row, "replied")
    html = ada_client.get(reverse("review")).content.decode()
    assert "Clear mark</button>" in html

    response = mark(ada_client, row, "", origin="review", HTTP_HX_REQUEST="true")
    assert "Mark cleared: Cy." in response.content.decode()
    row.refresh_from_db()
    assert (row.response, row.responded_at, row.responded_by) == ("", None, None)
    assert [e.to_state for e in row.events.all()] == ["replied", "unmarked"]
    assert "This invitation has no mark to clear." in mark(ada_client, row, "", follow=True).content.decode()


@pytest.mark.django_db
def test_only_the_owner_or_an_admin_may_mark(client, ada, make_campaign):
    row = add_request(make_campaign(owner=ada), State.SENT)
    client.force_login(User.objects.create_user("bob"))
    assert mark(client, row, "replied").status_code == 403
    assert client.get(reverse("request_response", args=[row.pk])).status_code == 405
    detail = client.get(reverse("request_detail", args=[row.pk])).content.decode()
    assert INBOX_NOTE in words(detail) and "Replied</button>" not in detail
    client.force_login(User.objects.create_user("root", is_staff=True))
    assert mark(client, row, "replied").status_code == 302


@pytest.mark.django_db
def test_review_shows_the_marks_and_filters_by_them(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada)
    replied = add_request(campaign, State.SENT, first_name="Replier")
    declined = add_request(campaign, State.ACCEPTED, first_name="Decliner")
    add_request(campaign, State.SENT, first_name="Silent")
    replied.mark_response("replied", ada)
    declined.mark_response("not_interested", ada)

    def names(**params):
        html = ada_client.get(reverse("review"), params).content.decode()
        return {name for name in ("Replier", "Decliner", "Silent") if f">{name}</a>" in html}

    assert names() == {"Replier", "Decliner", "Silent"}
    assert names(response="replied") == {"Replier"}
    assert names(response="not_interested") == {"Decliner"}
    assert names(response="any") == {"Replier", "Decliner"}
    assert names(response="none") == {"Silent"}
    assert names(response="bogus") == {"Replier", "Decliner", "Silent"}
    html = ada_client.get(reverse("review")).content.decode()
    assert '<span class="response-badge response-not_interested">Not interested</span>' in html


@pytest.mark.django_db
def test_no_follow_up_is_written_for_a_marked_invitation(ada, make_campaign):
    campaign = make_campaign(owner=ada, followup_template="Thanks {first_name|there}!", followup_delay_minutes=0)
    marked_before_acceptance = add_request(campaign, State.SENT, first_name="Early")
    marked_before_acceptance.mark_response("replied", ada)
    # The mark wrote the follow-up down as skipped, so nothing waits to write one.
    assert marked_before_acceptance.followup.state == FState.SKIPPED
    ConnectionRequest.objects.filter(pk=marked_before_acceptance.pk).update(
        state=State.ACCEPTED, accepted_at=timezone.now() - dt.timedelta(hours=1)
    )
    plain = add_request(campaign, State.ACCEPTED, first_name="Plain", accepted_at=timezone.now() - dt.timedelta(hours=1))

    assert queue_due_followups(plain.sender, timezone.now()) == 1
    assert set(FollowUp.objects.values_list("request_id", "state")) == {
        (marked_before_acceptance.pk, FState.SKIPPED), (plain.pk, FState.QUEUED),
    }
    # And one queued in the very instant of the mark is never picked.
    ConnectionRequest.objects.filter(pk=plain.pk).update(response="replied")
    assert not FOLLOW_UPS.queued().exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_no_follow_up_after_a_mark(sandbox, pacing_off, make_campaign, ada):
    campaign = make_campaign(owner=ada, followup_template="Thanks!", followup_delay_minutes=0)
    row = add_request(campaign, State.ACCEPTED, accepted_at=timezone.now() - dt.timedelta(hours=1))
    followup = add_followup(row, FState.QUEUED, "Thanks!")
    row.mark_response("not_interested", ada)

    run_tick(now=timezone.now())

    followup.refresh_from_db()
    assert followup.state == FState.SKIPPED
    assert not SandboxTask.objects.filter(task_type=SandboxTask.TaskType.SEND_MESSAGE).exists()


@pytest.mark.django_db
def test_a_follow_up_already_submitted_is_beyond_recall(ada, make_campaign):
    row = add_request(make_campaign(owner=ada, followup_template="Hi"), State.ACCEPTED)
    followup = add_followup(row, FState.PENDING, outx_task_id="task-f")
    assert row.mark_response("replied", ada)
    followup.refresh_from_db()
    assert followup.state == FState.PENDING
