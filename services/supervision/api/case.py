"""Case routes (立案查处): the overdue and due-soon lists, one case, and each step as a POST.

``GET /cases?overdue=true&region=…`` lists the open cases of a region whose investigation limit has passed,
in due order with a keyset cursor; ``GET /cases/due-soon?region=<township>`` those due within the next
working days (``DUE_SOON_WORKDAYS``). Steps are for inspectors and the county; the extension for the county.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.money import NonNegativeFen
from contracts.regions import normalise_region_code
from contracts.supervision import CaseSource, EmployerRef, InspectionScope
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import INVALID, NOT_FOUND, answer
from services.supervision import queries
from services.supervision.api import (
    Body,
    ChangeRoutes,
    EmployerBody,
    History,
    Service,
    Supervision,
    history,
    run_change,
)
from services.supervision.commands.case import Decide
from services.supervision.domain.case import CaseState, CaseStatus, Outcome
from services.supervision.domain.limits import DeadlineView, deadline_view

router = APIRouter(tags=["cases"])

Method = Literal["site", "documents", "interview"]


class CaseCreate(Body):
    """A case opened without a complaint (ex officio, grid inspection, arrears monitoring)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employer": {"employer_id": "0190f3a2-6c1e-7c3e-9a4b-2f6d8e1a5b7c"},
                    "source": "ex_officio",
                    "scope": "wages_minimum_wage",
                    "workers_concerned": 5,
                }
            ]
        }
    )

    employer: EmployerBody
    source: CaseSource = "ex_officio"
    scope: InspectionScope
    opened_on: date | None = None
    workers_concerned: int = Field(default=0, ge=0)


class InspectionBody(Body):
    """An inspection (调查检查)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"method": "site", "findings": "工资表缺三个月，三名工人未发工资", "violation_found": True}]
        }
    )

    method: Method = "site"
    findings: str = Field(min_length=1)
    violation_found: bool
    inspected_on: date | None = None


class RectificationOrderBody(Body):
    """A rectification order (责令改正): its deadline as a date, or as working days (default 15)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"requirements": "十日内补发拖欠工资", "workdays": 10}]})

    requirements: str = Field(min_length=1)
    due_on: date | None = None
    workdays: int | None = Field(default=None, ge=1, le=90)
    ordered_on: date | None = None


class VerificationBody(Body):
    """The order's verification."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"complied": True, "wages_paid_fen": 1200000}]})

    complied: bool
    wages_paid_fen: NonNegativeFen = 0
    verified_on: date | None = None


class PenaltyBody(Body):
    """A penalty (行政处罚), in fen."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount_fen": 500000, "legal_basis": "劳动保障监察条例 Art 26"}]}
    )

    amount_fen: NonNegativeFen
    legal_basis: str = Field(examples=["劳动保障监察条例 Art 26"])
    decided_on: date | None = None


class ExtensionBody(Body):
    """The one extension (条例 Art 17), approved by the county bureau."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"workdays": 30, "reason": "涉及人数多，需调取银行流水"}]}
    )

    workdays: int = Field(examples=[30])
    reason: str
    approved_on: date | None = None


class TransferBody(Body):
    """A transfer (移送)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "public_security", "reason": "涉嫌拒不支付劳动报酬罪"}]}
    )

    to: Literal["public_security", "other_department", "other_jurisdiction"]
    reason: str
    transferred_on: date | None = None


class ClosureBody(Body):
    """Closure (结案)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"outcome": "corrected"}]})

    outcome: Outcome
    wages_recovered_fen: NonNegativeFen | None = Field(default=None, description="Default: what the orders recovered")
    closed_on: date | None = None


class CasePublic(BaseModel):
    """A case with its limits."""

    case_id: str
    region_code: str
    employer: EmployerRef
    source: CaseSource
    complaint_id: str | None
    scope: InspectionScope
    status: CaseStatus
    opened_on: date
    investigation: DeadlineView
    extended: bool
    rectification: DeadlineView | None
    inspections: int
    violation_found: bool
    penalties: int
    penalty_fen: int
    wages_paid_fen: int
    closed_on: date | None
    transferred_to: str | None
    version: int


class CaseSummary(BaseModel):
    """A case in a list."""

    case_id: str
    region_code: str
    employer_id: str
    employer_name: str
    scope: str
    source: str
    opened_on: date
    investigation: DeadlineView
    extended: bool
    rectification_due: date | None
    version: int


class CasePage(BaseModel):
    """A page of cases in due order; pass ``next_cursor`` as ``cursor`` for the next."""

    region_code: str
    as_of: date
    cases: list[CaseSummary]
    next_cursor: str | None


def case_public(service: Supervision, state: CaseState) -> CasePublic:
    """The answer about a case."""
    cal, today = service.context.calendar, service.context.today()
    rectification = None
    if state.order_due is not None:
        done = None if state.order_open else state.since
        rectification = deadline_view(cal, state.order_due, state.order_provisional, today, done)
    return CasePublic(
        case_id=state.case_id,
        region_code=state.region_code,
        employer=state.employer,
        source=state.source,
        complaint_id=state.complaint_id,
        scope=state.scope,
        status=state.status,
        opened_on=state.opened_on,
        investigation=deadline_view(cal, state.due_on, state.provisional, today, state.closed_on),
        extended=state.extended,
        rectification=rectification,
        inspections=state.inspections,
        violation_found=state.violation_found,
        penalties=state.penalties,
        penalty_fen=state.penalty_fen,
        wages_paid_fen=state.wages_paid_fen,
        closed_on=state.closed_on,
        transferred_to=state.transferred_to,
        version=state.version,
    )


def _cursor(due: date, case_id: str) -> str:
    return base64.urlsafe_b64encode(f"{due.isoformat()}|{case_id}".encode()).decode()


def _after(cursor: str | None) -> tuple[date, str] | None:
    if not cursor:
        return None
    try:
        due, case_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return date.fromisoformat(due), case_id
    except ValueError:
        raise RuleViolated(
            "CursorFromAPage", "cursor must be a next_cursor of an earlier page", field="cursor"
        ) from None


def _page(service: Supervision, region: str, rows: list[tuple[Any, ...]], limit: int) -> CasePage:
    cal, today = service.context.calendar, service.context.today()
    cases = [
        CaseSummary(
            case_id=r[0],
            region_code=r[1],
            employer_id=r[2],
            employer_name=r[3],
            scope=r[4],
            source=r[5],
            opened_on=r[7],
            investigation=deadline_view(cal, r[8], r[9], today, None),
            extended=r[10],
            rectification_due=r[11],
            version=r[13],
        )
        for r in rows
    ]
    more = len(rows) == limit
    return CasePage(
        region_code=region,
        as_of=today,
        cases=cases,
        next_cursor=_cursor(rows[-1][8], rows[-1][0]) if more and rows else None,
    )


def _region(raw: str | None, principal_region: str) -> str:
    try:
        return normalise_region_code(raw or principal_region)
    except ValueError as exc:
        raise RuleViolated("RegionCodeValid", str(exc), field="region") from None


Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/cases", response_model=CasePage, summary="Open cases of a region in due order; overdue=true: passed ones")
async def list_cases(
    service: Service,
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: str | None = None,
    overdue: bool = False,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    code = _region(region, principal.region)
    principal.require_region(code)
    today = service.context.today()
    rows = await queries.open_cases(
        conn, code, due_before=today if overdue else None, after=_after(cursor), limit=limit
    )
    return json_response(_page(service, code, rows, limit))


@router.get("/cases/due-soon", response_model=CasePage, summary="Open cases of a township due in the next working days")
async def due_soon(
    service: Service,
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: str | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    code = _region(region, principal.region)
    principal.require_region(code)
    ctx = service.context
    today = ctx.today()
    horizon = ctx.calendar.add_workdays(today, ctx.limits.due_soon_workdays).due
    rows = await queries.open_cases(conn, code, due_from=today, due_until=horizon, after=_after(cursor), limit=limit)
    return json_response(_page(service, code, rows, limit))


@router.post("/cases", status_code=201, response_model=CasePublic, responses=INVALID, summary="Open a case (立案)")
async def open_case(body: CaseCreate, service: Service, command: Commands) -> Response:
    async def run(conn: Connection, meta: Metadata) -> CasePublic:
        changed = await service.cases.open(
            conn, command.principal, body.employer.given(), body.source, body.scope, body.opened_on,
            body.workers_concerned, meta,
        )  # fmt: skip
        return case_public(service, changed.after)

    return await run_change(command, run, 201)


@router.get("/cases/{case_id}", response_model=CasePublic, responses=NOT_FOUND, summary="One case with its limits")
async def get_case(case_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    state = await service.cases.get(conn, principal, case_id)
    return answer(case_public(service, state), state.version)


@router.get("/cases/{case_id}/history", response_model=History, responses=NOT_FOUND, summary="The case's audit trail")
async def case_history(case_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    return json_response(await history(conn, principal, service.cases.cases, case_id))


_CHANGES = ChangeRoutes(router, "case_id", case_public, CasePublic)


def _add_step(path: str, body: type[BaseModel], name: str, summary: str, decide: Callable[[Any, Any], Decide]) -> None:
    """A step of the case decided on its state: ``decide(case commands, body)`` builds the decision."""
    _CHANGES.add(
        path,
        body,
        name,
        summary,
        lambda s, conn, who, case_id, b, expected, meta: s.cases.step(
            conn, who, case_id, decide(s.cases, b), expected, meta
        ),
    )


_add_step(
    "/cases/{case_id}/inspections",
    InspectionBody,
    "inspect",
    "Record an inspection",
    lambda cases, b: cases.inspect(b.inspected_on, b.method, b.findings, b.violation_found),
)
_add_step(
    "/cases/{case_id}/rectification-orders",
    RectificationOrderBody,
    "order_rectification",
    "Order rectification",
    lambda cases, b: cases.order_rectification(b.ordered_on, b.requirements, b.due_on, b.workdays),
)
_add_step(
    "/cases/{case_id}/rectification-verification",
    VerificationBody,
    "verify_rectification",
    "Verify the rectification order",
    lambda cases, b: cases.verify_rectification(b.verified_on, b.complied, b.wages_paid_fen),
)
_add_step(
    "/cases/{case_id}/penalties",
    PenaltyBody,
    "penalty",
    "Impose a penalty (fen)",
    lambda cases, b: cases.penalty(b.decided_on, b.amount_fen, b.legal_basis),
)
_CHANGES.add(
    "/cases/{case_id}/extension",
    ExtensionBody,
    "extend",
    "Extend the investigation once",
    lambda s, conn, who, case_id, b, expected, meta: s.cases.extend(
        conn, who, case_id, b.approved_on, b.workdays, b.reason, expected, meta
    ),
)
_add_step(
    "/cases/{case_id}/transfer",
    TransferBody,
    "transfer",
    "Transfer the case (移送)",
    lambda cases, b: cases.transfer(b.transferred_on, b.to, b.reason),
)
_add_step(
    "/cases/{case_id}/closure",
    ClosureBody,
    "close",
    "Close the case (结案)",
    lambda cases, b: cases.close(b.closed_on, b.outcome, b.wages_recovered_fen),
)
