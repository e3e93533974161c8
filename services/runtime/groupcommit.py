"""Group commit: concurrent commands of one kind share a transaction, set-based SQL and one commit.

Appends serialise on the events table (docs/adr/0001-store-ordering.md), so a process that commits each
command alone pays the lock, the round trips and the WAL flush once per command. A ``GroupCommit``
queues commands while the previous batch is in flight and runs the next batch in one transaction: under
load batches grow by themselves, and an idle system still answers the first command at once.

Two batches may be in flight at once (``IN_FLIGHT``): while one waits for Postgres (its statements, its
commit's WAL flush), the next one's Python work (checks, encryption, parameters) runs on the event loop
instead of after it. Each transaction runs in pipeline mode, so its ``BEGIN`` travels with its first
statement rather than costing a round trip of its own. A batch runner must therefore read each result
before it depends on it (``fetchall`` is a sync point) and must tolerate a concurrent batch of the same
kind: appends still serialise on the events table's lock, so positions keep their commit order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import psycopg
from prometheus_client import Histogram
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from services.runtime.db import Connection
from services.runtime.errors import DomainError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Runs a batch in the caller's transaction; returns, per item, its result or the DomainError refusing it.
BatchRunner = Callable[[Connection, Sequence[Item]], Awaitable[list[Result | DomainError]]]

#: Batches that may be in flight at once. Measured on the 2-core stack (medians of 4 runs of 10,000
#: POST /persons, 64 in flight): 1 with a separate BEGIN 2,197/s; 1 pipelined 2,252 and 2,145/s; 2
#: pipelined 2,497 and 2,327/s, at ~21 commands per batch instead of ~32.
IN_FLIGHT = 2

BATCH_SIZE = Histogram(
    "renshe_group_commit_batch_size", "Commands per group commit", ["name"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)


class GroupCommit(Generic[Item, Result]):
    """Batches ``submit`` calls of one command kind into shared transactions."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        run_batch: BatchRunner[Item, Result],
        *,
        name: str,
        max_batch: int = 256,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self.pool = pool
        self.run_batch = run_batch
        self.name = name
        self.max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(in_flight)
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Run one command with whatever else is waiting; raises the DomainError that refused it."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name=f"group-commit-{self.name}")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        return await future

    async def close(self) -> None:
        """Stop the worker and the batches in flight (their commands are failed by cancellation)."""
        tasks = [*self._running, *([self._worker] if self._worker is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._slots.acquire()
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                BATCH_SIZE.labels(self.name).observe(len(batch))
                task = asyncio.create_task(self._commit_in_slot(batch), name=f"group-commit-{self.name}-batch")
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _commit_in_slot(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            await self._commit(batch)
        finally:
            self._slots.release()

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._transaction([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or unreachable(exc):
                # Postgres is down or no connection came in time: no command of the batch is to blame, and
                # retrying them one by one would keep each caller waiting a pool timeout per command ahead of
                # it (minutes for a batch of 100). All of them fail now, and the HTTP layer answers 503.
                for _, future in batch:
                    _settle(future, exc)
                return
            # One command broke the shared transaction: run each alone so the others still commit.
            log.info("%s: batch of %d failed (%s); committing one by one", self.name, len(batch), exc)
            for entry in batch:
                await self._commit([entry])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)

    async def _transaction(self, items: list[Item]) -> list[Result | DomainError]:
        async with self.pool.connection() as conn, conn.pipeline(), conn.transaction():
            return await self.run_batch(conn, items)


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or the connection broke, as opposed to one
    command's statement failing: a pool timeout, a connection error (SQLSTATE class 08 or none), or the server
    shutting down or starting (57P01-57P05)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    return exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))


def _settle(future: asyncio.Future[Result], outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)  # type: ignore[arg-type]
