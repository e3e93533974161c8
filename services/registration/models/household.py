"""What clients send and see for a household (户) and its members."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from contracts.regions import RegionCode
from contracts.registration import (
    HouseholdMember,
)
from services.registration.domain.household import Relation
from services.registration.models.common import Change


class MemberInput(BaseModel):
    """A member and their relation to the head."""

    model_config = ConfigDict(extra="forbid")

    person_id: str
    relation: Relation


class HouseholdCreate(BaseModel):
    """A household (户) with its members; exactly one is the head (户主)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "region_code": "430527100201",
                    "members": [
                        {"person_id": "0b8f6a1e-3c2d-4e5f-8a9b-1c2d3e4f5a6b", "relation": "head"},
                        {"person_id": "1c9a7b2f-4d3e-5f6a-9b0c-2d3e4f5a6b7c", "relation": "spouse"},
                    ],
                }
            ]
        },
    )

    region_code: RegionCode = Field(description="The household's village or community")
    members: list[MemberInput] = Field(min_length=1)


class MemberAdd(Change):
    """A person joining a household."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"person_id": "2d0b8c3a-5e4f-6a7b-0c1d-3e4f5a6b7c8d", "relation": "child"}]},
    )

    person_id: str
    relation: Relation


class HeadChange(Change):
    """Another member becomes head of the household."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"person_id": "1c9a7b2f-4d3e-5f6a-9b0c-2d3e4f5a6b7c", "former_head_relation": "spouse"}]
        },
    )

    person_id: str
    former_head_relation: Relation = "other"


class HouseholdPublic(BaseModel):
    """A household with its members' working age and employment status (what 零就业家庭 detection reads)."""

    household_id: str
    region_code: str
    head_person_id: str | None
    members: list[HouseholdMember]
    version: int
