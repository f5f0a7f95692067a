"""Review after the invitation: each invitation's follow-up in the list, on the invitation's own
page (its message, state and history, or when it will go out) and in the CSV export (with the
note variant and the acceptance time); invitations unanswered for over three weeks, filtered,
marked and explained; and the cost in queries, which does not grow with the follow-ups."""

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ConnectionRequest, FollowUp
from tests.helpers import WITHDRAW_WORDS, add_followup, add_request, count_queries, long_ago, words

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
FState = FollowUp.State


@pytest.fixture
def account(always_open):
    """Sending allowed at any moment, so nothing waits on the clock."""
    return always_open


def review_row(html: str, name: str) -> str:
    return re.search(rf'<tr[^>]*>\s*<td><a href="/review/\d+/">{name}</a>.*?</tr>', html, re.S).group(0)


def test_review_shows_each_invitations_follow_up(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, followup_template="Thanks!")
    add_followup(add_request(campaign, State.ACCEPTED, first_name="Grace"), FState.SENT, "Thanks, Grace!")
    add_request(campaign, State.SENT, first_name="Alan")

    html = ada_client.get(reverse("review")).content.decode()

    assert '<th scope="col">Follow-up</th>' in html
    grace = review_row(html, "Grace")
    assert '<span class="followup-state followup-state-sent" title="Thanks, Grace!">Sent</span>' in grace
    assert "<td>—</td>" in review_row(html, "Alan")


def test_review_filters_old_unanswered_invitations_and_explains_them(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada)
    add_request(campaign, State.SENT, first_name="Old", submitted_at=long_ago(25))
    add_request(campaign, State.SENT, first_name="Recent", submitted_at=long_ago(2))
    add_request(campaign, State.ACCEPTED, first_name="Answered", submitted_at=long_ago(25))

    everything = ada_client.get(reverse("review")).content.decode()
    assert "1 invitation sent more than 3 weeks ago is still unanswered." in everything
    assert '<a href="/review/?old_unanswered=on">Show only it</a>' in everything
    assert WITHDRAW_WORDS in words(everything)
    assert "Unanswered for over 3 weeks" in review_row(everything, "Old")
    assert "Unanswered for over 3 weeks" not in review_row(everything, "Recent")
    assert re.search(r'<label for="id_old_unanswered">Only invitations unanswered for over 3 weeks</label>', everything)

    filtered = ada_client.get(reverse("review"), {"old_unanswered": "on"}).content.decode()
    names = re.findall(r'<a href="/review/\d+/">([^<]*)</a>', filtered)
    assert names == ["Old"]
    assert 'id="id_old_unanswered" checked' in filtered
    assert "Show only it" not in filtered  # already shown

    exported = ada_client.get(reverse("review_export"), {"old_unanswered": "on"})
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [row[4] for row in rows[1:]] == ["Old"]


def test_review_has_no_withdraw_notice_without_old_invitations(ada_client, ada, make_campaign, account):
    add_request(make_campaign(owner=ada), State.SENT)

    assert "unanswered-notice" not in ada_client.get(reverse("review")).content.decode()


def test_the_invitations_page_shows_its_follow_up_and_its_history(ada_client, ada, make_campaign, account):
    campaign = make_campaign(
        owner=ada, note_template="A", note_template_b="B {first_name}", followup_template="Thanks!"
    )
    row = add_request(campaign, State.SENT, variant="B", first_name="Grace", note="B Grace")
    row.move_to(State.ACCEPTED, "Accepted: Grace is now a connection.", accepted_at=timezone.now())
    followup = add_followup(row, FState.QUEUED, "Thanks, Grace <3")
    followup.move_to(FState.SUBMITTING, "Follow-up: submitting to OutX.")
    followup.move_to(FState.PENDING, "Follow-up: OutX created the task.", outx_task_id="task-follow-1")
    followup.move_to(
        FState.SENT, "Follow-up: message sent (OutX task completed).", task_output={"sent": True, "note": "ok"}
    )

    html = ada_client.get(reverse("request_detail", args=[row.pk])).content.decode()

    assert "note variant B" in html
    section = re.search(r'<section [^>]*aria-labelledby="followup-heading">.*?</section>', html, re.S).group(0)
    assert '<pre class="note-text">Thanks, Grace &lt;3</pre>' in section
    assert 'followup-state-sent">Sent</span>' in section
    assert "<code>task-follow-1</code>" in section
    assert "&quot;note&quot;: &quot;ok&quot;" in section
    assert section.count("<td>Follow-up:") == 3  # its own history
    history = html[html.index('id="history-heading"'):]
    assert "Accepted: Grace is now a connection." in history
    assert "Follow-up:" not in history  # the invitation's history keeps to the invitation


def test_an_accepted_invitation_awaiting_its_follow_up_says_so(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, followup_template="Thanks!", followup_delay_minutes=30)
    row = add_request(campaign, State.ACCEPTED)

    html = ada_client.get(reverse("request_detail", args=[row.pk])).content.decode()

    assert "Not queued yet: it goes out 30 minutes after the acceptance" in html


def test_an_old_invitations_page_carries_the_withdraw_notice(ada_client, ada, make_campaign, account):
    row = add_request(make_campaign(owner=ada), State.SENT, submitted_at=long_ago(22))

    html = ada_client.get(reverse("request_detail", args=[row.pk])).content.decode()

    assert "<strong>Unanswered for over 3 weeks.</strong>" in html
    assert "OutX offers no way to withdraw invitations" in html


def test_export_adds_variant_acceptance_and_follow_up(ada_client, ada, make_campaign, account):
    account.time_zone = "Europe/Paris"
    account.save()
    campaign = make_campaign(owner=ada, note_template="A", note_template_b="B")
    accepted_at = dt.datetime(2024, 5, 3, 8, 30, tzinfo=dt.UTC)
    row = add_request(campaign, State.ACCEPTED, variant="B", first_name="Grace", accepted_at=accepted_at)
    add_followup(row, FState.SENT, "=HYPERLINK(\"x\") thanks")
    add_request(campaign, State.SENT, variant="A", first_name="Alan")

    response = ada_client.get(reverse("review_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[0][13:17] == ["Variant", "Accepted at", "Follow-up state", "Follow-up message"]
    by_name = {row[4]: row for row in rows[1:]}
    assert by_name["Grace"][13:17] == ["B", "2024-05-03 10:30:00+02:00", "Sent", "'=HYPERLINK(\"x\") thanks"]
    assert by_name["Alan"][13:17] == ["A", "", "", ""]


def test_review_queries_do_not_grow_with_follow_ups(ada_client, ada, make_campaign, account):
    campaign = make_campaign(owner=ada, followup_template="Thanks!")

    def add_rows(count):
        for _ in range(count):
            add_followup(add_request(campaign, State.ACCEPTED), FState.SENT)
            add_request(campaign, State.SENT, submitted_at=long_ago(25))

    add_rows(1)
    count_queries(ada_client, reverse("review"))
    few = count_queries(ada_client, reverse("review")), count_queries(ada_client, reverse("review"), old_unanswered="on")
    add_rows(20)
    many = count_queries(ada_client, reverse("review")), count_queries(ada_client, reverse("review"), old_unanswered="on")
    assert many == few

    row = add_request(campaign, State.ACCEPTED)
    followup = add_followup(row, FState.QUEUED)
    followup.move_to(FState.SUBMITTING, "Follow-up: submitting to OutX.")
    detail_few = count_queries(ada_client, reverse("request_detail", args=[row.pk]))
    followup.move_to(FState.PENDING, "Follow-up: OutX created the task.", outx_task_id="task-q")
    followup.move_to(FState.SENT, "Follow-up: message sent.")
    assert count_queries(ada_client, reverse("request_detail", args=[row.pk])) == detail_few
