"""The staff roster (服务网络工作人员花名册): who works at which service point, in which role, since when.

Seed 003 gives every village a rural labour broker (农村劳务经纪人) and the townships vocational guidance
officers (职业指导员) and coordinators (协理员), evaluated every month (docs/rules.md, "Staff performance").
The roster ties a token's subject, the ``actor`` of every event that staff member causes, to a post, so
that reporting can credit the events to them; the service point's staffing check counts the roster
(``staffing_from_roster``) instead of a number typed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from contracts import registration as reg
from contracts.envelope import Event
from services.registration.domain.common import not_first, not_in_future
from services.registration.domain.service_point import ServicePointDetails, ServicePointState
from services.runtime.errors import RuleViolated

#: The service-point levels each role works at (seed 003 §2: brokers in the villages, guidance officers at
#: the county and the townships, coordinators at the townships and the communities).
ROLE_LEVELS: dict[str, tuple[reg.ServicePointLevel, ...]] = {
    "broker": ("village",),
    "guidance_officer": ("county", "township"),
    "coordinator": ("township", "village"),
    "clerk": ("county", "township", "village"),
}


@dataclass(frozen=True)
class StaffState:
    """One appointment as its stream tells it; ``ended_on`` is None while the staff member is in post."""

    staff_id: str
    subject: str
    role: reg.StaffRole
    service_point_id: str
    region_code: str
    started_on: date
    version: int
    ended_on: date | None = None
    leave_reason: str | None = None


def evolve_staff(state: StaffState | None, event: Event) -> StaffState:
    """The appointment after one more of its events."""
    if isinstance(event, reg.StaffAppointed):
        return StaffState(
            event.staff_id,
            event.subject,
            event.role,
            event.service_point_id,
            event.region_code,
            event.started_on,
            version=1,
        )
    if state is None:
        raise not_first("staff", event)
    if isinstance(event, reg.StaffLeft):
        return replace(state, version=state.version + 1, ended_on=event.ended_on, leave_reason=event.reason)
    return replace(state, version=state.version + 1)


@dataclass(frozen=True)
class AppointStaff:
    """Put a staff member (by their token subject) in a post at a service point."""

    staff_id: str
    subject: str
    role: reg.StaffRole
    service_point: ServicePointState
    started_on: date


def decide_appoint_staff(command: AppointStaff, today: date) -> list[reg.StaffAppointed]:
    """A role works at its levels only (a broker at a village station); the post starts today or before."""
    point = command.service_point.event
    levels = ROLE_LEVELS[command.role]
    if point.level not in levels:
        raise RuleViolated(
            "StaffRoleFitsServicePoint",
            f"a {command.role} works at a {' or '.join(levels)} service point, but {point.name} is a {point.level}'s",
            field="role",
        )
    not_in_future(command.started_on, today, "started_on", "AppointmentNotInFuture")
    return [
        reg.StaffAppointed(
            staff_id=command.staff_id,
            subject=command.subject,
            region_code=point.region_code,
            role=command.role,
            service_point_id=point.service_point_id,
            started_on=command.started_on,
        )
    ]


def decide_leave(state: StaffState, ended_on: date, reason: reg.StaffLeaveReason, today: date) -> list[reg.StaffLeft]:
    """A staff member in post leaves on a day between the start of the post and today."""
    if state.ended_on is not None:
        raise RuleViolated(
            "StaffInPost", f"staff {state.subject} already left this post on {state.ended_on}", field="staff_id"
        )
    not_in_future(ended_on, today, "ended_on", "LeaveNotInFuture")
    if ended_on < state.started_on:
        raise RuleViolated(
            "LeaveAfterStart", f"ended_on {ended_on} is before the post started on {state.started_on}", field="ended_on"
        )
    return [
        reg.StaffLeft(
            staff_id=state.staff_id,
            subject=state.subject,
            region_code=state.region_code,
            service_point_id=state.service_point_id,
            ended_on=ended_on,
            reason=reason,
        )
    ]


def staffing_from_roster(point: ServicePointState, in_post: int) -> ServicePointDetails:
    """The point's details with its staff counted from the roster (what ``decide_update_service_point``
    re-assesses against seed 001's staffing standard)."""
    current = point.event
    return ServicePointDetails(
        name=current.name,
        staff=in_post,
        floor_area_m2=current.floor_area_m2,
        has_archive_room=current.has_archive_room,
        population_served=current.population_served,
        equipment=tuple(current.equipment),
    )
