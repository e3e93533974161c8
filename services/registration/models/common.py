"""Types every registration model shares: names, identifiers, phone, and the version a change is based on."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.identifiers import parse_citizen_id, parse_credit_code
from contracts.validation import checked_by

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


VERSION = Field(
    default=None,
    ge=1,
    description="The version you read (optimistic concurrency); the If-Match header does the same. "
    "A stale version gets 409.",
)


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = VERSION
