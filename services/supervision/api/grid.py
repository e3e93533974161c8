"""Grid inspection routes (网格化监察): a visit with findings, and its follow-up."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.supervision import EmployerRef, Finding
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands, CurrentPrincipal, DbConnection
from services.runtime.routes import INVALID, NOT_FOUND, STALE, OptionalExpectedVersion, answer
from services.supervision.api import Body, EmployerBody, Service, Supervision, run_change
from services.supervision.domain.grid import GridInspectionState
from services.supervision.domain.limits import DeadlineView, deadline_view

router = APIRouter(tags=["grid inspection"])


class GridInspectionCreate(Body):
    """A grid inspector's visit (网格化巡查)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "grid": "长铺镇第3网格",
                    "employer": {"employer_id": "0190f3a2-6c1e-7c3e-9a4b-2f6d8e1a5b7c"},
                    "findings": [{"scope": "labour_contracts", "description": "5人未签书面劳动合同", "workers": 5}],
                }
            ]
        }
    )

    grid: str = Field(min_length=1, examples=["长铺镇第3网格"])
    employer: EmployerBody
    findings: list[Finding] = Field(default_factory=list, description="Empty: nothing wrong found")
    inspected_on: date | None = None


class FollowUpBody(Body):
    """The follow-up (复查); unresolved findings may open a case (inspectors and the county)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"resolved": False, "notes": "仍未签订", "open_case": True}]}
    )

    resolved: bool
    notes: str = ""
    open_case: bool = False
    followed_up_on: date | None = None


class GridInspectionPublic(BaseModel):
    """A grid inspection with its follow-up limit."""

    inspection_id: str
    region_code: str
    grid: str
    employer: EmployerRef
    inspected_on: date
    findings: list[Finding]
    follow_up: DeadlineView | None
    resolved: bool | None
    case_id: str | None
    version: int


def inspection_public(service: Supervision, state: GridInspectionState) -> GridInspectionPublic:
    """The answer about a grid inspection."""
    ctx = service.context
    follow_up = None
    if state.follow_up_due is not None:
        follow_up = deadline_view(
            ctx.calendar, state.follow_up_due, state.provisional, ctx.today(), state.followed_up_on
        )
    return GridInspectionPublic(
        inspection_id=state.inspection_id,
        region_code=state.region_code,
        grid=state.grid,
        employer=state.employer,
        inspected_on=state.inspected_on,
        findings=list(state.findings),
        follow_up=follow_up,
        resolved=state.resolved,
        case_id=state.case_id,
        version=state.version,
    )


@router.post("/grid-inspections", status_code=201, response_model=GridInspectionPublic, responses=INVALID)
async def record_inspection(body: GridInspectionCreate, service: Service, command: Commands) -> Response:
    """Record a grid inspection of an employer in your township."""

    async def run(conn: Connection, meta: Metadata) -> GridInspectionPublic:
        changed = await service.grid.record(
            conn, command.principal, body.grid, body.employer.given(), body.inspected_on, body.findings, meta
        )
        return inspection_public(service, changed.after)

    return await run_change(command, run, 201)


@router.get("/grid-inspections/{inspection_id}", response_model=GridInspectionPublic, responses=NOT_FOUND)
async def get_inspection(
    inspection_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    """One grid inspection."""
    state = await service.grid.inspections.get(conn, inspection_id, principal)
    return answer(inspection_public(service, state), state.version)


@router.post(
    "/grid-inspections/{inspection_id}/follow-up",
    response_model=GridInspectionPublic,
    responses={**NOT_FOUND, **STALE, **INVALID},
)
async def follow_up(
    inspection_id: str, body: FollowUpBody, service: Service, command: Commands, expected: OptionalExpectedVersion
) -> Response:
    """Follow up the findings; ``open_case`` escalates unresolved ones to a case."""

    async def run(conn: Connection, meta: Metadata) -> GridInspectionPublic:
        changed = await service.grid.follow_up(
            conn, command.principal, inspection_id, body.followed_up_on, body.resolved, body.notes, body.open_case,
            expected, meta,
        )  # fmt: skip
        return inspection_public(service, changed.after)

    return await run_change(command, run)
