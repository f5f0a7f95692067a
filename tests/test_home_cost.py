"""Home costs the same whatever the number of sender cards and the number of invitations
(issue 14): the cards are read in a fixed number of grouped queries, each over index ranges (a
week's submissions, an hour's actions, the stale ones), and they say exactly what each
sender's own rules say (campaigns/sending.py: budget_used, submission_decision, waiting_reason)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, ConnectionRequest, ProfileLookup, Prospect, RequestTally, Sender
from campaigns.sending import budget_used, budgets_used, submission_decision, waiting_reason
from campaigns.views.home import NOTHING_QUEUED, sender_cards
from tests.costs import analyze, cost_of_get, slack
from tests.helpers import add_followup, add_request

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State
ALWAYS_OPEN = {"working_days": [0, 1, 2, 3, 4, 5, 6], "work_start": dt.time(0, 0), "work_end": dt.time(23, 59, 59)}

# Work at 10,000 invitations may exceed the work at 10 by this factor, and `slack()` more.
WORK_FACTOR = 1.5


def busy_sender(name: str, campaign: Campaign, user, **fields) -> Sender:
    """A sender `user` may use, with every kind of card line: sent today, a queued invitation
    it could send, one held in a paused campaign, a stale one, and its weekly cap reached."""
    sender = Sender.objects.create(name=name, **{**ALWAYS_OPEN, "weekly_limit": 1, "daily_limit": 1, **fields})
    sender.users.add(user)
    campaign.senders.add(sender)
    held = Campaign.objects.create(name=f"{name} held", owner=user, state=Campaign.State.PAUSED)
    add_request(campaign, State.SENT, sender=sender, submitted_at=timezone.now())
    add_request(campaign, State.QUEUED, sender=sender)
    add_request(held, State.QUEUED, sender=sender)
    add_request(campaign, State.PENDING, sender=sender, submitted_at=timezone.now() - dt.timedelta(days=9))
    return sender


def test_home_runs_the_same_queries_with_one_and_with_five_sender_cards(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada, senders=[])
    Sender.get().users.remove(ada)
    first = busy_sender("Desk 0", campaign, ada)
    others = [busy_sender(f"Desk {i}", campaign, ada) for i in range(1, 5)]
    for sender in others:
        sender.users.remove(ada)
    url = reverse("home")
    cost_of_get(ada_client, url)  # warm: sessions, the team's zone

    one = cost_of_get(ada_client, url)
    for sender in others:
        sender.users.add(ada)
    five = cost_of_get(ada_client, url)

    html = ada_client.get(url).content.decode()
    assert html.count('class="card sender-card') == 5 and first.name in html
    assert html.count("Weekly limit of 1 reached") == 5  # the weekly window's query ran
    assert five.queries == one.queries, set(five.sql) ^ set(one.sql)


def test_the_cards_say_what_each_senders_own_rules_say(ada, make_campaign):
    """Every way a card reads: sendable, a cap reached (daily, weekly, hourly with look-ups and
    follow-ups counted), held in a paused campaign, stale, stopped, outside working hours."""
    now = timezone.now()
    campaign = make_campaign(owner=ada, senders=[])
    senders = [
        busy_sender("Weekly", campaign, ada),
        # Other time zones and stale ages: each sender's own day and its own stale cutoff.
        busy_sender("Daily", campaign, ada, weekly_limit=100, daily_limit=1, time_zone="Pacific/Kiritimati"),
        busy_sender(
            "Free", campaign, ada, weekly_limit=100, daily_limit=100, time_zone="America/New_York", stale_after_days=30
        ),
        busy_sender("Hourly", campaign, ada, weekly_limit=100, daily_limit=100, hourly_action_limit=4),
        busy_sender("Closed", campaign, ada, weekly_limit=100, daily_limit=20, working_days=[(now.weekday() + 1) % 7]),
        busy_sender("Stopped", campaign, ada, state=Sender.State.INVALID_KEY, state_cause="Bad key."),
        Sender.objects.create(name="Idle", **ALWAYS_OPEN),
    ]
    hourly = senders[3]  # 2 invitations, a follow-up and a look-up in the last hour: 4 actions
    add_followup(add_request(campaign, State.ACCEPTED, sender=hourly), submitted_at=now)
    prospect = Prospect.objects.create(profile_url="https://www.linkedin.com/in/someone-hourly")
    ProfileLookup.objects.create(prospect=prospect, sender=hourly, state="sent", submitted_at=now)
    held_only = Sender.objects.create(name="Held only", **ALWAYS_OPEN)
    add_request(Campaign.objects.get(name="Weekly held"), State.QUEUED, sender=held_only)
    senders.append(held_only)

    cards = {card.sender.name: card for card in sender_cards(senders, now, budgets_used(senders, now))}

    for sender in senders:
        card = cards[sender.name]
        used = budget_used(sender, now)
        has_queued = (
            RequestTally.objects.queued_in_active_campaigns(sender)
            and ConnectionRequest.objects.submittable().filter(sender=sender).exists()
        )
        assert (card.sent_today, card.sent_this_week) == used, sender.name
        assert card.has_queued == has_queued, sender.name
        assert card.stale_count == ConnectionRequest.objects.stale(sender, now).filter(sender=sender).count()
        if has_queued:
            decision = submission_decision(sender, now, used)
            assert (card.may_send_now, card.waiting) == (decision.allowed, waiting_reason(sender, decision)), sender.name
        else:
            held = RequestTally.objects.held_by_campaign(sender)
            assert not card.may_send_now
            assert (held > 0) == (card.waiting != NOTHING_QUEUED), sender.name
    assert cards["Free"].may_send_now and cards["Free"].stale_count == 0 and cards["Weekly"].stale_count == 1
    assert "Weekly limit of 1 reached" in cards["Weekly"].waiting
    assert "Daily limit of 1 reached" in cards["Daily"].waiting
    assert "4 LinkedIn actions in the last hour" in cards["Hourly"].waiting
    assert "Outside working hours" in cards["Closed"].waiting
    assert "Stopped is stopped" in cards["Stopped"].waiting
    assert cards["Idle"].waiting == NOTHING_QUEUED
    assert cards["Held only"].waiting.startswith("Nothing to send now: 1 queued invitation waits")


# Of every 20 invitations a team's history holds: mostly sent or accepted, a few in every other
# state. The history's own are long submitted; the last week's and the stale ones are few.
MIX = [
    State.QUEUED, State.SKIPPED, State.FAILED, State.NOT_SENT, State.ACCEPTED, State.SENT, State.QUEUED,
    State.UNCERTAIN,
] + [State.SENT] * 7 + [State.ACCEPTED] * 3 + [State.NOT_SENT] * 2


def add_history(campaigns: list[Campaign], senders: list[Sender], n: int, tag: str) -> None:
    """`n` invitations over the senders and campaigns, written in bulk; those submitted were
    submitted 40 to 400 days ago."""
    now = timezone.now()
    prospects = Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAAHomeCost{tag}{i}", first_name=f"Pat{i}") for i in range(n)
    )
    ConnectionRequest.objects.bulk_create(
        (
            ConnectionRequest(
                campaign=campaigns[i % len(campaigns)], prospect=prospect, sender=senders[i % len(senders)],
                state=MIX[i % len(MIX)], note=f"Hi Pat{i}",
                submitted_at=None if MIX[i % len(MIX)] in (State.QUEUED, State.SKIPPED)
                else now - dt.timedelta(days=40 + i % 360),
            )
            for i, prospect in enumerate(prospects)
        ),
        batch_size=2000,
    )


def test_home_costs_the_same_at_10_and_at_10000_invitations(ada_client, ada, make_campaign):
    campaign = make_campaign(owner=ada, senders=[])
    senders = [busy_sender(f"Desk {i}", campaign, ada, weekly_limit=100, daily_limit=20) for i in range(3)]
    held = Campaign.objects.get(name="Desk 0 held")
    url = reverse("home")
    analyze()
    cost_of_get(ada_client, url)  # warm: sessions, the team's zone
    small = cost_of_get(ada_client, url)
    html = ada_client.get(url).content.decode()

    add_history([campaign, held], senders, 10_000, "b")
    analyze()
    big = cost_of_get(ada_client, url)

    # The history is older than the chart's 30 days: the page reads the same.
    assert ada_client.get(url).content.decode().count("may go out now") == html.count("may go out now") == 3
    assert big.queries == small.queries, set(big.sql) ^ set(small.sql)
    assert big.work <= small.work * WORK_FACTOR + slack(), (small.work, big.work, big.costliest())
