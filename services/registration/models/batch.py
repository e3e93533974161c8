"""Many residents at once: the batch request and one result per item."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.registration import EmploymentStatus
from services.registration.models.person import PersonPublic

PERSON_BATCH_MAX = 1_000


def items_of(schema: str, max_length: int, description: str) -> Any:
    """A batch's items, kept as raw objects so that each is validated on its own (one bad item answers for
    itself, not for the batch), and documented as a list of ``schema``."""
    return Field(
        min_length=1,
        max_length=max_length,
        description=description,
        json_schema_extra={"items": {"$ref": f"#/components/schemas/{schema}"}},
    )


class PersonBatch(BaseModel):
    """Up to 1,000 residents to register at once; each item is a ``PersonCreate`` judged on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"id_number": "430527199003070011", "name": "杨秀成", "region_code": "430527100201"},
                        {"id_number": "430527198511230021", "name": "李桂英", "region_code": "430527100202"},
                    ]
                }
            ]
        },
    )

    items: list[dict[str, Any]] = items_of(
        "PersonCreate", PERSON_BATCH_MAX, "Each item has the fields of POST /persons (PersonCreate)"
    )


class ItemProblem(BaseModel):
    """Why one item was not registered: the rule, the field and the reason, as a problem document says it."""

    status: int
    detail: str
    field: str | None = None
    rule: str | None = None
    person_id: str | None = Field(default=None, description="On 409: who already holds this ID number")
    household_id: str | None = Field(default=None, description="On 409: the household the person already belongs to")
    errors: list[dict[str, str]] = Field(default_factory=list, description="Each field that failed validation")


class PersonBatchItem(BaseModel):
    """The outcome of one item, by its index in the request."""

    index: int
    status: int = Field(description="201 registered, 409 already registered, 403 outside scope, 422 invalid")
    person: PersonPublic | None = None
    problem: ItemProblem | None = None


class PersonBatchResult(BaseModel):
    """Counts and one result per item, in request order."""

    created: int
    already_registered: int
    rejected: int
    results: list[PersonBatchItem]


# --- many persons' changes at once (POST /persons/changes/batch) -----------------------------------------

#: Persons per ``POST /persons/changes/batch``, and changes per person.
PERSON_CHANGES_BATCH_MAX = 1_000
PERSON_CHANGES_PER_ITEM_MAX = 200


class PersonChangesBatch(BaseModel):
    """Many persons' changes at once: each item is judged on its own (see ``PersonChangesItem``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "person_id": "0b9a3f5e-2c4d-4e8f-9a1b-3c5d7e9f1a2b",
                            "expected_version": 1,
                            "changes": [
                                {
                                    "action": "employment",
                                    "kind": "flexible",
                                    "started_on": "2025-03-02",
                                    "reported_on": "2025-03-10",
                                },
                                {
                                    "action": "surveys",
                                    "quarter": "2025Q1",
                                    "status": "employed",
                                    "surveyed_on": "2025-03-20",
                                },
                                {"action": "employment/end", "ended_on": "2025-09-30", "reason": "contract_expired"},
                                {"action": "unemployment", "registered_on": "2025-10-09"},
                            ],
                        }
                    ]
                }
            ]
        },
    )

    items: list[dict[str, Any]] = items_of(
        "PersonChangesItem", PERSON_CHANGES_BATCH_MAX, "Each item is a PersonChangesItem"
    )


class PersonChangesItem(BaseModel):
    """One person's changes, in order, all or nothing. ``action`` names the person route the change would
    be sent to, its path after ``/persons/{person_id}/`` (``employment``, ``employment/end``,
    ``unemployment``, ``unemployment/deregistration``, ``moves``, ``categories``, ``retirement``, ``death``,
    ``surveys``); the rest of the change is that route's body."""

    model_config = ConfigDict(extra="forbid")

    person_id: str
    expected_version: int | None = Field(
        default=None, ge=1, description="The version the entry was read at (its If-Match); a stale one is 409"
    )
    changes: list[dict[str, Any]] = Field(min_length=1, max_length=PERSON_CHANGES_PER_ITEM_MAX)


class PersonChangesBatchItem(BaseModel):
    """The outcome of one item, by its index in the request."""

    index: int
    status: int = Field(
        description="200 changed, 404 no such person, 403 outside scope, 409 stale version, 422 refused"
    )
    person_id: str | None = None
    version: int | None = Field(default=None, description="The entry's version after the changes")
    employment_status: EmploymentStatus | None = None
    changes: int = Field(default=0, description="Changes applied")
    problem: ItemProblem | None = None


class PersonChangesBatchResult(BaseModel):
    """Counts and one result per item, in request order."""

    changed: int
    conflicts: int
    rejected: int
    results: list[PersonChangesBatchItem]
