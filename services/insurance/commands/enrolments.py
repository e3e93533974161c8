"""Many persons' enrolments in one request (``POST /enrolments/batch``), decided by the single routes' rules.

Each item is one person: the changes a clerk would send to that person's enrolment routes, in order.
``action`` names the route (``enrolment``: ``POST /persons/{id}/enrolments``; ``suspension``, ``resumption``,
``termination``: ``POST /persons/{id}/enrolments/{insurance_type}/{action}``), the rest of the change is that
route's body (with ``insurance_type`` for the three ends). A person's changes are decided one after another on
the state the earlier ones left (``domain/enrolment.py``, the same functions the routes call) and appended
together or not at all: one refused change refuses the item, with the status its route would answer and the
field as ``changes.<i>.<field>``; the other items still commit, in the caller's transaction.

Why: a township enters an employer's whole workforce when it joins the scheme, and a county's history of
hires is tens of thousands of enrolments; one request and one transaction each is most of their cost. Here
the records load in one query, the employers and the persons registration reported in one each, and the
accepted items append in one ``InsuredBatch.commit``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import ValidationError

from services.insurance import queries
from services.insurance.batches import (
    EnrolmentBatchItem,
    EnrolmentBatchOutcome,
    EnrolmentBatchResult,
    EnrolmentEnd,
    ItemProblem,
)
from services.insurance.commands import require_clerk
from services.insurance.commands.batch import Decision
from services.insurance.commands.insured import InsuredCommands
from services.insurance.domain import enrolment
from services.insurance.domain.insured import InsuredState
from services.insurance.models import EnrolmentCreate
from services.runtime.aggregate import Aggregate, is_uuid
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import DomainError
from services.runtime.eventstore import Metadata
from services.runtime.http import status_for

#: ``action`` of a change that ends (or pauses) an enrolment -> the verb ``EndEnrolment`` takes.
ENDS: dict[str, Literal["suspend", "resume", "terminate"]] = {
    "suspension": "suspend",
    "resumption": "resume",
    "termination": "terminate",
}
ACTIONS = ("enrolment", *ENDS)

Spec = enrolment.Enrol | enrolment.EndEnrolment


class _Refused(Exception):
    def __init__(self, problem: ItemProblem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


async def change_enrolments(
    commands: InsuredCommands,
    conn: Connection,
    principal: Principal,
    raw_items: Sequence[dict[str, Any]],
    metadata: Metadata,
) -> EnrolmentBatchResult:
    """Decide every item on its own and append the accepted ones together, in the caller's transaction."""
    require_clerk(principal)
    today = commands.today()
    results: list[EnrolmentBatchOutcome | None] = [None] * len(raw_items)
    items: list[tuple[int, EnrolmentBatchItem, list[Spec]]] = []
    for index, raw in enumerate(raw_items):
        try:
            item, specs = _parse(raw)
        except _Refused as refused:
            person = raw.get("person_id") if isinstance(raw.get("person_id"), str) else None
            results[index] = EnrolmentBatchOutcome(index=index, status=422, person_id=person, problem=refused.problem)
            continue
        items.append((index, item, specs))
    people = [item.person_id for _, item, _ in items if is_uuid(item.person_id)]
    loaded = await commands.load_many(conn, people)
    regions = await queries.person_regions(conn, [p for p in people if p not in loaded])
    named = [s.employer_id for _, _, specs in items for s in specs if isinstance(s, enrolment.Enrol)]
    employers = await queries.active_employers(conn, [e for e in named if e])
    batch = commands.batch(loaded, regions.get)
    for index, item, specs in items:
        try:
            changed = batch.change(
                item.person_id,
                _decision(commands.aggregate, specs, employers, today),
                metadata,
                principal=principal,
                expected_version=item.expected_version,
            )
        except DomainError as refused:
            results[index] = EnrolmentBatchOutcome(
                index=index, status=status_for(refused), person_id=item.person_id, problem=_problem(refused)
            )
            continue
        results[index] = EnrolmentBatchOutcome(
            index=index, status=200, person_id=item.person_id, version=changed.version, changes=len(specs)
        )
    await batch.commit(conn)
    answered = [r for r in results if r is not None]
    changed_items = sum(1 for r in answered if r.status == 200)
    conflicts = sum(1 for r in answered if r.status == 409)
    return EnrolmentBatchResult(
        changed=changed_items, conflicts=conflicts, rejected=len(answered) - changed_items - conflicts, results=answered
    )


def _parse(raw: dict[str, Any]) -> tuple[EnrolmentBatchItem, list[Spec]]:
    """The item and each change as the domain's command; a bad one refuses the item (422, naming the field)."""
    try:
        item = EnrolmentBatchItem.model_validate(raw)
    except ValidationError as invalid:
        raise _Refused(_invalid(invalid)) from None
    specs: list[Spec] = []
    for position, change in enumerate(item.changes):
        body = dict(change)
        action = body.pop("action", None)
        try:
            if action == "enrolment":
                enrol = EnrolmentCreate.model_validate(body)
                specs.append(enrolment.Enrol(enrol.insurance_type, enrol.basis, enrol.enrolled_on, enrol.employer_id))
            elif isinstance(action, str) and action in ENDS:
                end = EnrolmentEnd.model_validate(body)
                specs.append(enrolment.EndEnrolment(end.insurance_type, ENDS[action], end.on, end.reason))
            else:
                reason = f"must be one of {', '.join(ACTIONS)}, not {action!r}"
                field = f"changes.{position}.action"
                raise _Refused(
                    ItemProblem(
                        status=422,
                        detail=f"{field}: {reason}",
                        field=field,
                        rule="KnownAction",
                        errors=[{"field": field, "reason": reason}],
                    )
                )
        except ValidationError as invalid:
            raise _Refused(_invalid(invalid, f"changes.{position}.")) from None
    return item, specs


def _decision(
    aggregate: Aggregate[InsuredState], specs: Sequence[Spec], employers: Collection[str], today: date
) -> Decision:
    """One decision for the item's changes: each decided on the state the ones before it leave."""

    def decide(state: InsuredState) -> list[Any]:
        events: list[Any] = []
        for position, spec in enumerate(specs):
            try:
                if isinstance(spec, enrolment.Enrol):
                    known = spec.employer_id is not None and spec.employer_id in employers
                    made: Sequence[Any] = enrolment.decide_enrol(spec, state, employer_known=known, today=today)
                else:
                    made = enrolment.decide_end_enrolment(spec, state, today=today)
            except DomainError as refused:
                refused.field = f"changes.{position}.{refused.field}" if refused.field else f"changes.{position}"
                raise
            folded = aggregate.fold(made, state)
            assert folded is not None
            state = folded
            events.extend(made)
        return events

    return decide


def _invalid(invalid: ValidationError, prefix: str = "") -> ItemProblem:
    """A validation error as a 422 problem naming each field (``prefix``: the change it is in)."""
    errors = [
        {
            "field": prefix + (".".join(str(part) for part in error["loc"]) or "item"),
            "reason": str(error["msg"]).removeprefix("Value error, "),
        }
        for error in invalid.errors()
    ]
    first = errors[0] if errors else {"field": prefix + "item", "reason": "invalid"}
    return ItemProblem(
        status=422,
        detail="; ".join(f"{e['field']}: {e['reason']}" for e in errors),
        field=first["field"],
        errors=errors,
    )


def _problem(error: DomainError) -> ItemProblem:
    """A domain error as the problem document the single route would have answered."""
    rule = getattr(error, "rule", None)
    return ItemProblem(status=status_for(error), detail=error.detail, field=error.field, rule=rule)
