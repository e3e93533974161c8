"""The staff-performance consumer beside the region projection in ``renshe reporting worker``, with its
own pool on its own schema (``projection.SCHEMA``: its inbox, dead letters and progress)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from psycopg_pool import AsyncConnectionPool

from services.reporting.staff.projection import DDL, SCHEMA, StaffPerformanceProjection
from services.runtime import consumer
from services.runtime.consumer import EventConsumer
from services.runtime.db import migrate, open_pool
from services.runtime.process import Loop
from services.runtime.settings import ServiceSettings

#: What the staff schema holds: the consumer's tables (created in it by the search path) and the model's.
STAFF_DDL = [*DDL, *consumer.DDL]


async def prepare_staff_pool(settings: ServiceSettings) -> AsyncConnectionPool:
    """The open pool of the staff schema, migrated."""
    pool = open_pool(settings.database_url, SCHEMA, min_size=1, max_size=4)
    await pool.open(wait=True, timeout=30)
    async with pool.connection() as conn:
        await migrate(conn, SCHEMA, STAFF_DDL)
    return pool


def staff_consumer(
    settings: ServiceSettings, topics: Sequence[str], *, max_batch: int
) -> tuple[Loop, Callable[[], bool]]:
    """A loop running the staff-performance consumer until stopped, and its readiness."""
    ready = asyncio.Event()

    async def run(stop: asyncio.Event) -> None:
        pool = await prepare_staff_pool(settings)
        try:
            worker = EventConsumer(
                pool,
                StaffPerformanceProjection(),
                topics,
                settings.kafka_bootstrap_servers,
                max_batch=max_batch,
                replication_factor=settings.kafka_replication_factor,
            )
            waiting = asyncio.create_task(worker.ready.wait())
            waiting.add_done_callback(lambda _: ready.set())
            try:
                await worker.run(stop)
            finally:
                waiting.cancel()
        finally:
            await pool.close()

    return run, ready.is_set
