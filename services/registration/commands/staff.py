"""Commands on the staff roster: appoint a staff member to a service point, record that they left.

Every change of the roster re-counts the point's staff and, when the count moved, re-assesses the point
against seed 001's staffing standard in the same statement (``ServicePointUpdated``), so that a point's
compliance follows who is in post rather than a number typed in (docs/rules.md, "Staff performance").
"""

from __future__ import annotations

import uuid

from contracts import registration as reg
from services.registration import queries
from services.registration.commands.context import Ledger
from services.registration.commands.service_point import save_service_point_row
from services.registration.domain.service_point import decide_update_service_point
from services.registration.domain.staff import (
    AppointStaff,
    StaffState,
    decide_appoint_staff,
    decide_leave,
    staffing_from_roster,
)
from services.registration.models.staff import StaffCreate, StaffLeave, StaffPublic
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.errors import Conflict, Forbidden
from services.runtime.eventstore import Append, Metadata

#: Who keeps the roster: the county runs its service network by results (seed 003 (四)).
ROSTER_KEEPERS = frozenset({Role.COUNTY, Role.ADMIN})


def require_roster_keeper(principal: Principal) -> None:
    """403 unless the caller is a county officer or an admin."""
    if principal.role not in ROSTER_KEEPERS:
        raise Forbidden("only county officers and admins keep the staff roster")


def staff_public(state: StaffState) -> StaffPublic:
    """An appointment as clients see it."""
    return StaffPublic(
        staff_id=state.staff_id,
        subject=state.subject,
        role=state.role,
        service_point_id=state.service_point_id,
        region_code=state.region_code,
        started_on=state.started_on,
        ended_on=state.ended_on,
        version=state.version,
    )


async def _restaff(ledger: Ledger, conn: Connection, service_point_id: str, metadata: Metadata) -> list[Append]:
    """The point re-assessed with its staff counted from the roster, when the count moved."""
    point = await ledger.service_points.load(conn, service_point_id)
    if point is None:
        return []
    in_post = await queries.staff_in_post_at(conn, service_point_id)
    events = decide_update_service_point(staffing_from_roster(point, in_post), point)
    if not events:
        return []
    after = ledger.service_points.fold(events, point)
    assert after is not None  # folded on top of a loaded point
    await save_service_point_row(conn, after)
    return [ledger.service_points.appending(service_point_id, point, events, metadata)]


async def appoint_staff(
    ledger: Ledger, conn: Connection, principal: Principal, body: StaffCreate, metadata: Metadata
) -> StaffPublic:
    """Put a staff member in a post (上岗); one post per subject at a time (409 naming the one held)."""
    require_roster_keeper(principal)
    point = await ledger.service_points.get(conn, body.service_point_id, principal)
    command = AppointStaff(
        staff_id=str(uuid.uuid4()),
        subject=body.subject,
        role=body.role,
        service_point=point,
        started_on=body.started_on or ledger.today(),
    )
    [event] = decide_appoint_staff(command, ledger.today())
    cursor = await conn.execute(
        "INSERT INTO staff (staff_id, subject, role, service_point_id, region_code, started_on, version)"
        " VALUES (%s, %s, %s, %s, %s, %s, 1) ON CONFLICT (subject) WHERE ended_on IS NULL DO NOTHING RETURNING 1",
        (event.staff_id, event.subject, event.role, event.service_point_id, event.region_code, event.started_on),
    )
    if await cursor.fetchone() is None:
        raise Conflict(
            f"staff {event.subject} already holds a post; record that they left it first",
            field="subject",
            staff_id=await queries.staff_id_in_post(conn, event.subject),
        )

    async def restaff(conn: Connection, changed: Changed[StaffState]) -> list[Append]:
        return await _restaff(ledger, conn, event.service_point_id, metadata)

    changed = await ledger.staff.create(conn, event.staff_id, [event], metadata, effects=restaff)
    return staff_public(changed.after)


async def leave_staff(
    ledger: Ledger,
    conn: Connection,
    principal: Principal,
    staff_id: str,
    body: StaffLeave,
    expected_version: int | None,
    metadata: Metadata,
) -> StaffPublic:
    """Record that a staff member left the post (离岗), e.g. replaced after ranking last (末位淘汰)."""
    require_roster_keeper(principal)
    today = ledger.today()

    def decide(state: StaffState) -> list[reg.StaffLeft]:
        return decide_leave(state, body.ended_on or today, body.reason, today)

    async def save(conn: Connection, changed: Changed[StaffState]) -> list[Append]:
        after = changed.after
        await conn.execute(
            "UPDATE staff SET ended_on = %s, version = %s WHERE staff_id = %s",
            (after.ended_on, after.version, after.staff_id),
        )
        return await _restaff(ledger, conn, after.service_point_id, metadata)

    changed = await ledger.staff.change(
        conn, staff_id, decide, metadata, expected_version=expected_version, principal=principal, effects=save
    )
    return staff_public(changed.after)
