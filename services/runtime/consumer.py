"""The consumer runtime: topics -> handler -> Postgres, exactly once in effect over at-least-once delivery.

Each poll returns a batch. The batch's event ids go into the ``inbox`` table and the handler applies the
events that were new, in the same transaction: a redelivered event changes nothing. If the batch fails,
its events are retried one by one; an event that keeps failing is published to ``<topic>.dlq`` with its
error, recorded in ``dead_letters`` and in the inbox, and the consumer moves on. Offsets are committed
to Kafka only after Postgres has committed, and they are only a hint: Postgres is the truth, so a broker
that forgets offsets costs a re-read, not a double count (docs/adr/0002-consumer-runtime.md).

Each batch's transaction also records how far the consumer got per partition in ``consumer_progress``
(what ``GET /status`` compares with the broker), and first takes a shared advisory lock named after the
consumer: a rebuild holds that lock exclusively (``consumer_paused``), which holds every worker of the
consumer before its next batch, across processes (docs/adr/0003-rebuild.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
    """
    CREATE TABLE IF NOT EXISTS consumer_progress (
        consumer      text        NOT NULL,
        topic         text        NOT NULL,
        partition     int         NOT NULL,
        committed     bigint      NOT NULL,
        end_offset    bigint      NOT NULL,
        last_event_at timestamptz,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, topic, partition)
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


#: Advisory-lock key of a consumer in the current schema; workers share it per batch, a rebuild takes it alone.
_PAUSE_KEY = "hashtext(current_schema() || '/consumer/' || %s)"

_RECORD_PROGRESS = """
    INSERT INTO consumer_progress (consumer, topic, partition, committed, end_offset, last_event_at)
    SELECT %s, * FROM unnest(%s::text[], %s::int[], %s::bigint[], %s::bigint[], %s::timestamptz[])
    ON CONFLICT (consumer, topic, partition) DO UPDATE SET committed = excluded.committed,
        end_offset = excluded.end_offset, last_event_at = excluded.last_event_at, updated_at = now()
"""


#: Note a batch's event ids in the inbox; answers the (1-based) places in the list of those already there,
#: NULL when every one is new. Ids travel as one string of 32-hex-digit ids (which Postgres reads as
#: uuids): psycopg dumping a list of UUIDs, and loading ids back as UUIDs, cost more than the insert.
_RECORD_IN_INBOX = """
    WITH ids AS (SELECT id, n FROM unnest(string_to_array(%s, ',')::uuid[]) WITH ORDINALITY AS t(id, n)),
    added AS (
        INSERT INTO inbox (consumer, event_id) SELECT %s, id FROM ids ON CONFLICT DO NOTHING RETURNING event_id
    )
    SELECT string_agg(n::text, ',') FROM ids WHERE id NOT IN (SELECT event_id FROM added)
"""


def _copy_escaped(text: str) -> str:
    """``text`` as a field of COPY's text format."""
    for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(raw, escaped)
    return text


@dataclass(frozen=True)
class Progress:
    """How far a batch took one partition: every message below ``committed`` is applied."""

    topic: str
    partition: int
    committed: int
    end_offset: int
    last_event_at: datetime | None


def progress_of(records: Sequence[ConsumerRecord], ends: dict[TopicPartition, int | None]) -> list[Progress]:
    """The progress a batch of records makes, per partition; ``ends`` are the partitions' end offsets.

    Only each partition's last record counts: a caller that knows them may pass those alone."""
    last: dict[tuple[str, int], ConsumerRecord] = {}
    for record in records:
        key = (record.topic, record.partition)
        found = last.get(key)
        if found is None or record.offset > found.offset:
            last[key] = record
    return [
        Progress(
            topic,
            partition,
            record.offset + 1,
            max(record.offset + 1, ends.get(TopicPartition(topic, partition)) or 0),
            datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp is not None else None,
        )
        for (topic, partition), record in sorted(last.items())
    ]


async def record_progress(conn: Connection, consumer: str, progress: Sequence[Progress]) -> None:
    """Upsert how far ``consumer`` got on each partition (one statement)."""
    if not progress:
        return
    await conn.execute(
        _RECORD_PROGRESS,
        (
            consumer,
            [p.topic for p in progress],
            [p.partition for p in progress],
            [p.committed for p in progress],
            [p.end_offset for p in progress],
            [p.last_event_at for p in progress],
        ),
    )


@contextlib.asynccontextmanager
async def consumer_paused(pool: AsyncConnectionPool, consumer: str) -> AsyncIterator[None]:
    """Hold every worker of ``consumer`` (in this pool's schema, in any process) before its next batch.

    Waits for a batch in flight to commit. The workers keep polling and heartbeating; their next batch
    waits on the lock and goes on when the block exits (the inbox then skips what was applied meanwhile).
    """
    async with pool.connection() as conn:
        await conn.execute(f"SELECT pg_advisory_lock({_PAUSE_KEY})", (consumer,))
        try:
            yield
        finally:
            await conn.execute(f"SELECT pg_advisory_unlock({_PAUSE_KEY})", (consumer,))


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
        pausable: bool = True,
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
        #: Whether batches wait while ``consumer_paused`` holds the consumer (false only for the rebuild itself).
        self.pausable = pausable
        self.ready = asyncio.Event()
        self.lag: dict[tuple[str, int], PartitionLag] = {}
        self._producer: AIOKafkaProducer | None = None
        self._positions: dict[TopicPartition, int] = {}
        #: End offsets of the partitions of the batch being processed, when the consumer knows them.
        self.ends: dict[TopicPartition, int | None] = {}
        #: Events applied (first deliveries) by this instance.
        self.applied_total = 0
        #: After ``dedupe_in_memory``: the ids (as ints) of the events applied or dead-lettered since.
        self._applied: dict[int, None] | None = None
        #: The end of an inbox row in COPY's text format: a tab, the consumer's name escaped, a newline.
        self._copy_tail = "\t" + _copy_escaped(handler.name) + "\n"

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
            self.ends = {tp: consumer.highwater(tp) for tp in batches}
            await self.process(records)
            self._update_lag(consumer, batches)
            try:
                await consumer.commit({tp: msgs[-1].offset + 1 for tp, msgs in batches.items()})
            except KafkaError as exc:
                # A rebalance or a restarted broker: the events come again and the inbox skips them.
                log.info("%s: offset commit failed (%s)", self.handler.name, exc)

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Apply one polled batch: set-based when it can, event by event when the batch fails."""
        progress = progress_of(records, self.ends)
        await self.apply_decoded(await self.decode(records), progress)

    async def decode(self, records: Sequence[ConsumerRecord]) -> list[tuple[ConsumerRecord, EventEnvelope]]:
        """The records' envelopes; an undecodable record is dead-lettered and left out."""
        CONSUMED.labels(self.handler.name).inc(len(records))
        decoded: list[tuple[ConsumerRecord, EventEnvelope]] = []
        # The model's own validator, called straight: what ``model_validate_json`` calls after some Python
        # of its own, which cost 0.44 of 3.04 us an envelope.
        validate = EventEnvelope.__pydantic_validator__.validate_json
        for record in records:
            try:
                decoded.append((record, validate(record.value)))
            except (ValidationError, ValueError) as exc:
                await self._dead_letter(record, None, f"undecodable envelope: {exc}")
        return decoded

    async def close(self) -> None:
        """Stop the dead-letter producer, if one was started (``run`` does this itself when it ends)."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def apply_decoded(
        self, decoded: Sequence[tuple[ConsumerRecord, EventEnvelope]], progress: Sequence[Progress] = ()
    ) -> None:
        """Apply decoded records in one transaction that also records ``progress``; one by one if it fails."""
        name = self.handler.name
        started = time.perf_counter()
        try:
            await self._apply([envelope for _, envelope in decoded], progress)
        except psycopg.OperationalError:
            raise  # the database is down, not the events' fault: let the caller retry the whole batch
        except Exception as exc:
            log.warning("%s: batch of %d failed (%s); applying one by one", name, len(decoded), exc)
            for record, envelope in decoded:
                await self._apply_with_retries(record, envelope)
            async with self.pool.connection() as conn:
                await record_progress(conn, name, progress)
        if decoded:
            BATCH_SECONDS.labels(name).observe(time.perf_counter() - started)

    def dedupe_in_memory(self) -> None:
        """From now on, tell redelivered events from memory and add each batch's ids to the inbox with
        COPY: for a rebuild, which starts from an empty inbox with the workers paused, so nothing but this
        consumer adds to it meanwhile.

        Over 500,000 ids, COPY cost Postgres 0.6-0.7 s of CPU against 1.8-1.9 s for the per-batch upsert
        that asks the table which ids it holds. The ids stay in memory (about 100 bytes each).
        """
        self._applied = {}

    async def _apply(self, envelopes: Sequence[EventEnvelope], progress: Sequence[Progress] = ()) -> None:
        # Keyed by the ids' 128-bit ints: an attribute of the UUID, hashed in C (its hex is a Python
        # property). An event delivered twice in one batch is kept once (both copies are the same event).
        unique = {envelope.event_id.int: envelope for envelope in envelopes}
        applied = self._applied
        fresh: list[EventEnvelope] = []
        async with self.pool.connection() as conn, conn.transaction():
            if self.pausable:
                # Shared with the other workers of this consumer; a rebuild holds it alone (consumer_paused).
                await conn.execute(f"SELECT pg_advisory_xact_lock_shared({_PAUSE_KEY})", (self.handler.name,))
            await record_progress(conn, self.handler.name, progress)
            if not unique:
                return
            if applied is not None:
                keys = [key for key in unique if key not in applied]
                fresh = [unique[key] for key in keys]
                if keys:
                    async with conn.cursor().copy("COPY inbox (event_id, consumer) FROM STDIN") as copy:
                        await copy.write("".join([f"{key:032x}{self._copy_tail}" for key in keys]))
            else:
                batch = list(unique.values())
                ids = ",".join([f"{key:032x}" for key in unique])
                cursor = await conn.execute(_RECORD_IN_INBOX, (ids, self.handler.name))
                row = await cursor.fetchone()
                seen = {int(n) - 1 for n in row[0].split(",")} if row and row[0] else set()
                fresh = [e for n, e in enumerate(batch) if n not in seen] if seen else batch
            if fresh:
                await self.handler.apply(conn, fresh)
        if applied is not None:
            applied.update(dict.fromkeys(unique))  # once committed: a batch that failed applied nothing
        self.applied_total += len(fresh)
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
        if envelope is not None and self._applied is not None:
            self._applied[envelope.event_id.int] = None
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


@dataclass(frozen=True)
class PartitionStatus:
    """How far a consumer is behind on one partition.

    ``committed``: every message below it is applied (Postgres, recorded with the effects). ``end``: the
    partition's end offset. ``seconds_behind``: how much older the first unapplied message is than the
    newest (0 when caught up). ``live``: whether ``end`` came from the broker now rather than from the
    consumer's last batch (the broker did not answer).
    """

    topic: str
    partition: int
    committed: int
    end: int
    behind: int
    seconds_behind: float
    last_event_at: datetime | None
    updated_at: datetime | None
    live: bool


async def consumer_status(
    conn: Connection, consumer: str, topics: Sequence[str], bootstrap_servers: str
) -> list[PartitionStatus]:
    """Every partition of ``topics``: what ``consumer`` applied (Postgres) against the broker's ends now."""
    cursor = await conn.execute(
        "SELECT topic, partition, committed, end_offset, last_event_at, updated_at FROM consumer_progress"
        " WHERE consumer = %s AND topic = ANY(%s)",
        (consumer, list(topics)),
    )
    recorded = {(str(r[0]), int(r[1])): r for r in await cursor.fetchall()}
    try:
        tails, first_unread_at = await kafka.partition_tails(
            bootstrap_servers,
            topics,
            first_unread={key: int(row[2]) for key, row in recorded.items()},
        )
    except (KafkaError, OSError) as exc:
        log.warning("status of %s: broker unavailable (%s); showing the recorded end offsets", consumer, exc)
        tails, first_unread_at = {}, {}
    keys = sorted(tails) if tails else sorted(recorded)
    statuses = []
    now = datetime.now(UTC)
    for key in keys:
        row = recorded.get(key)
        committed = int(row[2]) if row else 0
        last_event_at = row[4] if row else None
        tail = tails.get(key)
        end = tail.end if tail else int(row[3]) if row else 0
        behind = max(0, end - committed)
        seconds = 0.0
        if behind:
            newest = tail.newest_at if tail and tail.newest_at else now
            oldest_unapplied = first_unread_at.get(key) or last_event_at
            seconds = max(0.0, (newest - oldest_unapplied).total_seconds()) if oldest_unapplied else 0.0
        statuses.append(
            PartitionStatus(
                key[0], key[1], committed, end, behind, seconds, last_event_at, row[5] if row else None, bool(tail)
            )
        )
    return statuses
