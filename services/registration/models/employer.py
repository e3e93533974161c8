"""What clients send and see for an employer (用人单位)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.regions import RegionCode
from contracts.registration import (
    EmployerSize,
)
from services.registration.models.common import IndustrySection, LenientCreditCode, Name


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
