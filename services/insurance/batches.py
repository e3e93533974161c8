"""What clients send and see for many persons' enrolments at once (``POST /enrolments/batch``): the batch,
each item, and one outcome per item, as registration's ``POST /persons/changes/batch`` has them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.insurance import InsuranceType
from services.insurance.models import EnrolmentChange, _Input

#: Persons per ``POST /enrolments/batch``, and changes per person.
ENROLMENT_BATCH_MAX = 1_000
ENROLMENT_CHANGES_PER_ITEM_MAX = 20


class EnrolmentBatch(_Input):
    """Many persons' enrolments, suspensions, resumptions and terminations at once; each item is an
    ``EnrolmentBatchItem`` judged on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "person_id": "0b9a3f5e-2c4d-4e8f-9a1b-3c5d7e9f1a2b",
                            "changes": [
                                {
                                    "action": "enrolment",
                                    "insurance_type": "enterprise_pension",
                                    "basis": "employer",
                                    "employer_id": "0b7f3c9a-2d4e-4f61-8a90-3c5d7e9f1a22",
                                    "enrolled_on": "2025-03-01",
                                },
                                {
                                    "action": "termination",
                                    "insurance_type": "enterprise_pension",
                                    "on": "2026-02-28",
                                    "reason": "劳动关系终止",
                                },
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
        max_length=ENROLMENT_BATCH_MAX,
        description="Each item is an EnrolmentBatchItem",
        json_schema_extra={"items": {"$ref": "#/components/schemas/EnrolmentBatchItem"}},
    )


class EnrolmentBatchItem(_Input):
    """One person's changes, in order, all or nothing. ``action`` names the route the change would be sent
    to: ``enrolment`` (the body of ``POST /persons/{id}/enrolments``), or ``suspension``, ``resumption``,
    ``termination`` (``POST /persons/{id}/enrolments/{insurance_type}/{action}``, with ``insurance_type``)."""

    person_id: str
    expected_version: int | None = Field(
        default=None, ge=0, description="The version the record was read at (its If-Match); a stale one is 409"
    )
    changes: list[dict[str, Any]] = Field(min_length=1, max_length=ENROLMENT_CHANGES_PER_ITEM_MAX)


class EnrolmentEnd(EnrolmentChange):
    """A suspension, resumption or termination in a batch: the type it ends, as the route's path names it."""

    insurance_type: InsuranceType


class ItemProblem(BaseModel):
    """Why one item was not written: the problem document its single route would have answered."""

    status: int
    detail: str
    field: str | None = None
    rule: str | None = None
    errors: list[dict[str, str]] = Field(default_factory=list, description="Each field that failed validation")


class EnrolmentBatchOutcome(BaseModel):
    """The outcome of one item, by its index in the request."""

    index: int
    status: int = Field(description="200 changed, 404 no such person, 403 outside scope, 409 stale, 422 refused")
    person_id: str | None = None
    version: int | None = Field(default=None, description="The record's version after the changes")
    changes: int = Field(default=0, description="Changes applied")
    problem: ItemProblem | None = None


class EnrolmentBatchResult(BaseModel):
    """Counts and one result per item, in request order."""

    changed: int
    conflicts: int
    rejected: int
    results: list[EnrolmentBatchOutcome]
