"""Other services often read our topics with librdkafka (confluent-kafka, kcat): it must work locally too.

The relay publishes a service's events; a confluent-kafka consumer, in a consumer group and by plain
assignment, reads every one of them, keyed by stream, in stream order. Debian's kcat links librdkafka
2.0.2, which cannot parse the embedded broker's ApiVersions v3 answer (the README's "Using real Kafka"
says so); the librdkafka bundled with the confluent-kafka wheel (2.16) can.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import confluent_kafka
import pytest

from contracts.topics import Topic
from services.runtime.eventstore import EventStore, PendingEvent
from services.runtime.relay import OutboxRelay
from tests.integration.helpers import eventually

pytestmark = pytest.mark.integration

STREAMS, PER_STREAM, PARTITIONS = 12, 5, 3


async def _published(pool, infra, topic: str) -> None:
    store = EventStore()
    async with pool.connection() as conn:
        for s in range(STREAMS):
            events = [
                PendingEvent("PersonRegistered", 1, {"n": i}, "430527100201", datetime.now(UTC))
                for i in range(PER_STREAM)
            ]
            await store.append(conn, "person", f"p{s}", 0, events)
    relay = OutboxRelay(pool, Topic(topic, "test", "test", partitions=PARTITIONS), infra.bootstrap_servers)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:

        async def all_out() -> bool:
            return relay.position >= STREAMS * PER_STREAM

        await eventually(all_out)
    finally:
        stop.set()
        await task


def _consume(consumer: confluent_kafka.Consumer, expected: int, timeout: float = 30.0) -> list[tuple[str, dict]]:
    got: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            got.append((message.key().decode(), json.loads(message.value())))
    finally:
        consumer.close()
    return got


def _check_order(got: list[tuple[str, dict]]) -> None:
    assert len(got) == STREAMS * PER_STREAM
    by_stream: dict[str, list[int]] = {}
    for key, envelope in got:
        assert envelope["stream_id"] == key
        by_stream.setdefault(key, []).append(envelope["version"])
    assert by_stream == {f"p{s}": list(range(1, PER_STREAM + 1)) for s in range(STREAMS)}


async def test_a_librdkafka_consumer_group_reads_every_event_in_stream_order(pool, infra, topic_name):
    await _published(pool, infra, topic_name)
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": infra.bootstrap_servers,
            "group.id": f"{topic_name}.librdkafka",
            "auto.offset.reset": "earliest",
            # The embedded broker completes a group join after about half the session timeout (23 s at
            # librdkafka's default of 45 s); 6 s keeps the join near 3 s.
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
    )
    consumer.subscribe([topic_name])
    _check_order(await asyncio.to_thread(_consume, consumer, STREAMS * PER_STREAM))


async def test_a_librdkafka_consumer_reads_assigned_partitions_from_the_start(pool, infra, topic_name):
    await _published(pool, infra, topic_name)
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": infra.bootstrap_servers, "group.id": "unused", "enable.auto.commit": False}
    )
    consumer.assign([confluent_kafka.TopicPartition(topic_name, p, confluent_kafka.OFFSET_BEGINNING) for p in range(3)])
    _check_order(await asyncio.to_thread(_consume, consumer, STREAMS * PER_STREAM))
