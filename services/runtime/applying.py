"""The apply core both consumer drivers share: decode, the inbox in the handler's transaction, dead letters.

A batch's event ids go into the ``inbox`` and the handler applies the events that were new, in the same
transaction: a redelivered event changes nothing. If the batch fails, its events are retried one by one;
an event that keeps failing is published to ``<topic>.dlq`` with its error, recorded in ``dead_letters``
and in the inbox, and the consumer moves on (docs/adr/0002-consumer-runtime.md). Each batch's transaction
first takes the consumer's pause lock shared, so a rebuild holding it holds every worker before its next
batch (docs/adr/0003-rebuild.md).

How the batches arrive is the driver's: aiokafka batches (``services.runtime.consumer.EventConsumer``),
faust agents (``services.runtime.faust_driver.FaustConsumer``), or a rebuild's own reader.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter, Histogram
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from contracts.envelope import EventEnvelope
from contracts.topics import DEAD_LETTER_SUFFIX
from services.runtime import kafka
from services.runtime.inbox import (
    PAUSE_KEY,
    RECORD_IN_INBOX,
    Handler,
    Progress,
    copy_escaped,
    progress_of,
    record_progress,
)

log = logging.getLogger(__name__)

CONSUMED = Counter("renshe_consumer_events_total", "Events received", ["consumer"])
APPLIED = Counter("renshe_consumer_applied_total", "Events applied (first delivery)", ["consumer"])
DUPLICATES = Counter("renshe_consumer_duplicates_total", "Redelivered events skipped by the inbox", ["consumer"])
DEAD = Counter("renshe_consumer_dead_letters_total", "Events sent to the dead-letter topic", ["consumer"])
BATCH_SECONDS = Histogram("renshe_consumer_batch_seconds", "Time to apply one batch", ["consumer"])


@dataclass
class PartitionLag:
    """How far one partition is behind."""

    topic: str
    partition: int
    events_behind: int
    seconds_behind: float


class ConsumerCore:
    """One handler over some topics, as a consumer group named after the handler: everything but the polling.

    A driver hands it polled records (``process``), or decodes and applies them in two steps (``decode``,
    ``apply_decoded``) so that decoding one batch overlaps applying the last.
    """

    #: Records a batch holds at most unless the constructor says otherwise.
    default_max_batch = 5000

    def __init__(
        self,
        pool: AsyncConnectionPool,
        handler: Handler,
        topics: Sequence[str],
        bootstrap_servers: str,
        *,
        group_id: str | None = None,
        max_batch: int | None = None,
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
        self.max_batch = self.default_max_batch if max_batch is None else max_batch
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.replication_factor = replication_factor
        #: Whether batches wait while ``consumer_paused`` holds the consumer (false only for the rebuild itself).
        self.pausable = pausable
        #: Set once the group has given this member its partitions.
        self.ready = asyncio.Event()
        #: Per partition, how far behind the newest message the handler is (filled by the aiokafka driver;
        #: ``GET /status`` reads the same figures from ``consumer_progress``, which every driver writes).
        self.lag: dict[tuple[str, int], PartitionLag] = {}
        self._producer: AIOKafkaProducer | None = None
        #: End offsets of the partitions of the batch being processed, when the consumer knows them.
        self.ends: dict[TopicPartition, int | None] = {}
        #: Events applied (first deliveries) by this instance.
        self.applied_total = 0
        #: After ``dedupe_in_memory``: the ids (as ints) of the events applied or dead-lettered since.
        self._applied: dict[int, None] | None = None
        #: The end of an inbox row in COPY's text format: a tab, the consumer's name escaped, a newline.
        self._copy_tail = "\t" + copy_escaped(handler.name) + "\n"

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Apply one polled batch: set-based when it can, event by event when the batch fails."""
        progress = progress_of(records, self.ends)
        await self.apply_decoded(await self.decode(records), progress)

    async def decode(
        self, records: Sequence[ConsumerRecord], *, also: Sequence[ConsumerCore] = ()
    ) -> list[tuple[ConsumerRecord, EventEnvelope]]:
        """The records' envelopes; an undecodable record is dead-lettered and left out.

        ``also``: other consumers the same envelopes go to (a rebuild of several read models reads and
        decodes once); an undecodable record is dead-lettered for each of them too.
        """
        for core in (self, *also):
            CONSUMED.labels(core.handler.name).inc(len(records))
        decoded: list[tuple[ConsumerRecord, EventEnvelope]] = []
        # The model's own validator, called straight: what ``model_validate_json`` calls after some Python
        # of its own, which cost 0.44 of 3.04 us an envelope.
        validate = EventEnvelope.__pydantic_validator__.validate_json
        for record in records:
            try:
                decoded.append((record, validate(record.value)))
            except (ValidationError, ValueError) as exc:
                for core in (self, *also):
                    await core._dead_letter(record, None, f"undecodable envelope: {exc}")
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
                await conn.execute(f"SELECT pg_advisory_xact_lock_shared({PAUSE_KEY})", (self.handler.name,))
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
                cursor = await conn.execute(RECORD_IN_INBOX, (ids, self.handler.name))
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
