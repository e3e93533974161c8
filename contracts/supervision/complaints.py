"""Complaints (投诉): filed, completed, accepted or refused within five working days (若干规定 Art 18)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode
from contracts.supervision.common import ComplaintType, EmployerRef, InspectionScope

#: Why a complaint was refused (不予受理).
RefusalReason = Literal[
    "older_than_two_years",  # 条例 Art 20
    "outside_jurisdiction",  # 不属于本部门管辖
    "outside_scope",  # 不属于劳动保障监察职责 (条例 Art 11)
    "no_clear_employer",  # 无明确被投诉用人单位
]


class _ComplaintEvent(Event):
    stream_type: ClassVar[str] = "complaint"

    complaint_id: str
    region_code: RegionCode = Field(description="Where the complaint was received")


class ComplaintFiled(_ComplaintEvent):
    """A complaint was received (投诉登记); acceptance is decided by ``decision_due`` (若干规定 Art 18)."""

    event_type: ClassVar[str] = "ComplaintFiled"

    employer: EmployerRef
    complaint_type: ComplaintType
    scope: InspectionScope
    facts: str
    violation_from: date
    violation_until: date | None = Field(default=None, description="None while the violation continues")
    received_on: date
    decision_due: date
    provisional: bool
    workers_concerned: int = Field(ge=1)
    amount_claimed_fen: NonNegativeFen = 0
    on_behalf: bool = Field(description="Filed by a village station on a resident's behalf")


class ComplaintCompletionRequested(_ComplaintEvent):
    """Material was incomplete: the complainant is asked to complete it and the clock pauses (若干规定 Art 18)."""

    event_type: ClassVar[str] = "ComplaintCompletionRequested"

    requested_on: date
    missing: list[str] = Field(min_length=1)
    workdays_left: int = Field(ge=0, description="Working days of the 5 still to run when the clock resumes")


class ComplaintCompleted(_ComplaintEvent):
    """The complainant completed the material; the clock runs again from ``completed_on``."""

    event_type: ClassVar[str] = "ComplaintCompleted"

    completed_on: date
    decision_due: date
    provisional: bool


class ComplaintAccepted(_ComplaintEvent):
    """The complaint was accepted (受理) and a case opened (立案)."""

    event_type: ClassVar[str] = "ComplaintAccepted"

    accepted_on: date
    case_id: str
    decided_late: bool


class ComplaintRefused(_ComplaintEvent):
    """The complaint was refused in writing (不予受理), with the reason."""

    event_type: ClassVar[str] = "ComplaintRefused"

    refused_on: date
    reason: RefusalReason
    explanation: str
    decided_late: bool


class ComplaintDecisionOverdue(_ComplaintEvent):
    """Five working days passed without a decision (flagged once, by the worker's scheduled check)."""

    event_type: ClassVar[str] = "ComplaintDecisionOverdue"

    decision_due: date
    detected_on: date


class ComplaintDeadlineRecomputed(_ComplaintEvent):
    """The provisional decision limit was computed again once its year's official calendar arrived."""

    event_type: ClassVar[str] = "ComplaintDeadlineRecomputed"

    limit: Literal["decision"]
    previous_due_on: date
    due_on: date
    provisional: bool
