"""What clients send to registration and what they get back (separate input and output types)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator

from contracts.identifiers import parse_citizen_id, parse_credit_code
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode
from contracts.registration import EmployerSize, Hukou, ServicePointCompliance, ServicePointLevel, Sex

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _valid_citizen_id(value: str) -> str:
    # Validate here (422 naming the field) but keep what the clerk typed: the command converts a 15-digit
    # number itself so that it can say it did.
    parse_citizen_id(value)
    return value.strip()


CitizenIdInput = Annotated[
    str,
    AfterValidator(_valid_citizen_id),
    Field(
        description="Resident ID number (GB 11643): 18 characters, or a legacy 15-digit number (converted)",
        examples=["11010519491231002X"],
    ),
]


def _credit_code_or_legacy(value: str) -> str:
    # Legacy pilot codes that fail the check character are legal: accepted here, flagged in the response.
    return parse_credit_code(value, allow_legacy=True).code


LenientCreditCode = Annotated[str, AfterValidator(_credit_code_or_legacy)]


def _industry_section(value: str) -> str:
    section = value.strip().upper()
    if len(section) != 1 or section not in "ABCDEFGHIJKLMNOPQRST":
        raise ValueError(f"industry must be a GB/T 4754 section letter A-T, got {value!r}")
    return section


IndustrySection = Annotated[
    str,
    AfterValidator(_industry_section),
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
