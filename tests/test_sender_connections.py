"""The connections a sender's connections reads see are kept as that sender's
(SenderConnection): each sender its own, stored set-based, known ones marked seen again."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import acceptance, outx
from campaigns.models import ConnectionRequest, Sender, SenderConnection
from tests.helpers import run_until

pytestmark = pytest.mark.django_db(transaction=True)

URN = "urn:li:fsd_profile:ACoAAConn"


def make_sender(name: str, key: str) -> Sender:
    sender = Sender(
        name=name, working_days=list(range(7)), work_start=dt.time(0, 0), work_end=dt.time(23, 59, 59),
        min_spacing_seconds=0, max_spacing_seconds=0, daily_limit=1000, weekly_limit=1000,
        hourly_action_limit=1000, acceptance_check_minutes=1,
    )
    sender.set_api_key(key)
    sender.save()
    return sender


def test_each_sender_keeps_the_connections_its_own_reads_saw(sandbox, switch, make_team, pacing_off, make_campaign):
    switch(acceptance_rate=1, acceptance_delay_seconds=0)
    make_team("Team B", "sandbox-key-b-0001", acceptance_rate=1, acceptance_delay_seconds=0)
    first, second = pacing_off, make_sender("Grace's LinkedIn", "sandbox-key-b-0001")
    campaign_a = make_campaign("A", senders=[first], prospects=2)
    campaign_b = make_campaign("B", senders=[second], prospects=3, start=10)

    run_until([0, 5, 6, 11])

    assert set(ConnectionRequest.objects.values_list("state", flat=True)) == {ConnectionRequest.State.ACCEPTED}
    for sender, campaign in ((first, campaign_a), (second, campaign_b)):
        invitees = set(campaign.requests.values_list("prospect__profile_urn", flat=True))
        kept = SenderConnection.objects.filter(sender=sender)
        assert set(kept.values_list("profile_urn", flat=True)) == invitees
        assert all(row.connected_at and row.seen_at and row.profile_url for row in kept)


def connection(i, url=True, at=None):
    return outx.Connection(
        f"{URN}{i}", f"https://www.linkedin.com/in/conn-{i}" if url else None, at,
    )


def test_connections_are_stored_once_and_marked_seen_again(pacing_off, django_assert_max_num_queries):
    sender, now = pacing_off, timezone.now()
    other = make_sender("Other", "key-other-0001")
    SenderConnection.objects.create(sender=other, profile_urn=f"{URN}1")  # another sender's: untouched
    page = [connection(i, at=now - dt.timedelta(hours=i)) for i in range(acceptance.PAGE_SIZE)]
    with django_assert_max_num_queries(6):
        assert acceptance.store_connections(sender, page, now) == acceptance.PAGE_SIZE
    assert SenderConnection.objects.filter(sender=sender).count() == acceptance.PAGE_SIZE

    # Seen again later, with a moment it lacked and the URL of a row known by URN only.
    SenderConnection.objects.filter(sender=sender, profile_urn=f"{URN}2").update(connected_at=None, profile_url=None)
    later = now + dt.timedelta(minutes=5)
    again = [connection(i, at=now - dt.timedelta(hours=i)) for i in range(5)] + [connection(99, url=False), connection(99)]
    assert acceptance.store_connections(sender, again, later) == 1
    mine = SenderConnection.objects.filter(sender=sender)
    assert mine.count() == acceptance.PAGE_SIZE + 1
    assert set(mine.filter(seen_at=later).values_list("profile_urn", flat=True)) == {f"{URN}{i}" for i in (0, 1, 2, 3, 4, 99)}
    row = mine.get(profile_urn=f"{URN}2")
    assert row.connected_at == now - dt.timedelta(hours=2) and row.profile_url == "https://www.linkedin.com/in/conn-2"
    assert SenderConnection.objects.get(sender=other).seen_at < later


def test_a_huge_page_is_stored_only_so_far(pacing_off):
    page = [connection(i) for i in range(5_000)] + [outx.Connection(None, None, None)]
    assert acceptance.store_connections(pacing_off, page, timezone.now()) == acceptance.MAX_STORED_PER_PAGE


def test_a_connection_known_by_url_only_is_kept(pacing_off):
    future = timezone.now() + dt.timedelta(days=400)
    acceptance.store_connections(pacing_off, [outx.Connection(None, "https://www.linkedin.com/in/only-url", future)], timezone.now())
    row = SenderConnection.objects.get()
    assert row.profile_urn is None and row.connected_at <= timezone.now()  # a moment from the future is capped
