"""What clients send and see for the quarterly dynamic survey (动态调查)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from contracts.registration import (
    EmploymentEndReason,
    EmploymentKind,
    EmploymentStatus,
)
from services.registration.models.common import Change
from services.registration.models.person import PersonPage

#: A survey quarter, 1900Q1 to 2099Q4: a year the calendar can add a quarter to (0000Q1 and 9999Q4 are not).
QUARTER_PATTERN = r"^(19|20)\d{2}Q[1-4]$"


class SurveyEmployment(BaseModel):
    """The job a survey found, when it finds the person newly employed."""

    model_config = ConfigDict(extra="forbid")

    kind: EmploymentKind
    employer_id: str | None = None
    started_on: date


class SurveyCreate(Change):
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

    quarter: str = Field(pattern=QUARTER_PATTERN, examples=["2026Q1"])
    status: EmploymentStatus
    surveyed_on: date | None = Field(default=None, description="Default: today")
    employment: SurveyEmployment | None = Field(default=None, description="When the survey finds a new job")
    ended_on: date | None = Field(default=None, description="When the survey finds a job ended")
    end_reason: EmploymentEndReason | None = None


class SurveyPendingPage(PersonPage):
    """Persons of a region not yet surveyed in a quarter."""

    region_code: str
    quarter: str
