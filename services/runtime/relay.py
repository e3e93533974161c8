"""The outbox relay: publishes a service's committed events to its topic in position order.

It publishes a batch, waits for every acknowledgement (acks=all), and only then records how far it got, so
a crash republishes (duplicates are allowed; consumers deduplicate) but never skips (loss is not allowed).

A broker can lose data: the embedded broker forgets everything when it restarts, and real Kafka can
truncate a partition after an unclean leader election. The relay remembers, per partition, marks
``(log offset, store position)`` meaning "every event up to this position that belongs to this
partition sits at or below this offset". When a partition has lost what the relay wrote there, it
rewinds to the newest mark still inside the surviving log and republishes from there.

Loss shows in two ways. A publish is acknowledged at offsets below where the previous one ended: the log
restarted under us. Or a partition's end offset falls to or below the first offset of the relay's latest
write there. The second check deliberately ignores the tail of that write: Tansu answers ListOffsets with
the base offset of the last record batch plus one, below the true end, while its acknowledgements are
exact (docs/adr/0001-store-ordering.md).

Each rewind starts a new log epoch (``relay_position.log_epoch``), which every message carries with the
position it republished after (``log_epoch`` header): the readers' offsets belong to the lost log, and the
epoch tells them to read the partition again from its beginning (``services.runtime.log_epochs``).

Every message carries its store position in the ``store_position`` header, so a reader can tell whether a
topic still holds a store's whole history. When it does not (Kafka's retention deleted old segments, or a
broker came back empty while the relay had no marks), a rebuild asks the relay to republish from a
position over its ops endpoint (``POST /replay``, ``services.runtime.relay_ops``; docs/adr/0003-rebuild.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import RecordMetadata
from prometheus_client import Counter, Gauge
from psycopg_pool import AsyncConnectionPool

from contracts.topics import Topic
from services.runtime import kafka
from services.runtime.db import Connection
from services.runtime.eventstore import EventStore
from services.runtime.outbox import EPOCH_HEADER, OFFSET_HEADER, POSITION_HEADER
from services.runtime.relay_ops import ReplayStarted, replay_router

# The services and tests take the ops routes from here, with the relay.
__all__ = ["DDL", "MARKS_KEPT", "RELAY_LINGER", "OutboxRelay", "ReplayStarted", "replay_router"]

log = logging.getLogger(__name__)

DDL = [
    """
    CREATE TABLE IF NOT EXISTS relay_position (
        topic      text PRIMARY KEY,
        position   bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    # How many losses of the topic the relay has rewound for, and where the latest republication started
    # (every message carries both in its EPOCH_HEADER).
    "ALTER TABLE relay_position ADD COLUMN IF NOT EXISTS log_epoch int NOT NULL DEFAULT 0",
    "ALTER TABLE relay_position ADD COLUMN IF NOT EXISTS republished_after bigint NOT NULL DEFAULT 0",
    """
    CREATE TABLE IF NOT EXISTS relay_marks (
        topic      text   NOT NULL,
        partition  int    NOT NULL,
        log_offset bigint NOT NULL,
        first_offset bigint NOT NULL,
        position   bigint NOT NULL,
        PRIMARY KEY (topic, partition, log_offset)
    )
    """,
]

PUBLISHED = Counter("renshe_relay_published_events_total", "Events published by the relay", ["topic"])
#: How the relay picks a message's partition: the producer's own default (the Java client's murmur2 of the key).
_PARTITIONER = DefaultPartitioner()

REWINDS = Counter("renshe_relay_rewinds_total", "Times the broker lost data and the relay rewound", ["topic"])
POSITION = Gauge("renshe_relay_position", "Last store position acknowledged by the broker", ["topic"])
BEHIND = Gauge("renshe_relay_behind_events", "Committed events not yet published", ["topic"])
REPLAYS = Counter("renshe_relay_replays_total", "Republications asked for over POST /replay", ["topic"])

#: After a batch that was not full, the next one starts no sooner than this many seconds after it began
#: (Kafka's ``linger.ms``, one level up). A relay that keeps up would otherwise publish a handful of events
#: per batch and pay the batch's fixed costs (the SELECT, a produce request and its acks, the position
#: UPSERT and its commit) for each handful. Measured on the 2-core stack at ~2,300 POST /persons/s:
#: batches grew from ~45 to ~140 events, CPU per command fell in the relay from 71 to 47 us, in the
#: broker from 86 to 43 us and in Postgres from 210 to 155 us, and the reporting worker's batches doubled
#: (its CPU per command 106 -> 79 us). An event waits at most this long more before it is published;
#: a full batch (a backlog) never waits.
RELAY_LINGER = 0.05

#: Marks kept per partition; a loss older than the oldest kept mark republishes from the beginning.
MARKS_KEPT = 500


class OutboxRelay:
    """Moves one service's events table onto its topic. Run exactly one per service (advisory lock)."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        topic: Topic,
        bootstrap_servers: str,
        *,
        store: EventStore | None = None,
        batch_size: int = 2000,
        idle_sleep: float = 0.02,
        check_interval: float = 1.0,
        replication_factor: int = 1,
        mark_interval: float = 0.5,
        linger: float = RELAY_LINGER,
    ) -> None:
        """``linger``: seconds a batch that was not full holds back the next one (``RELAY_LINGER``)."""
        self.pool = pool
        self.topic = topic
        self.bootstrap_servers = bootstrap_servers
        self.store = store or EventStore()
        self.batch_size = batch_size
        self.idle_sleep = idle_sleep
        self.check_interval = check_interval
        self.replication_factor = replication_factor
        self.mark_interval = mark_interval
        self.linger = linger
        self._marked_at = 0.0
        self._marks_written = 0
        self.position = 0
        #: The log epoch every message carries (``EPOCH_HEADER``): ``<losses rewound for>:<republished after>``.
        self.epoch_header = b"0:0"
        #: Where each partition's next event will land, from the acknowledgements.
        self.expected_end: dict[int, int] = {}
        #: The first offset of the relay's latest write to each partition of the current log.
        self.last_write_start: dict[int, int] = {}
        self._producer: AIOKafkaProducer | None = None
        self._last_check = 0.0
        #: Whether this relay holds the topic's advisory lock (only the leader publishes, and replays).
        self.leading = False
        #: A replay asked for and not yet started: republish every event after this position.
        self.replay_after: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set, surviving broker outages."""
        async with self.pool.connection() as lock_conn:
            if not await self._hold_leadership(lock_conn, stop):
                return
            try:
                await self._lead(stop)
            finally:
                self.leading = False
                # The connection goes back to the pool: a relay started later on the same pool may lead.
                await lock_conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"relay:{self.topic.name}",))

    async def _lead(self, stop: asyncio.Event) -> None:
        """Publish while this relay holds the relay lock, until ``stop`` is set."""
        if stop.is_set():
            return
        await self._load_state()
        self.leading = True
        while not stop.is_set():
            try:
                if self.replay_after is not None:
                    await self._replay()
                if time.monotonic() - self._last_check >= self.check_interval:
                    await self.check_broker()
                # After the check: a rewind drops the producer (``_rewind``).
                await self._ensure_producer()
                started = time.monotonic()
                published = await self.publish_once()
                if published == 0:
                    await _sleep_unless(stop, self.idle_sleep)
                elif published < self.batch_size:
                    # Not a full batch: the relay keeps up, so let the next batch gather (RELAY_LINGER).
                    await _sleep_unless(stop, started + self.linger - time.monotonic())
            except (TimeoutError, KafkaError, OSError) as exc:
                log.warning("broker unavailable (%s); retrying", exc)
                await self._drop_producer()
                self._last_check = 0.0
                await _sleep_unless(stop, 0.5)
        await self._drop_producer()

    async def _hold_leadership(self, conn: object, stop: asyncio.Event) -> bool:
        # A second relay (a rolling deploy, a stray process) waits instead of interleaving its sends.
        key = f"relay:{self.topic.name}"
        while not stop.is_set():
            cursor = await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))  # type: ignore[attr-defined]
            row = await cursor.fetchone()
            if row and row[0]:
                return True
            await _sleep_unless(stop, 1.0)
        return False

    async def _load_state(self) -> None:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT position, log_epoch, republished_after FROM relay_position WHERE topic = %s",
                (self.topic.name,),
            )
            row = await cursor.fetchone()
            self.position = int(row[0]) if row else 0
            self.epoch_header = f"{row[1]}:{row[2]}".encode() if row else b"0:0"
            cursor = await conn.execute(
                "SELECT DISTINCT ON (partition) partition, log_offset + 1, first_offset FROM relay_marks"
                " WHERE topic = %s ORDER BY partition, log_offset DESC",
                (self.topic.name,),
            )
            for partition, end, first in await cursor.fetchall():
                self.expected_end[int(partition)] = int(end)
                self.last_write_start[int(partition)] = int(first)
        POSITION.labels(self.topic.name).set(self.position)

    async def _ensure_producer(self) -> None:
        if self._producer is None:
            await self._ensure_topic()
            producer = kafka.producer(self.bootstrap_servers)
            await producer.start()
            self._producer = producer

    async def _ensure_topic(self) -> None:
        await kafka.ensure_topics(
            self.bootstrap_servers,
            [(self.topic.name, self.topic.partitions)],
            replication_factor=self.replication_factor,
        )

    async def _drop_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()
            except (KafkaError, OSError) as exc:
                log.debug("closing producer: %s", exc)

    async def check_broker(self) -> None:
        """Compare the topic's end offsets with what was written; rewind where the broker lost data."""
        self._last_check = time.monotonic()
        ends = await kafka.end_offsets(self.bootstrap_servers, self.topic.name)
        if ends is None:
            await self._ensure_topic()
            ends = {}
        lost = {p: ends.get(p, 0) for p, first in self.last_write_start.items() if ends.get(p, 0) <= first}
        if lost:
            await self._rewind(lost)

    async def publish_once(self) -> int:
        """Publish the next batch after the recorded position; returns how many events went out."""
        assert self._producer is not None
        async with self.pool.connection() as conn:
            rows = await self.store.read_envelopes(conn, self.position, self.batch_size)
            if not rows:
                BEHIND.labels(self.topic.name).set(0)
                return 0
        # Each message is stamped with the offset it should land at (``OFFSET_HEADER``), so its partition is
        # chosen here, as the producer would (murmur2 of the key), and the producer is told it.
        partitions = sorted(await self._producer.partitions_for(self.topic.name))
        next_offset = dict(self.expected_end)
        sends = []
        #: The partition of each send, for telling which partitions a failed batch reached in part.
        chosen: list[int] = []
        for position, stream_id, envelope in rows:
            key = stream_id.encode()
            partition = _PARTITIONER(key, partitions, partitions)
            headers = [(POSITION_HEADER, str(position).encode()), (EPOCH_HEADER, self.epoch_header)]
            expected = next_offset.get(partition)
            if expected is not None:
                headers.append((OFFSET_HEADER, str(expected).encode()))
                next_offset[partition] = expected + 1
            chosen.append(partition)
            sends.append(
                await self._producer.send(
                    self.topic.name, key=key, value=envelope.encode(), headers=headers, partition=partition
                )
            )
        answers = await asyncio.gather(*sends, return_exceptions=True)
        if failed := next((a for a in answers if isinstance(a, BaseException)), None):
            await self._after_failed_sends(chosen, answers)
            raise failed
        acked: list[RecordMetadata] = answers  # none failed
        top_offset: dict[int, int] = {}
        low_offset: dict[int, int] = defaultdict(lambda: 1 << 62)
        for meta in acked:
            top_offset[meta.partition] = max(top_offset.get(meta.partition, -1), meta.offset)
            low_offset[meta.partition] = min(low_offset[meta.partition], meta.offset)
        # Offsets below what we wrote before: the log was truncated under us (a broker restart between
        # two checks). This batch may sit on top of a hole, so rewind instead of recording it. Exactly these
        # messages landed below their stamped offset, so readers leave them to the republication.
        lost = {p: low for p, low in low_offset.items() if low < self.expected_end.get(p, 0)}
        if lost:
            await self._rewind(lost)
            return len(rows)
        last_position = rows[-1][0]
        for p, o in top_offset.items():
            self.expected_end[p] = o + 1
            self.last_write_start[p] = low_offset[p]
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO relay_position (topic, position) VALUES (%s, %s) "
                "ON CONFLICT (topic) DO UPDATE SET position = excluded.position, updated_at = now()",
                (self.topic.name, last_position),
            )
            if time.monotonic() - self._marked_at >= self.mark_interval:
                await self._record_marks(conn, last_position)
        self.position = last_position
        PUBLISHED.labels(self.topic.name).inc(len(rows))
        POSITION.labels(self.topic.name).set(last_position)
        return len(rows)

    async def _after_failed_sends(self, chosen: list[int], answers: list[Any]) -> None:
        """Start a new log epoch when part of a partition's share of the batch was acknowledged and part failed.

        The batch goes out again after the error (``_lead``), but what was acknowledged stays where it landed:
        ahead of the failed part's copies, out of store order (a hire before the registration it follows). The
        embedded broker even moves a partition's offsets past a write it refused (``AlreadyExists`` in its log),
        so the acknowledged messages sit at the offsets stamped on them, behind a hole. In the new epoch, which
        republishes after the current position, readers leave those messages to the republication
        (``services.runtime.log_epochs``). A partition whose share failed whole needs no epoch: nothing of it
        landed out of order."""
        outcome: dict[int, set[bool]] = defaultdict(set)
        for partition, answer in zip(chosen, answers, strict=True):
            outcome[partition].add(not isinstance(answer, BaseException))
        split = sorted(p for p, seen in outcome.items() if seen == {True, False})
        if not split:
            return
        async with self.pool.connection() as conn, conn.transaction():
            epoch = await self._next_epoch(conn, self.position)
        log.warning(
            "a batch on %s failed in part on partitions %s; republishing after position %d as log epoch %d",
            self.topic.name,
            split,
            self.position,
            epoch,
        )
        REWINDS.labels(self.topic.name).inc()

    async def _record_marks(self, conn: Connection, position: int) -> None:
        """Mark, for every partition written to, that events up to ``position`` sit at or below its top.

        Any mark is true, so they are written only every ``mark_interval``: fewer marks cost a longer
        republish after a loss, never a missed event.
        """
        self._marked_at = time.monotonic()
        marks = [
            (self.topic.name, p, end - 1, self.last_write_start.get(p, end - 1), position)
            for p, end in self.expected_end.items()
            if end > 0
        ]
        await conn.cursor().executemany(
            "INSERT INTO relay_marks (topic, partition, log_offset, first_offset, position)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (topic, partition, log_offset)"
            " DO UPDATE SET position = excluded.position, first_offset = excluded.first_offset",
            marks,
        )
        self._marks_written += 1
        if self._marks_written % 100 == 0:
            for partition in self.expected_end:
                await conn.execute(
                    "DELETE FROM relay_marks WHERE topic = %s AND partition = %s AND log_offset < ("
                    " SELECT log_offset FROM relay_marks WHERE topic = %s AND partition = %s"
                    " ORDER BY log_offset DESC OFFSET %s LIMIT 1)",
                    (self.topic.name, partition, self.topic.name, partition, MARKS_KEPT),
                )

    async def _rewind(self, lost: dict[int, int]) -> None:
        """Republish from the newest position whose events all survive in every lost partition."""
        async with self.pool.connection() as conn, conn.transaction():
            restart = self.position
            for partition, end in lost.items():
                cursor = await conn.execute(
                    "SELECT coalesce(max(position), 0) FROM relay_marks"
                    " WHERE topic = %s AND partition = %s AND log_offset < %s",
                    (self.topic.name, partition, end),
                )
                row = await cursor.fetchone()
                restart = min(restart, int(row[0]) if row else 0)
                await conn.execute(
                    "DELETE FROM relay_marks WHERE topic = %s AND partition = %s AND log_offset >= %s",
                    (self.topic.name, partition, end),
                )
            # A new log epoch: what follows is republished into a log that replaced the one the readers read.
            epoch = await self._next_epoch(conn, restart)
        log.warning(
            "broker lost data on %s partitions %s; republishing after position %d (was %d) as log epoch %d",
            self.topic.name,
            sorted(lost),
            restart,
            self.position,
            epoch,
        )
        REWINDS.labels(self.topic.name).inc()
        # A broker that lost its log may have re-created the topic with other partitions (Tansu auto-creates it
        # with 4 when a consumer asks first). A producer with the old metadata kept writing to partitions the new
        # topic lacks, the broker acknowledged them, the next check found them missing: republishing from the
        # start every second, for ever. The next batch goes out on a producer that reads the topic afresh.
        await self._drop_producer()
        self.position = restart
        for partition, end in lost.items():
            # Nothing of ours is known to be in the new log until the next acknowledgement says so.
            self.expected_end[partition] = end
            self.last_write_start.pop(partition, None)
        POSITION.labels(self.topic.name).set(restart)

    async def _next_epoch(self, conn: Connection, restart: int) -> int:
        """Record a new log epoch that republishes every event after ``restart``, and stamp it from now on."""
        cursor = await conn.execute(
            "INSERT INTO relay_position (topic, position, log_epoch, republished_after) VALUES (%s, %s, 1, %s)"
            " ON CONFLICT (topic) DO UPDATE SET position = excluded.position, updated_at = now(),"
            " log_epoch = relay_position.log_epoch + 1, republished_after = excluded.republished_after"
            " RETURNING log_epoch",
            (self.topic.name, restart, restart),
        )
        row = await cursor.fetchone()
        epoch = int(row[0]) if row else 0
        self.epoch_header = f"{epoch}:{restart}".encode()
        return epoch

    def request_replay(self, after: int) -> None:
        """Republish every event after position ``after``, starting between two batches.

        Republished events are duplicates for every consumer that saw them before, which the inboxes skip.
        """
        self.replay_after = after if self.replay_after is None else min(after, self.replay_after)

    async def _replay(self) -> None:
        after, self.replay_after = self.replay_after, None
        if after is None or after >= self.position:
            return
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE relay_position SET position = %s, updated_at = now() WHERE topic = %s",
                (after, self.topic.name),
            )
        log.warning("republishing %s after position %d (was at %d), as asked", self.topic.name, after, self.position)
        REPLAYS.labels(self.topic.name).inc()
        self.position = after
        POSITION.labels(self.topic.name).set(after)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
