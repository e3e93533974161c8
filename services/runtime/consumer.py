"""The consumer runtime: topics -> handler -> Postgres, exactly once in effect over at-least-once delivery.

Each poll returns a batch. The batch's event ids go into the ``inbox`` table and the handler applies the
events that were new, in the same transaction: a redelivered event changes nothing. If the batch fails,
its events are retried one by one; an event that keeps failing is published to ``<topic>.dlq`` with its
error, recorded in ``dead_letters`` and in the inbox, and the consumer moves on. Offsets are committed
to Kafka only after Postgres has committed, and they are only a hint: Postgres is the truth, so a broker
that forgets offsets costs a re-read, not a double count (docs/adr/0002-consumer-runtime.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from contracts.envelope import EventEnvelope
from contracts.topics import DEAD_LETTER_SUFFIX
from services.runtime import kafka
from services.runtime.db import Connection

log = logging.getLogger(__name__)

DDL = [
    """
    CREATE TABLE IF NOT EXISTS inbox (
        consumer   text        NOT NULL,
        event_id   uuid        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dead_letters (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        consumer    text        NOT NULL,
        topic       text        NOT NULL,
        partition   int         NOT NULL,
        log_offset  bigint      NOT NULL,
        event_id    uuid,
        event_type  text,
        error       text        NOT NULL,
        payload     text        NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
]

CONSUMED = Counter("renshe_consumer_events_total", "Events received", ["consumer"])
APPLIED = Counter("renshe_consumer_applied_total", "Events applied (first delivery)", ["consumer"])
DUPLICATES = Counter("renshe_consumer_duplicates_total", "Redelivered events skipped by the inbox", ["consumer"])
DEAD = Counter("renshe_consumer_dead_letters_total", "Events sent to the dead-letter topic", ["consumer"])
BATCH_SECONDS = Histogram("renshe_consumer_batch_seconds", "Time to apply one batch", ["consumer"])
LAG_EVENTS = Gauge("renshe_consumer_lag_events", "Events behind the partition end", ["consumer", "topic", "partition"])
LAG_SECONDS = Gauge(
    "renshe_consumer_lag_seconds", "Age of the last applied event when behind", ["consumer", "topic", "partition"]
)


class Handler(Protocol):
    """What a projection or reaction provides: apply new events inside the consumer's transaction."""

    name: str

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Apply events that were never applied before; raise to refuse the batch."""
        ...


@dataclass
class PartitionLag:
    """How far one partition is behind."""

    topic: str
    partition: int
    events_behind: int
    seconds_behind: float


class EventConsumer:
    """Runs one handler over some topics as a Kafka consumer group named after the handler."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        handler: Handler,
        topics: Sequence[str],
        bootstrap_servers: str,
        *,
        group_id: str | None = None,
        max_batch: int = 5000,
        max_attempts: int = 3,
        retry_backoff: float = 0.1,
        replication_factor: int = 1,
    ) -> None:
        self.pool = pool
        self.handler = handler
        self.topics = list(topics)
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id or handler.name
        self.max_batch = max_batch
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.replication_factor = replication_factor
        self.ready = asyncio.Event()
        self.lag: dict[tuple[str, int], PartitionLag] = {}
        self._producer: AIOKafkaProducer | None = None
        self._positions: dict[TopicPartition, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; reconnects after broker outages."""
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=4 * 1024 * 1024,
                fetch_max_bytes=16 * 1024 * 1024,
                metadata_max_age_ms=5_000,
                # Tansu answers a waiting fetch only when the wait runs out, even when data has arrived.
                fetch_max_wait_ms=50,
                # Tansu answers JoinGroup after half the session timeout; 6 s (Kafka's minimum) joins in 3 s.
                session_timeout_ms=6_000,
                heartbeat_interval_ms=1_000,
            )
            self._positions.clear()
            try:
                await kafka.ensure_topics(
                    self.bootstrap_servers, [(t, 6) for t in self.topics], replication_factor=self.replication_factor
                )
                await consumer.start()
                await self._consume(consumer, stop)
            except (KafkaError, OSError) as exc:
                log.warning("%s: broker unavailable (%s); reconnecting", self.handler.name, exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(KafkaError, OSError):
                    await consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=self.max_batch)
            if consumer.assignment():
                self.ready.set()
            if not batches:
                self._update_lag(consumer, {})
                continue
            records = [record for partition in batches.values() for record in partition]
            await self.process(records)
            self._update_lag(consumer, batches)
            try:
                await consumer.commit({tp: msgs[-1].offset + 1 for tp, msgs in batches.items()})
            except KafkaError as exc:
                # A rebalance or a restarted broker: the events come again and the inbox skips them.
                log.info("%s: offset commit failed (%s)", self.handler.name, exc)

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Apply one polled batch: set-based when it can, event by event when the batch fails."""
        name = self.handler.name
        CONSUMED.labels(name).inc(len(records))
        decoded: list[tuple[ConsumerRecord, EventEnvelope]] = []
        for record in records:
            try:
                decoded.append((record, EventEnvelope.model_validate_json(record.value)))
            except (ValidationError, ValueError) as exc:
                await self._dead_letter(record, None, f"undecodable envelope: {exc}")
        if not decoded:
            return
        started = time.perf_counter()
        try:
            await self._apply([envelope for _, envelope in decoded])
        except psycopg.OperationalError:
            raise  # the database is down, not the events' fault: let the caller retry the whole batch
        except Exception as exc:
            log.warning("%s: batch of %d failed (%s); applying one by one", name, len(decoded), exc)
            for record, envelope in decoded:
                await self._apply_with_retries(record, envelope)
        BATCH_SECONDS.labels(name).observe(time.perf_counter() - started)

    async def _apply(self, envelopes: Sequence[EventEnvelope]) -> None:
        unique: dict[str, EventEnvelope] = {}
        for envelope in envelopes:
            unique.setdefault(str(envelope.event_id), envelope)
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "INSERT INTO inbox (consumer, event_id) SELECT %s, unnest(%s::uuid[])"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                (self.handler.name, list(unique)),
            )
            fresh_ids = {str(row[0]) for row in await cursor.fetchall()}
            fresh = [e for key, e in unique.items() if key in fresh_ids]
            if fresh:
                await self.handler.apply(conn, fresh)
        APPLIED.labels(self.handler.name).inc(len(fresh))
        DUPLICATES.labels(self.handler.name).inc(len(envelopes) - len(fresh))

    async def _apply_with_retries(self, record: ConsumerRecord, envelope: EventEnvelope) -> None:
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._apply([envelope])
                return
            except psycopg.OperationalError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "%s: %s %s failed (attempt %d): %s",
                    self.handler.name,
                    envelope.type,
                    envelope.event_id,
                    attempt,
                    error,
                )
                await asyncio.sleep(self.retry_backoff * attempt)
        await self._dead_letter(record, envelope, error)

    async def _dead_letter(self, record: ConsumerRecord, envelope: EventEnvelope | None, error: str) -> None:
        """Park the event on ``<topic>.dlq`` and remember it, so it is neither lost nor retried forever."""
        if self._producer is None:
            self._producer = kafka.producer(self.bootstrap_servers)
            await self._producer.start()
        dlq = record.topic + DEAD_LETTER_SUFFIX
        await kafka.ensure_topics(self.bootstrap_servers, [(dlq, 1)], replication_factor=self.replication_factor)
        headers = [
            ("error", error.encode()[:4000]),
            ("consumer", self.handler.name.encode()),
            ("source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await (await self._producer.send(dlq, value=record.value, key=record.key, headers=headers))
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO dead_letters (consumer, topic, partition, log_offset, event_id, event_type, error,"
                " payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    self.handler.name,
                    record.topic,
                    record.partition,
                    record.offset,
                    envelope.event_id if envelope else None,
                    envelope.type if envelope else None,
                    error,
                    record.value.decode(errors="replace"),
                ),
            )
            if envelope is not None:
                await conn.execute(
                    "INSERT INTO inbox (consumer, event_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (self.handler.name, envelope.event_id),
                )
        DEAD.labels(self.handler.name).inc()
        log.error("%s: dead-lettered %s: %s", self.handler.name, record.topic, error)

    def _update_lag(self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        now = time.time()
        for tp, msgs in batches.items():
            if msgs:
                self._positions[tp] = msgs[-1].offset + 1
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            position = self._positions.get(tp)
            if end is None or position is None:
                continue
            behind = max(0, end - position)
            previous = self.lag.get((tp.topic, tp.partition))
            if batches.get(tp):
                age = max(0.0, now - batches[tp][-1].timestamp / 1000) if behind else 0.0
            else:
                age = previous.seconds_behind if previous and behind else 0.0
            self.lag[(tp.topic, tp.partition)] = PartitionLag(tp.topic, tp.partition, behind, age)
            LAG_EVENTS.labels(self.handler.name, tp.topic, tp.partition).set(behind)
            LAG_SECONDS.labels(self.handler.name, tp.topic, tp.partition).set(age)


async def dead_letter_count(conn: Connection, consumer: str) -> int:
    """How many events a consumer has dead-lettered."""
    cursor = await conn.execute("SELECT count(*) FROM dead_letters WHERE consumer = %s", (consumer,))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0
