"""Many residents at once (``POST /persons/batch``): every item validated on its own, the good ones
registered set-based in one transaction, one result per item with the status the single route would give."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from services.registration.commands.context import Ledger
from services.registration.commands.person import PersonRequest, register_persons
from services.registration.models.batch import ItemProblem, PersonBatchItem, PersonBatchResult
from services.registration.models.person import PersonCreate
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import DomainError
from services.runtime.eventstore import Metadata
from services.runtime.http import status_for


async def register_person_batch(
    ledger: Ledger, conn: Connection, principal: Principal, items: Sequence[dict[str, Any]], metadata: Metadata
) -> PersonBatchResult:
    """Validate every item on its own and register the good ones set-based, in the caller's transaction."""
    results: list[PersonBatchItem | None] = [None] * len(items)
    requests: list[PersonRequest] = []
    positions: list[int] = []
    for index, item in enumerate(items):
        try:
            body = PersonCreate.model_validate(item)
        except ValidationError as invalid:
            results[index] = PersonBatchItem(index=index, status=422, problem=validation_problem(invalid))
            continue
        requests.append(PersonRequest(principal, body, metadata))
        positions.append(index)
    for index, outcome in zip(positions, await register_persons(ledger, conn, requests), strict=True):
        if isinstance(outcome, DomainError):
            results[index] = PersonBatchItem(index=index, status=status_for(outcome), problem=item_problem(outcome))
        else:
            results[index] = PersonBatchItem(index=index, status=201, person=outcome)
    answered, created, already_registered, rejected = tally(results, 201)
    return PersonBatchResult(
        created=created, already_registered=already_registered, rejected=rejected, results=answered
    )


class _Answer(Protocol):
    status: int


A = TypeVar("A", bound=_Answer)


def tally(results: Sequence[A | None], done: int) -> tuple[list[A], int, int, int]:
    """A batch's answers in item order, and how many did what was asked (status ``done``), conflicted (409)
    or were refused otherwise."""
    answered = [r for r in results if r is not None]
    succeeded = sum(1 for r in answered if r.status == done)
    conflicts = sum(1 for r in answered if r.status == 409)
    return answered, succeeded, conflicts, len(answered) - succeeded - conflicts


def validation_problem(invalid: ValidationError) -> ItemProblem:
    """A pydantic validation error as a 422 problem naming each field."""
    errors = [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "item",
            "reason": str(error["msg"]).removeprefix("Value error, "),
        }
        for error in invalid.errors()
    ]
    first = errors[0] if errors else {"field": "item", "reason": "invalid"}
    return ItemProblem(
        status=422,
        detail="; ".join(f"{e['field']}: {e['reason']}" for e in errors),
        field=first["field"],
        errors=errors,
    )


def item_problem(error: DomainError) -> ItemProblem:
    """A domain error as the problem document the single-item endpoint would have answered."""
    person_id = error.extra.get("person_id")
    return ItemProblem(
        status=status_for(error),
        detail=error.detail,
        field=error.field,
        rule=getattr(error, "rule", None),
        person_id=str(person_id) if person_id else None,
    )
