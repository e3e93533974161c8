"""Events of the registration service: the real-name labour-force ledger (实名制台账).

Events carry a person id and non-identifying attributes only; ID numbers, names and phones stay inside
the registration service, encrypted at rest (DESIGN.md section 5).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode

Sex = Literal["male", "female"]
Hukou = Literal["urban", "rural"]
EmployerSize = Literal["micro", "small", "medium", "large"]


class PersonRegistered(Event):
    """A resident entered the labour-force ledger (劳动力实名登记)."""

    event_type: ClassVar[str] = "PersonRegistered"
    stream_type: ClassVar[str] = "person"

    person_id: str
    sex: Sex
    birth_date: date
    hukou: Hukou | None = None
    region_code: RegionCode = Field(description="Village or community of residence")
    education: str | None = None
    categories: list[str] = Field(default_factory=list)


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
