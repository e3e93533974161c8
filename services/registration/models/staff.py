"""What clients send and see for the staff roster (服务网络工作人员)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.registration import StaffLeaveReason, StaffRole

#: A token subject: the staff number (工号) the bureau's identity provider issues.
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\s:]+$")]


class StaffCreate(BaseModel):
    """Put a staff member in a post: their token subject, role and service point."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "v-yang",
                    "role": "broker",
                    "service_point_id": "0b8e7f6a-4b7d-4c1e-9a53-2d0b6f1c2a9e",
                    "started_on": "2026-01-05",
                }
            ]
        },
    )

    subject: Subject = Field(description="The staff member's token subject (no spaces or colons)")
    role: StaffRole
    service_point_id: str
    started_on: date | None = Field(default=None, description="When the post started; default today")


class StaffLeave(BaseModel):
    """A staff member leaves the post."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ended_on": "2026-11-30", "reason": "bottom_ranked"}]}
    )

    ended_on: date | None = Field(default=None, description="The last day in post; default today")
    reason: StaffLeaveReason


class StaffPublic(BaseModel):
    """One appointment on the roster."""

    staff_id: str
    subject: str
    role: StaffRole
    service_point_id: str
    region_code: str
    started_on: date
    ended_on: date | None
    version: int


class StaffList(BaseModel):
    """The roster of a region subtree."""

    region_code: str
    count: int
    staff: list[StaffPublic]
