"""Only ``ensure_topics`` creates topics, with their contracts' partitions; asking about a topic never does.

The embedded broker creates a topic, with 4 partitions, for any client that asks for its metadata before it exists.
After the broker restarted empty, a worker's metadata refresh used to make the topics it reads that way, and the
relay, whose contract says 6, then wrote a stream's events into partitions nobody was assigned (issue 15's
broker-loss fault: 19 events never reached reporting). ``services.runtime.kafka.forbid_topic_auto_creation``.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaError

from services.runtime import kafka
from services.runtime.consumer import EventConsumer


class Nothing:
    """A handler that applies nothing: only the consumer's metadata requests matter here."""

    name = "test.topic_creation"

    async def apply(self, conn, events):
        return None


async def test_asking_about_a_missing_topic_does_not_create_it(infra, topic_name):
    producer = kafka.producer(infra.bootstrap_servers, request_timeout_ms=3_000)
    await producer.start()
    try:
        # A producer's metadata request names the topic, as a worker's does.
        with pytest.raises(KafkaError):
            await producer.partitions_for(topic_name)
    finally:
        await producer.stop()
    assert await kafka.end_offsets(infra.bootstrap_servers, topic_name) is None
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic_name, 6)])
    assert sorted(await kafka.end_offsets(infra.bootstrap_servers, topic_name) or {}) == [0, 1, 2, 3, 4, 5]


async def test_a_worker_does_not_remake_its_topic_after_the_broker_restarts_empty(infra, pool, topic_name):
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic_name, 6)])
    worker = EventConsumer(pool, Nothing(), [topic_name], infra.bootstrap_servers, group_id=f"{topic_name}.g")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.ready.wait(), 60)
        infra.restart_broker()
        # The worker refreshes its metadata every 5 s and on every error the restart causes.
        await asyncio.sleep(8)
        assert await kafka.end_offsets(infra.bootstrap_servers, topic_name) is None
        # The relay makes it again (``ensure_topics``, as the relay calls it) with the contract's partitions.
        await kafka.ensure_topics(infra.bootstrap_servers, [(topic_name, 6)])
        assert sorted(await kafka.end_offsets(infra.bootstrap_servers, topic_name) or {}) == [0, 1, 2, 3, 4, 5]
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
