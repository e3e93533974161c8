"""Many residents (``POST /persons/batch``) or households (``POST /households/batch``) at once: every item
validated on its own, the good ones written set-based in one transaction, one result per item with the status
the single route would give."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from services.registration import queries
from services.registration.commands.context import Ledger, may_change_persons
from services.registration.commands.household import household_public, member_snapshots
from services.registration.commands.person import PersonRequest, register_persons
from services.registration.domain.household import HouseholdState, decide_create_household
from services.registration.models.batch import ItemProblem, PersonBatchItem, PersonBatchResult
from services.registration.models.household import HouseholdBatchItem, HouseholdBatchResult, HouseholdCreate
from services.registration.models.person import PersonCreate
from services.runtime.aggregate import is_uuid
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, DomainError, RuleViolated
from services.runtime.eventstore import Append, Metadata
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


async def create_households(
    ledger: Ledger, conn: Connection, principal: Principal, items: Sequence[dict[str, Any]], metadata: Metadata
) -> HouseholdBatchResult:
    """Enter many households (``POST /households/batch``), each item judged as ``POST /households`` would judge
    it, the good ones written together in the caller's transaction.

    Every member of every item is locked in one statement (as one household command locks its members), then
    the memberships already recorded are read in one: a person in another household, or in an earlier item of
    the batch, answers that item 409 naming them and their household. The accepted households' rows go in two
    statements and their events in one append.
    """
    may_change_persons(principal)
    results: list[HouseholdBatchItem | None] = [None] * len(items)
    bodies: list[tuple[int, HouseholdCreate]] = []
    for index, item in enumerate(items):
        try:
            bodies.append((index, HouseholdCreate.model_validate(item)))
        except ValidationError as invalid:
            results[index] = HouseholdBatchItem(index=index, status=422, problem=validation_problem(invalid))
    wanted = sorted({m.person_id for _, body in bodies for m in body.members if is_uuid(m.person_id)})
    rows = await queries.lock_persons(conn, wanted)
    households = await queries.households_of(conn, wanted)
    today = ledger.today()
    taken: dict[str, str] = {}  # person -> the household an earlier item of this batch puts them in
    entered: list[HouseholdState] = []
    appends: list[Append] = []
    for index, body in bodies:
        household_id = str(uuid.uuid4())
        try:
            principal.require_region(body.region_code)
            region = await ledger.region(conn, body.region_code)
            relations = {m.person_id: m.relation for m in body.members}
            if len(relations) != len(body.members):
                raise RuleViolated("MemberListedOnce", "a person is listed twice", field="members")
            members = member_snapshots(principal, rows, relations, today)
            for person_id in relations:
                if person_id in households or person_id in taken:
                    raise Conflict(
                        "a person belongs to at most one household",
                        field="person_id",
                        person_id=person_id,
                        household_id=households.get(person_id) or taken[person_id],
                    )
            events = decide_create_household(
                household_id, region, body.region_code, members, entered_on=body.entered_on, today=today
            )
        except DomainError as refused:
            problem = item_problem(refused)
            results[index] = HouseholdBatchItem(index=index, status=status_for(refused), problem=problem)
            continue
        state = ledger.households.fold(events)
        assert state is not None
        taken.update(dict.fromkeys(relations, household_id))
        entered.append(state)
        appends.append(ledger.households.appending(household_id, None, events, metadata))
        results[index] = HouseholdBatchItem(index=index, status=201, household=household_public(state))
    if entered:
        await queries.save_new_households(
            conn,
            [(h.household_id, h.region_code, h.head_person_id) for h in entered],
            [(m.person_id, h.household_id, m.relation) for h in entered for m in h.members],
        )
        await ledger.store.append_batch(conn, appends)
    answered, created, conflicts, rejected = tally(results, 201)
    return HouseholdBatchResult(created=created, conflicts=conflicts, rejected=rejected, results=answered)


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
    person_id, household_id = error.extra.get("person_id"), error.extra.get("household_id")
    return ItemProblem(
        status=status_for(error),
        detail=error.detail,
        field=error.field,
        rule=getattr(error, "rule", None),
        person_id=str(person_id) if person_id else None,
        household_id=str(household_id) if household_id else None,
    )
