"""A worker across a broker that came back empty with its topic laid out anew (issue 15), on the real broker.

The embedded broker forgets every topic and offset when it restarts, re-creates a topic with 4 partitions when a
client asks for it before the relay creates it with its configured count, and accepts an offset commit from a member
of a group it no longer knows. So a worker can resume inside the new log at an offset of the old one. With more
partitions than before, that offset lies past events of the republished log the worker never applied: the fault
suite lost 371 of them so. The relay's log epoch makes the worker read the partition again from its beginning,
on either consumer driver (aiokafka batches and faust agents).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from contracts.topics import Topic
from services.runtime import kafka
from services.runtime.consumer import EventConsumer
from services.runtime.eventstore import EventStore, PendingEvent
from services.runtime.faust_driver import FaustConsumer
from services.runtime.relay import OutboxRelay
from tests.integration.helpers import eventually, stale_commit

pytestmark = pytest.mark.integration

Driver = Callable[..., EventConsumer | FaustConsumer]


@pytest.fixture(params=["aiokafka", "faust"])
def driver(request) -> Driver:
    """A consumer factory for one driver: (pool, handler, topics, bootstrap, group_id=...) -> consumer."""
    return EventConsumer if request.param == "aiokafka" else FaustConsumer


class Recorder:
    """A handler that records each event it applies, in order."""

    name = "test.epochs"

    async def apply(self, conn, events):
        await conn.execute(
            "INSERT INTO applied (event_id, stream_id, version)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[])",
            ([e.event_id for e in events], [e.stream_id for e in events], [e.version for e in events]),
        )


async def append_events(pool, streams: int, per_stream: int, start: int = 0) -> None:
    store = EventStore()
    async with pool.connection() as conn:
        for s in range(streams):
            events = [
                PendingEvent("PersonRegistered", 1, {"n": i}, "430527100201", datetime.now(UTC))
                for i in range(per_stream)
            ]
            await store.append(conn, "person", f"p{s}", start, events)


async def applied(pool) -> list[tuple[str, str, int]]:
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT event_id::text, stream_id, version FROM applied ORDER BY seq")
        return [(str(e), str(s), int(v)) for e, s, v in await cursor.fetchall()]


async def run(*tasks_of) -> tuple[asyncio.Event, list[asyncio.Task[None]]]:
    stop = asyncio.Event()
    return stop, [asyncio.create_task(t.run(stop)) for t in tasks_of]


async def test_a_worker_resuming_at_an_old_logs_offset_in_a_wider_new_log_misses_nothing(
    driver, pool, infra, topic_name
):
    async with pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE applied (seq bigint GENERATED ALWAYS AS IDENTITY, event_id uuid, stream_id text, version int)"
        )
    group = f"{topic_name}.group"
    # The log before the restart: 4 partitions, as the broker creates a topic a consumer asked for first.
    await append_events(pool, streams=40, per_stream=10)
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic_name, 4)])
    relay = OutboxRelay(
        pool, Topic(topic_name, "test", "test", partitions=4), infra.bootstrap_servers, check_interval=0.3
    )
    worker = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=group)
    stop, tasks = await run(relay, worker)

    async def count_is(n: int) -> bool:
        return len({e for e, _, _ in await applied(pool)}) >= n

    try:
        await eventually(lambda: count_is(400), timeout=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT partition, committed FROM consumer_progress WHERE topic = %s", (topic_name,)
        )
        old_ends = {int(p): int(o) for p, o in await cursor.fetchall()}
    assert len(old_ends) == 4 and sum(old_ends.values()) == 400, old_ends

    infra.restart_broker()  # empty; this time the relay creates the topic, with its 6 partitions
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic_name, 6)])
    await stale_commit(infra.bootstrap_servers, group, topic_name, old_ends)
    await append_events(pool, streams=40, per_stream=10, start=10)  # what the worker has not seen yet

    relay = OutboxRelay(
        pool, Topic(topic_name, "test", "test", partitions=6), infra.bootstrap_servers, check_interval=0.3
    )
    worker = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=group)
    stop, tasks = await run(relay, worker)
    try:
        await eventually(lambda: count_is(800), timeout=90, message="after the broker came back with 6 partitions")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    rows = await applied(pool)
    assert len(rows) == len({e for e, _, _ in rows}) == 800, "every event applied once"
    by_stream: dict[str, list[int]] = {}
    for _, stream, version in rows:
        by_stream.setdefault(stream, []).append(version)
    assert all(versions == sorted(versions) for versions in by_stream.values()), "each stream applied in order"
