"""The per-campaign counters and version that the database's triggers keep (migration 0016):
whatever way the requests are written, the tallies equal a GROUP BY of the rows and the
version grows in the same transaction. Runs on SQLite and, with DATABASE_URL, on PostgreSQL
(statement-level triggers there, so bulk writes matter most)."""

from collections import Counter

import pytest
from django.db import transaction
from django.db.models import Count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Campaign, ConnectionRequest, FollowUp, Prospect, RequestTally, Sender
from tests.helpers import add_followup, add_request

State = ConnectionRequest.State


def tallies(campaign_ids=None) -> Counter:
    rows = RequestTally.objects.all()
    if campaign_ids is not None:
        rows = rows.filter(campaign_id__in=campaign_ids)
    return Counter({(t.campaign_id, t.sender_key, t.variant, t.state): t.n for t in rows if t.n})


def counted(campaign_ids=None) -> Counter:
    rows = ConnectionRequest.objects.all()
    if campaign_ids is not None:
        rows = rows.filter(campaign_id__in=campaign_ids)
    return Counter({
        (row["campaign_id"], row["sender_id"] or 0, row["variant"], row["state"]): row["n"]
        for row in rows.values("campaign_id", "sender_id", "variant", "state").annotate(n=Count("id")).order_by()
    })


def version(campaign) -> int:
    return Campaign.objects.values_list("version", flat=True).get(pk=campaign.pk)


def new_prospects(n, tag):
    return Prospect.objects.bulk_create(
        Prospect(profile_urn=f"urn:li:fsd_profile:ACoAATally{tag}x{i}", first_name=f"P{i}") for i in range(n)
    )


@pytest.mark.django_db
def test_every_kind_of_write_keeps_the_tallies_and_bumps_the_version(make_campaign):
    campaign, other = make_campaign(), make_campaign("Porto")
    sender = Sender.get()
    start = version(campaign)

    # bulk_create, as an import does
    ConnectionRequest.objects.bulk_create(
        ConnectionRequest(campaign=campaign, prospect=p, sender=sender) for p in new_prospects(30, "a")
    )
    assert version(campaign) > start
    assert tallies() == counted()
    assert campaign.request_counts.by_state[State.QUEUED] == 30

    # a queryset update of states and senders, as the worker and a spread do
    before = version(campaign)
    ids = list(campaign.requests.order_by("id").values_list("id", flat=True)[:10])
    ConnectionRequest.objects.filter(pk__in=ids).update(state=State.SKIPPED)
    ConnectionRequest.objects.filter(pk__in=ids[:4]).update(sender=None)
    assert version(campaign) > before
    assert tallies() == counted()

    # a move through the life, one row
    row = campaign.requests.filter(state=State.QUEUED).first()
    before = version(campaign)
    assert row.move_to(State.SUBMITTING, "test")
    assert version(campaign) > before
    assert tallies() == counted()

    # bulk_update of the notes only: the version moves, the tallies stay
    rows = list(campaign.requests.filter(state=State.QUEUED))
    for r in rows:
        r.note = "Hello"
    before, kept = version(campaign), tallies()
    ConnectionRequest.objects.bulk_update(rows, ["note"], batch_size=7)
    assert version(campaign) > before
    assert tallies() == kept == counted()

    # a row moved to another campaign
    ConnectionRequest.objects.filter(pk=ids[5]).update(campaign=other)
    assert tallies() == counted()

    # deletes: one row, a queryset, a whole campaign
    ConnectionRequest.objects.filter(pk=ids[6]).delete()
    campaign.requests.filter(state=State.SKIPPED).delete()
    assert tallies() == counted()
    other_version = version(other)
    add_request(other, State.SENT)
    assert version(other) > other_version
    campaign.delete()
    assert tallies() == counted()
    assert not RequestTally.objects.filter(campaign_id=campaign.pk).exists()


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_counts_and_version_as_they_were(make_campaign):
    campaign = make_campaign()
    add_request(campaign)
    before, kept = version(campaign), tallies()
    with pytest.raises(RuntimeError), transaction.atomic():
        add_request(campaign, State.SENT)
        raise RuntimeError
    assert version(campaign) == before
    assert tallies() == kept == counted()


@pytest.mark.django_db
def test_follow_ups_prospects_and_sender_states_bump_the_version(make_campaign):
    campaign = make_campaign()
    request = add_request(campaign, State.ACCEPTED)
    before = version(campaign)
    followup = add_followup(request, state=FollowUp.State.QUEUED)
    assert version(campaign) > before

    before = version(campaign)
    FollowUp.objects.filter(pk=followup.pk).update(state=FollowUp.State.SUBMITTING)
    assert version(campaign) > before

    before = version(campaign)
    Prospect.objects.filter(pk=request.prospect_id).update(company="Acme")
    assert version(campaign) > before

    assert campaign.followup_counts == {**dict.fromkeys(FollowUp.State.values, 0), "submitting": 1}
    other = add_followup(add_request(campaign, State.ACCEPTED), state=FollowUp.State.SENT)
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert fresh.followup_counts["sent"] == 1 and fresh.followup_counts["submitting"] == 1
    other.delete()
    FollowUp.objects.filter(pk=followup.pk).update(state=FollowUp.State.PENDING)
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert sum(fresh.followup_counts.values()) == fresh.followup_counts["pending"] == 1
    assert fresh.request_counts.total == 2  # the follow-ups' tallies are not requests

    sender = campaign.senders.first()
    before = version(campaign)
    Sender.objects.filter(pk=sender.pk).update(next_due_at=None)  # its pacing: no news for the page
    assert version(campaign) == before
    Sender.objects.filter(pk=sender.pk).update(state=Sender.State.PAUSED)
    assert version(campaign) > before


@pytest.mark.django_db
def test_saving_a_campaign_loaded_earlier_keeps_the_version_the_triggers_wrote(make_campaign):
    campaign = make_campaign()
    stale = Campaign.objects.get(pk=campaign.pk)
    add_request(campaign)
    bumped = version(campaign)
    stale.name = "Renamed"
    stale.save()
    assert version(campaign) == bumped
    assert Campaign.objects.get(pk=campaign.pk).name == "Renamed"


STATES = st.sampled_from(State.values)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(
    st.tuples(st.sampled_from(["create", "update_state", "update_sender", "update_variant", "delete"]), STATES, st.integers(0, 9)),
    min_size=1, max_size=12,
))
def test_tallies_equal_the_rows_after_any_sequence_of_writes(make_campaign, steps):
    campaign = Campaign.objects.filter(name="Property").first() or make_campaign("Property")
    sender = Sender.get()
    serial = Counter()
    for op, state, k in steps:
        queryset = ConnectionRequest.objects.filter(campaign=campaign, id__gte=0).order_by("id")
        if op == "create":
            serial[0] += 1
            prospects = new_prospects(k + 1, f"h{campaign.version}{serial[0]}{ConnectionRequest.objects.count()}")
            ConnectionRequest.objects.bulk_create(
                ConnectionRequest(campaign=campaign, prospect=p, state=State.QUEUED, sender=sender if k % 2 else None)
                for p in prospects
            )
        elif op == "update_state":
            ids = list(queryset.values_list("id", flat=True)[: k + 1])
            # Only states no unique constraint limits to one per prospect.
            target = state if state in (State.QUEUED, State.SKIPPED, State.FAILED, State.NOT_SENT) else State.SKIPPED
            ConnectionRequest.objects.filter(pk__in=ids).update(state=target)
        elif op == "update_sender":
            ids = list(queryset.values_list("id", flat=True)[k:])
            ConnectionRequest.objects.filter(pk__in=ids).update(sender=None if k % 2 else sender)
        elif op == "update_variant":
            ids = list(queryset.values_list("id", flat=True)[: k + 2])
            ConnectionRequest.objects.filter(pk__in=ids).update(variant="AB"[k % 2])
        else:
            ids = list(queryset.values_list("id", flat=True)[:k])
            ConnectionRequest.objects.filter(pk__in=ids).delete()
        assert tallies([campaign.pk]) == counted([campaign.pk])


@pytest.mark.django_db
def test_campaigns_loaded_with_their_counts_count_as_their_own_tallies_do(make_campaign, django_assert_num_queries):
    """with_request_counts() sums every campaign's tallies in one GROUP BY: per state, over its
    senders and variants, follow-ups apart; the same figures as each campaign's own rows."""
    senders = [Sender.get(), Sender.objects.create(name="Second")]
    campaigns = [make_campaign(f"Counted {i}") for i in range(3)]
    for i, campaign in enumerate(campaigns):
        for j in range(4 + i):
            row = add_request(campaign, [State.QUEUED, State.SENT, State.ACCEPTED][j % 3], variant="AB"[j % 2])
            ConnectionRequest.objects.filter(pk=row.pk).update(sender=senders[j % 2])
            if row.state == State.ACCEPTED:
                add_followup(row, FollowUp.State.QUEUED if j % 2 else FollowUp.State.SENT)
    empty = make_campaign("Counted, empty")

    with django_assert_num_queries(2):
        loaded = list(Campaign.objects.filter(name__startswith="Counted").with_request_counts().order_by("id")[:10])
        counts = {campaign.pk: (campaign.request_counts.by_state, campaign.followup_counts) for campaign in loaded}

    for campaign in [*campaigns, empty]:
        fresh = Campaign.objects.get(pk=campaign.pk)
        assert counts[campaign.pk] == (fresh.request_counts.by_state, fresh.followup_counts)
    assert counts[campaigns[2].pk][0][State.SENT] == 2 and counts[empty.pk][0][State.QUEUED] == 0
    with django_assert_num_queries(1):  # no campaigns: no second query
        assert list(Campaign.objects.filter(name="None such").with_request_counts()) == []
