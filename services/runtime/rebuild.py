"""Rebuild a consumer's state from its topics: reset, read every topic from the earliest offset, apply.

The rebuild pauses the consumer's workers (``consumer_paused``: they wait before their next batch, in any
process), empties the handler's tables, its inbox rows, dead letters and progress in one transaction,
then reads each topic from the start with a plain assigned consumer (no group, so the workers' group and
offsets stay as they are) in large batches. Batches go through the runtime's own path (inbox, handler,
dead letters), one transaction each, and decoding the next batch overlaps with applying the previous one.
With a handler that folds in memory (``BuffersDuringRebuild``), the consumer also tells redeliveries
from memory and adds each batch's ids to the inbox with COPY (``EventConsumer.dedupe_in_memory``).

A topic may no longer hold its producer's whole history: Kafka's retention deletes old segments, and an
embedded broker comes back empty. Every message the relay publishes carries its store position
(``outbox.POSITION_HEADER``); the rebuild notes the positions it saw and asks the producer's relay
(``GET /outbox``) how many events its store holds up to what it has published. When the topic holds
fewer, it asks the relay to republish from the first missing position (``POST /replay``), waits until
the relay is done, and reads on. Duplicates are harmless: the inbox skips them.

When the rebuild ends, the workers go on from their own offsets; the inbox skips what the rebuild applied
(docs/adr/0003-rebuild.md). Nothing here knows a domain: the handler brings ``reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from psycopg_pool import AsyncConnectionPool

from contracts.envelope import EventEnvelope
from services.runtime import kafka
from services.runtime.consumer import EventConsumer, Handler, Progress, consumer_paused, progress_of
from services.runtime.db import Connection
from services.runtime.gctuning import gc_paused
from services.runtime.outbox import POSITION_HEADER, OutboxStatus

log = logging.getLogger(__name__)


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


@runtime_checkable
class RebuildsInShards(ResettableHandler, BuffersDuringRebuild, Protocol):
    """A buffering handler whose rebuild can be split across processes, each folding a share of the partitions.

    It can when all the events of an entity share one message key (so a partition folds on its own) and
    what one shard writes adds to what the others write (sums; upserts of states no other shard holds).
    What a shard cannot fold alone (a state that events of several keys change) it hands back from
    ``finish_shard``; once every shard has written, the rebuilding process gives all of it to
    ``merge_shards``. Each shard process makes its own handler, so the class must take no arguments.
    """

    def begin_shard(self) -> None:
        """Like ``begin_rebuild``, for one shard of several: leave what needs other shards' events aside."""
        ...

    async def finish_shard(self, conn: Connection) -> Any:
        """Write what the shard holds; return (picklable) what it left aside for ``merge_shards``."""
        ...

    async def merge_shards(self, conn: Connection, leftovers: Sequence[Any]) -> None:
        """Fold and write what every shard left aside (inside the caller's transaction)."""
        ...


#: Messages a rebuild applies per batch (and transaction). Larger batches fold a little cheaper (each
#: pays again for the states and (region, day) rows it touches) but are held twice (one decoded while the
#: last is applied): over 1,000,000 events 50,000 saved the shards about 1 of 26 core-seconds against
#: 20,000, for a peak of 660-730 MB per reading process against 500-510 MB.
REBUILD_BATCH = 20_000


def default_shards() -> int:
    """Processes a rebuild reads in by default: one per CPU this process may use, at most 8."""
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


class RebuildFailed(RuntimeError):
    """The rebuild could not read every event: the read models are incomplete and say so."""


class PositionSet:
    """Which store positions a topic has shown, as a bitmap: 10 million positions take 1.25 MB."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, position: int) -> None:
        """Note that the event at ``position`` was seen."""
        self.add_all((position,))

    def add_all(self, positions: Sequence[int]) -> None:
        """Note that the events at ``positions`` were seen (a batch's worth: one call, not one each)."""
        if not positions:
            return
        size = max(positions) // 8 + 1
        bits = self._bits
        if size > len(bits):
            bits.extend(bytes(max(size - len(bits), len(bits))))
        for position in positions:
            bits[position >> 3] |= 1 << (position & 7)

    def merge(self, bits: bytes) -> None:
        """Add the positions another set saw (its ``bits``)."""
        if len(bits) > len(self._bits):
            self._bits.extend(bytes(len(bits) - len(self._bits)))
        merged = int.from_bytes(self._bits, "little") | int.from_bytes(bits, "little")
        self._bits[:] = merged.to_bytes(len(self._bits), "little")

    @property
    def bits(self) -> bytes:
        """The set as a bitmap (bit ``n`` of byte ``n // 8`` for position ``8 * (n // 8) + n % 8``)."""
        return bytes(self._bits)

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
        batch_size: int = REBUILD_BATCH,
        on_progress: ProgressCallback | None = None,
        stall_timeout: float = 60.0,
        replay_timeout: float = 600.0,
        shards: int = 1,
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
        #: Processes that read the topics in parallel, a share of the partitions each (1: this process
        #: alone); more than one only for a handler that ``RebuildsInShards``.
        self.shards = shards if isinstance(handler, RebuildsInShards) and _reconnectable(pool) else 1
        # Applies the rebuild's batches through the runtime's path; it must not wait on the pause it holds.
        self.applier = EventConsumer(pool, handler, self.topics, bootstrap_servers, pausable=False)
        self.found = {t: TopicRebuild(t, self.relays.get(t)) for t in self.topics}
        self._next: dict[TopicPartition, int] = {}
        self._read = 0
        self._total = 0
        self._phase = "reading"
        self._inflight: asyncio.Task[None] | None = None
        #: Events the shard processes applied (distinct).
        self._applied_in_shards = 0

    async def run(self) -> RebuildReport:
        """Pause the workers, reset, read everything, check against the producers, republish if needed."""
        with gc_paused():
            return await self._run()

    async def _run(self) -> RebuildReport:
        started = time.perf_counter()
        reader = AIOKafkaConsumer(**_reader_settings(self.bootstrap_servers))
        await reader.start()
        try:
            async with httpx.AsyncClient(timeout=10.0) as http, consumer_paused(self.pool, self.handler.name):
                await self._reset()
                buffering = self.handler if isinstance(self.handler, BuffersDuringRebuild) else None
                # Each relay first publishes what its store holds now (after a broker restart it may be
                # republishing), so that the topics' ends, taken next, cover all of it.
                published = {t: await self._published(http, url) for t, url in self.relays.items()}
                if self.shards > 1:
                    # The shards have written everything when they end; what is republished afterwards
                    # is applied batch by batch, reading the states they wrote.
                    await self._read_in_shards()
                    buffering = None
                else:
                    if buffering is not None:
                        buffering.begin_rebuild()
                        self.applier.dedupe_in_memory()
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
            self._applied_in_shards + self.applier.applied_total,
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
        await self._read_until(reader, await self._ends())

    async def _ends(self) -> dict[TopicPartition, int]:
        tails, _ = await kafka.partition_tails(self.bootstrap_servers, self.topics)
        return {TopicPartition(topic, partition): tail.end for (topic, partition), tail in tails.items()}

    async def _read_until(self, reader: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]) -> None:
        """Read the partitions of ``ends`` from where this rebuild left them up to those offsets, applying."""
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
        #: The batch's last record of each partition: all its progress needs.
        last: dict[TopicPartition, ConsumerRecord] = {}
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
                self._note_positions(tp.topic, records)
                last[tp] = records[-1]
                self._next[tp] = records[-1].offset + 1
                if self._next[tp] >= ends[tp]:
                    pending.discard(tp)
                    reader.pause(tp)
            if len(batch) >= self.batch_size or not pending:
                await self._submit(batch, progress_of(list(last.values()), dict(ends)))
                batch, last = [], {}
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await inflight
        self._report()

    async def _read_in_shards(self) -> None:
        """Read and apply every partition up to its end as of now in ``shards`` processes, then merge.

        Partitions are dealt out in turn, so each process gets a like share of every topic. Each process
        folds its partitions in rebuild mode and writes them (``finish_shard``); this one then gathers
        what they saw (positions, offsets, counts) and gives the handler what they left aside.
        """
        ends = {tp: end for tp, end in (await self._ends()).items() if end > 0}
        tps = sorted(ends)
        groups = [tps[index :: self.shards] for index in range(self.shards)]
        assert isinstance(self.handler, RebuildsInShards)
        assert isinstance(self.pool.conninfo, str) and not callable(self.pool.kwargs)
        tasks = [
            ShardTask(
                index,
                type(self.handler),
                self.topics,
                self.bootstrap_servers,
                self.pool.conninfo,
                dict(self.pool.kwargs or {}),
                [(tp.topic, tp.partition, ends[tp]) for tp in group],
                self.batch_size,
                self.stall_timeout,
            )
            for index, group in enumerate(groups)
            if group
        ]
        self._total += sum(ends.values())
        self._phase = f"reading in {len(tasks)} processes"
        self._report()
        results = await _run_shards(tasks, self._shard_progress)
        leftovers = []
        for result in results:
            for topic, bits in result.positions.items():
                self.found[topic].positions.merge(bits)
            for topic, count in result.messages.items():
                self.found[topic].messages += count
            for (topic, partition), offset in result.next_offsets.items():
                self._next[TopicPartition(topic, partition)] = offset
            self._applied_in_shards += result.applied
            leftovers.append(result.leftovers)
        self._read += sum(result.read for result in results)
        async with self.pool.connection() as conn, conn.transaction():
            await self.handler.merge_shards(conn, leftovers)
        self._phase = "reading"
        self._report()

    def _shard_progress(self, read: int, applied: int) -> None:
        if self.on_progress is not None:
            self.on_progress(RebuildProgress(self._phase, read, applied, self._total))

    async def _submit(self, records: list[ConsumerRecord], progress: list[Progress]) -> None:
        """Decode a batch while the previous one is applied, then start applying it."""
        decoded: list[tuple[ConsumerRecord, EventEnvelope]] = await self.applier.decode(records)
        if self._inflight is not None:
            await self._inflight
        self._read += len(records)
        self._report()
        self._inflight = asyncio.create_task(self.applier.apply_decoded(decoded, progress))

    def _note_positions(self, topic: str, records: Sequence[ConsumerRecord]) -> None:
        """Count a topic's records and note the store positions their headers carry."""
        found = self.found[topic]
        found.messages += len(records)
        found.positions.add_all(
            [int(value) for record in records for key, value in record.headers or () if key == POSITION_HEADER]
        )

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
        # The broker may show acknowledged messages a moment later (its partitions' newest offsets trail the
        # acks under load), so read on until the topic holds what the relay published, within the timeout.
        deadline = time.monotonic() + self.replay_timeout
        while True:
            await self._read_to_end(reader)
            still = [t for t, status in published.items() if not self._check(t, status)]
            if not still:
                return
            if time.monotonic() > deadline:
                raise RebuildFailed(f"{', '.join(still)}: events still missing after the relay republished them")
            await asyncio.sleep(0.5)


@dataclass(frozen=True)
class ShardTask:
    """What one shard process reads: partitions (topic, partition, end offset), from offset 0."""

    index: int
    handler_type: type[RebuildsInShards]
    topics: list[str]
    bootstrap_servers: str
    conninfo: str
    connection_kwargs: dict[str, Any]
    partitions: list[tuple[str, int, int]]
    batch_size: int
    stall_timeout: float


@dataclass(frozen=True)
class ShardResult:
    """What one shard process read and applied, and what its handler left for ``merge_shards``."""

    read: int
    applied: int
    messages: dict[str, int]
    positions: dict[str, bytes]
    next_offsets: dict[tuple[str, int], int]
    leftovers: Any


async def _run_shards(tasks: Sequence[ShardTask], on_progress: Callable[[int, int], None]) -> list[ShardResult]:
    """Run each task in its own process; report their summed progress; their results in task order.

    Processes are spawned, not forked: this process runs an event loop and the broker client's threads.
    If one fails, the others are stopped and the rebuild fails (the read models are then incomplete).
    """
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    processes = [context.Process(target=_shard_main, args=(task, messages), daemon=True) for task in tasks]
    progress: dict[int, tuple[int, int]] = {}
    results: dict[int, ShardResult] = {}
    try:
        for process in processes:
            process.start()
        while len(results) < len(tasks):
            try:
                kind, index, payload = await asyncio.to_thread(messages.get, True, 0.5)
            except queue.Empty:
                ended = [
                    p for t, p in zip(tasks, processes, strict=True) if t.index not in results and not p.is_alive()
                ]
                if ended and messages.empty():
                    raise RebuildFailed(f"a shard process ended with exit code {ended[0].exitcode}") from None
                continue
            if kind == "progress":
                progress[index] = payload
                on_progress(sum(r for r, _ in progress.values()), sum(a for _, a in progress.values()))
            elif kind == "done":
                results[index] = payload
            else:
                raise RebuildFailed(f"shard {index} failed: {payload}")
        for process in processes:
            await asyncio.to_thread(process.join, 30)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        messages.close()
    return [results[task.index] for task in tasks]


def _shard_main(task: ShardTask, messages: Any) -> None:
    """A shard process: fold its partitions, write them, and send back what it saw."""
    logging.basicConfig(level=logging.WARNING)
    try:
        with gc_paused():
            result = asyncio.run(_run_shard(task, messages))
    except BaseException as exc:  # the parent must hear of any failure, or it waits for nothing
        messages.put(("failed", task.index, f"{type(exc).__name__}: {exc}"))
        raise
    messages.put(("done", task.index, result))


async def _run_shard(task: ShardTask, messages: Any) -> ShardResult:
    pool = AsyncConnectionPool(task.conninfo, kwargs=task.connection_kwargs, min_size=1, max_size=3, open=False)
    await pool.open(wait=True, timeout=30)
    handler = task.handler_type()
    rebuild = Rebuild(
        pool,
        handler,
        task.topics,
        task.bootstrap_servers,
        batch_size=task.batch_size,
        stall_timeout=task.stall_timeout,
        on_progress=lambda p: messages.put(("progress", task.index, (p.read, p.applied))),
    )
    reader = AIOKafkaConsumer(**_reader_settings(task.bootstrap_servers))
    try:
        await reader.start()
        handler.begin_shard()
        rebuild.applier.dedupe_in_memory()
        await reader._client.force_metadata_update()
        await rebuild._read_until(reader, {TopicPartition(t, p): end for t, p, end in task.partitions})
        async with pool.connection() as conn, conn.transaction():
            leftovers = await handler.finish_shard(conn)
    except Exception as exc:
        # Said now: stopping the clients below can end in a CancelledError (which suppress does not catch)
        # that replaces this exception before _shard_main sees it; the parent heeds the first report.
        messages.put(("failed", task.index, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        for stop in (reader.stop, rebuild.applier.close, pool.close):
            with contextlib.suppress(Exception):
                await stop()
    found = rebuild.found.values()
    return ShardResult(
        rebuild._read,
        rebuild.applier.applied_total,
        {f.topic: f.messages for f in found},
        {f.topic: f.positions.bits for f in found},
        {(tp.topic, tp.partition): offset for tp, offset in rebuild._next.items()},
        leftovers,
    )


def _reconnectable(pool: AsyncConnectionPool) -> bool:
    """Whether a shard process can open a pool like ``pool`` from its settings alone."""
    return isinstance(pool.conninfo, str) and (pool.kwargs is None or isinstance(pool.kwargs, dict))


def _reader_settings(bootstrap_servers: str) -> dict[str, Any]:
    """The rebuild's consumer: no group, big fetches (it is throughput-bound, and Tansu answers a waiting
    fetch only at its end)."""
    return {
        "bootstrap_servers": bootstrap_servers,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_bytes": 64 * 1024 * 1024,
        "max_partition_fetch_bytes": 16 * 1024 * 1024,
        "fetch_max_wait_ms": 50,
        "request_timeout_ms": 30_000,
    }
