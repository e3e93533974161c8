"""What Postgres sessions are doing during a run, sampled from ``pg_stat_activity``.

The average number of sessions in each (state, wait, statement) shows where commands queue: waiting
for the event store's table lock, idle in a transaction while the application works, flushing WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import psycopg

_QUERY = """
    SELECT state, coalesce(wait_event_type || ':' || wait_event, 'on CPU'),
           regexp_replace(left(query, 200), '\\s+', ' ', 'g')
    FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'
"""


@dataclass
class ActivitySampler:
    """Samples non-idle client sessions every ``interval`` seconds while running."""

    database_url: str
    interval: float = 0.05
    samples: int = 0
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ActivitySampler]:
        """Sample in the background for the duration of the block."""
        stop = asyncio.Event()
        task = asyncio.create_task(self._run(stop))
        try:
            yield self
        finally:
            stop.set()
            await task

    async def _run(self, stop: asyncio.Event) -> None:
        async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as conn:
            while not stop.is_set():
                cursor = await conn.execute(_QUERY)
                for state, wait, query in await cursor.fetchall():
                    self.counts[(state, wait, _statement(query))] += 1
                self.samples += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)

    def summary(self, top: int = 6) -> str:
        """The busiest (state, wait, statement) kinds as an average number of sessions."""
        if not self.samples:
            return "no pg_stat_activity samples"
        parts = [
            f"{count / self.samples:.2f} {state} [{wait}] {query}"
            for (state, wait, query), count in self.counts.most_common(top)
        ]
        return f"Postgres sessions, average over {self.samples} samples: " + "; ".join(parts)


def _statement(query: str) -> str:
    """A short recognisable name for a statement."""
    text = query.strip()
    if text.startswith("WITH expected"):
        return "event store INSERT"
    return text[:48]
