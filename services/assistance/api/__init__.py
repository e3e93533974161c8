"""Assistance's HTTP routes, one module per aggregate: thin, each one a command or a query.

Every change answers with the stream's new ``version`` (also the ETag); send it back as ``If-Match``
and a change someone else made in between is a 409 rather than lost. A rule that refuses is a 422
naming the field and the rule, and writes nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from contracts.regions import normalise_region_code
from services.assistance.commands import Streams
from services.assistance.commands.cases import CaseChange, CaseCommands
from services.assistance.commands.certification import CertificationCommands
from services.assistance.commands.households import HouseholdCommands
from services.assistance.commands.posts import PostCommands
from services.assistance.domain import not_in_future
from services.assistance.domain.cases import CaseState
from services.runtime.aggregate import Changed, is_uuid
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, Forbidden, NotFound, RuleViolated
from services.runtime.eventstore import Metadata
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import CommandContext, Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import INVALID, NOT_FOUND, STALE, OptionalExpectedVersion, add_body_route, with_etag


@dataclass
class Handlers:
    """The write side the routes reach through ``request.app.state.assistance``."""

    streams: Streams
    cases: CaseCommands
    certifications: CertificationCommands
    households: HouseholdCommands
    posts: PostCommands
    #: Plain changes of a case (a service recorded) share transactions (group commit); None: each alone.
    case_batches: GroupCommit[CaseChange, Changed[CaseState]] | None = None

    @classmethod
    def of(cls, streams: Streams, pool: AsyncConnectionPool | None = None) -> Handlers:
        """Every aggregate's commands over ``streams``; with ``pool``, case changes are group-committed."""
        cases = CaseCommands(streams)
        batches = None if pool is None else GroupCommit(pool, cases.change_many, name="case_change")
        certifications, households = CertificationCommands(streams), HouseholdCommands(streams)
        return cls(streams, cases, certifications, households, PostCommands(streams, cases), batches)


def handlers(request: Request) -> Handlers:
    """The running app's command handlers."""
    found: Handlers = request.app.state.assistance
    return found


class EventSummary(BaseModel):
    """One event a command appended."""

    type: str
    data: dict[str, Any]


class ChangeResult(BaseModel):
    """What a command did: the stream it changed, its new version (the ETag) and the events appended."""

    id: str
    version: int
    events: list[EventSummary] = Field(default_factory=list)


def change_result(changed: Changed[Any]) -> ChangeResult:
    """The answer to a command."""
    return ChangeResult(
        id=changed.stream_id,
        version=changed.version,
        events=[EventSummary(type=e.event_type, data=e.model_dump(mode="json")) for e in changed.events],
    )


#: Times a change that named no version is tried again after a concurrent change of the same stream.
CONFLICT_RETRIES = 4


async def run(
    command: CommandContext,
    change: Callable[[Connection, Metadata], Awaitable[Changed[Any]]],
    *,
    status_code: int = 200,
    expected_version: int | None = None,
) -> Response:
    """Run a change in one transaction (with Idempotency-Key) and answer with its version as ETag.

    A caller who sent no If-Match asked for the change whatever the version: when another change of the
    same stream commits first, the change is decided again on the new state (a fresh transaction) instead
    of answering 409. A caller who sent If-Match gets the 409.
    """

    async def go(conn: Connection, metadata: Metadata) -> ChangeResult:
        return change_result(await change(conn, metadata))

    retries = CONFLICT_RETRIES if expected_version is None else 0
    for attempt in range(retries + 1):
        try:
            response = await command.run(go, status_code=status_code)
            break
        except Conflict:
            if attempt == retries:
                raise
    return with_etag(response, int(orjson.loads(response.body)["version"]))


#: A change a route runs in the command's transaction.
Run = Callable[[Connection, Metadata], Awaitable[Changed[Any]]]
#: A route's preparation: (handlers, caller, the path's ids, the validated body, If-Match's version or None)
#: -> the change to run; what it checks before the transaction (a day in the future) it checks here.
Prepare = Callable[[Handlers, Principal, dict[str, str], Any, int | None], Run]

#: OpenAPI responses of a change route.
CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {**NOT_FOUND, **STALE, **INVALID}


def add_change(
    router: APIRouter,
    path: str,
    body: type[BaseModel],
    prepare: Prepare,
    *,
    method: str = "POST",
    responses: dict[int | str, dict[str, Any]] = CHANGE_RESPONSES,
) -> None:
    """Add ``method path`` that runs ``prepare``'s change (:func:`run`: If-Match optional, retried on a lost
    race without it) and answers the :class:`ChangeResult` with its version as ETag. The first line of
    ``prepare``'s docstring is the route's summary and its name the operation's, so a command's route is
    declared in one statement."""

    async def endpoint(
        *, body: BaseModel, request: Request, command: CommandContext, version: int | None, **ids: str
    ) -> Response:
        change = prepare(handlers(request), command.principal, ids, body, version)
        return await run(command, change, expected_version=version)

    add_command_route(router, path, body, endpoint, prepare, method=method, responses=responses)


#: An endpoint of a command route: the validated body, the request, the command's context, If-Match's
#: version, and the path's ids by name.
Endpoint = Callable[..., Awaitable[Response]]


def add_command_route(
    router: APIRouter,
    path: str,
    body: type[BaseModel],
    endpoint: Endpoint,
    described_by: Callable[..., Any],
    *,
    method: str = "POST",
    responses: dict[int | str, dict[str, Any]] = CHANGE_RESPONSES,
) -> None:
    """``method path`` served by ``endpoint(body=, request=, command=, version=, **ids)`` answering a
    :class:`ChangeResult`; its summary is the first line of ``described_by``'s docstring and its operation
    is named after it."""
    add_body_route(
        router,
        path,
        body,
        endpoint,
        {"request": Request, "command": Commands, "version": OptionalExpectedVersion},
        method=method,
        response_model=ChangeResult,
        responses=responses,
        summary=(inspect.getdoc(described_by) or "").splitlines()[0],
        name=described_by.__name__,
    )


def day(value: date | None, field: str) -> date:
    """The day a clerk says something happened: today when not said, never in the future."""
    today = date.today()
    return today if value is None else not_in_future(value, today, field)


def region(code: str, field: str = "region_code") -> str:
    """A region code in its 12-digit form; 422 naming the field when it is not one."""
    try:
        return normalise_region_code(code)
    except ValueError as exc:
        raise RuleViolated("RegionCodeValid", f"{field}: {exc}", field=field) from exc


def require_person_reader(principal: Principal) -> None:
    """Analysts read aggregates only, never a person's case."""
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person", field="role")


class HistoryEntry(BaseModel):
    """One event of a stream: who, when, what (the audit trail, docs/design.md "Security and data")."""

    event_id: str = Field(description="The event's id, as the staff evaluation lists it")
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None = Field(description="Staff id, or the service whose event caused it")
    correlation_id: str | None
    causation_id: str | None = Field(description="The event that caused this one (reactions)")
    data: dict[str, Any]


class History(BaseModel):
    """Every event of a stream, oldest first."""

    stream_id: str
    stream_type: str
    entries: list[HistoryEntry]


history_router = APIRouter(tags=["audit"])


@history_router.get("/streams/{stream_id}/history", response_model=History, summary="Who did what to a stream")
async def stream_history(stream_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    """The audit trail of any assistance stream (case, application, certification, household, post)."""
    require_person_reader(principal)
    recorded = await handlers(request).streams.store.load(conn, stream_id) if is_uuid(stream_id) else []
    if not recorded:
        raise NotFound(f"no stream {stream_id}", field="stream_id")
    # The region of a stream is that of its latest event (a case follows its person's moves).
    region_code = recorded[-1].envelope.region_code
    if region_code:
        principal.require_region(region_code)
    entries = [
        HistoryEntry(
            event_id=str(r.envelope.event_id),
            version=r.envelope.version,
            type=r.envelope.type,
            occurred_at=r.envelope.occurred_at,
            recorded_at=r.envelope.recorded_at,
            actor=r.metadata.get("actor"),
            correlation_id=r.metadata.get("correlation_id"),
            causation_id=r.metadata.get("causation_id"),
            data=r.envelope.data,
        )
        for r in recorded
    ]
    body = History(stream_id=stream_id, stream_type=recorded[0].envelope.stream_type, entries=entries)
    return json_response(body.model_dump(mode="json"))


def build_router() -> APIRouter:
    """Every route of the service."""
    from services.assistance.api import cases, certification, households, posts, ratings, services

    router = APIRouter()
    router.include_router(history_router)
    for module in (cases, services, ratings, certification, households, posts):
        router.include_router(module.router)
    return router
