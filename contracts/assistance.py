"""Events of the assistance service (就业援助) that other services react to.

The assistance service itself lands with its own issue; the contract is fixed now so registration's
reaction to a placement can be built and tested against it.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode
from contracts.registration import EmploymentKind


class PlacedInJob(Event):
    """An assisted person was placed in a job (安置就业); the assistance case closes.

    Registration reacts by recording the employment (就业登记) with ``source="assistance"``.
    """

    event_type: ClassVar[str] = "PlacedInJob"
    stream_type: ClassVar[str] = "assistance_case"

    case_id: str
    person_id: str
    region_code: RegionCode
    kind: EmploymentKind
    employer_id: str | None = None
    vacancy_id: str | None = None
    started_on: date
    placed_on: date = Field(description="When the placement was recorded")
