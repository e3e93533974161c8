"""The HTTP app factory every service uses: auth, RFC 9457 errors, health, metrics, idempotent commands.

The pieces live beside it (``problems``: errors and JSON answers; ``deps``: the typed dependencies and the
command context; ``middleware``: correlation ids, metrics, command shortcuts); they are importable from here
too, as services always have.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.runtime import gctuning, kafka
from services.runtime.auth import Role, TokenVerifier
from services.runtime.deps import (
    IDEMPOTENCY_DDL,
    AppState,
    Command,
    CommandContext,
    Commands,
    CurrentPrincipal,
    DbConnection,
    app_state,
    command_context,
    correlation_id,
    current_principal,
    principal_of,
)
from services.runtime.errors import (
    DomainError,
    Forbidden,
)
from services.runtime.middleware import (
    ROUTE_LABEL,
    CommandShortcut,
    CorrelationMiddleware,
    ShortcutCommand,
    ShortcutMiddleware,
)
from services.runtime.problems import json_response, problem, problem_for, status_for, unavailable
from services.runtime.workdays import OutsideCalendar

#: What services import from here; the definitions live in the modules named in the docstring.
__all__ = [
    "IDEMPOTENCY_DDL",
    "ROUTE_LABEL",
    "AppState",
    "Command",
    "CommandContext",
    "CommandShortcut",
    "Commands",
    "CorrelationMiddleware",
    "CurrentPrincipal",
    "DbConnection",
    "ShortcutCommand",
    "ShortcutMiddleware",
    "app_state",
    "command_context",
    "correlation_id",
    "create_app",
    "current_principal",
    "dead_letters_router",
    "default_readiness",
    "install_error_handlers",
    "json_response",
    "ops_router",
    "principal_of",
    "problem",
    "problem_for",
    "status_for",
]

log = logging.getLogger(__name__)


def _field_of(loc: Sequence[int | str]) -> str:
    """The field an error's location names: ``items.0.name``; an empty key is shown as ``""``, and an error
    about the whole body or parameter set names where it was (``body``)."""
    parts = [str(p) if p != "" else '""' for p in loc[1:]] if loc and loc[0] in _LOCATIONS else list(map(str, loc))
    return ".".join(parts) or str(loc[0] if loc else "body")


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to problem+json once, here."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> Response:
        return problem_for(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> Response:
        # ``rule`` is the error's type: a named rule of ours (CitizenIdValid) or pydantic's (missing).
        errors = [
            {"field": _field_of(err.get("loc", ())), "rule": err.get("type"), "reason": _reason(err)}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem(422, detail, field=errors[0]["field"], rule=errors[0]["rule"], errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(psycopg.OperationalError)
    async def database_unreachable(_: Request, exc: psycopg.OperationalError) -> Response:
        # A lost connection, a refused one, Postgres shutting down (57P01/57P03) or no pooled connection
        # within the pool's timeout (PoolTimeout is an OperationalError too): 503, retry later.
        kind = "no database connection became free in time" if isinstance(exc, PoolTimeout) else str(exc).strip()
        log.warning("database unreachable: %s", kind.splitlines()[0] if kind else type(exc).__name__)
        return unavailable(correlation_id.get())

    @app.exception_handler(psycopg.DataError)
    async def unstorable(_: Request, exc: psycopg.DataError) -> Response:
        # SQLSTATE class 22: a value Postgres cannot store (a NUL byte in text, a number out of range) is bad
        # input that got past the models; the transaction rolled back, so nothing was written.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return problem(422, f"a value cannot be stored: {reason}", field="body", rule="StorableValue")

    @app.exception_handler(OutsideCalendar)
    async def outside_calendar(_: Request, exc: OutsideCalendar) -> Response:
        # A date no statutory limit can be counted from (year 1, year 9999) got past the models.
        return problem(422, f"a date is out of range: {exc}", field="body", rule="DateWithinCalendar")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        if isinstance(exc, psycopg.OperationalError):  # raised outside the routes (middleware): still 503
            return unavailable(correlation_id.get())
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal error; the request changed nothing", correlation_id=correlation_id.get())


def add_response_links(spec: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI ``links`` from every operation that answers a new ``<thing>_id`` to every operation taking
    that id in its path (the document's reader, and schemathesis' stateful runs, learn where ids come from).

    A creator is an operation whose 2xx body has an ``*_id`` property its own path does not take.
    """
    schemas = spec.get("components", {}).get("schemas", {})

    def properties(schema: dict[str, Any]) -> set[str]:
        ref = schema.get("$ref", "")
        if ref:
            schema = schemas.get(ref.rsplit("/", 1)[-1], {})
        return {name for name in schema.get("properties", {}) if name.endswith("_id")}

    operations = [
        (path, method, op)
        for path, ops in spec.get("paths", {}).items()
        for method, op in ops.items()
        if isinstance(op, dict) and "operationId" in op
    ]
    for path, _, op in operations:
        for status, response in op.get("responses", {}).items():
            if not str(status).startswith("2"):
                continue
            media = response.get("content", {}).get("application/json", {})
            ids = properties(media.get("schema", {})) - set(re.findall(r"\{(\w+)\}", path))
            links: dict[str, Any] = {}
            for target_path, _, target in operations:
                taken = sorted(ids & set(re.findall(r"\{(\w+)\}", target_path)))
                if taken and target is not op:
                    links[target["operationId"]] = {
                        "operationId": target["operationId"],
                        "parameters": {f"path.{name}": f"$response.body#/{name}" for name in taken},
                    }
            if links:
                response["links"] = links
    return spec


def _reason(err: Any) -> str:
    message = str(err.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def ops_router(readiness: Callable[[AppState], Awaitable[dict[str, bool]]] | None = None) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``: the same on every API, relay and worker."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is serving")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: Postgres and the broker are reachable")
    async def readyz(request: Request) -> Response:
        checks = await default_readiness(app_state(request))
        if readiness is not None:
            checks.update(await readiness(app_state(request)))
        ready = all(checks.values())
        return json_response({"ready": ready, "checks": checks}, 200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def dead_letters_router() -> APIRouter:
    """``GET /dead-letters``: what this service's consumers parked, newest first (county officers, admins)."""
    router = APIRouter(tags=["operations"])

    @router.get("/dead-letters", summary="Events a consumer gave up on, with their errors")
    async def dead_letters(principal: CurrentPrincipal, conn: DbConnection, limit: int = 100) -> Response:
        if principal.role not in (Role.COUNTY, Role.ADMIN):
            raise Forbidden("dead letters are for county officers and administrators")
        cursor = await conn.execute(
            "SELECT id, consumer, topic, partition, log_offset, event_id::text, event_type, error, recorded_at"
            " FROM dead_letters ORDER BY id DESC LIMIT %s",
            (min(max(limit, 1), 1000),),
        )
        columns = ("id", "consumer", "topic", "partition", "offset", "event_id", "event_type", "error", "recorded_at")
        rows = [dict(zip(columns, row, strict=True)) for row in await cursor.fetchall()]
        for row in rows:
            row["recorded_at"] = row["recorded_at"].isoformat()
        return json_response({"count": len(rows), "dead_letters": rows})

    return router


async def default_readiness(state: AppState) -> dict[str, bool]:
    """Postgres answers a query; the broker answered metadata within the last few seconds."""
    try:
        async with state.pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
        database = True
    except Exception:
        database = False
    now = time.monotonic()
    if now - state.broker_checked_at > 3.0:
        try:
            await kafka.wait_for_broker(state.bootstrap_servers, timeout=2.0)
            state.broker_ok = True
        except Exception:
            state.broker_ok = False
        state.broker_checked_at = now
    return {"database": database, "broker": state.broker_ok}


def _link_openapi(app: FastAPI) -> None:
    """The app's OpenAPI document, generated once, with response links (``add_response_links``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_response_links(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    *,
    title: str,
    description: str,
    pool: AsyncConnectionPool,
    verifier: TokenVerifier,
    bootstrap_servers: str,
    routers: Sequence[APIRouter],
    startup: Callable[[], Awaitable[None]] | None = None,
    shutdown: Callable[[], Awaitable[None]] | None = None,
    shortcuts: Sequence[CommandShortcut] = (),
) -> FastAPI:
    """A service's FastAPI app with the runtime's auth, errors, health, metrics and correlation ids;
    ``shortcuts`` serve hot command routes' plain requests without FastAPI (``CommandShortcut``)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True, timeout=30)
        if startup is not None:
            await startup()
        gctuning.tune_for_service()
        try:
            yield
        finally:
            if shutdown is not None:
                await shutdown()
            await pool.close()

    # Metrics are Prometheus (/metrics) and correlation ids are ours; FastAPI's OpenTelemetry hooks would
    # otherwise look up the global providers on every request.
    telemetry: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan, telemetry=telemetry)
    app.state.renshe = AppState(pool=pool, verifier=verifier, bootstrap_servers=bootstrap_servers)
    install_error_handlers(app)
    _link_openapi(app)
    # The service's own routes first: every request is matched against routes in order.
    for router in routers:
        app.include_router(router)
    app.include_router(ops_router())
    # Added first, so it runs inside CorrelationMiddleware.
    app.add_middleware(ShortcutMiddleware, shortcuts=shortcuts)
    app.add_middleware(CorrelationMiddleware)
    return app
