"""A rebuild split across processes: each folds a share of the partitions, then the rebuilding process merges.

For handlers that ``RebuildsInShards`` (docs/adr/0003-rebuild.md). Processes are spawned, not forked:
the rebuilding process runs an event loop and the broker client's threads. Each shard process opens its
own pool for each read model from the parent's settings, makes its own handlers, reads its partitions
once through a ``TopicReader`` into all of them and sends back what it saw (positions, offsets, counts)
and what each handler left aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from psycopg_pool import AsyncConnectionPool

from services.runtime.applying import ConsumerCore
from services.runtime.gctuning import gc_paused
from services.runtime.log_epochs import LogEpoch
from services.runtime.rebuild.handlers import RebuildsInShards
from services.runtime.rebuild.reading import RebuildFailed, TopicReader, reader_settings


@dataclass(frozen=True)
class ShardModel:
    """One read model a shard process rebuilds: its handler's class and how to open a pool on its database."""

    handler_type: type[RebuildsInShards]
    conninfo: str
    connection_kwargs: dict[str, Any]


@dataclass(frozen=True)
class ShardTask:
    """What one shard process reads: partitions (topic, partition, end offset, newest log epoch), from offset 0,
    into ``models``."""

    index: int
    models: list[ShardModel]
    topics: list[str]
    bootstrap_servers: str
    partitions: list[tuple[str, int, int, LogEpoch]]
    batch_size: int
    stall_timeout: float


@dataclass(frozen=True)
class ShardResult:
    """What one shard process read, what it applied to each model, and what each handler left for
    ``merge_shards`` (in the task's order of models)."""

    read: int
    applied: list[int]
    messages: dict[str, int]
    positions: dict[str, bytes]
    next_offsets: dict[tuple[str, int], int]
    leftovers: list[Any]


async def run_shards(tasks: Sequence[ShardTask], on_progress: Callable[[int, int], None]) -> list[ShardResult]:
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
    pools: list[AsyncConnectionPool] = []
    appliers: list[ConsumerCore] = []
    for model in task.models:
        pool = AsyncConnectionPool(model.conninfo, kwargs=model.connection_kwargs, min_size=1, max_size=3, open=False)
        pools.append(pool)
        await pool.open(wait=True, timeout=30)
        # The rebuilding process holds the pause: the shards' batches must not wait on it.
        appliers.append(ConsumerCore(pool, model.handler_type(), task.topics, task.bootstrap_servers, pausable=False))
    handlers = [applier.handler for applier in appliers]
    reading = TopicReader(
        appliers,
        relays={},
        batch_size=task.batch_size,
        stall_timeout=task.stall_timeout,
        on_progress=lambda p: messages.put(("progress", task.index, (p.read, p.applied))),
    )
    reader = AIOKafkaConsumer(**reader_settings(task.bootstrap_servers))
    try:
        await reader.start()
        for applier in appliers:
            _sharded(applier.handler).begin_shard()
            applier.dedupe_in_memory()
        await reader._client.force_metadata_update()
        for topic, partition, _, newest in task.partitions:
            reading.saw_epoch(TopicPartition(topic, partition), newest)
        await reading.read_until(reader, {TopicPartition(t, p): end for t, p, end, _ in task.partitions})
        leftovers = []
        for pool, handler in zip(pools, handlers, strict=True):
            async with pool.connection() as conn, conn.transaction():
                leftovers.append(await _sharded(handler).finish_shard(conn))
    except Exception as exc:
        # Said now: stopping the clients below can end in a CancelledError (which suppress does not catch)
        # that replaces this exception before _shard_main sees it; the parent heeds the first report.
        messages.put(("failed", task.index, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        for stop in (reader.stop, *(a.close for a in appliers), *(p.close for p in pools)):
            with contextlib.suppress(Exception):
                await stop()
    found = reading.found.values()
    return ShardResult(
        reading.read,
        [applier.applied_total for applier in appliers],
        {f.topic: f.messages for f in found},
        {f.topic: f.positions.bits for f in found},
        {(tp.topic, tp.partition): offset for tp, offset in reading.next.items()},
        leftovers,
    )


def _sharded(handler: object) -> RebuildsInShards:
    """The handler as the shard protocol (the task's handler types all follow it)."""
    assert isinstance(handler, RebuildsInShards)
    return handler


def reconnectable(pool: AsyncConnectionPool) -> bool:
    """Whether a shard process can open a pool like ``pool`` from its settings alone."""
    return isinstance(pool.conninfo, str) and (pool.kwargs is None or isinstance(pool.kwargs, dict))
