"""Many single commands in one request (``POST /employers/batch``, ``/service-points/batch``, ``/vacancies/batch``,
``/vacancies/changes/batch``): each item is decided and written exactly as its single route does it, in a
savepoint of the request's transaction, so a refused item rolls back alone and the accepted ones commit
together. One HTTP exchange, one transaction and one commit instead of one each: a county's employers or a
township's vacancies, entered from a list, are hundreds of commands whose cost is mostly that overhead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.registration.commands.batch import validation_problem
from services.registration.models.items import ItemResult, ItemResults
from services.runtime.db import Connection
from services.runtime.errors import DomainError
from services.runtime.http import status_for

Body = TypeVar("Body")
#: Parses one raw item into what its command takes (a pydantic error or ``ItemInvalid`` is the item's 422).
Parse = Callable[[dict[str, Any]], Body]
#: Runs one item's command on the request's connection and returns what its single route answers.
Run = Callable[[Connection, Body], Awaitable[BaseModel]]


class ItemInvalid(Exception):
    """A part of an item failed validation: its 422 problem, the fields named as the item has them."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail"))
        self.problem = problem


def invalid_at(prefix: str, invalid: ValidationError) -> ItemInvalid:
    """A validation error of a part of an item (``changes.0.``), its fields prefixed with where it is."""
    problem = validation_problem(invalid)
    problem.field = f"{prefix}{problem.field}"
    for error in problem.errors:
        error["field"] = f"{prefix}{error['field']}"
    problem.detail = "; ".join(f"{e['field']}: {e['reason']}" for e in problem.errors)
    return ItemInvalid(problem.model_dump(exclude_none=True))


async def run_each(
    conn: Connection, items: Sequence[dict[str, Any]], parse: Parse[Body], run: Run[Body], *, done: int
) -> ItemResults:
    """Every item in order, each in its own savepoint; ``done`` is the status of an accepted item (201, 200)."""
    results = []
    for index, raw in enumerate(items):
        try:
            body = parse(raw)
        except ValidationError as invalid:
            problem = validation_problem(invalid).model_dump(exclude_none=True)
            results.append(ItemResult(index=index, status=422, problem=problem))
            continue
        except ItemInvalid as invalid:
            results.append(ItemResult(index=index, status=422, problem=invalid.problem))
            continue
        except DomainError as refused:
            results.append(ItemResult(index=index, status=status_for(refused), problem=item_problem(refused)))
            continue
        try:
            async with conn.transaction():  # a savepoint: a refusal undoes this item's statements only
                answer = await run(conn, body)
        except DomainError as refused:
            results.append(ItemResult(index=index, status=status_for(refused), problem=item_problem(refused)))
            continue
        results.append(ItemResult(index=index, status=done, answer=answer.model_dump(mode="json")))
    accepted = sum(1 for r in results if r.status == done)
    conflicts = sum(1 for r in results if r.status == 409)
    return ItemResults(
        accepted=accepted, conflicts=conflicts, rejected=len(results) - accepted - conflicts, results=results
    )


def item_problem(error: DomainError) -> dict[str, Any]:
    """The problem document the single route answers for ``error`` (its status, detail, field, rule and what
    it names, such as the ``employer_id`` holding a credit code), without the HTTP envelope."""
    body = {"status": status_for(error), "detail": error.detail, "field": error.field, **error.extra}
    return {k: v for k, v in body.items() if v is not None}
