"""What clients send and see for a household (户) and its members."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.regions import RegionCode
from contracts.registration import (
    HouseholdMember,
)
from services.registration.domain.household import Relation
from services.registration.models.batch import ItemProblem
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
    entered_on: date | None = Field(
        default=None,
        description="The day the household was entered in the ledger, when that was before today (a ledger kept "
        "on paper); absent: today",
    )


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


# --- many households at once (POST /households/batch) --------------------------------------------------

#: Households per ``POST /households/batch``.
HOUSEHOLD_BATCH_MAX = 1_000


class HouseholdBatch(BaseModel):
    """Up to 1,000 households to enter at once; each item is a ``HouseholdCreate`` judged on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "region_code": "430527100201",
                            "entered_on": "2025-03-02",
                            "members": [
                                {"person_id": "0b8f6a1e-3c2d-4e5f-8a9b-1c2d3e4f5a6b", "relation": "head"},
                                {"person_id": "1c9a7b2f-4d3e-5f6a-9b0c-2d3e4f5a6b7c", "relation": "spouse"},
                            ],
                        }
                    ]
                }
            ]
        },
    )

    # Raw objects, so that one bad item answers for itself rather than refusing the whole batch.
    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=HOUSEHOLD_BATCH_MAX,
        description="Each item has the fields of POST /households (HouseholdCreate)",
        json_schema_extra={"items": {"$ref": "#/components/schemas/HouseholdCreate"}},
    )


class HouseholdBatchItem(BaseModel):
    """The outcome of one item, by its index in the request."""

    index: int
    status: int = Field(
        description="201 entered, 409 a member already belongs to a household (the problem names it and the "
        "household), 403 outside scope, 422 invalid"
    )
    household: HouseholdPublic | None = None
    problem: ItemProblem | None = None


class HouseholdBatchResult(BaseModel):
    """Counts and one result per item, in request order."""

    created: int
    conflicts: int
    rejected: int
    results: list[HouseholdBatchItem]
