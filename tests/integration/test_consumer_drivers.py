"""One contract for both consumer drivers (aiokafka batches and faust agents), on the real broker and Postgres.

Like the eventsourcing library's per-backend tests: each property is written once and run against every
driver, so a worker may switch drivers (``CONSUMER_DRIVER``) without changing what it guarantees.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from services.runtime import consumer as consumer_module
from services.runtime import kafka
from services.runtime.consumer import EventConsumer, dead_letter_count
from services.runtime.faust_driver import FaustConsumer
from services.runtime.log_epochs import LOG_REPLACED
from services.runtime.outbox import EPOCH_HEADER, POSITION_HEADER
from tests.integration.helpers import envelope, eventually, read_topic, stale_commit

pytestmark = pytest.mark.integration

Driver = Callable[..., EventConsumer | FaustConsumer]


@pytest.fixture(params=["aiokafka", "faust"])
def driver(request) -> Driver:
    """A consumer factory for one driver: (pool, handler, topics, bootstrap, group_id=...) -> consumer."""
    return EventConsumer if request.param == "aiokafka" else FaustConsumer


class Recorder:
    """A handler that records each event it applies, in order, and refuses events marked poison."""

    name = "test.recorder"

    async def apply(self, conn, events):
        for event in events:
            if event.data.get("poison"):
                raise ValueError("poison pill: cannot apply")
        await conn.execute(
            "INSERT INTO applied (event_id, stream_id, version, n)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::int[])",
            (
                [e.event_id for e in events],
                [e.stream_id for e in events],
                [e.version for e in events],
                [e.data["n"] for e in events],
            ),
        )


@pytest.fixture
async def applied_table(pool):
    async with pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE applied (seq bigint GENERATED ALWAYS AS IDENTITY, event_id uuid,"
            " stream_id text, version int, n int)"
        )


async def produce(infra, topic: str, envelopes, times: int = 1, epoch: str | None = None) -> None:
    """Publish the envelopes (``times`` over); with ``epoch``, as a relay does: the log epoch and store positions."""
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic, 3)])
    producer = kafka.producer(infra.bootstrap_servers)
    await producer.start()
    try:
        for _ in range(times):
            for position, env in enumerate(envelopes, start=1):
                headers = [(POSITION_HEADER, str(position).encode()), (EPOCH_HEADER, epoch.encode())] if epoch else []
                await producer.send_and_wait(
                    topic, key=env.stream_id.encode(), value=env.model_dump_json().encode(), headers=headers
                )
    finally:
        await producer.stop()


async def count(pool, sql: str) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(sql)).fetchone()
    return int(row[0])


async def run_until(consumer, check, timeout: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(check, timeout=timeout)
    finally:
        stop.set()
        await task


def streams(n_streams: int, versions: int, start: int = 1) -> list:
    return [
        envelope(stream_id=f"s{s}", version=v, n=s * 100 + v)
        for v in range(start, start + versions)
        for s in range(n_streams)
    ]


async def test_events_of_one_stream_are_applied_in_order(driver, pool, infra, topic_name, applied_table):
    await produce(infra, topic_name, streams(9, 6))
    consumer = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name)
    await run_until(consumer, lambda: _count_is(pool, 54))
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT stream_id, version FROM applied ORDER BY seq")).fetchall()
    by_stream: dict[str, list[int]] = {}
    for stream_id, version in rows:
        by_stream.setdefault(stream_id, []).append(version)
    assert by_stream == {f"s{s}": [1, 2, 3, 4, 5, 6] for s in range(9)}


async def _count_is(pool, expected: int) -> bool:
    return await count(pool, "SELECT count(*) FROM applied") >= expected


async def test_redelivered_events_change_nothing(driver, pool, infra, topic_name, applied_table):
    envelopes = streams(25, 2)
    await produce(infra, topic_name, envelopes, times=3)  # what a relay crash and a broker restart can do
    consumer = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name)
    before = consumer_module.CONSUMED.labels("test.recorder")._value.get()

    async def all_read() -> bool:
        # Counted when decoded, before the batch's transaction commits: wait for that too (exactly 50 asserted below).
        read = consumer_module.CONSUMED.labels("test.recorder")._value.get() >= before + 150
        return read and await _count_is(pool, 50)

    await run_until(consumer, all_read)
    assert await count(pool, "SELECT count(*) FROM applied") == 50
    assert await count(pool, "SELECT count(DISTINCT event_id) FROM applied") == 50

    # A new group re-reads the whole topic (as after a broker that forgot offsets): still nothing doubles.
    again = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name + ".again")
    before = consumer_module.CONSUMED.labels("test.recorder")._value.get()
    await run_until(again, all_read)
    assert await count(pool, "SELECT count(*) FROM applied") == 50


async def test_poison_and_undecodable_messages_are_dead_lettered_and_the_rest_applied(
    driver, pool, infra, topic_name, applied_table
):
    good = [envelope(stream_id=f"s{i}", n=i) for i in range(20)]
    poison = envelope(stream_id="bad", n=99, poison=True)
    await produce(infra, topic_name, [*good[:10], poison])
    producer = kafka.producer(infra.bootstrap_servers)
    await producer.start()
    await producer.send_and_wait(topic_name, key=b"junk", value=b"{not json")
    await producer.stop()
    await produce(infra, topic_name, good[10:])
    consumer = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name, retry_backoff=0.01)

    async def dead_lettered() -> bool:
        async with pool.connection() as conn:
            return await dead_letter_count(conn, "test.recorder") == 2 and await _count_is(pool, 20)

    await run_until(consumer, dead_lettered)
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT event_id, error FROM dead_letters ORDER BY id")).fetchall()
    errors = {str(event_id): error for event_id, error in rows}
    assert "poison pill" in errors[str(poison.event_id)]
    assert "undecodable envelope" in errors["None"]
    assert await count(pool, "SELECT count(*) FROM applied") == 20
    parked = await read_topic(infra.bootstrap_servers, topic_name + ".dlq")
    assert sorted(value for _, _, _, value in parked) == sorted([b"{not json", poison.model_dump_json().encode()])
    assert json.loads(poison.model_dump_json())["event_id"] == str(poison.event_id)


async def test_a_restarted_consumer_resumes_and_applies_each_event_once(driver, pool, infra, topic_name, applied_table):
    await produce(infra, topic_name, streams(10, 3))
    first = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name)
    await run_until(first, lambda: _count_is(pool, 30))
    await produce(infra, topic_name, streams(10, 2, start=4))
    second = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name)
    await run_until(second, lambda: _count_is(pool, 50))
    await asyncio.sleep(0)  # nothing further arrives late
    assert await count(pool, "SELECT count(*) FROM applied") == 50
    assert await count(pool, "SELECT count(DISTINCT event_id) FROM applied") == 50


async def test_a_consumer_meeting_a_newer_log_epoch_reads_the_partition_again_and_applies_each_event_once(
    driver, pool, infra, topic_name, applied_table
):
    # The old log: 30 events, published twice (a relay that crashed before recording its position).
    old = streams(10, 3)
    await produce(infra, topic_name, old, times=2, epoch="0:0")
    first = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name)

    async def read_all_of_the_old_log() -> bool:
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT coalesce(sum(committed), 0) FROM consumer_progress WHERE topic = %s", (topic_name,)
            )
            row = await cursor.fetchone()
        return row is not None and int(row[0]) == 60

    await run_until(first, read_all_of_the_old_log)
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT partition, committed FROM consumer_progress WHERE topic = %s AND log_epoch = 0", (topic_name,)
        )
        old_ends = {int(p): int(o) for p, o in await cursor.fetchall()}

    # The broker comes back empty; the relay republishes every event under log epoch 1, then publishes 40 new ones.
    # The old log's ends, which a worker commits into the restarted broker, now lie past new events it never applied.
    infra.restart_broker()
    await produce(infra, topic_name, [*old, *streams(10, 4, start=4)], epoch="1:0")
    await stale_commit(infra.bootstrap_servers, topic_name, topic_name, old_ends)
    replaced = LOG_REPLACED.labels("test.recorder", topic_name)._value.get()
    second = driver(pool, Recorder(), [topic_name], infra.bootstrap_servers, group_id=topic_name)
    await run_until(second, lambda: _count_is(pool, 70))

    assert LOG_REPLACED.labels("test.recorder", topic_name)._value.get() > replaced, "read again from the beginning"
    assert await count(pool, "SELECT count(*) FROM applied") == 70
    assert await count(pool, "SELECT count(DISTINCT event_id) FROM applied") == 70
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT stream_id, version FROM applied ORDER BY seq")).fetchall()
    by_stream: dict[str, list[int]] = {}
    for stream_id, version in rows:
        by_stream.setdefault(stream_id, []).append(version)
    assert by_stream == {f"s{s}": [1, 2, 3, 4, 5, 6, 7] for s in range(10)}
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT DISTINCT log_epoch FROM consumer_progress WHERE topic = %s", (topic_name,))
        assert [int(e) for (e,) in await cursor.fetchall()] == [1], "the epoch read is recorded, for a restart"
