"""A relay's write into a log that replaced the one it knew, before it noticed, is never applied out of order.

The broker-loss fault failed once in CI so (issue 15): the embedded broker came back empty, the relay's next batch
of new events landed at the start of the new log, a worker that had rejoined read and applied it, and only then
came the older events of the same streams that the relay republished once the acknowledgements showed the loss (a
hire counted before the person's registration). Every message now carries the offset the relay expected it at
(``services.runtime.outbox.OFFSET_HEADER``); a reader leaves a message that landed below it to the republication.
Here the moment between the two writes is held open on purpose: the relay publishes one batch by hand and stops.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka.errors import KafkaError

from contracts.topics import Topic
from services.runtime.consumer import EventConsumer
from services.runtime.eventstore import EventStore, PendingEvent
from services.runtime.relay import OutboxRelay
from tests.integration.helpers import eventually

pytestmark = pytest.mark.integration

STREAMS = 30


class Recorder:
    """A handler that records each event it applies, in order."""

    name = "test.stamps"

    async def apply(self, conn, events):
        await conn.execute(
            "INSERT INTO applied (stream_id, version) SELECT * FROM unnest(%s::text[], %s::int[])",
            ([e.stream_id for e in events], [e.version for e in events]),
        )


async def append_version(pool, version: int) -> None:
    """One more event on each stream (stream ``p<n>`` at ``version``)."""
    async with pool.connection() as conn:
        for s in range(STREAMS):
            event = PendingEvent("PersonRegistered", 1, {"v": version}, "430527100201", datetime.now(UTC))
            await EventStore().append(conn, "person", f"p{s}", version - 1, [event])


async def applied(pool) -> dict[str, list[int]]:
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT stream_id, version FROM applied ORDER BY seq")
        rows = await cursor.fetchall()
    out: dict[str, list[int]] = {}
    for stream, version in rows:
        out.setdefault(str(stream), []).append(int(version))
    return out


async def read_count(pool, topic: str) -> int:
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT coalesce(sum(committed), 0) FROM consumer_progress WHERE topic = %s", (topic,)
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def relay_that_published(pool, infra, topic_name: str, *, versions: int) -> OutboxRelay:
    """The ``applied`` table, versions 1 to ``versions`` of every stream in the store, and a relay that has published
    them all, driven by hand (no periodic check of the broker)."""
    async with pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE applied (seq bigint GENERATED ALWAYS AS IDENTITY, stream_id text, version int)"
        )
    for version in range(1, versions + 1):
        await append_version(pool, version)
    relay = OutboxRelay(
        pool, Topic(topic_name, "test", "test", partitions=6), infra.bootstrap_servers, check_interval=3600
    )
    await relay._load_state()
    await relay._ensure_producer()
    while await relay.publish_once():
        pass
    return relay


async def test_a_batch_written_into_a_new_log_before_the_relay_noticed_waits_for_its_republication(
    pool, infra, topic_name
):
    # No periodic check of the broker: the relay learns of the loss only from its next batch's acknowledgements.
    relay = await relay_that_published(pool, infra, topic_name, versions=3)
    assert relay.position == 3 * STREAMS

    infra.restart_broker()  # the broker forgets the topic
    await append_version(pool, 4)
    await relay._drop_producer()
    await relay._ensure_producer()
    assert await relay.publish_once() == STREAMS  # version 4 of every stream lands at the start of the new log
    assert relay.epoch_header.startswith(b"1:"), "the acknowledgements showed the loss: a new epoch"
    await relay._drop_producer()

    # A worker reads the new log in the moment before the relay republishes: it must apply none of it.
    worker = EventConsumer(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=f"{topic_name}.g")
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop))]
    try:

        async def read_it_all() -> bool:
            return await read_count(pool, topic_name) >= STREAMS

        await eventually(read_it_all, timeout=60, message="the worker read the new log's first batch")
        assert await applied(pool) == {}, "applied ahead of the older events of its streams"

        tasks.append(asyncio.create_task(relay.run(stop)))  # now the relay republishes, as it would have at once

        async def all_applied() -> bool:
            return sum(len(v) for v in (await applied(pool)).values()) >= 4 * STREAMS

        await eventually(all_applied, timeout=60, message="every version applied")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert await applied(pool) == {f"p{s}": [1, 2, 3, 4] for s in range(STREAMS)}


class HalfFailingSends:
    """The embedded broker's refused write, on one partition: the first of the relay's messages to ``partition``
    takes its offset (here as a message every reader skips, stamped far ahead) and its send fails, while the rest
    of the batch is acknowledged at the offsets stamped on them, behind it. Only the first batch sent."""

    def __init__(self, producer, partition: int) -> None:
        self.producer, self.partition, self.done = producer, partition, False
        self.real_send = producer.send

    async def send(self, topic, *, key, value, headers, partition):
        if self.done or partition != self.partition:
            return await self.real_send(topic, key=key, value=value, headers=headers, partition=partition)
        self.done = True
        occupied = [(k, v) for k, v in headers if k != "log_offset"] + [("log_offset", str(10**9).encode())]
        await (await self.real_send(topic, key=key, value=value, headers=occupied, partition=partition))
        failed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        failed.set_exception(KafkaError("refused: a batch already exists at this offset"))
        return failed


async def test_a_batch_acknowledged_in_part_on_a_partition_is_republished_in_a_new_epoch(pool, infra, topic_name):
    # The stamps need each partition's end, which the first acknowledgements give.
    relay = await relay_that_published(pool, infra, topic_name, versions=1)
    await append_version(pool, 2)
    await append_version(pool, 3)
    half = HalfFailingSends(relay._producer, partition=0)
    relay._producer.send = half.send  # type: ignore[method-assign]
    with pytest.raises(KafkaError):
        await relay.publish_once()
    assert relay.epoch_header.startswith(b"1:"), "part of partition 0's share landed: a new epoch"
    await relay._drop_producer()

    worker = EventConsumer(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=f"{topic_name}.g")
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)), asyncio.create_task(relay.run(stop))]
    try:

        async def all_applied() -> bool:
            return sum(len(v) for v in (await applied(pool)).values()) >= 3 * STREAMS

        await eventually(all_applied, timeout=60, message="every version applied")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    # Without the epoch, partition 0's streams behind the refused message had version 3 applied before 2.
    assert await applied(pool) == {f"p{s}": [1, 2, 3] for s in range(STREAMS)}
