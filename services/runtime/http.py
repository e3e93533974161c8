"""The HTTP app factory every service uses: auth, RFC 9457 errors, health, metrics, idempotent commands."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime import gctuning, kafka
from services.runtime.auth import Principal, Role, TokenVerifier
from services.runtime.db import Connection
from services.runtime.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionRequired,
    RuleViolated,
    Unauthorized,
    UnsupportedMediaType,
)
from services.runtime.eventstore import Metadata

log = logging.getLogger(__name__)

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

REQUESTS = Counter("renshe_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("renshe_http_request_seconds", "HTTP request latency", ["method", "route"])

IDEMPOTENCY_DDL = [
    """
    CREATE TABLE IF NOT EXISTS idempotency_keys (
        subject     text        NOT NULL,
        key         text        NOT NULL,
        fingerprint text        NOT NULL,
        status      int,
        body        jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, key)
    )
    """,
]

_STATUS = {RuleViolated: 422, NotFound: 404, Conflict: 409, Forbidden: 403, Unauthorized: 401}
_TITLES = {
    422: "Unprocessable Content",
    404: "Not Found",
    409: "Conflict",
    403: "Forbidden",
    401: "Unauthorized",
    400: "Bad Request",
    500: "Internal Server Error",
}
_STATUS.update({PreconditionRequired: 428, PayloadTooLarge: 413, UnsupportedMediaType: 415})
_TITLES.update({428: "Precondition Required", 413: "Content Too Large", 415: "Unsupported Media Type"})


def problem(status: int, detail: str, **extra: Any) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(orjson.dumps(body), status_code=status, media_type="application/problem+json", headers=headers)


def problem_for(error: DomainError) -> Response:
    """The problem document a domain error is answered with."""
    return problem(status_for(error), error.detail, field=error.field, **error.extra)


def status_for(error: DomainError) -> int:
    """The HTTP status a domain error maps to (400 for a kind without its own)."""
    return next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400)


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson (pydantic models are dumped in JSON mode)."""
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers)


#: Scope key naming the route a request was served under when no Starlette route served it (shortcuts).
ROUTE_LABEL = "renshe.route"


class CorrelationMiddleware:
    """Takes ``X-Correlation-ID`` from the request (or makes one), exposes it to handlers, echoes it back,
    and counts requests per route. Plain ASGI: BaseHTTPMiddleware costs too much per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-correlation-id")
        cid = incoming.decode()[:128] if incoming else str(uuid.uuid4())
        token = correlation_id.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-correlation-id", cid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
            path = scope.get(ROUTE_LABEL) or getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], path, status).inc()
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)


#: Runs a shortcut's command: the app, the caller, the validated body and the event metadata.
ShortcutCommand = Callable[[Any, Principal, Any, Metadata], Awaitable[BaseModel]]


@dataclass(frozen=True)
class CommandShortcut:
    """A hot command route served without FastAPI's per-request machinery when the request is plain.

    Plain means: the route's method and path, ``Content-Type: application/json``, a valid bearer token, no
    ``Idempotency-Key``, and a body that validates as ``model``. Then ``run`` is awaited and its result
    answered with ``status_code`` (a ``DomainError`` with its problem document), exactly as the route's
    handler would. Anything else goes to the app unchanged, with the body already read replayed, so every
    error (401 before 422, 413, 415 ...) and the idempotent path stay the route's own. The route must
    still exist: it serves those requests and the OpenAPI document.
    """

    method: str
    path: str
    model: type[BaseModel]
    run: ShortcutCommand
    status_code: int = 201


class ShortcutMiddleware:
    """Serves ``CommandShortcut`` requests; sits inside ``CorrelationMiddleware`` (ids, metrics).

    Why: on the registration API, routing, dependency solving and body parsing in FastAPI and Starlette
    cost about a third of the CPU of a ``POST /persons`` (py-spy under bench http-post-persons), more than
    the command itself; the machine's two cores are the bound on commands per second.
    """

    def __init__(self, app: ASGIApp, shortcuts: Sequence[CommandShortcut] = ()) -> None:
        self.app = app
        self.shortcuts = {(s.method, s.path): s for s in shortcuts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        shortcut = self.shortcuts.get((scope.get("method", ""), scope.get("path", "")))
        if shortcut is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization, content_type = b"", b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"idempotency-key":  # the route stores the response with the command
                content_type = b""
                break
        if content_type != b"application/json":
            await self.app(scope, receive, send)
            return
        body, more, message = b"", True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: the app sees the same message
            body += message.get("body", b"")
            more = message.get("more_body", False)
        outcome = None if more else self._plain(scope, shortcut, authorization, body)
        if outcome is None:
            await self.app(scope, _replay(body, message, receive), send)
            return
        principal, command = outcome
        scope[ROUTE_LABEL] = shortcut.path  # counted under the route's path, as the route's requests are
        metadata = Metadata(actor=principal.subject, correlation_id=correlation_id.get())
        try:
            result = await shortcut.run(scope["app"], principal, command, metadata)
        except DomainError as refused:
            response = problem_for(refused)
        else:
            response = json_response(result, shortcut.status_code)
        await response(scope, receive, send)

    @staticmethod
    def _plain(
        scope: Scope, shortcut: CommandShortcut, authorization: bytes, body: bytes
    ) -> tuple[Principal, BaseModel] | None:
        """The caller and the validated body, or None when the route must decide."""
        try:
            principal = principal_of(authorization.decode("latin-1"), scope["app"].state.renshe.verifier)
            return principal, shortcut.model.model_validate_json(body)
        except (DomainError, ValueError):  # pydantic's ValidationError is a ValueError
            return None


def _replay(body: bytes, last: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body read so far, then whatever ``receive`` has next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if last is not None and last["type"] != "http.request":
        pending = [{"type": "http.request", "body": body, "more_body": True}, last]

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


@dataclass
class AppState:
    """What request handlers reach through ``request.app.state.renshe``."""

    pool: AsyncConnectionPool
    #: None on the ops endpoint of relays and workers, which serve no authenticated route.
    verifier: TokenVerifier | None
    bootstrap_servers: str
    broker_checked_at: float = 0.0
    broker_ok: bool = False


def app_state(request: Request) -> AppState:
    """The running app's shared state."""
    state: AppState = request.app.state.renshe
    return state


async def current_principal(request: Request) -> Principal:
    """The caller named by the bearer token (401 without one)."""
    return principal_of(request.headers.get("authorization", ""), app_state(request).verifier)


def principal_of(authorization: str, verifier: TokenVerifier | None) -> Principal:
    """The caller an ``Authorization`` header names; ``Unauthorized`` without a valid bearer token."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token or verifier is None:
        raise Unauthorized("a bearer token is required")
    return verifier.verify(token.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

Command = Callable[[Connection, Metadata], Awaitable[BaseModel]]


@dataclass
class CommandContext:
    """Runs one command in one transaction, with the caller's metadata and its Idempotency-Key."""

    pool: AsyncConnectionPool
    principal: Principal
    metadata: Metadata
    #: What the Idempotency-Key promises: the same method, path and body (empty without a key).
    fingerprint: str

    async def run(self, command: Command, *, status_code: int = 201) -> Response:
        """Execute ``command``; a retry with the same Idempotency-Key returns the first result unchanged."""
        key = self.metadata.idempotency_key
        async with self.pool.connection() as conn, conn.transaction():
            if key:
                cursor = await conn.execute(
                    "INSERT INTO idempotency_keys (subject, key, fingerprint) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING 1",
                    (self.principal.subject, key, self.fingerprint),
                )
                if await cursor.fetchone() is None:
                    cursor = await conn.execute(
                        "SELECT fingerprint, status, body FROM idempotency_keys WHERE subject = %s AND key = %s",
                        (self.principal.subject, key),
                    )
                    row = await cursor.fetchone()
                    assert row is not None
                    if row[0] != self.fingerprint:
                        raise RuleViolated(
                            "IdempotencyKeyReused",
                            "this Idempotency-Key was already used for a different request",
                            field="Idempotency-Key",
                        )
                    return json_response(row[2], row[1], headers={"Idempotent-Replayed": "true"})
            result = await command(conn, self.metadata)
            body = result.model_dump(mode="json")
            if key:
                await conn.execute(
                    "UPDATE idempotency_keys SET status = %s, body = %s WHERE subject = %s AND key = %s",
                    (status_code, orjson.dumps(body).decode(), self.principal.subject, key),
                )
        return json_response(body, status_code)


async def command_context(request: Request) -> CommandContext:
    """The context of a write: who, which correlation, which Idempotency-Key."""
    # The principal is resolved here rather than as a sub-dependency: each dependency level costs
    # FastAPI a measurable share of a small command's CPU.
    principal = await current_principal(request)
    key = request.headers.get("idempotency-key")
    fingerprint = ""
    if key:
        body = await request.body()
        fingerprint = hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\0" + body).hexdigest()
    metadata = Metadata(actor=principal.subject, correlation_id=correlation_id.get(), idempotency_key=key)
    return CommandContext(app_state(request).pool, principal, metadata, fingerprint)


Commands = Annotated[CommandContext, Depends(command_context)]


async def _db_connection(request: Request) -> AsyncIterator[Connection]:
    async with app_state(request).pool.connection() as conn:
        yield conn


DbConnection = Annotated[Connection, Depends(_db_connection)]


def _field_of(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[-1] if loc else "")


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

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal error; the request changed nothing", correlation_id=correlation_id.get())


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
    # The service's own routes first: every request is matched against routes in order.
    for router in routers:
        app.include_router(router)
    app.include_router(ops_router())
    # Added first, so it runs inside CorrelationMiddleware.
    app.add_middleware(ShortcutMiddleware, shortcuts=shortcuts)
    app.add_middleware(CorrelationMiddleware)
    return app
