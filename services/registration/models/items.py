"""Many single commands at once: the batch request of each kind and one result per item."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registration.models.batch import items_of
from services.registration.models.service_point import SERVICE_POINT_EXAMPLE

#: Items per ``POST /employers/batch``, ``/service-points/batch``, ``/vacancies/batch`` and
#: ``/vacancies/changes/batch``.
ITEMS_BATCH_MAX = 1_000
#: Changes per vacancy in ``POST /vacancies/changes/batch``.
VACANCY_CHANGES_PER_ITEM_MAX = 500


class EmployerBatch(BaseModel):
    """Up to 1,000 employers to register at once; each item is an ``EmployerCreate`` judged on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"credit_code": "91350100M000100Y43", "name": "绥宁县竹木加工厂", "region_code": "430527100000"}
                    ]
                }
            ]
        },
    )

    items: list[dict[str, Any]] = items_of(
        "EmployerCreate", ITEMS_BATCH_MAX, "Each item is the body of POST /employers"
    )


class ServicePointBatch(BaseModel):
    """Up to 1,000 service points to record at once; each item is a ``ServicePointCreate`` judged on its own."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"items": [SERVICE_POINT_EXAMPLE]}]})

    items: list[dict[str, Any]] = items_of(
        "ServicePointCreate", ITEMS_BATCH_MAX, "Each item is the body of POST /service-points"
    )


class VacancyBatch(BaseModel):
    """Up to 1,000 vacancies to open at once; each item is a ``VacancyCreate`` judged on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "employer_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10",
                            "occupation": "竹木加工操作工",
                            "positions": 5,
                            "wage_min_fen": 300000,
                            "wage_max_fen": 450000,
                            "opened_on": "2025-04-01",
                        }
                    ]
                }
            ]
        },
    )

    items: list[dict[str, Any]] = items_of("VacancyCreate", ITEMS_BATCH_MAX, "Each item is the body of POST /vacancies")


class VacancyChangesBatch(BaseModel):
    """Up to 1,000 vacancies' fills and closures at once; each item is a ``VacancyChangesItem`` judged on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "vacancy_id": "2c4e6a8b-0d1f-4a3c-8e5b-7d9f1b3c5e7a",
                            "changes": [
                                {"action": "fills", "count": 1, "filled_on": "2025-05-06"},
                                {"action": "closure", "closed_on": "2025-06-30"},
                            ],
                        }
                    ]
                }
            ]
        },
    )

    items: list[dict[str, Any]] = items_of("VacancyChangesItem", ITEMS_BATCH_MAX, "Each item is a VacancyChangesItem")


class VacancyChangesItem(BaseModel):
    """One vacancy's changes, in order, all or nothing. ``action`` names the vacancy route the change would be
    sent to (``fills``, ``closure``: its path after ``/vacancies/{vacancy_id}/``); the rest is that route's body."""

    model_config = ConfigDict(extra="forbid")

    vacancy_id: str
    changes: list[dict[str, Any]] = Field(min_length=1, max_length=VACANCY_CHANGES_PER_ITEM_MAX)


class ItemResult(BaseModel):
    """The outcome of one item, by its index in the request: what its single route would have answered."""

    index: int
    status: int = Field(description="The single route's status: 201 or 200 done, 409, 404, 403, 422 refused")
    answer: dict[str, Any] | None = Field(default=None, description="The single route's answer, when done")
    problem: dict[str, Any] | None = Field(
        default=None, description="Its problem document when refused: status, detail, field, rule, what it names"
    )


class ItemResults(BaseModel):
    """Counts and one result per item, in request order."""

    accepted: int
    conflicts: int
    rejected: int
    results: list[ItemResult]
