"""Events of the ``employer`` and ``vacancy`` streams (用人单位登记, 岗位)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode
from contracts.registration.common import (
    EmployerSize,
    FieldChange,
)


class EmployerRegistered(Event):
    """An employer entered the ledger (用人单位登记), identified by its unified social credit code."""

    event_type: ClassVar[str] = "EmployerRegistered"
    stream_type: ClassVar[str] = "employer"

    employer_id: str
    credit_code: str
    credit_code_check_ok: bool = Field(
        default=True, description="False for a legacy pilot code that fails the GB 32100 check (accepted)"
    )
    name: str
    region_code: RegionCode
    industry: str | None = Field(default=None, description="GB/T 4754 section letter, A-T")
    size: EmployerSize | None = None
    # Optional, added without a schema_version bump (see PersonRegistered.registered_on).
    registered_on: date | None = Field(
        default=None, description="The day the employer was registered, when not the day it was recorded"
    )


class EmployerChanged(Event):
    """The employer's recorded details changed (变更登记); ``region_code`` is where it is now."""

    event_type: ClassVar[str] = "EmployerChanged"
    stream_type: ClassVar[str] = "employer"

    employer_id: str
    changes: list[FieldChange]
    region_code: RegionCode
    from_region_code: RegionCode


class EmployerDeregistered(Event):
    """The employer left the ledger (注销): closed, merged, moved out of the county."""

    event_type: ClassVar[str] = "EmployerDeregistered"
    stream_type: ClassVar[str] = "employer"

    employer_id: str
    region_code: RegionCode
    deregistered_on: date
    reason: str


# --- vacancy -----------------------------------------------------------------------------------------


class VacancyOpened(Event):
    """An employer opened a vacancy (岗位) with a number of positions and a wage range in fen."""

    event_type: ClassVar[str] = "VacancyOpened"
    stream_type: ClassVar[str] = "vacancy"

    vacancy_id: str
    employer_id: str
    region_code: RegionCode
    occupation: str
    positions: int = Field(ge=1)
    wage_min_fen: int = Field(ge=0)
    wage_max_fen: int = Field(ge=0)
    requirements: str | None = None
    opened_on: date


class VacancyFilled(Event):
    """Positions of a vacancy were filled, perhaps only some of them."""

    event_type: ClassVar[str] = "VacancyFilled"
    stream_type: ClassVar[str] = "vacancy"

    vacancy_id: str
    region_code: RegionCode
    filled: int = Field(ge=1)
    remaining: int = Field(ge=0)
    person_id: str | None = None
    filled_on: date


class VacancyClosed(Event):
    """The vacancy closed; ``withdrawn`` positions were never filled."""

    event_type: ClassVar[str] = "VacancyClosed"
    stream_type: ClassVar[str] = "vacancy"

    vacancy_id: str
    region_code: RegionCode
    withdrawn: int = Field(ge=0)
    closed_on: date
    reason: str | None = None
