"""Postgres connections: one async pool per process, scoped to the service's own schema."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

Connection = AsyncConnection[TupleRow]


#: Seconds a request waits for a pooled connection before the pool gives up (PoolTimeout, answered 503 by
#: the HTTP layer): short enough that a client hears "retry" while Postgres is down, instead of timing out.
POOL_TIMEOUT = 10.0


def open_pool(database_url: str, schema: str, *, min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    """A pool whose connections see ``schema`` first on their search path (not yet opened)."""
    return AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"options": f"-c search_path={schema},public", "autocommit": True},
        open=False,
        name=schema,
        timeout=POOL_TIMEOUT,
    )


async def wait_for_database(database_url: str, *, timeout: float = 30.0) -> None:
    """Return once Postgres accepts connections; processes may start before it does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(database_url, connect_timeout=2)
            await conn.close()
            return
        except psycopg.OperationalError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def migrate(conn: Connection, schema: str, statements: Sequence[str]) -> None:
    """Create the schema and apply idempotent DDL, serialised across processes by an advisory lock.

    The API, relay and worker of a service start together; the lock keeps their ``CREATE ... IF NOT
    EXISTS`` statements from racing on the catalog.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"migrate:{schema}",))
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path = "{schema}", public')
        for statement in statements:
            await conn.execute(statement)
