"""What a request handler depends on: the app's state, the caller, a connection, a command's context.

Typed FastAPI dependencies (``CurrentPrincipal``, ``DbConnection``, ``Commands``) so routes declare what
they need and nothing else; a command runs in one transaction with its Idempotency-Key record.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from services.runtime.auth import Principal, TokenVerifier
from services.runtime.db import Connection
from services.runtime.errors import (
    RuleViolated,
    Unauthorized,
)
from services.runtime.eventstore import Metadata
from services.runtime.problems import json_response

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

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

    async def run(self, command: Command, *, status_code: int = 201, etag: bool = False) -> Response:
        """Execute ``command``; a retry with the same Idempotency-Key returns the first result unchanged.

        ``etag``: the answer carries the result's ``version`` as its ETag (a stream's new version), the
        replayed answer too.
        """
        response = await self._run(command, status_code)
        if etag:
            response.headers["ETag"] = f'"{orjson.loads(response.body)["version"]}"'
        return response

    async def _run(self, command: Command, status_code: int) -> Response:
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
    principal.require_writer()
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
