"""Django admin's changelists of the big tables (invitations, prospects, events and the like)
never count a whole table (issue 14: 3.7 s at a million invitations): the count stops at a cap,
said "10,000+", and the rows come newest first by the primary key's index."""

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.admin import CappedCountPaginator
from campaigns.models import Event, Sender
from tests.helpers import State, add_request

pytestmark = pytest.mark.django_db

BIG_TABLES = [
    "connectionrequest", "prospect", "event", "profilelookup", "profilesearch", "donotcontact", "senderconnection",
]


@pytest.fixture
def operator():
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def changelist(operator, model: str, **params) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = operator.get(reverse(f"admin:campaigns_{model}_changelist"), params)
        assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in captured.captured_queries]


def counts_of(sqls: list[str], table: str) -> list[str]:
    return [sql for sql in sqls if "COUNT(" in sql.upper() and f'"campaigns_{table}"' in sql]


@pytest.mark.parametrize("model", BIG_TABLES)
def test_a_big_tables_changelist_counts_only_up_to_a_cap(operator, make_campaign, model):
    campaign = make_campaign(prospects=3)
    add_request(campaign, State.SENT)
    Sender.get().set_state(Sender.State.INVALID_KEY, "Bad key.")  # an event

    html, sqls = changelist(operator, model)

    counts = counts_of(sqls, model)
    assert counts, sqls  # the paginator's count, capped
    for sql in counts:
        assert re.search(rf"LIMIT {CappedCountPaginator.CAP + 1}\b", sql), sql
    # Newest first, by the primary key alone: the index, never a sort of the table.
    rows = [sql for sql in sqls if f'FROM "campaigns_{model}"' in sql and "COUNT(" not in sql.upper()]
    assert any(re.search(rf'ORDER BY "campaigns_{model}"\."id" DESC(?! *,)', sql) for sql in rows), rows


def test_a_filtered_or_searched_changelist_counts_up_to_the_cap_too(operator, make_campaign):
    campaign = make_campaign(prospects=3)

    _, filtered = changelist(operator, "connectionrequest", state="queued", campaign__id__exact=campaign.pk)
    _, searched = changelist(operator, "connectionrequest", q="P1")

    for sqls in (filtered, searched):
        counts = counts_of(sqls, "connectionrequest")
        assert counts and all(f"LIMIT {CappedCountPaginator.CAP + 1}" in sql for sql in counts), counts


def test_more_rows_than_the_cap_read_as_the_cap_and_more(operator, make_campaign, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 2)
    make_campaign(prospects=3)

    html, _ = changelist(operator, "connectionrequest")

    assert re.search(r"\b2\+ connection requests", html), html
    assert html.count('class="action-select"') == 3  # the rows are shown: one page holds them all

    few, _ = changelist(operator, "connectionrequest", state="queued", q="P2")
    assert re.search(r"\b1 connection request\b", few)


def test_the_events_filter_offers_the_states_without_reading_the_table(operator):
    Sender.get().set_state(Sender.State.INVALID_KEY, "Bad key.")

    html, sqls = changelist(operator, "event")

    assert not [sql for sql in sqls if "DISTINCT" in sql.upper()], sqls
    assert "?to_state=invalid_key" in html and "?to_state=accepted" in html
    filtered, _ = changelist(operator, "event", to_state="invalid_key")
    assert "1 event" in filtered and Event.objects.count() == 1
