"""The outbox relay on the real embedded broker: order per stream, and no loss across a broker restart."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from contracts.topics import Topic
from services.runtime import kafka
from services.runtime.eventstore import EventStore, PendingEvent
from services.runtime.relay import OutboxRelay
from tests.integration.helpers import eventually, kafka_clients_left_after, read_topic

pytestmark = pytest.mark.integration


async def append_events(pool, streams: int, per_stream: int, start: int = 0) -> None:
    store = EventStore()
    async with pool.connection() as conn:
        for s in range(streams):
            events = [
                PendingEvent("PersonRegistered", 1, {"n": i}, "430527100201", datetime.now(UTC))
                for i in range(per_stream)
            ]
            await store.append(conn, "person", f"p{s}", start, events)


async def published_ids(infra, topic: str) -> list[str]:
    return [json.loads(value)["event_id"] for _, _, _, value in await read_topic(infra.bootstrap_servers, topic)]


async def test_relay_publishes_every_event_keyed_by_stream_in_version_order(pool, infra, topic_name):
    await append_events(pool, streams=20, per_stream=10)
    relay = OutboxRelay(pool, Topic(topic_name, "test", "test", partitions=3), infra.bootstrap_servers, batch_size=37)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _position_is(relay, 200))
        messages = await read_topic(infra.bootstrap_servers, topic_name)
    finally:
        stop.set()
        await task
    envelopes = [(key.decode(), json.loads(value)) for _, _, key, value in sorted(messages)]
    assert len({e["event_id"] for _, e in envelopes}) == 200
    by_stream: dict[str, list[int]] = {}
    for key, env in envelopes:
        assert key == env["stream_id"]
        by_stream.setdefault(key, []).append(env["version"])
    assert all(versions == sorted(versions) for versions in by_stream.values())
    assert set(envelopes[0][1]) >= {
        "event_id",
        "type",
        "schema_version",
        "stream_type",
        "stream_id",
        "version",
        "region_code",
        "occurred_at",
        "recorded_at",
        "actor",
        "correlation_id",
        "causation_id",
        "data",
    }


async def _position_is(relay: OutboxRelay, position: int) -> bool:
    return relay.position >= position


async def test_relay_republishes_what_a_restarted_broker_forgot(pool, infra, topic_name):
    topic = Topic(topic_name, "test", "test", partitions=3)
    await append_events(pool, streams=10, per_stream=30)
    relay = OutboxRelay(pool, topic, infra.bootstrap_servers, batch_size=50, check_interval=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _position_is(relay, 300))
        infra.restart_broker()  # the embedded broker keeps nothing: every topic is gone
        await append_events(pool, streams=10, per_stream=5, start=30)
        store = EventStore()
        async with pool.connection() as conn:
            expected = {str(r.envelope.event_id) for r in await store.read_all(conn, 0, limit=10_000)}

        async def all_republished() -> bool:
            return expected <= set(await published_ids(infra, topic_name))

        await eventually(all_republished, timeout=60, message="after the broker restart")
    finally:
        stop.set()
        await task
    assert len(expected) == 350


async def test_relay_resumes_from_its_recorded_position_after_a_restart(pool, infra, topic_name):
    topic = Topic(topic_name, "test", "test", partitions=2)
    await append_events(pool, streams=5, per_stream=10)
    for round_ in range(2):
        relay = OutboxRelay(pool, topic, infra.bootstrap_servers)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        target = 50 * (round_ + 1)
        await eventually(lambda r=relay, t=target: _position_is(r, t))
        stop.set()
        await task
        if round_ == 0:
            await append_events(pool, streams=5, per_stream=10, start=10)
    ids = await published_ids(infra, topic_name)
    assert len(ids) == len(set(ids)) == 100, "a clean restart republishes nothing"


async def test_relay_lingers_only_after_a_batch_that_was_not_full(pool, infra, topic_name):
    """Full batches go out back to back; a short one holds the next batch back, and stop still ends the wait."""
    await append_events(pool, streams=7, per_stream=5)  # 35 events: batches of 10, 10, 10 and 5
    topic = Topic(topic_name, "test", "test", partitions=2)
    # An hour's linger: reaching 35 proves the three full batches did not wait for it.
    relay = OutboxRelay(pool, topic, infra.bootstrap_servers, batch_size=10, linger=3600.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _position_is(relay, 35))
        await append_events(pool, streams=1, per_stream=3, start=5)
        await asyncio.sleep(1.0)
        assert relay.position == 35, "the batch of 5 was not full, so the next one waits for the linger"
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert len(await published_ids(infra, topic_name)) == 35


async def test_the_relays_broker_check_leaves_no_kafka_client_behind(infra, topic_name):
    # A relay asks the topic's end offsets every check_interval with a consumer of its own; its cycles piled up
    # as the status reads' did (services/runtime/kafka.py, ``collects_its_consumer``).
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic_name, 3)])

    async def broker_checks() -> None:
        for _ in range(3):
            assert await kafka.end_offsets(infra.bootstrap_servers, topic_name) == {0: 0, 1: 0, 2: 0}

    assert await kafka_clients_left_after(broker_checks) == 0
