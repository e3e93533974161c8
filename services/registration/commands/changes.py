"""Many persons' changes in one request (``POST /persons/changes/batch``), decided by the single routes' rules.

Each item is one person: the changes a clerk would send to that person's routes, in order. ``action`` names
the route (its path after ``/persons/{person_id}/``); the rest of the change is that route's body, and the
route's own ``prepare`` (``commands/person.py``, ``employment.py``, ``survey.py``) builds the decision, so a
batch can never accept what the route would refuse. A person's changes are decided one after another on the
state the earlier ones left and written together or not at all: one refused change refuses the item (the
status the route would answer, the field as ``changes.<i>.<field>``); the other items still commit, in the
caller's transaction. ``expected_version`` on an item is the entry's If-Match.

Why: the quarterly dynamic survey (动态调查) of a village, or the history of a ledger kept on paper, is
thousands of changes, and a request each spends most of its time on HTTP and on a transaction per change
(about 600 changes a second on a two-core machine); here the streams load in one query, the rows are written
in one statement and the events appended in one ``append_batch``, about ten times as many a second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from contracts.registration import StatusSurveyed
from contracts.registry import decode
from services.registration import queries
from services.registration.commands.batch import item_problem, tally, validation_problem
from services.registration.commands.context import Ledger, may_change_persons
from services.registration.commands.person import PersonDecision
from services.registration.domain.household import HouseholdState, decide_household_employment
from services.registration.domain.person import PersonEvent, PersonState
from services.registration.models.batch import PersonChangesBatchItem, PersonChangesBatchResult, PersonChangesItem
from services.runtime.aggregate import is_uuid, require_version
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import DomainError, NotFound, RuleViolated
from services.runtime.eventstore import Append, Metadata
from services.runtime.http import status_for

#: Builds the decision of one person route from its body (the routes' own ``prepare``).
Prepare = Callable[[Ledger, Connection, str, Any], Awaitable[PersonDecision]]
#: ``action`` (a route's path after ``/persons/{person_id}/``) -> that route's body model and ``prepare``.
Actions = Mapping[str, tuple[type[BaseModel], Prepare]]


@dataclass
class _Item:
    index: int
    person_id: str
    expected_version: int | None
    changes: list[tuple[BaseModel, Prepare]]
    before: PersonState | None = None
    after: PersonState | None = None
    #: Every event in order with the person's state after it (rows, appends and household snapshots).
    steps: list[tuple[PersonEvent, PersonState]] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, result: PersonChangesBatchItem) -> None:
        super().__init__(result.status)
        self.result = result


async def change_persons(
    ledger: Ledger,
    conn: Connection,
    principal: Principal,
    raw_items: Sequence[dict[str, Any]],
    metadata: Metadata,
    actions: Actions,
) -> PersonChangesBatchResult:
    """Decide every item on its own and write the accepted ones together, in the caller's transaction."""
    may_change_persons(principal)
    results: list[PersonChangesBatchItem | None] = [None] * len(raw_items)
    items: list[_Item] = []
    for index, raw in enumerate(raw_items):
        try:
            items.append(_parse(index, raw, actions))
        except _Refused as refused:
            results[index] = refused.result
    recorded = await ledger.store.load_many(conn, sorted({i.person_id for i in items if is_uuid(i.person_id)}))
    accepted = []
    for item in items:
        try:
            await _decide(ledger, conn, principal, item, recorded.get(item.person_id, []))
        except _Refused as refused:
            results[item.index] = refused.result
            continue
        assert item.after is not None
        accepted.append(item)
        results[item.index] = PersonChangesBatchItem(
            index=item.index,
            status=200,
            person_id=item.person_id,
            version=item.after.version,
            employment_status=item.after.status,
            changes=len(item.changes),
        )
    await _write(ledger, conn, [i for i in accepted if i.steps], metadata)
    answered, changed, conflicts, rejected = tally(results, 200)
    return PersonChangesBatchResult(changed=changed, conflicts=conflicts, rejected=rejected, results=answered)


def _parse(index: int, raw: dict[str, Any], actions: Actions) -> _Item:
    try:
        item = PersonChangesItem.model_validate(raw)
    except ValidationError as invalid:
        raise _Refused(PersonChangesBatchItem(index=index, status=422, problem=validation_problem(invalid))) from None
    changes = []
    for position, change in enumerate(item.changes):
        body = dict(change)
        action = str(body.pop("action", ""))
        if action not in actions:
            known = ", ".join(sorted(actions))
            unknown = RuleViolated("KnownAction", f"action must be one of {known}, not {action!r}", field="action")
            raise _Refused(_problem(index, item.person_id, unknown, position))
        model, prepare = actions[action]
        try:
            changes.append((model.model_validate(body), prepare))
        except ValidationError as invalid:
            problem = validation_problem(invalid)
            problem.field = f"changes.{position}.{problem.field}"
            for error in problem.errors:
                error["field"] = f"changes.{position}.{error['field']}"
            result = PersonChangesBatchItem(index=index, status=422, person_id=item.person_id, problem=problem)
            raise _Refused(result) from None
    return _Item(index, item.person_id, item.expected_version, changes)


async def _decide(ledger: Ledger, conn: Connection, principal: Principal, item: _Item, recorded: list[Any]) -> None:
    """Fold the entry, check scope and version, then decide each change on the state the last one left."""
    persons = ledger.persons
    if not recorded or recorded[0].envelope.stream_type != persons.stream_type:
        missing = NotFound(f"no person {item.person_id}", field="person_id")
        raise _Refused(_problem(item.index, item.person_id, missing))
    state = persons.fold([decode(r.envelope) for r in recorded])
    assert state is not None
    try:
        principal.require_region(state.region_code)
        require_version(persons.label, item.person_id, state.version, item.expected_version)
    except DomainError as refused:
        raise _Refused(_problem(item.index, item.person_id, refused)) from None
    item.before, current = state, state
    for position, (body, prepare) in enumerate(item.changes):
        try:
            decision = await prepare(ledger, conn, item.person_id, body)
            if decision.pii:  # the batch writes no encrypted fields: corrections of PII go one by one
                raise RuleViolated(
                    "PersonalDataChangedOneByOne",
                    "a correction of the ID number, name or phone goes to its own route",
                    field="action",
                )
            events = decision.decide(current)
        except DomainError as refused:
            raise _Refused(_problem(item.index, item.person_id, refused, position)) from None
        for event in events:
            current = persons.evolve(current, event)
            item.steps.append((event, current))
    item.after = current


async def _write(ledger: Ledger, conn: Connection, items: Sequence[_Item], metadata: Metadata) -> None:
    """Rows first (their locks order this after any household command), then the survey marks, the
    households' snapshots and one append of every stream (as ``commands/person.py`` does for one change)."""
    if not items:
        return
    rows: list[queries.PersonStateRow] = []
    surveys: dict[tuple[str, str], tuple[str, str, str, Any]] = {}
    appends: list[Append] = []
    for item in items:
        before, after = item.before, item.after
        assert before is not None and after is not None
        rows.append(
            (
                item.person_id,
                after.sex,
                after.birth_date,
                after.hukou,
                after.education,
                after.region_code,
                after.status,
                ",".join(after.categories),
                after.version,
            )
        )
        for event, _ in item.steps:
            if isinstance(event, StatusSurveyed):  # a later survey of the same quarter replaces an earlier one
                surveys[(item.person_id, event.quarter)] = (
                    item.person_id,
                    event.quarter,
                    event.status,
                    event.surveyed_on,
                )
        appends.append(ledger.persons.appending(item.person_id, before, [e for e, _ in item.steps], metadata))
    await queries.save_person_states(conn, rows)
    await queries.record_surveys(conn, list(surveys.values()))
    appends += await _household_snapshots(ledger, conn, items, metadata)
    await ledger.store.append_batch(conn, appends)


async def _household_snapshots(
    ledger: Ledger, conn: Connection, items: Sequence[_Item], metadata: Metadata
) -> list[Append]:
    """A household's ``HouseholdEmploymentChanged`` after each change of a member's status, as one change at a
    time would append it; members of one household in one batch follow each other on its stream."""
    changing = {i.person_id: _status_changes(i) for i in items}
    households = await queries.households_of(conn, [p for p, changes in changing.items() if changes])
    before: dict[str, HouseholdState] = {}
    after: dict[str, HouseholdState] = {}
    events: dict[str, list[Any]] = {}
    for person_id, household_id in households.items():
        if household_id not in before:
            before[household_id] = after[household_id] = await ledger.households.get(conn, household_id)
        for state in changing[person_id]:
            for event in decide_household_employment(after[household_id], state, today=ledger.today()):
                after[household_id] = ledger.households.evolve(after[household_id], event)
                events.setdefault(household_id, []).append(event)
    return [ledger.households.appending(h, before[h], e, metadata) for h, e in events.items()]


def _status_changes(item: _Item) -> list[PersonState]:
    """The person's state after each step that changed the employment status."""
    out, status = [], item.before.status if item.before else None
    for _, state in item.steps:
        if state.status != status:
            out.append(state)
            status = state.status
    return out


def _problem(
    index: int, person_id: str | None, error: DomainError, position: int | None = None
) -> PersonChangesBatchItem:
    """The item's result for a refusal, the field prefixed with the change it is in."""
    problem = item_problem(error)
    if position is not None:
        problem.field = f"changes.{position}.{problem.field}" if problem.field else f"changes.{position}"
    return PersonChangesBatchItem(index=index, status=status_for(error), person_id=person_id, problem=problem)
