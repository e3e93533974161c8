"""Employers' compliance grades (守法诚信等级) and the monitoring of their insurance arrears (欠费监控)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode

Grade = Literal["A", "B", "C"]


class EmployerRatingChanged(Event):
    """An employer's compliance grade changed (企业劳动保障守法诚信等级, 人社部规〔2016〕1号 Art 7), saying why."""

    event_type: ClassVar[str] = "EmployerRatingChanged"
    stream_type: ClassVar[str] = "employer_rating"

    employer_id: str
    region_code: RegionCode
    grade: Grade
    previous_grade: Grade | None
    reasons: list[str] = Field(min_length=1)
    rated_on: date
    violations: int = Field(ge=0)
    penalties: int = Field(ge=0)
    penalty_fen: NonNegativeFen
    arrears_open: bool


class ArrearsMonitoringOpened(Event):
    """Insurance reported the employer in arrears: supervision monitors it (欠费监控) until cleared."""

    event_type: ClassVar[str] = "ArrearsMonitoringOpened"
    stream_type: ClassVar[str] = "arrears_monitoring"

    employer_id: str
    region_code: RegionCode
    months: list[str]
    arrears_fen: NonNegativeFen
    workers: int = Field(ge=0)
    opened_on: date


class ArrearsMonitoringClosed(Event):
    """The employer paid what it owed; the monitoring item closes."""

    event_type: ClassVar[str] = "ArrearsMonitoringClosed"
    stream_type: ClassVar[str] = "arrears_monitoring"

    employer_id: str
    region_code: RegionCode
    closed_on: date
