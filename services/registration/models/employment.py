"""What clients send for employment and unemployment registration (就业失业登记)."""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field

from contracts.registration import (
    EmploymentEndReason,
    EmploymentKind,
)
from services.registration.domain.employment import DeregistrationReason
from services.registration.models.common import Change


class EmploymentCreate(Change):
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


class EmploymentEnd(Change):
    """End of employment (终止/解除劳动关系); due within 15 days of the end."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ended_on": "2026-06-30", "reason": "contract_expired"}]}
    )

    ended_on: date
    reason: EmploymentEndReason
    reported_on: date | None = Field(default=None, description="Default: today")


class UnemploymentCreate(Change):
    """Unemployment registration (失业登记)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"registered_on": "2026-07-02"}]})

    registered_on: date | None = Field(default=None, description="Default: today")


class UnemploymentDeregistration(Change):
    """Cancel an unemployment registration (注销失业登记) other than by finding work."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "stopped_seeking_work"}]})

    deregistered_on: date | None = Field(default=None, description="Default: today")
    reason: DeregistrationReason
