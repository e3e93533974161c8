"""Cases (立案查处): opened, investigated, ordered to rectify, penalised, closed within their time limit
(劳动保障监察条例 Art 17)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode
from contracts.supervision.common import ComplaintType, EmployerRef, InspectionScope

CaseSource = Literal["complaint", "grid_inspection", "arrears_monitoring", "ex_officio"]


class _CaseEvent(Event):
    stream_type: ClassVar[str] = "case"

    case_id: str
    region_code: RegionCode = Field(description="The employer's township or village")


class CaseOpened(_CaseEvent):
    """A case was opened (立案); the investigation closes by ``due_on`` (劳动保障监察条例 Art 17: 60 working days)."""

    event_type: ClassVar[str] = "InspectionCaseOpened"

    employer: EmployerRef
    source: CaseSource
    complaint_id: str | None = None
    scope: InspectionScope
    complaint_type: ComplaintType | None = None
    opened_on: date
    due_on: date
    provisional: bool
    workers_concerned: int = Field(ge=0)


class CaseInspected(_CaseEvent):
    """An inspection of the employer for the case (调查检查): site, documents or interviews."""

    event_type: ClassVar[str] = "CaseInspected"

    inspected_on: date
    method: Literal["site", "documents", "interview"]
    findings: str
    violation_found: bool


class RectificationOrdered(_CaseEvent):
    """A rectification order (责令改正) with its own deadline."""

    event_type: ClassVar[str] = "RectificationOrdered"

    ordered_on: date
    due_on: date
    workdays: int | None = Field(default=None, description="Working days from ordered_on; None: a named date")
    provisional: bool
    requirements: str


class RectificationVerified(_CaseEvent):
    """The order was checked: complied with, or not (拒不改正 counts against the rating)."""

    event_type: ClassVar[str] = "RectificationVerified"

    verified_on: date
    complied: bool
    on_time: bool
    wages_paid_fen: NonNegativeFen = 0


class PenaltyImposed(_CaseEvent):
    """An administrative penalty (行政处罚), in fen."""

    event_type: ClassVar[str] = "PenaltyImposed"

    decided_on: date
    amount_fen: NonNegativeFen
    legal_basis: str


class CaseExtended(_CaseEvent):
    """The investigation's one extension (延长), approved at county level (条例 Art 17: at most 30 working days)."""

    event_type: ClassVar[str] = "CaseExtended"

    approved_on: date
    approved_by: str
    workdays: int = Field(ge=1, le=30)
    due_on: date
    provisional: bool
    reason: str


class CaseTransferred(_CaseEvent):
    """The case went to another authority (移送): public security for a crime, another department or county."""

    event_type: ClassVar[str] = "CaseTransferred"

    transferred_on: date
    to: Literal["public_security", "other_department", "other_jurisdiction"]
    reason: str


class CaseClosed(_CaseEvent):
    """The case was closed (结案); ``within_limit`` compares ``closed_on`` with the (extended) due date."""

    event_type: ClassVar[str] = "InspectionCaseClosed"

    closed_on: date
    outcome: Literal["corrected", "penalised", "no_violation", "transferred", "withdrawn"]
    violation_found: bool
    wages_recovered_fen: NonNegativeFen = 0
    workers_concerned: int = Field(ge=0)
    due_on: date
    within_limit: bool


class CaseDeadlineBreached(_CaseEvent):
    """A case's time limit passed while it was open (flagged once per limit, by the worker's scheduled check)."""

    event_type: ClassVar[str] = "CaseDeadlineBreached"

    limit: Literal["investigation", "rectification"]
    due_on: date
    detected_on: date


class CaseDeadlineRecomputed(_CaseEvent):
    """A provisional limit was computed again once its year's official calendar arrived (holiday notice)."""

    event_type: ClassVar[str] = "CaseDeadlineRecomputed"

    limit: Literal["investigation", "rectification"]
    previous_due_on: date
    due_on: date
    provisional: bool
