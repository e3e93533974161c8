"""Supervision's HTTP routes: thin, each one a command or a query; one module per aggregate.

Every answer about a stream carries its version as ETag and in the body; a change may send it back as
If-Match (a stale one is 409). Every time limit is shown as a :class:`DeadlineView`: due day, whether it is
provisional, overdue, working days left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.runtime.aggregate import Aggregate, Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import CommandContext, Commands
from services.runtime.routes import INVALID, NOT_FOUND, STALE, OptionalExpectedVersion, add_body_route, with_etag
from services.supervision.commands.case import CaseCommands
from services.supervision.commands.complaint import ComplaintCommands
from services.supervision.commands.context import Context, EmployerInput
from services.supervision.commands.dispute import DisputeCommands
from services.supervision.commands.grid import GridCommands
from services.supervision.commands.limits import KeptLimits
from services.supervision.commands.petition import PetitionCommands
from services.supervision.commands.rating import RatingCommands


@dataclass
class Supervision:
    """The service's commands, reached by routes through ``request.app.state.supervision``."""

    context: Context
    ratings: RatingCommands
    cases: CaseCommands
    complaints: ComplaintCommands
    grid: GridCommands
    disputes: DisputeCommands
    petitions: PetitionCommands

    def kept_limits(self) -> list[KeptLimits[Any]]:
        """The limits of every kind of stream, for the worker's recompute."""
        return [c.limits for c in (self.complaints, self.cases, self.grid, self.disputes, self.petitions)]

    @classmethod
    def of(cls, context: Context) -> Supervision:
        """Every command object on one context."""
        ratings = RatingCommands(context)
        cases = CaseCommands(context, ratings)
        return cls(
            context,
            ratings,
            cases,
            ComplaintCommands(context, cases),
            GridCommands(context, cases),
            DisputeCommands(context),
            PetitionCommands(context),
        )


def _supervision(request: Request) -> Supervision:
    service: Supervision = request.app.state.supervision
    return service


Service = Annotated[Supervision, Depends(_supervision)]


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class EmployerBody(Body):
    """The employer: registration's ``employer_id``, or free text with the credit code (GB 32100)."""

    employer_id: str | None = None
    credit_code: str | None = Field(default=None, examples=["91350100M000100Y43"])
    name: str | None = Field(default=None, examples=["绥宁县长铺竹木加工厂"])
    region_code: str | None = Field(default=None, description="Township or village where it operates")

    def given(self) -> EmployerInput:
        """The command's form of it."""
        return EmployerInput(self.employer_id, self.credit_code, self.name, self.region_code)


async def run_change(
    command: CommandContext,
    run: Callable[[Connection, Metadata], Awaitable[BaseModel]],
    status_code: int = 200,
) -> Response:
    """Run a command in one transaction and answer with the stream's new version as ETag."""
    response = await command.run(run, status_code=status_code)
    version = orjson.loads(bytes(response.body)).get("version")
    return with_etag(response, int(version)) if version is not None else response


#: What a change route runs: (service, connection, caller, the stream id of the path, the validated body,
#: If-Match's version or None, metadata) -> the changed stream.
Change = Callable[[Supervision, Connection, Principal, str, Any, int | None, Metadata], Awaitable[Changed[Any]]]


@dataclass(frozen=True)
class ChangeRoutes:
    """The change routes of one kind of stream: each a ``POST`` on a path naming the stream by ``id_name``,
    taking If-Match (optional) and answering the stream's public view with its new version as ETag.

    One endpoint serves them all; a route is declared by its path, body model and the change it runs.
    """

    router: APIRouter
    id_name: str
    public: Callable[[Supervision, Any], BaseModel]
    response_model: type[BaseModel]

    def add(self, path: str, body: type[BaseModel], name: str, summary: str, change: Change, doc: str = "") -> None:
        """``POST path``; ``name`` is the operation's (the OpenAPI operationId), ``doc`` its description."""
        id_name, public = self.id_name, self.public

        async def endpoint(
            *, body: BaseModel, service: Supervision, command: CommandContext, expected: int | None, **ids: str
        ) -> Response:
            async def run(conn: Connection, meta: Metadata) -> BaseModel:
                changed = await change(service, conn, command.principal, ids[id_name], body, expected, meta)
                return public(service, changed.after)

            return await run_change(command, run)

        add_body_route(
            self.router,
            path,
            body,
            endpoint,
            {"service": Service, "command": Commands, "expected": OptionalExpectedVersion},
            response_model=self.response_model,
            responses={**NOT_FOUND, **STALE, **INVALID},
            summary=summary or None,
            description=doc,
            name=name,
        )


class HistoryEntry(BaseModel):
    """One event of a stream: who did what, when, and why (the audit trail, docs/design.md "Security and data")."""

    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]


class History(BaseModel):
    """Every event of one stream, in order."""

    stream_id: str
    entries: list[HistoryEntry]


async def history(conn: Connection, principal: Principal, aggregate: Aggregate[Any], stream_id: str) -> History:
    """The stream's events, after the same 404 and region checks as reading it."""
    await aggregate.get(conn, stream_id, principal)
    recorded = await aggregate.store.load(conn, stream_id)
    return History(
        stream_id=stream_id,
        entries=[
            HistoryEntry(
                version=r.envelope.version,
                type=r.envelope.type,
                occurred_at=r.envelope.occurred_at,
                recorded_at=r.envelope.recorded_at,
                actor=r.envelope.actor,
                correlation_id=r.envelope.correlation_id,
                causation_id=r.envelope.causation_id,
                data=r.envelope.data,
            )
            for r in recorded
        ],
    )


def router() -> APIRouter:
    """Every supervision route."""
    from services.supervision.api import case, complaint, deadlines, dispute, grid, petition, rating

    combined = APIRouter()
    for module in (complaint, case, grid, dispute, petition, rating, deadlines):
        combined.include_router(module.router)
    return combined
