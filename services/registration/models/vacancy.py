"""What clients send and see for a vacancy (岗位), wages in fen."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.money import NonNegativeFen


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
