"""Rebuilding reporting's read models from the topics, on real Postgres, the real broker and real HTTP.

A producer schema (event store + relay with its ops routes served by uvicorn) publishes a synthetic
county's history; the reporting worker folds it live. The rebuild runs beside the live worker, and the
rebuilt tables must equal the live ones row by row, and both must equal an oracle that applied the
store's events straight, without Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from bench.history import appends, synthetic_history
from contracts.topics import Topic
from services.reporting import app as reporting_app
from services.reporting.projection import RegionMetricsProjection
from services.runtime import kafka, regions
from services.runtime.consumer import EventConsumer
from services.runtime.db import migrate, open_pool
from services.runtime.devstack import free_port
from services.runtime.eventstore import EventStore
from services.runtime.http import install_error_handlers
from services.runtime.rebuild import Rebuild, RebuildFailed
from services.runtime.relay import OutboxRelay, replay_router
from tests.integration.helpers import eventually

pytestmark = pytest.mark.integration

#: Tables of the consumer runtime and reference data: everything else in the schema is a read model.
RUNTIME_TABLES = {"inbox", "dead_letters", "consumer_progress", "regions"}
#: Columns that say when a row was written, not what it holds.
VOLATILE_COLUMNS = {"updated_at"}


@contextlib.asynccontextmanager
async def reporting_schema(infra) -> AsyncIterator[tuple[AsyncConnectionPool, str]]:
    """A fresh schema with reporting's tables and the demo county's regions, as the service prepares it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pool = open_pool(infra.database_url, schema, min_size=1, max_size=10)
    await pool.open(wait=True)
    async with pool.connection() as conn:
        await migrate(conn, schema, reporting_app.DDL)
        async with conn.transaction():
            await regions.load_regions(conn, regions.reference_regions(""))
    try:
        yield pool, schema
    finally:
        await pool.close()
        with psycopg.connect(infra.database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def read_models(pool: AsyncConnectionPool, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table of the schema, each as its sorted rows (whatever tables the projection owns)."""
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            (schema,),
        )
        tables = sorted(str(row[0]) for row in await cursor.fetchall() if row[0] not in RUNTIME_TABLES)
        dump = {}
        for table in tables:
            cursor = await conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
                " ORDER BY ordinal_position",
                (schema, table),
            )
            columns = [str(r[0]) for r in await cursor.fetchall() if r[0] not in VOLATILE_COLUMNS]
            cursor = await conn.execute(f'SELECT {", ".join(columns)} FROM "{table}"')
            rows = await cursor.fetchall()
            if table.startswith("region_metric"):
                rows = [row for row in rows if not _all_zero(row)]
            dump[table] = sorted(rows, key=repr)
    return dump


def _all_zero(row: tuple[Any, ...]) -> bool:
    """A figure or history row that holds only zeros says nothing: whether one exists depends on how events
    fell into batches (a +1 and a -1 in one batch write nothing; in two batches, a row of 0)."""
    values = [v for v in row if isinstance(v, int | list) and not isinstance(v, bool)]
    return bool(values) and all(not any(v) if isinstance(v, list) else v == 0 for v in values)


async def region_metrics(pool: AsyncConnectionPool) -> dict[tuple[str, str], int]:
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT region_code, metric, value FROM region_metrics")
        return {(str(r[0]), str(r[1])): int(r[2]) for r in await cursor.fetchall()}


def assert_same_read_models(expected: dict[str, list[Any]], actual: dict[str, list[Any]]) -> None:
    assert sorted(expected) == sorted(actual)
    for table in expected:
        missing = [row for row in expected[table] if row not in actual[table]][:5]
        extra = [row for row in actual[table] if row not in expected[table]][:5]
        assert expected[table] == actual[table], f"{table}: missing {missing}, unexpected {extra}"


@contextlib.asynccontextmanager
async def kafka_producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    raw = kafka.producer(bootstrap)
    await raw.start()
    try:
        yield raw
    finally:
        await raw.stop()


@dataclass
class Producer:
    """A registration-like service: its store, its relay, and the relay's ops routes over HTTP."""

    pool: AsyncConnectionPool
    topic: Topic
    bootstrap: str
    relay: OutboxRelay | None = None
    url: str = ""
    _stop: asyncio.Event | None = None
    _tasks: tuple[asyncio.Task[None], ...] = ()
    _server: uvicorn.Server | None = None

    async def append(self, rng: random.Random, events: int) -> None:
        async with self.pool.connection() as conn:
            await EventStore().append_batch(conn, appends(list(synthetic_history(rng, events))))

    async def count(self) -> int:
        async with self.pool.connection() as conn:
            return await EventStore().count_through(conn, 1 << 62)

    async def start_relay(self) -> None:
        self.relay = OutboxRelay(self.pool, self.topic, self.bootstrap, batch_size=200, check_interval=0.3)
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(replay_router(self.relay))
        port = free_port()
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.url = f"http://127.0.0.1:{port}"
        self._stop = asyncio.Event()
        self._tasks = (asyncio.create_task(self.relay.run(self._stop)), asyncio.create_task(self._server.serve()))
        last = await self.count_position()
        relay = self.relay
        await eventually(lambda: _true(relay.leading and relay.position >= last), message="relay caught up")

    async def count_position(self) -> int:
        async with self.pool.connection() as conn:
            return await EventStore().last_position(conn)

    async def stop_relay(self) -> None:
        assert self._stop is not None and self._server is not None
        self._stop.set()
        self._server.should_exit = True
        await asyncio.gather(*self._tasks)


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
async def producer(pool, infra, topic_name) -> AsyncIterator[Producer]:
    # 6 partitions, as the worker creates a missing topic: after a broker restart, either may create it first.
    producer = Producer(pool, Topic(topic_name, "registration", "test", partitions=6), infra.bootstrap_servers)
    await producer.append(random.Random(7), 1500)
    await producer.start_relay()
    try:
        yield producer
    finally:
        if producer._stop is not None and not producer._stop.is_set():
            await producer.stop_relay()


@contextlib.asynccontextmanager
async def live_worker(pool: AsyncConnectionPool, producer: Producer) -> AsyncIterator[EventConsumer]:
    """Reporting's worker, folding the producer's topic as it does in production."""
    worker = EventConsumer(
        pool, RegionMetricsProjection(), [producer.topic.name], producer.bootstrap, group_id=f"g-{uuid.uuid4().hex[:8]}"
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await task


async def inbox_count(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT count(*) FROM inbox")
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


async def oracle(infra, producer: Producer) -> dict[str, list[Any]]:
    """The read models the store's events give when applied straight, in store order, without Kafka."""
    async with reporting_schema(infra) as (pool, schema):
        async with producer.pool.connection() as conn:
            events = [r.envelope for r in await EventStore().read_all(conn, 0, limit=1_000_000)]
        async with pool.connection() as conn, conn.transaction():
            await RegionMetricsProjection().apply(conn, events)
        return await read_models(pool, schema)


async def caught_up(pool: AsyncConnectionPool, producer: Producer) -> None:
    total = await producer.count()

    async def done() -> bool:
        return await inbox_count(pool) >= total

    await eventually(done, timeout=60, message=f"worker applied {total} events")


@pytest.mark.parametrize("shards", [1, 3])
async def test_rebuild_with_the_whole_history_equals_the_live_read_models(infra, producer, shards):
    async with reporting_schema(infra) as (pool, schema), live_worker(pool, producer):
        await caught_up(pool, producer)
        live = await read_models(pool, schema)
        live_metrics = await region_metrics(pool)
        assert live_metrics[("430527000000", "labour_force")] > 500
        progress: list[int] = []
        report = await Rebuild(
            pool,
            RegionMetricsProjection(),
            [producer.topic.name],
            infra.bootstrap_servers,
            relays={producer.topic.name: producer.url},
            batch_size=400,
            on_progress=lambda p: progress.append(p.read),
            shards=shards,
        ).run()
        rebuilt = await read_models(pool, schema)
        rebuilt_metrics = await region_metrics(pool)
    total = await producer.count()
    assert report.applied == total
    assert report.read >= total
    [found] = report.topics
    assert found.complete is True and found.replayed_after is None and found.store_events == total
    assert progress and progress[-1] == report.read
    for key, value in live_metrics.items():
        assert rebuilt_metrics.get(key) == value, f"{key}: live {value}, rebuilt {rebuilt_metrics.get(key)}"
    assert rebuilt_metrics == live_metrics
    assert_same_read_models(live, rebuilt)
    assert_same_read_models(await oracle(infra, producer), rebuilt)


async def test_rebuild_while_events_keep_coming_loses_and_doubles_nothing(infra, producer):
    async with reporting_schema(infra) as (pool, schema), live_worker(pool, producer):
        await caught_up(pool, producer)
        rebuild = asyncio.create_task(
            Rebuild(
                pool, RegionMetricsProjection(), [producer.topic.name], infra.bootstrap_servers, batch_size=300
            ).run()
        )
        for seed in range(5):  # the live worker is held while the rebuild runs, then goes on
            await producer.append(random.Random(100 + seed), 200)
            await asyncio.sleep(0.2)
        await rebuild
        await caught_up(pool, producer)
        after = await read_models(pool, schema)
    assert_same_read_models(await oracle(infra, producer), after)


async def test_rebuild_after_a_broker_restart_equals_the_live_read_models(infra, producer):
    async with reporting_schema(infra) as (pool, schema), live_worker(pool, producer):
        await caught_up(pool, producer)
        live = await read_models(pool, schema)
        infra.restart_broker()  # the embedded broker forgets everything; the relay notices and republishes
        report = await Rebuild(
            pool,
            RegionMetricsProjection(),
            [producer.topic.name],
            infra.bootstrap_servers,
            relays={producer.topic.name: producer.url},
            batch_size=500,
        ).run()
        rebuilt = await read_models(pool, schema)
    assert report.applied == await producer.count()
    assert report.topics[0].complete is True
    assert_same_read_models(live, rebuilt)


@pytest.mark.parametrize("shards", [1, 2])
async def test_rebuild_asks_the_relay_to_republish_history_the_topic_lost(infra, producer, shards):
    """The broker lost the topic and the relay no longer knows where its events were (as after Kafka's
    retention deleted old segments): the topic holds only what came later, and only the store has the rest."""
    async with reporting_schema(infra) as (pool, schema), live_worker(pool, producer):
        await caught_up(pool, producer)
        await producer.stop_relay()
        infra.restart_broker()
        async with producer.pool.connection() as conn:
            await conn.execute("DELETE FROM relay_marks")
        await producer.append(random.Random(8), 300)
        await producer.start_relay()  # publishes only the new events: the old ones are gone from the topic
        await caught_up(pool, producer)
        live = await read_models(pool, schema)
        report = await Rebuild(
            pool,
            RegionMetricsProjection(),
            [producer.topic.name],
            infra.bootstrap_servers,
            relays={producer.topic.name: producer.url},
            batch_size=500,
            shards=shards,
        ).run()
        rebuilt = await read_models(pool, schema)
    [found] = report.topics
    assert found.replayed_after == 0, "the topic started after position 0, so the relay replays from there"
    assert found.complete is True
    assert report.applied == await producer.count()
    assert_same_read_models(live, rebuilt)


async def test_rebuild_without_a_relay_reads_only_what_the_topic_holds(infra, producer):
    """No relay URL: nothing to compare with, so the topic is reported as not checked (and history is lost)."""
    async with reporting_schema(infra) as (pool, _):
        await producer.stop_relay()
        infra.restart_broker()
        async with producer.pool.connection() as conn:
            await conn.execute("DELETE FROM relay_marks")
        await producer.append(random.Random(9), 100)
        await producer.start_relay()
        report = await Rebuild(pool, RegionMetricsProjection(), [producer.topic.name], infra.bootstrap_servers).run()
    [found] = report.topics
    assert found.complete is None
    assert 0 < report.applied < await producer.count()


class ProjectionWhoseShardsFail(RegionMetricsProjection):
    """A projection whose shard processes fail as they start (it is made in each, by its class)."""

    def begin_shard(self) -> None:
        raise RuntimeError("this shard cannot fold")


async def test_a_shard_that_fails_fails_the_rebuild_and_says_why(infra, producer):
    async with reporting_schema(infra) as (pool, _):
        rebuild = Rebuild(pool, ProjectionWhoseShardsFail(), [producer.topic.name], infra.bootstrap_servers, shards=2)
        with pytest.raises(RebuildFailed, match="this shard cannot fold"):
            await rebuild.run()


class SecondRegionProjection(RegionMetricsProjection):
    """The region projection under another consumer name: a second read model of the same topics."""

    name = "reporting.second"


@pytest.mark.parametrize("shards", [1, 2])
async def test_two_read_models_rebuilt_from_one_reading_each_get_every_event(infra, producer, shards):
    """One reading of the topic feeds both models (each in its own schema and transaction); an undecodable
    message is dead-lettered for each of them and stops neither."""
    async with kafka_producer(infra.bootstrap_servers) as raw:
        await (await raw.send(producer.topic.name, key=b"poison", value=b"{not an envelope"))
    async with reporting_schema(infra) as (first, first_schema), reporting_schema(infra) as (second, second_schema):
        report = await Rebuild(
            first,
            RegionMetricsProjection(),
            [producer.topic.name],
            infra.bootstrap_servers,
            also=[(second, SecondRegionProjection())],
            relays={producer.topic.name: producer.url},
            batch_size=400,
            shards=shards,
        ).run()
        rebuilt = [await read_models(first, first_schema), await read_models(second, second_schema)]
    total = await producer.count()
    [also] = report.also
    assert (report.consumer, also.consumer) == ("reporting.projection", "reporting.second")
    assert report.applied == also.applied == total
    assert report.dead_letters == also.dead_letters == 1
    assert report.topics[0].complete is True
    expected = await oracle(infra, producer)
    for models in rebuilt:
        assert_same_read_models(expected, models)


async def test_read_models_rebuilt_together_need_distinct_consumer_names(infra, producer):
    async with reporting_schema(infra) as (first, _), reporting_schema(infra) as (second, _):
        with pytest.raises(ValueError, match="its own consumer name"):
            Rebuild(
                first,
                RegionMetricsProjection(),
                [producer.topic.name],
                infra.bootstrap_servers,
                also=[(second, RegionMetricsProjection())],
            )
