"""Routes of the staff roster: appoint, list a region's roster, read, record leaving."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.registration import queries
from services.registration.api.deps import (
    CONFLICT,
    INVALID,
    LedgerDep,
    ledger_of,
    region_query,
    require_sees_persons,
)
from services.registration.commands import staff
from services.registration.commands.staff import staff_public
from services.registration.domain.staff import StaffState
from services.registration.models.staff import StaffCreate, StaffLeave, StaffList, StaffPublic
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import NOT_FOUND, STALE, ExpectedVersion, answer, in_scope

router = APIRouter(tags=["staff roster"])

StaffInScope = Annotated[StaffState, Depends(in_scope(lambda r: ledger_of(r).staff, "staff_id"))]


@router.post(
    "/staff",
    status_code=201,
    response_model=StaffPublic,
    responses={**CONFLICT, **INVALID},
    summary="Appoint a staff member to a service point (上岗): broker, guidance officer, coordinator or clerk",
)
async def appoint_staff(body: StaffCreate, ledger: LedgerDep, command: Commands) -> Response:
    return await command.run(
        lambda conn, meta: staff.appoint_staff(ledger, conn, command.principal, body, meta), etag=True
    )


@router.get("/staff", response_model=StaffList, summary="The staff roster of a region subtree")
async def list_staff(
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: Annotated[str, Query(description="Region code (2-12 digits); its whole subtree", examples=["430527"])],
    in_post_on: Annotated[date | None, Query(description="Only those in post on this day")] = None,
) -> Response:
    require_sees_persons(principal)
    code = region_query(region)
    principal.require_region(code)
    rows = [
        StaffPublic(**row) for row in await queries.staff_in(conn, queries.subtree_prefix(code), in_post_on=in_post_on)
    ]
    return json_response(StaffList(region_code=code, count=len(rows), staff=rows))


@router.get("/staff/{staff_id}", response_model=StaffPublic, responses=NOT_FOUND, summary="One appointment")
async def get_staff(staff_id: str, state: StaffInScope, principal: CurrentPrincipal) -> Response:
    require_sees_persons(principal)
    return answer(staff_public(state), state.version)


@router.post(
    "/staff/{staff_id}/leave",
    response_model=StaffPublic,
    responses={**NOT_FOUND, **STALE, **INVALID},
    summary="Record that a staff member left the post (离岗), e.g. replaced after ranking last (末位淘汰)",
)
async def leave_staff(
    staff_id: str, body: StaffLeave, ledger: LedgerDep, command: Commands, expected: ExpectedVersion
) -> Response:
    return await command.run(
        lambda conn, meta: staff.leave_staff(ledger, conn, command.principal, staff_id, body, expected, meta),
        status_code=200,
        etag=True,
    )
