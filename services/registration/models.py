"""What clients send to registration and what they get back (separate input and output types)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from contracts.identifiers import parse_citizen_id, parse_credit_code
from contracts.regions import RegionCode
from contracts.registration import EmployerSize, Hukou, Sex

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
    industry: str | None = Field(default=None, pattern=r"^[A-T]$", description="GB/T 4754 section letter")
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
