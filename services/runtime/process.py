"""How a service process runs: an API under uvicorn, or a long-running loop (relay, worker) beside a
small ops endpoint with ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from psycopg_pool import AsyncConnectionPool

from services.runtime import gctuning, regions
from services.runtime.auth import TokenVerifier
from services.runtime.db import Connection, migrate, open_pool, wait_for_database
from services.runtime.http import AppState, CommandShortcut, create_app, install_error_handlers, ops_router
from services.runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

#: Seconds uvicorn keeps an idle keep-alive connection open (its default is 5). A server must hold idle connections
#: longer than any client keeps them in its pool: a client that reuses a connection in the moment the server
#: closes it gets a reset instead of an answer, and its request is lost. With 5 s that moment fell inside the idle
#: expiry of httpx (5 s) and of an ingress's upstream pool (nginx: 60 s), and under load, when a client reads a
#: response seconds after the server sent it, inside bench.loadgen's 2 s too (README "Guarantees"). 75 s is above
#: them all, the margin load balancers ask of their backends.
KEEP_ALIVE_SECONDS = 75

#: A long-running coroutine of a relay or worker, ended by setting the event.
Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
#: Given the open pool: the loops to run, a readiness check and, optionally, more routes for the ops port.
Build = Callable[
    [AsyncConnectionPool],
    tuple[Sequence[Loop], Callable[[], bool]] | tuple[Sequence[Loop], Callable[[], bool], Sequence[APIRouter]],
]


def configure_logging(level: str) -> None:
    """One log format for every process, so the supervisor's combined logs read alike."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


class MissingSetting(RuntimeError):
    """A process cannot start without this setting; there is deliberately no default for it."""


def verifier_for(settings: ServiceSettings) -> TokenVerifier:
    """The token verifier the settings describe: a JWKS endpoint, else the shared secret.

    There is no built-in secret: a process that would accept tokens signed with a value printed in the
    source refuses to start instead.
    """
    secret = settings.jwt_secret.get_secret_value()
    if not settings.jwt_jwks_url and len(secret) < 32:
        raise MissingSetting("set JWT_JWKS_URL, or JWT_SECRET to at least 32 random characters")
    return TokenVerifier(
        secret=secret,
        algorithm=settings.jwt_algorithm,
        audience=settings.jwt_audience,
        jwks_url=settings.jwt_jwks_url or None,
    )


async def prepare_schema(conn: Connection, settings: ServiceSettings, ddl: Sequence[str]) -> None:
    """Create the service's schema and tables and load the region reference data."""
    await migrate(conn, settings.schema_name, ddl)
    async with conn.transaction():
        await regions.load_regions(conn, regions.reference_regions(settings.regions_csv))


def service_pool(settings: ServiceSettings) -> AsyncConnectionPool:
    """The service's (unopened) connection pool."""
    return open_pool(
        settings.database_url, settings.schema_name, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )


async def prepare_database(settings: ServiceSettings, ddl: Sequence[str]) -> AsyncConnectionPool:
    """Wait for Postgres, prepare the service's schema, and return its open pool."""
    await wait_for_database(settings.database_url)
    pool = service_pool(settings)
    await pool.open(wait=True, timeout=30)
    async with pool.connection() as conn:
        await prepare_schema(conn, settings, ddl)
    return pool


def create_service_app(
    settings: ServiceSettings,
    ddl: Sequence[str],
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    shortcuts: Sequence[CommandShortcut] = (),
) -> FastAPI:
    """A service's API: its pool, its schema prepared at start-up, and the runtime's HTTP app around routers
    (and ``shortcuts`` for hot command routes)."""
    configure_logging(settings.log_level)
    pool = service_pool(settings)

    async def startup() -> None:
        async with pool.connection() as conn:
            await prepare_schema(conn, settings, ddl)

    return create_app(
        title=title,
        description=description,
        pool=pool,
        verifier=verifier_for(settings),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        routers=routers,
        startup=startup,
        shortcuts=shortcuts,
    )


def serve_api(factory: str, settings: ServiceSettings) -> None:
    """Serve the API built by ``factory`` ("module:function") until SIGTERM/SIGINT.

    ``HTTP_WORKERS`` processes share the port; each has its own pool and group commits.
    """
    uvicorn.run(
        factory,
        factory=True,
        workers=settings.http_workers,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # Behind an ingress the client address comes from the ingress logs; parsing forwarded headers,
        # and writing Server and Date headers, costs measurable CPU per request (bench/results.md).
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )


def run_loops(
    settings: ServiceSettings,
    ddl: Sequence[str],
    build: Build,
) -> None:
    """Run a relay or worker: its loops until a signal, plus the ops endpoint on ``settings.ops_port``.

    ``build`` receives the open pool and returns the loops and a readiness check, and may add routers
    served on the ops port beside the health and metrics routes (the relay's ``/replay``).
    """
    configure_logging(settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        pool = await prepare_database(settings, ddl)
        built = build(pool)
        gctuning.tune_for_service()
        loops, is_ready = built[0], built[1]
        extra_routes: Sequence[APIRouter] = built[2] if len(built) == 3 else ()
        tasks: list[asyncio.Task[None]] = [asyncio.create_task(run(stop)) for run in loops]
        server: uvicorn.Server | None = None
        if settings.ops_port:
            server = uvicorn.Server(
                uvicorn.Config(
                    _ops_app(pool, settings, is_ready, extra_routes),
                    host=settings.http_host,
                    port=settings.ops_port,
                    log_level="warning",
                    access_log=False,
                    lifespan="off",
                    timeout_keep_alive=KEEP_ALIVE_SECONDS,
                )
            )
            tasks.append(asyncio.create_task(server.serve()))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception() is not None:
                log.error("loop failed", exc_info=task.exception())
        stop.set()
        if server is not None:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.close()

    asyncio.run(main())


def _ops_app(
    pool: AsyncConnectionPool,
    settings: ServiceSettings,
    is_ready: Callable[[], bool],
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    app = FastAPI(title="ops", openapi_url=None)
    app.state.renshe = AppState(pool=pool, verifier=None, bootstrap_servers=settings.kafka_bootstrap_servers)
    install_error_handlers(app)

    async def loop_ready(_: AppState) -> dict[str, bool]:
        return {"loop": is_ready()}

    app.include_router(ops_router(loop_ready))
    for router in routers:
        app.include_router(router)
    return app
