"""Group commit: concurrent commands of one kind share a transaction, set-based SQL and one commit.

Appends serialise on the events table (docs/adr/0001-store-ordering.md), so a process that commits each
command alone pays the lock, the round trips and the WAL flush once per command. A ``GroupCommit``
queues commands while the previous batch is in flight and runs the next batch in one transaction: under
load batches grow by themselves, and an idle system still answers the first command at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from prometheus_client import Histogram
from psycopg_pool import AsyncConnectionPool

from services.runtime.db import Connection
from services.runtime.errors import DomainError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Runs a batch in the caller's transaction; returns, per item, its result or the DomainError refusing it.
BatchRunner = Callable[[Connection, Sequence[Item]], Awaitable[list[Result | DomainError]]]

BATCH_SIZE = Histogram(
    "renshe_group_commit_batch_size", "Commands per group commit", ["name"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)


class GroupCommit(Generic[Item, Result]):
    """Batches ``submit`` calls of one command kind into shared transactions."""

    def __init__(
        self, pool: AsyncConnectionPool, run_batch: BatchRunner[Item, Result], *, name: str, max_batch: int = 256
    ) -> None:
        self.pool = pool
        self.run_batch = run_batch
        self.name = name
        self.max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Run one command with whatever else is waiting; raises the DomainError that refused it."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name=f"group-commit-{self.name}")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        return await future

    async def close(self) -> None:
        """Stop the worker (pending commands are failed by cancellation)."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                BATCH_SIZE.labels(self.name).observe(len(batch))
                await self._commit(batch)

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._transaction([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            # One command broke the shared transaction: run each alone so the others still commit.
            log.info("%s: batch of %d failed (%s); committing one by one", self.name, len(batch), exc)
            for entry in batch:
                await self._commit([entry])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)

    async def _transaction(self, items: list[Item]) -> list[Result | DomainError]:
        async with self.pool.connection() as conn, conn.transaction():
            return await self.run_batch(conn, items)


def _settle(future: asyncio.Future[Result], outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)  # type: ignore[arg-type]
