"""Events of the ``staff`` stream: the roster of the service network (服务网络工作人员)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode

# --- staff roster (服务网络工作人员) -----------------------------------------------------------------------

#: What a member of the service network does (seed 003 §2; docs/rules.md, "Staff performance"):
#: ``broker`` the village's rural labour broker (农村劳务经纪人), ``guidance_officer`` a vocational guidance
#: officer (职业指导员) of a township or the county, ``coordinator`` a labour-security coordinator (劳动保障协理员)
#: of a township or community, ``clerk`` any other clerk of a service point (工作人员).
StaffRole = Literal["broker", "guidance_officer", "coordinator", "clerk"]
STAFF_ROLES: tuple[str, ...] = StaffRole.__args__  # type: ignore[attr-defined]

#: Why a staff member left the post; ``bottom_ranked`` is seed 003's 末位淘汰 (last two months running).
StaffLeaveReason = Literal["bottom_ranked", "resigned", "transferred", "contract_ended", "other"]


class _StaffFact(Event):
    stream_type: ClassVar[str] = "staff"

    staff_id: str
    subject: str = Field(description="The staff member's token subject: the ``actor`` of the events they cause")
    region_code: RegionCode = Field(description="The region of the service point the staff member works at")


class StaffAppointed(_StaffFact):
    """A staff member took a post at a service point (上岗): the roster's entry, read by reporting to credit
    every event whose actor is ``subject`` to them. No name travels: the subject is the staff number (工号)."""

    event_type: ClassVar[str] = "StaffAppointed"

    role: StaffRole
    service_point_id: str
    started_on: date


class StaffLeft(_StaffFact):
    """A staff member left the post (离岗), e.g. replaced after ranking last (末位淘汰)."""

    event_type: ClassVar[str] = "StaffLeft"

    service_point_id: str
    ended_on: date
    reason: StaffLeaveReason
