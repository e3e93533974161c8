"""Many residents at once: the batch request and one result per item."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registration.models.person import PersonPublic

PERSON_BATCH_MAX = 1_000


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

    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=PERSON_BATCH_MAX,
        description="Each item has the fields of POST /persons (PersonCreate)",
        json_schema_extra={"items": {"$ref": "#/components/schemas/PersonCreate"}},
    )


class ItemProblem(BaseModel):
    """Why one item was not registered: the rule, the field and the reason, as a problem document says it."""

    status: int
    detail: str
    field: str | None = None
    rule: str | None = None
    person_id: str | None = Field(default=None, description="On 409: who already holds this ID number")
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
