"""Grid inspections (网格化监察): a township inspector's visit, its findings and their follow-up."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode
from contracts.supervision.common import EmployerRef, InspectionScope, Value


class Finding(Value):
    """One thing a grid inspector found wrong, within 条例 Art 11."""

    scope: InspectionScope
    description: str
    workers: int = Field(ge=0, default=0)


class GridInspectionRecorded(Event):
    """A township grid inspector visited an employer (网格化巡查); findings need a follow-up by ``follow_up_due``."""

    event_type: ClassVar[str] = "GridInspectionRecorded"
    stream_type: ClassVar[str] = "grid_inspection"

    inspection_id: str
    region_code: RegionCode = Field(description="The employer's township or village")
    grid: str = Field(description="The township's grid (网格) the employer lies in")
    employer: EmployerRef
    inspected_on: date
    findings: list[Finding]
    follow_up_due: date | None
    provisional: bool = False


class GridFollowUpRecorded(Event):
    """The follow-up (复查) of an inspection's findings: resolved, or escalated to a case."""

    event_type: ClassVar[str] = "GridFollowUpRecorded"
    stream_type: ClassVar[str] = "grid_inspection"

    inspection_id: str
    region_code: RegionCode
    followed_up_on: date
    resolved: bool
    notes: str
    case_id: str | None = None
    on_time: bool


class GridFollowUpRecomputed(Event):
    """The provisional follow-up limit of an inspection was computed again on the official calendar."""

    event_type: ClassVar[str] = "GridFollowUpRecomputed"
    stream_type: ClassVar[str] = "grid_inspection"

    inspection_id: str
    region_code: RegionCode
    limit: Literal["follow_up"]
    previous_due_on: date
    due_on: date
    provisional: bool
