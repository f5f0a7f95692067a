"""The configured django-q2 broker carries a task from the site to the worker.

SQLite and no REDIS_URL: the ORM broker (a table in the database). REDIS_URL set: Redis.
"""

import uuid

import pytest
from django.conf import settings
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.signing import SignedPackage
from django_q.tasks import async_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    # The configured broker, on a queue of this test's own, so a running worker cannot take
    # the message and nothing is left behind.
    broker = get_broker(list_key=f"test-{uuid.uuid4().hex}")
    yield broker
    broker.delete_queue()


def dequeue(broker: Broker) -> list[tuple]:
    # The ORM broker hands out only messages enqueued before "now", and an empty answer waits
    # a poll interval (1 s): a few tries are plenty.
    for _ in range(5):
        if messages := broker.dequeue():
            return messages
    return []


def test_the_broker_is_the_configured_one():
    broker = get_broker()

    if settings.REDIS_URL:
        assert isinstance(broker, Redis)
        assert settings.Q_CLUSTER["redis"] == settings.REDIS_URL
    else:
        assert isinstance(broker, ORM)
        assert settings.Q_CLUSTER["orm"] == "default"
    assert broker.ping()


def test_a_message_is_enqueued_dequeued_and_acknowledged(broker):
    message_id = broker.enqueue("hello")
    assert message_id
    assert broker.queue_size() == 1

    [(ack_id, payload)] = dequeue(broker)

    assert payload in ("hello", b"hello")
    broker.acknowledge(ack_id)
    assert broker.queue_size() == 0
    assert broker.lock_size() in (0, None)  # Redis has no locks: dequeueing took the message


def test_a_task_reaches_the_worker_side_as_sent(broker):
    task_id = async_task("math.copysign", 2, -1, broker=broker, group="broker-test")

    [(ack_id, payload)] = dequeue(broker)
    task = SignedPackage.loads(payload)
    broker.acknowledge(ack_id)

    assert task["id"] == task_id
    assert task["func"] == "math.copysign"
    assert task["args"] == (2, -1)
    assert task["group"] == "broker-test"
    assert broker.queue_size() == 0
