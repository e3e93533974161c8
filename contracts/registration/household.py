"""Events of the ``household`` stream (户): the members as zero-employment detection needs them."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode
from contracts.registration.common import (
    EmploymentStatus,
    _Value,
)


class HouseholdMember(_Value):
    """A member as assistance needs to see them for zero-employment detection (零就业家庭)."""

    person_id: str
    relation: str = Field(description="Relation to the head: head, spouse, child, parent, other")
    working_age: bool
    status: EmploymentStatus


class _HouseholdFact(Event):
    stream_type: ClassVar[str] = "household"

    household_id: str
    region_code: RegionCode
    head_person_id: str | None
    members: list[HouseholdMember] = Field(description="Every member after the change")

    @property
    def working_age_members(self) -> int:
        """Members of working age still alive."""
        return sum(1 for m in self.members if m.working_age and m.status != "deceased")

    @property
    def employed_working_age_members(self) -> int:
        """Working-age members in employment; zero with working-age members is a zero-employment household."""
        return sum(1 for m in self.members if m.working_age and m.status == "employed")


class HouseholdCreated(_HouseholdFact):
    """A household (户) was entered with its first members."""

    event_type: ClassVar[str] = "HouseholdCreated"

    entered_on: date | None = Field(
        default=None, description="The day the household was entered in the ledger; absent: the day it was recorded"
    )


class HouseholdMemberAdded(_HouseholdFact):
    """A person joined the household."""

    event_type: ClassVar[str] = "HouseholdMemberAdded"

    person_id: str


class HouseholdMemberRemoved(_HouseholdFact):
    """A person left the household (moved out, died, recorded in error)."""

    event_type: ClassVar[str] = "HouseholdMemberRemoved"

    person_id: str
    reason: str


class HouseholdHeadChanged(_HouseholdFact):
    """Another member became head of the household (户主)."""

    event_type: ClassVar[str] = "HouseholdHeadChanged"


class HouseholdEmploymentChanged(_HouseholdFact):
    """A member's employment status or working age changed; the snapshot is what zero-employment needs."""

    event_type: ClassVar[str] = "HouseholdEmploymentChanged"

    person_id: str
