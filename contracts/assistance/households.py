"""Events of the zero-employment household stream (零就业家庭): detected, confirmed or dismissed, cleared."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode


class _HouseholdFact(Event):
    stream_type: ClassVar[str] = "zero_employment_household"

    household_id: str
    region_code: RegionCode


class ZeroEmploymentHouseholdDetected(_HouseholdFact):
    """Registration's snapshot shows a household whose working-age members seeking work are all unemployed."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdDetected"

    detected_on: date
    member_ids: list[str]
    unemployed_member_ids: list[str]


class ZeroEmploymentHouseholdConfirmed(_HouseholdFact):
    """The township confirmed the household (认定); it must be cleared by ``clear_by`` (动态清零)."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdConfirmed"

    confirmed_on: date
    clear_by: date


class ZeroEmploymentHouseholdDismissed(_HouseholdFact):
    """A detected household was not confirmed: business income found, or a member found work first."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdDismissed"

    dismissed_on: date
    reason: str


ClearReason = Literal["member_placed", "member_employed", "refused_help"]


class ZeroEmploymentHouseholdCleared(_HouseholdFact):
    """A confirmed household left the list (清零): a member placed or employed, or help refused without reason."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdCleared"

    cleared_on: date
    reason: ClearReason
    person_id: str | None = None
    days_outstanding: int = Field(ge=0, description="Days from confirmation to clearing")
    within_target: bool
