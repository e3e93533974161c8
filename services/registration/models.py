"""What clients send to registration and what they get back (separate input and output types)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator

from contracts.identifiers import parse_citizen_id, parse_credit_code
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode
from contracts.registration import (
    EmployerSize,
    EmploymentEndReason,
    EmploymentKind,
    EmploymentStatus,
    HouseholdMember,
    Hukou,
    PersonCategory,
    ServicePointCompliance,
    ServicePointLevel,
    Sex,
)
from contracts.validation import checked_by
from services.registration.domain.employment import DeregistrationReason
from services.registration.domain.household import Relation

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _valid_citizen_id(value: str) -> str:
    # Validate here (422 naming the field) but keep what the clerk typed: the command converts a 15-digit
    # number itself so that it can say it did.
    parse_citizen_id(value)
    return value.strip()


CitizenIdInput = Annotated[
    str,
    checked_by("CitizenIdValid", _valid_citizen_id),
    Field(
        description="Resident ID number (GB 11643): 18 characters, or a legacy 15-digit number (converted)",
        examples=["11010519491231002X"],
    ),
]


def _credit_code_or_legacy(value: str) -> str:
    # Legacy pilot codes that fail the check character are legal: accepted here, flagged in the response.
    return parse_credit_code(value, allow_legacy=True).code


LenientCreditCode = Annotated[str, checked_by("CreditCodeValid", _credit_code_or_legacy)]


def _industry_section(value: str) -> str:
    section = value.strip().upper()
    if len(section) != 1 or section not in "ABCDEFGHIJKLMNOPQRST":
        raise ValueError(f"industry must be a GB/T 4754 section letter A-T, got {value!r}")
    return section


IndustrySection = Annotated[
    str,
    checked_by("IndustryIsGbT4754Section", _industry_section),
    Field(description="GB/T 4754 industry section (门类), a letter A-T", examples=["C"]),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9-]{6,19}$")]


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
    status: EmploymentStatus = "not_in_labour_force"
    categories: list[str] = Field(default_factory=list)
    version: int = Field(default=1, description="The entry's version: send it back as If-Match to change it")


class EmployerCreate(BaseModel):
    """An employer to register."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "credit_code": "91350100M000100Y43",
                    "name": "绥宁县长铺竹木加工厂",
                    "region_code": "430527100000",
                    "industry": "C",
                    "size": "small",
                }
            ]
        },
    )

    credit_code: LenientCreditCode = Field(description="Unified social credit code (GB 32100)")
    name: Name
    region_code: RegionCode = Field(description="Township or village where it operates")
    industry: IndustrySection | None = None
    size: EmployerSize | None = None


class EmployerPublic(BaseModel):
    """A registered employer."""

    employer_id: str
    credit_code: str
    credit_code_check_ok: bool
    name: str
    region_code: str
    industry: str | None = None
    size: EmployerSize | None = None
    warnings: list[str] = Field(default_factory=list)
    version: int = Field(default=1, description="Stream version; send it back as If-Match to change the employer")
    deregistered_on: date | None = None


# --- employers: change and deregistration; vacancies; service points; batches (reg-b) ------------------


class EmployerChange(BaseModel):
    """New values for some of an employer's details (变更登记); fields left out stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "绥宁县长铺竹木制品有限公司", "size": "medium"}]},
    )

    name: Name | None = None
    industry: IndustrySection | None = None
    size: EmployerSize | None = None
    region_code: RegionCode | None = Field(default=None, description="Township or village where it operates now")

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("send at least one of name, industry, size, region_code")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be removed")
        if "region_code" in self.model_fields_set and self.region_code is None:
            raise ValueError("region_code cannot be removed")
        return self


class EmployerDeregistration(BaseModel):
    """Take an employer out of the ledger (注销)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"deregistered_on": "2026-06-30", "reason": "歇业注销"}]},
    )

    deregistered_on: date = Field(description="The day it closed, merged or moved away; not in the future")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class VacancyCreate(BaseModel):
    """A vacancy (岗位) an employer offers; wages are monthly, in integer fen (分)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "employer_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10",
                    "occupation": "竹木加工操作工",
                    "positions": 5,
                    "wage_min_fen": 300000,
                    "wage_max_fen": 450000,
                    "requirements": "初中以上,能适应倒班",
                }
            ]
        },
    )

    employer_id: uuid.UUID
    occupation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    positions: int = Field(ge=1, le=10_000, description="Positions offered, at least 1")
    wage_min_fen: NonNegativeFen = Field(description="Lowest monthly wage in fen (300000 = 3,000.00 yuan)")
    wage_max_fen: NonNegativeFen = Field(description="Highest monthly wage in fen; not below wage_min_fen")
    requirements: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    opened_on: date | None = Field(default=None, description="Defaults to today; not in the future")


class VacancyFill(BaseModel):
    """Positions of a vacancy taken; naming a person fills exactly one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"count": 1, "person_id": "0d6f3c1a-8e2b-4f7a-9c5d-1b2a3c4d5e6f"}, {"count": 3}]
        },
    )

    count: int = Field(default=1, ge=1, description="Positions filled; at most those remaining")
    person_id: uuid.UUID | None = Field(default=None, description="Who took the position, if in the ledger")
    filled_on: date | None = Field(default=None, description="Defaults to today")


class VacancyClosure(BaseModel):
    """Close a vacancy; the positions still open are withdrawn."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "招满停招"}]})

    closed_on: date | None = Field(default=None, description="Defaults to today")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class VacancyPublic(BaseModel):
    """A vacancy and how far it is filled."""

    vacancy_id: str
    employer_id: str
    region_code: str
    occupation: str
    positions: int
    filled: int
    withdrawn: int
    remaining: int
    wage_min_fen: int
    wage_max_fen: int
    requirements: str | None = None
    opened_on: date
    closed_on: date | None = None
    status: Literal["open", "filled", "closed"]
    version: int


class VacancyList(BaseModel):
    """Vacancies in a region subtree."""

    region_code: str
    count: int
    vacancies: list[VacancyPublic]


_SERVICE_POINT_EXAMPLE: dict[str, JsonValue] = {
    "level": "township",
    "region_code": "430527101000",
    "name": "武阳镇人力资源和社会保障所",
    "staff": 5,
    "floor_area_m2": 160,
    "has_archive_room": True,
    "equipment": ["电脑", "打印机", "电话", "档案柜", "信息公开栏"],
    "population_served": 28000,
}


class ServicePointCreate(BaseModel):
    """A labour and social-security service point (平台): county bureau, township office or village station."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_SERVICE_POINT_EXAMPLE]})

    level: ServicePointLevel
    region_code: RegionCode = Field(description="A region of the same level: county, township or village")
    name: Name
    staff: int = Field(ge=0, le=10_000, description="Staff working at the point")
    floor_area_m2: int = Field(ge=0, le=1_000_000, description="Working and service space in m²")
    has_archive_room: bool = Field(description="Whether it has an archive room (档案室)")
    equipment: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=100
    )
    population_served: int = Field(ge=0, le=100_000_000, description="People the point serves")


class ServicePointChange(BaseModel):
    """New staff, premises, equipment or reach of a service point; fields left out stay as they are."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"staff": 6, "population_served": 31000}]}
    )

    name: Name | None = None
    staff: int | None = Field(default=None, ge=0, le=10_000)
    floor_area_m2: int | None = Field(default=None, ge=0, le=1_000_000)
    has_archive_room: bool | None = None
    equipment: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] | None = (
        Field(default=None, max_length=100)
    )
    population_served: int | None = Field(default=None, ge=0, le=100_000_000)


class ServicePointPublic(BaseModel):
    """A service point with its compliance against the standards of seed 001."""

    service_point_id: str
    level: ServicePointLevel
    region_code: str
    name: str
    staff: int
    floor_area_m2: int
    has_archive_room: bool
    equipment: list[str]
    population_served: int
    compliance: ServicePointCompliance
    version: int


class ServicePointList(BaseModel):
    """Service points in a region subtree and how many meet the standards."""

    region_code: str
    count: int
    compliant: int
    service_points: list[ServicePointPublic]


#: Most persons one ``POST /persons/batch`` takes.
PERSON_BATCH_MAX = 1_000


class PersonBatch(BaseModel):
    """Up to 1,000 residents to register at once; each item is a ``PersonCreate`` judged on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"id_number": "430527199003070011", "name": "杨秀成", "region_code": "430527100201"},
                        {"id_number": "430527198511230021", "name": "李桂英", "region_code": "430527100202"},
                    ]
                }
            ]
        },
    )

    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=PERSON_BATCH_MAX,
        description="Each item has the fields of POST /persons (PersonCreate)",
        json_schema_extra={"items": {"$ref": "#/components/schemas/PersonCreate"}},
    )


class ItemProblem(BaseModel):
    """Why one item was not registered: the rule, the field and the reason, as a problem document says it."""

    status: int
    detail: str
    field: str | None = None
    rule: str | None = None
    person_id: str | None = Field(default=None, description="On 409: who already holds this ID number")
    errors: list[dict[str, str]] = Field(default_factory=list, description="Each field that failed validation")


class PersonBatchItem(BaseModel):
    """The outcome of one item, by its index in the request."""

    index: int
    status: int = Field(description="201 registered, 409 already registered, 403 outside scope, 422 invalid")
    person: PersonPublic | None = None
    problem: ItemProblem | None = None


class PersonBatchResult(BaseModel):
    """Counts and one result per item, in request order."""

    created: int
    already_registered: int
    rejected: int
    results: list[PersonBatchItem]


# --- person lifecycle, employment status, surveys (reg-a) -----------------------------------------------

_VERSION = Field(
    default=None,
    ge=1,
    description="The version you read (optimistic concurrency); the If-Match header does the same. "
    "A stale version gets 409.",
)


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = _VERSION


class PersonCorrection(_Change):
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
    reason: str = Field(min_length=1, max_length=500, description="Why the record was wrong")


class PersonMove(_Change):
    """The residence moved to another village or community (居住地变更)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"region_code": "430527101201", "moved_on": "2026-03-01"}]}
    )

    region_code: RegionCode = Field(description="The new village or community (12 digits)")
    moved_on: date | None = Field(default=None, description="Default: today")


class DeathRecord(_Change):
    """A death to record (死亡)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"died_on": "2026-02-14"}]})

    died_on: date


class CategoriesUpdate(_Change):
    """The person's categories from now on (the whole set)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"categories": ["rural_surplus_labour", "migrant_worker"]}]},
    )

    categories: list[PersonCategory]
    effective_on: date | None = Field(default=None, description="Default: today")


class EmploymentCreate(_Change):
    """Employment registration (就业登记); a hire is due within 30 days of the start."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "unit", "employer_id": "5f0c2d1e-8a8b-4c1e-9a57-0d6c3f1b2a10", "started_on": "2026-03-02"},
                {"kind": "flexible", "started_on": "2026-03-02", "reported_on": "2026-03-20"},
            ]
        },
    )

    kind: EmploymentKind
    employer_id: str | None = Field(default=None, description="A registered employer, for unit employment")
    vacancy_id: str | None = None
    started_on: date
    reported_on: date | None = Field(default=None, description="When the hire was reported; default today")


class EmploymentEnd(_Change):
    """End of employment (终止/解除劳动关系); due within 15 days of the end."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ended_on": "2026-06-30", "reason": "contract_expired"}]}
    )

    ended_on: date
    reason: EmploymentEndReason
    reported_on: date | None = Field(default=None, description="Default: today")


class UnemploymentCreate(_Change):
    """Unemployment registration (失业登记)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"registered_on": "2026-07-02"}]})

    registered_on: date | None = Field(default=None, description="Default: today")


class UnemploymentDeregistration(_Change):
    """Cancel an unemployment registration (注销失业登记) other than by finding work."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "stopped_seeking_work"}]})

    deregistered_on: date | None = Field(default=None, description="Default: today")
    reason: DeregistrationReason


class RetirementCreate(_Change):
    """Retirement (退休)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"retired_on": "2026-05-01"}]})

    retired_on: date | None = Field(default=None, description="Default: today")


class SurveyEmployment(BaseModel):
    """The job a survey found, when it finds the person newly employed."""

    model_config = ConfigDict(extra="forbid")

    kind: EmploymentKind
    employer_id: str | None = None
    started_on: date


class SurveyCreate(_Change):
    """A quarterly status check (动态调查): confirm the recorded status or give the new one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"quarter": "2026Q1", "status": "not_in_labour_force"},
                {
                    "quarter": "2026Q1",
                    "status": "employed",
                    "employment": {"kind": "flexible", "started_on": "2026-02-01"},
                },
                {
                    "quarter": "2026Q1",
                    "status": "registered_unemployed",
                    "ended_on": "2026-01-31",
                    "end_reason": "dismissed",
                },
            ]
        },
    )

    quarter: str = Field(pattern=r"^\d{4}Q[1-4]$", examples=["2026Q1"])
    status: EmploymentStatus
    surveyed_on: date | None = Field(default=None, description="Default: today")
    employment: SurveyEmployment | None = Field(default=None, description="When the survey finds a new job")
    ended_on: date | None = Field(default=None, description="When the survey finds a job ended")
    end_reason: EmploymentEndReason | None = None


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


class SurveyPendingPage(PersonPage):
    """Persons of a region not yet surveyed in a quarter."""

    region_code: str
    quarter: str


class HistoryEntry(BaseModel):
    """One change of a ledger entry: who, when, why, and what."""

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


# --- households (reg-a) --------------------------------------------------------------------------------


class MemberInput(BaseModel):
    """A member and their relation to the head."""

    model_config = ConfigDict(extra="forbid")

    person_id: str
    relation: Relation


class HouseholdCreate(BaseModel):
    """A household (户) with its members; exactly one is the head (户主)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "region_code": "430527100201",
                    "members": [
                        {"person_id": "0b8f6a1e-3c2d-4e5f-8a9b-1c2d3e4f5a6b", "relation": "head"},
                        {"person_id": "1c9a7b2f-4d3e-5f6a-9b0c-2d3e4f5a6b7c", "relation": "spouse"},
                    ],
                }
            ]
        },
    )

    region_code: RegionCode = Field(description="The household's village or community")
    members: list[MemberInput] = Field(min_length=1)


class MemberAdd(_Change):
    """A person joining a household."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"person_id": "2d0b8c3a-5e4f-6a7b-0c1d-3e4f5a6b7c8d", "relation": "child"}]},
    )

    person_id: str
    relation: Relation


class HeadChange(_Change):
    """Another member becomes head of the household."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"person_id": "1c9a7b2f-4d3e-5f6a-9b0c-2d3e4f5a6b7c", "former_head_relation": "spouse"}]
        },
    )

    person_id: str
    former_head_relation: Relation = "other"


class HouseholdPublic(BaseModel):
    """A household with its members' working age and employment status (what 零就业家庭 detection reads)."""

    household_id: str
    region_code: str
    head_person_id: str | None
    members: list[HouseholdMember]
    version: int
