"""After the invitation, as people see it: note variants, the follow-up and the safety brake in
the campaign form; acceptance rates, follow-ups and old invitations on the campaign page, Home,
the campaign list and Review."""

import csv
import datetime as dt
import io
import itertools
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, FollowUp, Prospect

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
FState = FollowUp.State
SERIAL = itertools.count()
WITHDRAW_WORDS = (
    "OutX offers no way to withdraw invitations; you can withdraw them by hand on LinkedIn "
    "(My Network → Manage → Sent), and LinkedIn then blocks a new invitation to that person for about 3 weeks."
)


@pytest.fixture
def ada(db):
    return User.objects.create_user("ada")


@pytest.fixture
def ada_client(client, ada):
    client.force_login(ada)
    return client


@pytest.fixture
def account(always_open):
    """Sending allowed at any moment, so nothing waits on the clock."""
    return always_open


def make_campaign(owner, name="Lisbon founders", state=Campaign.State.ACTIVE, **fields):
    fields.setdefault("note_template", "Hi {first_name|there}")
    return Campaign.objects.create(name=name, owner=owner, state=state, **fields)


def add_request(campaign, state=State.QUEUED, variant="", **fields) -> ConnectionRequest:
    serial = next(SERIAL)
    prospect = Prospect.objects.create(
        profile_urn=f"urn:li:fsd_profile:ACoAAAfterView{serial}",
        profile_url=f"https://www.linkedin.com/in/after-{serial}",
        first_name=fields.pop("first_name", f"Pat{serial}"),
        company=fields.pop("company", ""),
    )
    if state in (State.SENT, State.ACCEPTED, State.PENDING):
        fields.setdefault("submitted_at", timezone.now())
    if state == State.ACCEPTED:
        fields.setdefault("accepted_at", timezone.now())
    return ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, state=state, variant=variant, **fields)


def add_followup(request, state=FState.SENT, message="Thanks for connecting!", **fields) -> FollowUp:
    return FollowUp.objects.create(request=request, state=state, message=message, **fields)


def page_url(campaign):
    return reverse("campaign_detail", args=[campaign.pk])


def status_url(campaign):
    return reverse("campaign_status", args=[campaign.pk])


def fingerprint_in(html: str) -> str:
    match = re.search(r'hx-get="[^"]*[?&](?:amp;)?v=([0-9a-f]+)', html)
    assert match, "the page does not poll"
    return match.group(1)


def count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
        assert response.status_code in (200, 204, 286)
    return len(captured)


def form_data(**fields) -> dict:
    data = {
        "name": "Lisbon founders", "note_template": "Hi {first_name|there}",
        "note_template_b": "", "note_template_c": "", "followup_template": "",
        "followup_delay_minutes": "1440", "brake_min_invitations": "20", "brake_min_acceptance_percent": "20",
    }
    data.update(fields)
    return data


def words(html: str) -> str:
    """The HTML with each run of white space as one space, as a reader sees the text."""
    return re.sub(r"\s+", " ", html)


def long_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


# --- The form ------------------------------------------------------------------------------------------


def test_the_form_offers_variants_a_follow_up_and_the_brake(ada_client):
    html = ada_client.get(reverse("campaign_create")).content.decode()

    assert '<label for="id_note_template">Note</label>' in html
    assert "<legend>Note variants</legend>" in html
    for field, label in (("note_template_b", "Variant B"), ("note_template_c", "Variant C")):
        assert f'<label for="id_{field}">{label}</label>' in html
        # The same live counter and variable buttons as the note, tied to this textarea.
        assert f'data-note-counter-for="id_{field}"' in html
        assert html.count(f'data-note-insert-into="id_{field}"') == 5
        assert f"id_{field}_preview" not in html  # the preview follows the note (variant A)
    assert 'hx-include="#id_note_template"' in html
    for field, label in (
        ("followup_template", "Follow-up message"),
        ("followup_delay_minutes", "Follow-up delay (minutes)"),
        ("brake_min_invitations", "Brake after this many invitations"),
        ("brake_min_acceptance_percent", "Minimum acceptance rate (%)"),
    ):
        assert f'<label for="id_{field}">{label}</label>' in html
    assert 'value="1440"' in html and 'value="20"' in html  # the defaults
    assert "style=" not in html and "<script>" not in html


def test_create_saves_variants_follow_up_and_brake(ada_client, ada):
    response = ada_client.post(reverse("campaign_create"), form_data(
        note_template_b="Hello {first_name|there},\r\nB here", note_template_c="Hey {first_name|you}",
        followup_template="Thanks for connecting, {first_name|friend}!\r\nTalk soon.",
        followup_delay_minutes="90", brake_min_invitations="30", brake_min_acceptance_percent="15",
    ))

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == page_url(campaign)
    assert campaign.note_template_b == "Hello {first_name|there},\nB here"  # line breaks as OutX counts them
    assert campaign.note_template_c == "Hey {first_name|you}"
    assert campaign.followup_template == "Thanks for connecting, {first_name|friend}!\nTalk soon."
    assert (campaign.followup_delay_minutes, campaign.brake_min_invitations, campaign.brake_min_acceptance_percent) == (
        90, 30, 15
    )
    assert list(campaign.variants()) == ["A", "B", "C"]


def test_numbers_left_out_keep_their_defaults(ada_client):
    response = ada_client.post(reverse("campaign_create"), {"name": "Plain", "note_template": "Hi"})

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert (campaign.followup_delay_minutes, campaign.brake_min_invitations, campaign.brake_min_acceptance_percent) == (
        24 * 60, 20, 20
    )
    assert campaign.followup_template == "" and list(campaign.variants()) == ["A"]


@pytest.mark.parametrize("field", ["note_template_b", "note_template_c"])
@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("a" * 300 + "😀", "The template as typed is 302 characters long; LinkedIn allows at most 300."),
        ("a" * 301, "The template as typed is 301 characters long; LinkedIn allows at most 300."),
        ("Hi {nickname}", "Unknown variable {nickname}"),
    ],
)
def test_a_variant_is_held_to_the_notes_rules(ada_client, field, template, reason):
    response = ada_client.post(reverse("campaign_create"), form_data(**{field: template}))

    html = response.content.decode()
    assert response.status_code == 200
    assert reason in html
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error">', html)
    assert not Campaign.objects.exists()


def test_a_variant_of_spaces_is_no_variant(ada_client):
    assert ada_client.post(reverse("campaign_create"), form_data(note_template_b="   \r\n ")).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.note_template_b == "" and list(campaign.variants()) == ["A"]


def test_a_variant_is_checked_against_the_queued_prospects_given_to_it(ada_client, ada):
    campaign = make_campaign(
        ada, state=Campaign.State.DRAFT, note_template="A {first_name}", note_template_b="B {first_name}"
    )
    for _ in range(4):
        add_request(campaign)  # none has a company
    campaign.freeze_queued_notes()
    assert sorted(campaign.requests.values_list("variant", flat=True)) == ["A", "A", "B", "B"]

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        form_data(note_template="A {first_name}", note_template_b="B at {company}"),
    )

    html = response.content.decode()
    assert response.status_code == 200
    # Two prospects have variant B: only they are held to it.
    assert "2 queued prospects would get a note that cannot be sent:" in html
    assert "No value for {company}" in html
    campaign.refresh_from_db()
    assert campaign.note_template_b == "B {first_name}"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("   ", "Follow-up: the message is blank; leave it empty to send none."),
        (" \r\n\t ", "Follow-up: the message is blank; leave it empty to send none."),
        ("😀" * 5001, "Follow-up: the message is longer than 10,000 characters."),  # 5,001 characters, 10,002 units
        ("Thanks {nickname}", "Follow-up: Unknown variable {nickname}"),
    ],
)
def test_a_follow_up_outx_would_refuse_is_refused_with_the_reason(ada_client, message, reason):
    response = ada_client.post(reverse("campaign_create"), form_data(followup_template=message))

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_follow_up_of_exactly_10000_units_is_accepted(ada_client):
    response = ada_client.post(reverse("campaign_create"), form_data(followup_template="😀" * 5000))

    assert response.status_code == 302
    assert Campaign.objects.get().followup_template == "😀" * 5000


@pytest.mark.parametrize(("field", "value"), [("brake_min_acceptance_percent", "101"), ("brake_min_invitations", "-1")])
def test_brake_numbers_are_bounded(ada_client, field, value):
    response = ada_client.post(reverse("campaign_create"), form_data(**{field: value}))

    assert response.status_code == 200
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error">', response.content.decode())
    assert not Campaign.objects.exists()


def test_editing_saves_and_variants_are_given_out_again(ada_client, ada):
    campaign = make_campaign(ada, state=Campaign.State.DRAFT, note_template="A", note_template_b="B", note_template_c="C")
    for _ in range(3):
        add_request(campaign)
    campaign.freeze_queued_notes()

    response = ada_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        form_data(note_template="A", note_template_b="B", note_template_c="", followup_template="Thanks!"),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.followup_template == "Thanks!" and list(campaign.variants()) == ["A", "B"]
    # The prospect who had variant C has another one now, with its note.
    assert set(campaign.requests.values_list("variant", "note")) <= {("A", "A"), ("B", "B")}


# --- The campaign page ----------------------------------------------------------------------------------


def test_the_page_shows_the_campaigns_acceptance_rate(ada_client, ada, account):
    campaign = make_campaign(ada)
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


def test_the_page_shows_each_variants_rate_and_each_rows_variant(ada_client, ada, account):
    campaign = make_campaign(ada, note_template="A {first_name}", note_template_b="B {first_name}")
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


def test_a_variant_with_nothing_sent_shows_a_dash(ada_client, ada, account):
    campaign = make_campaign(ada, note_template="A", note_template_b="B")
    add_request(campaign, State.SENT, variant="A")

    html = ada_client.get(page_url(campaign)).content.decode()

    assert '<tr><th scope="row">B</th><td>0</td><td>0</td><td>—</td></tr>' in html


def test_rows_show_their_follow_up_and_its_message(ada_client, ada, account):
    campaign = make_campaign(ada, followup_template="Thanks, {first_name}!", followup_delay_minutes=60)
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
    assert "60 minutes after the acceptance is seen" in html


def test_the_status_follows_a_follow_up_until_it_is_sent(ada_client, ada, account):
    campaign = make_campaign(ada, followup_template="Thanks!")
    row = add_request(campaign, State.ACCEPTED)
    followup = add_followup(row, FState.QUEUED, "Thanks!")
    add_request(campaign, State.SENT)  # sent alone would not keep the page polling
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
    assert sent.status_code == 286  # nothing left that changes by itself: stop polling
    assert 'followup-state-sent">Sent</span>' in html and "hx-trigger" not in html


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
def test_the_page_polls_while_a_follow_up_may_change(ada_client, ada, account, followup_template, followup_state, polls):
    campaign = make_campaign(ada, followup_template=followup_template)
    row = add_request(campaign, State.ACCEPTED)
    if followup_state:
        add_followup(row, followup_state)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert ('hx-trigger="every 3s"' in html) == polls


def test_a_paused_campaign_does_not_poll_for_follow_ups_it_will_not_queue(ada_client, ada, account):
    campaign = make_campaign(ada, state=Campaign.State.PAUSED, followup_template="Thanks!")
    add_request(campaign, State.ACCEPTED)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "hx-trigger" not in html
    assert "Follow-up message waits: the campaign is paused" in html


def test_sent_invitations_alone_do_not_keep_the_page_polling(ada_client, ada, account):
    # An acceptance may take weeks, or never come: it shows at the next page load.
    campaign = make_campaign(ada)
    add_request(campaign, State.SENT)

    assert "hx-trigger" not in ada_client.get(page_url(campaign)).content.decode()


def test_the_brakes_cause_is_shown_beside_resume(ada_client, ada, account):
    campaign = make_campaign(ada)
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


def test_old_unanswered_invitations_are_counted_marked_and_explained(ada_client, ada, account):
    campaign = make_campaign(ada)
    old_sent = add_request(campaign, State.SENT, submitted_at=long_ago(22))
    add_request(campaign, State.PENDING, submitted_at=long_ago(30))
    add_request(campaign, State.ACCEPTED, submitted_at=long_ago(30))  # answered
    add_request(campaign, State.SENT, submitted_at=long_ago(20))  # not three weeks yet
    add_request(make_campaign(ada, "Other"), State.SENT, submitted_at=long_ago(40))  # another campaign

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "2 invitations sent more than 3 weeks ago are still unanswered." in html
    assert WITHDRAW_WORDS in words(html)
    review_link = f'{reverse("review")}?campaign={campaign.pk}&amp;old_unanswered=on'
    assert f'<a href="{review_link}">See them in Review</a>' in html
    assert html.count('<strong class="request-unanswered">Unanswered for over 3 weeks</strong>') == 2
    row = re.search(rf'<tr id="request-{old_sent.pk}".*?</tr>', html, re.S).group(0)
    assert "Unanswered for over 3 weeks" in row


def test_no_old_invitation_notice_without_old_invitations(ada_client, ada, account):
    campaign = make_campaign(ada)
    add_request(campaign, State.SENT)

    html = ada_client.get(page_url(campaign)).content.decode()

    assert "unanswered-notice" not in html and "Unanswered for over" not in html


def test_campaign_page_queries_do_not_grow_with_rows(ada_client, ada, account):
    campaign = make_campaign(ada, note_template="A", note_template_b="B", followup_template="Thanks!")

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


# --- Home and the campaign list -----------------------------------------------------------------------------


def test_home_and_the_list_show_each_campaigns_acceptance_rate(ada_client, ada, account):
    liked = make_campaign(ada, "Liked")
    add_request(liked, State.ACCEPTED)
    add_request(liked, State.SENT)
    add_request(liked, State.QUEUED)
    make_campaign(ada, "Untouched")

    for url in (reverse("home"), reverse("campaign_list")):
        html = ada_client.get(url).content.decode()
        assert '<th scope="col">Acceptance rate</th>' in html
        liked_row = re.search(r"<tr>\s*<td><a [^>]*>Liked</a>.*?</tr>", html, re.S).group(0)
        untouched_row = re.search(r"<tr>\s*<td><a [^>]*>Untouched</a>.*?</tr>", html, re.S).group(0)
        assert "50% (1 of 2)" in liked_row
        assert "—" in untouched_row


def test_home_and_list_queries_do_not_grow_with_accepted_invitations(ada_client, ada, account):
    def add_campaigns(count):
        for i in range(count):
            campaign = make_campaign(ada, f"C{next(SERIAL)}")
            add_followup(add_request(campaign, State.ACCEPTED), FState.SENT)
            add_request(campaign, State.SENT)

    add_campaigns(2)
    count_queries(ada_client, reverse("home"))
    few = count_queries(ada_client, reverse("home")), count_queries(ada_client, reverse("campaign_list"))
    add_campaigns(20)
    assert (count_queries(ada_client, reverse("home")), count_queries(ada_client, reverse("campaign_list"))) == few


# --- Review -----------------------------------------------------------------------------------------------


def review_row(html: str, name: str) -> str:
    return re.search(rf'<tr>\s*<td><a href="/review/\d+/">{name}</a>.*?</tr>', html, re.S).group(0)


def test_review_shows_each_invitations_follow_up(ada_client, ada, account):
    campaign = make_campaign(ada, followup_template="Thanks!")
    add_followup(add_request(campaign, State.ACCEPTED, first_name="Grace"), FState.SENT, "Thanks, Grace!")
    add_request(campaign, State.SENT, first_name="Alan")

    html = ada_client.get(reverse("review")).content.decode()

    assert '<th scope="col">Follow-up</th>' in html
    grace = review_row(html, "Grace")
    assert '<span class="followup-state followup-state-sent" title="Thanks, Grace!">Sent</span>' in grace
    assert "<td>—</td>" in review_row(html, "Alan")


def test_review_filters_old_unanswered_invitations_and_explains_them(ada_client, ada, account):
    campaign = make_campaign(ada)
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


def test_review_has_no_withdraw_notice_without_old_invitations(ada_client, ada, account):
    add_request(make_campaign(ada), State.SENT)

    assert "unanswered-notice" not in ada_client.get(reverse("review")).content.decode()


def test_the_invitations_page_shows_its_follow_up_and_its_history(ada_client, ada, account):
    campaign = make_campaign(ada, note_template="A", note_template_b="B {first_name}", followup_template="Thanks!")
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


def test_an_accepted_invitation_awaiting_its_follow_up_says_so(ada_client, ada, account):
    campaign = make_campaign(ada, followup_template="Thanks!", followup_delay_minutes=30)
    row = add_request(campaign, State.ACCEPTED)

    html = ada_client.get(reverse("request_detail", args=[row.pk])).content.decode()

    assert "Not queued yet: it goes out 30 minutes after the acceptance" in html


def test_an_old_invitations_page_carries_the_withdraw_notice(ada_client, ada, account):
    row = add_request(make_campaign(ada), State.SENT, submitted_at=long_ago(22))

    html = ada_client.get(reverse("request_detail", args=[row.pk])).content.decode()

    assert "<strong>Unanswered for over 3 weeks.</strong>" in html
    assert "OutX offers no way to withdraw invitations" in html


def test_export_adds_variant_acceptance_and_follow_up(ada_client, ada, account):
    account.time_zone = "Europe/Paris"
    account.save()
    campaign = make_campaign(ada, note_template="A", note_template_b="B")
    accepted_at = dt.datetime(2024, 5, 3, 8, 30, tzinfo=dt.UTC)
    row = add_request(campaign, State.ACCEPTED, variant="B", first_name="Grace", accepted_at=accepted_at)
    add_followup(row, FState.SENT, "=HYPERLINK(\"x\") thanks")
    add_request(campaign, State.SENT, variant="A", first_name="Alan")

    response = ada_client.get(reverse("review_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[0][-4:] == ["Variant", "Accepted at", "Follow-up state", "Follow-up message"]
    by_name = {row[4]: row for row in rows[1:]}
    assert by_name["Grace"][-4:] == ["B", "2024-05-03 10:30:00+02:00", "Sent", "'=HYPERLINK(\"x\") thanks"]
    assert by_name["Alan"][-4:] == ["A", "", "", ""]


def test_review_queries_do_not_grow_with_follow_ups(ada_client, ada, account):
    campaign = make_campaign(ada, followup_template="Thanks!")

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


def test_a_row_redrawn_after_an_action_keeps_its_variant_column(ada_client, ada, account):
    campaign = make_campaign(ada, note_template="A", note_template_b="B")
    row = add_request(campaign, State.QUEUED, variant="B")

    response = ada_client.post(reverse("request_action", args=[row.pk, "remove"]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="request-{row.pk}"')
    assert '<td class="request-variant">B</td>' in html


@pytest.mark.django_db
def test_an_uncertain_follow_up_can_be_retried_or_closed_by_the_owner(client):
    owner = User.objects.create_user("fu-owner", password="x")
    campaign = Campaign.objects.create(name="FU", owner=owner, state=Campaign.State.ACTIVE, followup_template="Thanks!")
    requests = []
    for i in range(2):
        prospect = Prospect.objects.create(profile_urn=f"urn:li:fsd_profile:ACoAAFuAct{i}", first_name=f"F{i}")
        request = ConnectionRequest.objects.create(campaign=campaign, prospect=prospect, state="accepted")
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
