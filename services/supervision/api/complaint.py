"""Complaint routes (投诉): receive, ask for and record completed material, accept (opening a case), refuse."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.money import NonNegativeFen
from contracts.regions import normalise_region_code
from contracts.supervision import ComplaintType, EmployerRef, InspectionScope, RefusalReason
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.pii import mask_id_number
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
from services.supervision.commands.complaint import Complainant, ComplaintInput
from services.supervision.commands.context import CASE_ROLES, require_person_reader
from services.supervision.domain.complaint import ComplaintState, ComplaintStatus
from services.supervision.domain.limits import DeadlineView, deadline_view

router = APIRouter(tags=["complaints"])


class ComplainantBody(Body):
    """The complainant (投诉人): stored encrypted, never published."""

    name: str = Field(min_length=1, examples=["杨秀成"])
    id_number: str | None = Field(default=None, description="Resident ID number (GB 11643), checked when given")
    phone: str | None = None


class ComplaintCreate(Body):
    """A complaint as received (投诉登记)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region_code": "430527100201",
                    "complainant": {"name": "杨秀成", "phone": "13800000001"},
                    "employer": {
                        "credit_code": "91350100M000100Y43",
                        "name": "绥宁县长铺竹木加工厂",
                        "region_code": "430527100000",
                    },
                    "complaint_type": "wage_arrears",
                    "facts": "2026年6月起拖欠三名工人工资",
                    "violation_from": "2026-06-01",
                    "workers_concerned": 3,
                    "amount_claimed_fen": 1200000,
                }
            ]
        }
    )

    region_code: str | None = Field(default=None, description="Where it was received; default: your region")
    complainant: ComplainantBody
    employer: EmployerBody
    complaint_type: ComplaintType
    scope: InspectionScope | None = Field(default=None, description="条例 Art 11 matter; required for type other")
    facts: str = Field(examples=["2026年6月起拖欠三名工人工资"])
    violation_from: date
    violation_until: date | None = Field(default=None, description="Omit while the violation continues")
    received_on: date | None = Field(default=None, description="Default: today")
    workers_concerned: int = Field(default=1, ge=1)
    amount_claimed_fen: NonNegativeFen = 0


class CompletionRequest(Body):
    """Ask for missing material (补正材料): the decision clock stops."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"missing": ["工资条", "劳动合同复印件"]}]})

    missing: list[str] = Field(min_length=1, examples=[["工资条", "劳动合同复印件"]])
    requested_on: date | None = None


class CompletionRecord(Body):
    """The material arrived: the clock runs again."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"completed_on": "2026-10-12"}]})

    completed_on: date | None = None


class Acceptance(Body):
    """Accept (受理): a case is opened the same day."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"accepted_on": "2026-10-09"}]})

    accepted_on: date | None = None


class Refusal(Body):
    """Refuse in writing (不予受理)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "older_than_two_years", "explanation": "违法行为已于2024年3月终了，超过两年"}]
        }
    )

    reason: RefusalReason
    explanation: str = Field(min_length=1)
    refused_on: date | None = None


class ComplainantPublic(BaseModel):
    """The complainant as the officers handling the complaint see it."""

    name: str
    id_number: str | None
    phone: str | None


class ComplaintPublic(BaseModel):
    """A complaint with its decision limit."""

    complaint_id: str
    region_code: str
    status: ComplaintStatus
    employer: EmployerRef
    complaint_type: ComplaintType
    scope: InspectionScope
    violation_from: date
    violation_until: date | None
    received_on: date
    workers_concerned: int
    amount_claimed_fen: int
    decision: DeadlineView | None = Field(description="None while the clock is paused for material")
    paused_on: date | None
    workdays_left_when_paused: int | None
    decided_on: date | None
    case_id: str | None
    refusal_reason: RefusalReason | None
    complainant: ComplainantPublic | None = Field(default=None, description="Only for inspectors and the county")
    version: int


def complaint_public(
    service: Supervision, state: ComplaintState, complainant: Complainant | None = None
) -> ComplaintPublic:
    """The answer about a complaint."""
    ctx = service.context
    paused = state.status == "awaiting_material"
    return ComplaintPublic(
        complaint_id=state.complaint_id,
        region_code=state.region_code,
        status=state.status,
        employer=state.employer,
        complaint_type=state.complaint_type,
        scope=state.scope,
        violation_from=state.violation_from,
        violation_until=state.violation_until,
        received_on=state.received_on,
        workers_concerned=state.workers_concerned,
        amount_claimed_fen=state.amount_claimed_fen,
        decision=None
        if paused
        else deadline_view(ctx.calendar, state.decision_due, state.provisional, ctx.today(), state.decided_on),
        paused_on=state.paused_on,
        workdays_left_when_paused=state.clock_workdays if paused else None,
        decided_on=state.decided_on,
        case_id=state.case_id,
        refusal_reason=state.refusal_reason,
        complainant=None
        if complainant is None
        else ComplainantPublic(
            name=complainant.name,
            id_number=mask_id_number(complainant.id_number) if complainant.id_number else None,
            phone=complainant.phone,
        ),
        version=state.version,
    )


async def _with_complainant(
    service: Supervision, conn: Connection, principal: Principal, state: ComplaintState
) -> ComplaintPublic:
    who = await service.complaints.complainant(conn, state.complaint_id) if principal.role in CASE_ROLES else None
    return complaint_public(service, state, who)


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintPublic,
    responses=INVALID,
    summary="Receive a complaint (投诉登记)",
)
async def file_complaint(body: ComplaintCreate, service: Service, command: Commands) -> Response:
    given = ComplaintInput(
        region_code=body.region_code,
        complainant=Complainant(body.complainant.name, body.complainant.id_number, body.complainant.phone),
        employer=body.employer.given(),
        complaint_type=body.complaint_type,
        scope=body.scope,
        facts=body.facts,
        violation_from=body.violation_from,
        violation_until=body.violation_until,
        received_on=body.received_on,
        workers_concerned=body.workers_concerned,
        amount_claimed_fen=body.amount_claimed_fen,
    )

    async def run(conn: Connection, meta: Metadata) -> ComplaintPublic:
        changed = await service.complaints.file(conn, command.principal, given, command.metadata)
        return complaint_public(service, changed.after)

    return await run_change(command, run, 201)


class ComplaintSummary(BaseModel):
    """A complaint in a list (no complainant)."""

    complaint_id: str
    region_code: str
    complaint_type: ComplaintType
    status: ComplaintStatus
    received_on: date
    decision: DeadlineView | None
    case_id: str | None
    version: int


class ComplaintList(BaseModel):
    """A region's complaints, earliest decision first."""

    region_code: str
    complaints: list[ComplaintSummary]


@router.get("/complaints", response_model=ComplaintList, summary="A region's complaints; overdue=true: undecided late")
async def list_complaints(
    service: Service,
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: str | None = None,
    status: ComplaintStatus | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    require_person_reader(principal)
    try:
        code = normalise_region_code(region or principal.region)
    except ValueError as exc:
        raise RuleViolated("RegionCodeValid", str(exc), field="region") from None
    principal.require_region(code)
    ctx, today = service.context, service.context.today()
    found = await queries.region_complaints(
        conn, code, status=status, due_before=today if overdue else None, limit=limit
    )
    items = [
        ComplaintSummary(
            complaint_id=r[0],
            region_code=r[1],
            complaint_type=r[2],
            status=r[3],
            received_on=r[4],
            decision=None if r[3] == "awaiting_material" else deadline_view(ctx.calendar, r[5], r[6], today, r[7]),
            case_id=r[8],
            version=r[9],
        )
        for r in found
    ]
    return json_response(ComplaintList(region_code=code, complaints=items))


@router.get("/complaints/{complaint_id}", response_model=ComplaintPublic, responses=NOT_FOUND, summary="One complaint")
async def get_complaint(
    complaint_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    state = await service.complaints.get(conn, principal, complaint_id)
    return answer(await _with_complainant(service, conn, principal, state), state.version)


@router.get(
    "/complaints/{complaint_id}/history", response_model=History, responses=NOT_FOUND, summary="The audit trail"
)
async def complaint_history(
    complaint_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    require_person_reader(principal)
    return json_response(await history(conn, principal, service.complaints.complaints, complaint_id))


_CHANGES = ChangeRoutes(router, "complaint_id", complaint_public, ComplaintPublic)
_CHANGES.add(
    "/complaints/{complaint_id}/completion-request",
    CompletionRequest,
    "request_completion",
    "Ask the complainant to complete the material; the clock pauses",
    lambda s, conn, who, complaint_id, b, expected, meta: s.complaints.request_completion(
        conn, who, complaint_id, b.requested_on, b.missing, expected, meta
    ),
)
_CHANGES.add(
    "/complaints/{complaint_id}/completion",
    CompletionRecord,
    "complete",
    "Record the completed material; the clock runs again",
    lambda s, conn, who, complaint_id, b, expected, meta: s.complaints.complete(
        conn, who, complaint_id, b.completed_on, expected, meta
    ),
)
_CHANGES.add(
    "/complaints/{complaint_id}/acceptance",
    Acceptance,
    "accept",
    "Accept the complaint (受理) and open its case (立案)",
    lambda s, conn, who, complaint_id, b, expected, meta: s.complaints.accept(
        conn, who, complaint_id, b.accepted_on, expected, meta
    ),
)
_CHANGES.add(
    "/complaints/{complaint_id}/refusal",
    Refusal,
    "refuse",
    "Refuse the complaint in writing (不予受理)",
    lambda s, conn, who, complaint_id, b, expected, meta: s.complaints.refuse(
        conn, who, complaint_id, b.refused_on, b.reason, b.explanation, expected, meta
    ),
)
