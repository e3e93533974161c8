"""What clients send and see for a ledger entry (实名制台账): register, read, correct, move, close, history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.identifiers import IdDocumentType
from contracts.regions import RegionCode
from contracts.registration import (
    EmploymentStatus,
    Hukou,
    PersonCategory,
    Sex,
)
from contracts.retirement import RetirementGroup
from services.registration.models.common import Change, CitizenIdInput, Name, Phone


class PersonCreate(BaseModel):
    """A resident to enter into the ledger."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id_number": "430527199003070011",
                    "name": "杨秀成",
                    "region_code": "430527100201",
                    "phone": "13800000000",
                    "hukou": "rural",
                    "education": "高中",
                }
            ]
        },
    )

    id_number: CitizenIdInput
    name: Name
    region_code: RegionCode = Field(description="Village or community of residence (12 digits)")
    phone: Phone | None = None
    hukou: Hukou | None = Field(default=None, description="Household registration type (户籍)")
    education: str | None = Field(default=None, max_length=50)
    categories: list[PersonCategory] = Field(default_factory=list, description="Person categories (人员类别)")
    retirement_group: RetirementGroup | None = Field(
        default=None,
        description="Women only: worker (old retirement age 50, now 50 -> 55) or cadre (55 -> 58); "
        "not given: the 55 schedule (docs/rules.md)",
    )
    registered_on: date | None = Field(
        default=None, description="The day the resident entered the ledger; default today, not in the future"
    )


class PersonPublic(BaseModel):
    """A ledger entry as staff see it."""

    person_id: str
    id_number: str = Field(description="Masked unless the caller may see personal data in full")
    name: str | None
    phone: str | None = None
    sex: Sex
    birth_date: date
    hukou: Hukou | None = None
    education: str | None = None
    region_code: str
    id_number_converted_from_15: bool = False
    id_document_type: IdDocumentType = Field(
        default="resident_id", description="Which identity document the ID number belongs to"
    )
    retirement_group: RetirementGroup | None = Field(default=None, description="A woman's group; None: not recorded")
    status: EmploymentStatus = "not_in_labour_force"
    categories: list[str] = Field(default_factory=list)
    version: int = Field(default=1, description="The entry's version: send it back as If-Match to change it")


class PersonCorrection(Change):
    """Values that were recorded wrongly (信息更正); only the fields sent are corrected."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "杨秀诚", "education": "大专", "reason": "姓名录入错误，依身份证更正"}]
        },
    )

    id_number: CitizenIdInput | None = None
    name: Name | None = None
    phone: Phone | None = None
    hukou: Hukou | None = None
    education: str | None = Field(default=None, max_length=50)
    retirement_group: RetirementGroup | None = Field(
        default=None, description="A woman's retirement group: worker (old age 50) or cadre (55)"
    )
    reason: str = Field(min_length=1, max_length=500, description="Why the record was wrong")


class PersonMove(Change):
    """The residence moved to another village or community (居住地变更)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"region_code": "430527101201", "moved_on": "2026-03-01"}]}
    )

    region_code: RegionCode = Field(description="The new village or community (12 digits)")
    moved_on: date | None = Field(default=None, description="Default: today")


class DeathRecord(Change):
    """A death to record (死亡)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"died_on": "2026-02-14"}]})

    died_on: date


class CategoriesUpdate(Change):
    """The person's categories from now on (the whole set)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"categories": ["rural_surplus_labour", "migrant_worker"]}]},
    )

    categories: list[PersonCategory]
    effective_on: date | None = Field(default=None, description="Default: today")


class RetirementCreate(Change):
    """Retirement (退休)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"retired_on": "2026-05-01"}]})

    retired_on: date | None = Field(default=None, description="Default: today")


class EventSummary(BaseModel):
    """One event a command appended: its type and what it says (deadlines, late flags, old and new values)."""

    type: str
    data: dict[str, Any]


class PersonChange(BaseModel):
    """A ledger entry after a change: its new version and status, and the events that recorded it."""

    person_id: str
    version: int
    status: EmploymentStatus
    region_code: str
    categories: list[str]
    events: list[EventSummary] = Field(description="Empty when nothing changed (e.g. the same categories)")


class PersonSummary(BaseModel):
    """A ledger entry in a list; name and full ID number only for roles that see personal data."""

    person_id: str
    id_number: str
    name: str | None
    sex: Sex
    birth_date: date
    region_code: str
    status: EmploymentStatus
    categories: list[str]
    version: int


class PersonPage(BaseModel):
    """A page of ledger entries; pass ``next_cursor`` as ``cursor`` for the next page."""

    persons: list[PersonSummary]
    next_cursor: str | None = None


class HistoryEntry(BaseModel):
    """One change of a ledger entry: who, when, why, and what."""

    event_id: str = Field(description="The event's id, as the staff evaluation lists it")
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None = Field(description="Staff id, or the service whose event caused it")
    reason: str | None = Field(description="The reason the change gave, if any")
    correlation_id: str | None
    causation_id: str | None = Field(description="The event that caused this one (reactions)")
    data: dict[str, Any]


class PersonHistory(BaseModel):
    """Every event of a ledger entry, oldest first (the audit trail)."""

    person_id: str
    entries: list[HistoryEntry]
