"""Rebuild a consumer's state from its topics: reset, read every topic from the earliest offset, apply.

The rebuild pauses the consumer's workers (``consumer_paused``: they wait before their next batch, in any
process), empties the handler's tables, its inbox rows, dead letters and progress in one transaction,
then reads each topic from the start with a plain assigned consumer (no group, so the workers' group and
offsets stay as they are) in large batches. Batches go through the runtime's own path (inbox, handler,
dead letters), one transaction each, and decoding the next batch overlaps with applying the previous one.

A topic may no longer hold its producer's whole history: Kafka's retention deletes old segments, and an
embedded broker comes back empty. Every message the relay publishes carries its store position
(``relay.POSITION_HEADER``); the rebuild notes the positions it saw and asks the producer's relay
(``GET /outbox``) how many events its store holds up to what it has published. When the topic holds
fewer, it asks the relay to republish from the first missing position (``POST /replay``), waits until
the relay is done, and reads on. Duplicates are harmless: the inbox skips them.

When the rebuild ends, the workers go on from their own offsets; the inbox skips what the rebuild applied
(docs/adr/0003-rebuild.md). Nothing here knows a domain: the handler brings ``reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from psycopg_pool import AsyncConnectionPool

from contracts.envelope import EventEnvelope
from services.runtime import kafka
from services.runtime.consumer import EventConsumer, Handler, Progress, consumer_paused, progress_of
from services.runtime.db import Connection
from services.runtime.relay import POSITION_HEADER, OutboxStatus

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _few_garbage_collections() -> Iterator[None]:
    """Collect garbage rarely while batches of tens of thousands of records are alive.

    Decoding allocates many small objects, and with the default thresholds the collector scans the large
    live batches again and again: measured, this halves the rebuild's rate. The objects it misses are
    collected when the thresholds are restored.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


class ResettableHandler(Handler, Protocol):
    """A handler whose whole state can be dropped: a projection."""

    async def reset(self, conn: Connection) -> None:
        """Empty every table the handler owns (inside the caller's transaction)."""
        ...


@runtime_checkable
class BuffersDuringRebuild(Protocol):
    """A handler that can fold a rebuild in memory and write it in a few large steps instead of per batch.

    ``begin_rebuild`` comes right after ``reset``; ``finish_rebuild`` writes what is still held, before the
    workers may go on. A rebuild that fails in between has written only part: it must be run again.
    """

    def begin_rebuild(self) -> None:
        """From now on, fold in memory and write in large steps."""
        ...

    async def finish_rebuild(self, conn: Connection) -> None:
        """Write what is held and go back to writing every batch."""
        ...


class RebuildFailed(RuntimeError):
    """The rebuild could not read every event: the read models are incomplete and say so."""


class PositionSet:
    """Which store positions a topic has shown, as a bitmap: 10 million positions take 1.25 MB."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, position: int) -> None:
        """Note that the event at ``position`` was seen."""
        index, bit = divmod(position, 8)
        if index >= len(self._bits):
            self._bits.extend(bytes(max(index + 1 - len(self._bits), len(self._bits))))
        self._bits[index] |= 1 << bit

    def __contains__(self, position: int) -> bool:
        index, bit = divmod(position, 8)
        return index < len(self._bits) and bool(self._bits[index] >> bit & 1)

    def count_through(self, position: int) -> int:
        """How many distinct positions from 1 up to ``position`` were seen."""
        whole, rest = divmod(position + 1, 8)
        count = int.from_bytes(self._bits[:whole], "little").bit_count()
        if rest and whole < len(self._bits):
            count += (self._bits[whole] & ((1 << rest) - 1)).bit_count()
        return count

    def first_missing(self) -> int:
        """The lowest position from 1 on that was not seen."""
        for index, byte in enumerate(self._bits):
            if byte != 0xFF:
                for bit in range(8):
                    position = index * 8 + bit
                    if position >= 1 and not byte >> bit & 1:
                        return position
        return max(1, len(self._bits) * 8)


@dataclass
class TopicRebuild:
    """What the rebuild found in one topic."""

    topic: str
    relay_url: str | None
    messages: int = 0
    positions: PositionSet = field(default_factory=PositionSet)
    #: None: not checked (no relay to ask); True: the topic held every event the store had published.
    complete: bool | None = None
    replayed_after: int | None = None
    store_events: int | None = None


@dataclass
class RebuildProgress:
    """Counts shown while a rebuild runs."""

    phase: str
    read: int
    applied: int
    total: int


@dataclass
class RebuildReport:
    """The outcome: messages read, events applied (distinct), time taken, and each topic's check."""

    consumer: str
    read: int
    applied: int
    dead_letters: int
    seconds: float
    topics: list[TopicRebuild]

    @property
    def events_per_second(self) -> float:
        """Messages read and applied per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0


ProgressCallback = Callable[[RebuildProgress], None]


class Rebuild:
    """One rebuild of ``handler`` from ``topics``; ``relays`` maps a topic to its relay's ops URL."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        handler: ResettableHandler,
        topics: Sequence[str],
        bootstrap_servers: str,
        *,
        relays: Mapping[str, str] | None = None,
        batch_size: int = 20_000,
        on_progress: ProgressCallback | None = None,
        stall_timeout: float = 60.0,
        replay_timeout: float = 600.0,
    ) -> None:
        self.pool = pool
        self.handler = handler
        self.topics = list(topics)
        self.bootstrap_servers = bootstrap_servers
        self.relays = {t: url.rstrip("/") for t, url in (relays or {}).items() if url}
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.stall_timeout = stall_timeout
        self.replay_timeout = replay_timeout
        # Applies the rebuild's batches through the runtime's path; it must not wait on the pause it holds.
        self.applier = EventConsumer(pool, handler, self.topics, bootstrap_servers, pausable=False)
        self.found = {t: TopicRebuild(t, self.relays.get(t)) for t in self.topics}
        self._next: dict[TopicPartition, int] = {}
        self._read = 0
        self._total = 0
        self._phase = "reading"
        self._inflight: asyncio.Task[None] | None = None

    async def run(self) -> RebuildReport:
        """Pause the workers, reset, read everything, check against the producers, republish if needed."""
        with _few_garbage_collections():
            return await self._run()

    async def _run(self) -> RebuildReport:
        started = time.perf_counter()
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Big fetches: the rebuild is throughput-bound, and Tansu answers a waiting fetch only at its end.
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            fetch_max_wait_ms=50,
            request_timeout_ms=30_000,
        )
        await reader.start()
        try:
            async with httpx.AsyncClient(timeout=10.0) as http, consumer_paused(self.pool, self.handler.name):
                await self._reset()
                buffering = self.handler if isinstance(self.handler, BuffersDuringRebuild) else None
                if buffering is not None:
                    buffering.begin_rebuild()
                # Each relay first publishes what its store holds now (after a broker restart it may be
                # republishing), so that the topics' ends, taken next, cover all of it.
                published = {t: await self._published(http, url) for t, url in self.relays.items()}
                await self._read_to_end(reader)
                incomplete = [t for t, status in published.items() if not self._check(t, status)]
                if incomplete:
                    await self._replay(http, reader, incomplete)
                if buffering is not None:
                    if self._inflight is not None:
                        await self._inflight
                    async with self.pool.connection() as conn, conn.transaction():
                        await buffering.finish_rebuild(conn)
        finally:
            if self._inflight is not None:
                with contextlib.suppress(Exception):
                    await self._inflight
            await reader.stop()
            await self.applier.close()
        async with self.pool.connection() as conn:
            cursor = await conn.execute("SELECT count(*) FROM dead_letters WHERE consumer = %s", (self.handler.name,))
            row = await cursor.fetchone()
        return RebuildReport(
            self.handler.name,
            self._read,
            self.applier.applied_total,
            int(row[0]) if row else 0,
            time.perf_counter() - started,
            list(self.found.values()),
        )

    async def _reset(self) -> None:
        name = self.handler.name
        async with self.pool.connection() as conn, conn.transaction():
            await self.handler.reset(conn)
            cursor = await conn.execute(
                "SELECT EXISTS (SELECT 1 FROM inbox WHERE consumer < %s OR consumer > %s)", (name, name)
            )
            row = await cursor.fetchone()
            if row and row[0]:
                await conn.execute("DELETE FROM inbox WHERE consumer = %s", (name,))
            else:  # the usual case: this consumer is the schema's only one, and TRUNCATE is instant
                await conn.execute("TRUNCATE inbox")
            await conn.execute("DELETE FROM dead_letters WHERE consumer = %s", (name,))
            await conn.execute("DELETE FROM consumer_progress WHERE consumer = %s", (name,))
        log.info("%s: read models, inbox, dead letters and progress reset", name)

    async def _read_to_end(self, reader: AIOKafkaConsumer) -> None:
        """Read every partition of every topic up to its end offset as of now, applying in batches.

        The ends come from the partitions' newest messages: Tansu's ListOffsets answers below the true end,
        and stopping there would skip the tail of a partition that the workers had already applied.
        """
        await reader._client.force_metadata_update()
        tails, _ = await kafka.partition_tails(self.bootstrap_servers, self.topics)
        ends = {TopicPartition(topic, partition): tail.end for (topic, partition), tail in tails.items()}
        tps = sorted(ends)
        log.debug("reading %s up to %s from %s", self.topics, ends, self._next)
        if not tps:
            return
        reader.assign(tps)
        for tp in tps:
            reader.seek(tp, self._next.get(tp, 0))
        pending = {tp for tp in tps if self._next.get(tp, 0) < ends[tp]}
        self._total += sum(max(0, ends[tp] - self._next.get(tp, 0)) for tp in pending)
        for tp in set(tps) - pending:
            reader.pause(tp)
        batch: list[ConsumerRecord] = []
        last_data = time.monotonic()
        while pending:
            fetched = await reader.getmany(timeout_ms=500, max_records=self.batch_size)
            if not fetched:
                if time.monotonic() - last_data > self.stall_timeout:
                    raise RebuildFailed(
                        f"no messages for {self.stall_timeout:.0f} s with {len(pending)} partitions unfinished"
                    )
                continue
            last_data = time.monotonic()
            for tp, records in fetched.items():
                batch.extend(records)
                self._next[tp] = records[-1].offset + 1
                if self._next[tp] >= ends[tp]:
                    pending.discard(tp)
                    reader.pause(tp)
            if len(batch) >= self.batch_size or not pending:
                await self._submit(batch, ends)
                batch = []
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await inflight
        self._report()

    async def _submit(self, records: list[ConsumerRecord], ends: Mapping[TopicPartition, int]) -> None:
        """Decode a batch while the previous one is applied, then start applying it."""
        for record in records:
            found = self.found[record.topic]
            found.messages += 1
            for key, value in record.headers or ():
                if key == POSITION_HEADER:
                    found.positions.add(int(value))
        progress: list[Progress] = progress_of(records, dict(ends))
        decoded: list[tuple[ConsumerRecord, EventEnvelope]] = await self.applier.decode(records)
        if self._inflight is not None:
            await self._inflight
        self._read += len(records)
        self._report()
        self._inflight = asyncio.create_task(self.applier.apply_decoded(decoded, progress))

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(RebuildProgress(self._phase, self._read, self.applier.applied_total, self._total))

    async def _outbox(self, http: httpx.AsyncClient, url: str) -> OutboxStatus:
        """The relay's status once it leads (a relay that just started may still wait for its lock)."""
        deadline = time.monotonic() + 30
        while True:
            try:
                response = await http.get(f"{url}/outbox")
                response.raise_for_status()
                status = OutboxStatus.model_validate(response.json())
                if status.leading:
                    return status
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline:
                    raise RebuildFailed(f"the relay at {url} does not answer ({exc})") from exc
            if time.monotonic() > deadline:
                raise RebuildFailed(f"the relay at {url} is not publishing (it waits for its lock)")
            await asyncio.sleep(0.5)

    async def _published(self, http: httpx.AsyncClient, url: str, until: int | None = None) -> OutboxStatus:
        """The relay's status once it has published up to ``until`` (default: its store's newest event now)."""
        deadline = time.monotonic() + self.replay_timeout
        phase, self._phase = self._phase, "waiting for relay"
        self._report()
        status = await self._outbox(http, url)
        target = status.last_position if until is None else until
        while status.position < target or status.replay_pending:
            if time.monotonic() > deadline:
                raise RebuildFailed(
                    f"the relay at {url} reached position {status.position}, not {target},"
                    f" in {self.replay_timeout:.0f} s"
                )
            await asyncio.sleep(0.3)
            status = await self._outbox(http, url)
        self._phase = phase
        return status

    def _check(self, topic: str, status: OutboxStatus) -> bool:
        """Whether the topic showed every event the store holds up to what the relay had published."""
        found = self.found[topic]
        seen = found.positions.count_through(status.position)
        found.store_events = status.events_through_position
        found.complete = seen >= status.events_through_position
        if not found.complete:
            log.warning(
                "%s holds %d of the %d events its store published up to position %d",
                topic,
                seen,
                status.events_through_position,
                status.position,
            )
        return found.complete

    async def _replay(self, http: httpx.AsyncClient, reader: AIOKafkaConsumer, topics: Sequence[str]) -> None:
        """Ask each topic's relay to republish from its first missing position; read on once they are done."""
        self._phase = "reading republished"
        targets: dict[str, int] = {}
        for topic in topics:
            found = self.found[topic]
            found.replayed_after = found.positions.first_missing() - 1
            url = self.relays[topic]
            try:
                response = await http.post(f"{url}/replay", params={"from": found.replayed_after})
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise RebuildFailed(f"{topic}: the relay at {url} refused to republish ({exc})") from exc
            targets[topic] = int(response.json()["until"])
            log.warning("%s: asked %s to republish after position %d", topic, url, found.replayed_after)
        published = {topic: await self._published(http, self.relays[topic], until) for topic, until in targets.items()}
        await self._read_to_end(reader)
        still = [t for t, status in published.items() if not self._check(t, status)]
        if still:
            raise RebuildFailed(f"{', '.join(still)}: events still missing after the relay republished them")
