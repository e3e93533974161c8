"""One rebuild: pause the workers, reset, read every topic from the start, check against the producers' relays.

A topic may no longer hold its producer's whole history: Kafka's retention deletes old segments, and an
embedded broker comes back empty. The rebuild notes the store positions it saw and asks the producer's
relay (``GET /outbox``) how many events its store holds up to what it has published. When the topic holds
fewer, it asks the relay to republish from the first missing position (``POST /replay``), waits until the
relay is done, and reads on. Duplicates are harmless: the inbox skips them (docs/adr/0003-rebuild.md).

Several read models of the same topics (``also``) are rebuilt from one reading: each partition is read and
each batch decoded once, then applied to every model in its own transaction. Reading and decoding were
most of a rebuild's CPU, so two models rebuilt together cost little more than one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from psycopg_pool import AsyncConnectionPool

from services.runtime import kafka
from services.runtime.applying import ConsumerCore
from services.runtime.gctuning import gc_paused
from services.runtime.inbox import consumer_paused, dead_letter_count
from services.runtime.log_epochs import FIRST_EPOCH, epoch_in
from services.runtime.outbox import OutboxStatus
from services.runtime.rebuild.handlers import BuffersDuringRebuild, RebuildsInShards, ResettableHandler
from services.runtime.rebuild.reading import (
    REBUILD_BATCH,
    ProgressCallback,
    RebuildFailed,
    RebuildProgress,
    TopicReader,
    TopicRebuild,
    reader_settings,
)
from services.runtime.rebuild.shards import ShardModel, ShardTask, reconnectable, run_shards

log = logging.getLogger(__name__)


def default_shards() -> int:
    """Processes a rebuild reads in by default: one per CPU this process may use, at most 8."""
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


@dataclass
class RebuildReport:
    """The outcome: messages read, events applied (distinct), time taken, and each topic's check; ``also``:
    the same for each other read model rebuilt from the same reading (its ``read``, ``seconds`` and ``topics``
    are the reading's)."""

    consumer: str
    read: int
    applied: int
    dead_letters: int
    seconds: float
    topics: list[TopicRebuild]
    also: list[RebuildReport] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        """Messages read and applied per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0


class Rebuild:
    """One rebuild of ``handler`` from ``topics``; ``relays`` maps a topic to its relay's ops URL; ``also``:
    other read models (pool, handler) of the same topics, rebuilt from the same reading."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        handler: ResettableHandler,
        topics: Sequence[str],
        bootstrap_servers: str,
        *,
        also: Sequence[tuple[AsyncConnectionPool, ResettableHandler]] = (),
        relays: Mapping[str, str] | None = None,
        batch_size: int = REBUILD_BATCH,
        on_progress: ProgressCallback | None = None,
        stall_timeout: float = 60.0,
        replay_timeout: float = 600.0,
        shards: int = 1,
    ) -> None:
        self.pool = pool
        self.handler = handler
        #: Every read model rebuilt, this one first.
        self.models: list[tuple[AsyncConnectionPool, ResettableHandler]] = [(pool, handler), *also]
        names = [h.name for _, h in self.models]
        if len(set(names)) < len(names):
            raise ValueError(f"each read model rebuilt together needs its own consumer name, not {names}")
        self.topics = list(topics)
        self.bootstrap_servers = bootstrap_servers
        self.relays = {t: url.rstrip("/") for t, url in (relays or {}).items() if url}
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.stall_timeout = stall_timeout
        self.replay_timeout = replay_timeout
        #: Processes that read the topics in parallel, a share of the partitions each (1: this process
        #: alone); more than one only when every handler ``RebuildsInShards``.
        shardable = all(isinstance(h, RebuildsInShards) and reconnectable(p) for p, h in self.models)
        self.shards = shards if shardable else 1
        # Apply the rebuild's batches through the runtime's path; they must not wait on the pause it holds.
        self.appliers = [ConsumerCore(p, h, self.topics, bootstrap_servers, pausable=False) for p, h in self.models]
        self.applier = self.appliers[0]
        self.reading = TopicReader(
            self.appliers,
            relays=self.relays,
            batch_size=batch_size,
            stall_timeout=stall_timeout,
            on_progress=on_progress,
        )
        #: What the rebuild found in each topic.
        self.found: dict[str, TopicRebuild] = self.reading.found
        #: Events the shard processes applied (distinct), per model.
        self._applied_in_shards = [0] * len(self.models)

    async def run(self) -> RebuildReport:
        """Pause the workers, reset, read everything, check against the producers, republish if needed."""
        with gc_paused():
            return await self._run()

    async def _run(self) -> RebuildReport:
        started = time.perf_counter()
        reader = AIOKafkaConsumer(**reader_settings(self.bootstrap_servers))
        await reader.start()
        try:
            async with httpx.AsyncClient(timeout=10.0) as http, contextlib.AsyncExitStack() as paused:
                for pool, handler in self.models:
                    await paused.enter_async_context(consumer_paused(pool, handler.name))
                for pool, handler in self.models:
                    await self._reset(pool, handler)
                # Each model's consumer with its handler, where the handler folds in memory.
                buffering: list[tuple[ConsumerCore, BuffersDuringRebuild]] = [
                    (applier, applier.handler)
                    for applier in self.appliers
                    if isinstance(applier.handler, BuffersDuringRebuild)
                ]
                # Each relay first publishes what its store holds now (after a broker restart it may be
                # republishing), so that the topics' ends, taken next, cover all of it.
                published = {t: await self._published(http, url) for t, url in self.relays.items()}
                if self.shards > 1:
                    # The shards have written everything when they end; what is republished afterwards
                    # is applied batch by batch, reading the states they wrote.
                    await self._read_in_shards()
                    buffering = []
                else:
                    for applier, buffered in buffering:
                        buffered.begin_rebuild()
                        applier.dedupe_in_memory()
                    await self._read_to_end(reader)
                incomplete = [t for t, status in published.items() if not self._check(t, status)]
                if incomplete:
                    await self._replay(http, reader, incomplete)
                await self.reading.settled()
                for applier, buffered in buffering:
                    async with applier.pool.connection() as conn, conn.transaction():
                        await buffered.finish_rebuild(conn)
        finally:
            with contextlib.suppress(Exception):
                await self.reading.settled()
            await reader.stop()
            for applier in self.appliers:
                await applier.close()
        seconds = time.perf_counter() - started
        reports = []
        for index, applier in enumerate(self.appliers):
            async with applier.pool.connection() as conn:
                dead_letters = await dead_letter_count(conn, applier.handler.name)
            applied = self._applied_in_shards[index] + applier.applied_total
            found = list(self.found.values())
            reports.append(
                RebuildReport(applier.handler.name, self.reading.read, applied, dead_letters, seconds, found)
            )
        first, *others = reports
        first.also = others
        return first

    @staticmethod
    async def _reset(pool: AsyncConnectionPool, handler: ResettableHandler) -> None:
        name = handler.name
        async with pool.connection() as conn, conn.transaction():
            await handler.reset(conn)
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
        await self.reading.read_until(reader, await self._ends())

    async def _ends(self) -> dict[TopicPartition, int]:
        """Each partition's end offset; its newest message's log epoch goes to the reader (``TopicReader.newest``)."""
        tails, _ = await kafka.partition_tails(self.bootstrap_servers, self.topics)
        ends = {}
        for (topic, partition), tail in tails.items():
            tp = TopicPartition(topic, partition)
            ends[tp] = tail.end
            self.reading.saw_epoch(tp, epoch_in(tail.newest_headers))
        return ends

    async def _read_in_shards(self) -> None:
        """Read and apply every partition up to its end as of now in ``shards`` processes, then merge.

        Partitions are dealt out in turn, so each process gets a like share of every topic. Each process
        folds its partitions in rebuild mode and writes them (``finish_shard``); this one then gathers
        what they saw (positions, offsets, counts) and gives the handler what they left aside.
        """
        ends = {tp: end for tp, end in (await self._ends()).items() if end > 0}
        tps = sorted(ends)
        groups = [tps[index :: self.shards] for index in range(self.shards)]
        models = []
        for pool, handler in self.models:
            assert isinstance(handler, RebuildsInShards)
            assert isinstance(pool.conninfo, str) and not callable(pool.kwargs)
            models.append(ShardModel(type(handler), pool.conninfo, dict(pool.kwargs or {})))
        tasks = [
            ShardTask(
                index,
                models,
                self.topics,
                self.bootstrap_servers,
                [(tp.topic, tp.partition, ends[tp], self.reading.newest.get(tp, FIRST_EPOCH)) for tp in group],
                self.batch_size,
                self.stall_timeout,
            )
            for index, group in enumerate(groups)
            if group
        ]
        reading = self.reading
        reading.total += sum(ends.values())
        reading.phase = f"reading in {len(tasks)} processes"
        reading.report()
        results = await run_shards(tasks, self._shard_progress)
        for result in results:
            for topic, bits in result.positions.items():
                self.found[topic].positions.merge(bits)
            for topic, count in result.messages.items():
                self.found[topic].messages += count
            for (topic, partition), offset in result.next_offsets.items():
                reading.next[TopicPartition(topic, partition)] = offset
            self._applied_in_shards = [n + m for n, m in zip(self._applied_in_shards, result.applied, strict=True)]
        reading.read += sum(result.read for result in results)
        for index, (pool, handler) in enumerate(self.models):
            assert isinstance(handler, RebuildsInShards)
            async with pool.connection() as conn, conn.transaction():
                await handler.merge_shards(conn, [result.leftovers[index] for result in results])
        reading.phase = "reading"
        reading.report()

    def _shard_progress(self, read: int, applied: int) -> None:
        if self.on_progress is not None:
            self.on_progress(RebuildProgress(self.reading.phase, read, applied, self.reading.total))

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
        phase, self.reading.phase = self.reading.phase, "waiting for relay"
        self.reading.report()
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
        self.reading.phase = phase
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
        self.reading.phase = "reading republished"
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
