"""Commands on the vacancy aggregate (岗位): open with positions and a wage range in fen, fill, close.

The ``vacancies`` table is the list ``GET /vacancies`` reads and what an employer's deregistration counts;
it is written in the same transaction as the events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from services.registration import queries
from services.registration.commands.context import Ledger
from services.registration.commands.items import ItemInvalid, invalid_at
from services.registration.domain.vacancy import (
    CloseVacancy,
    FillVacancy,
    OpenVacancy,
    VacancyState,
    decide_close_vacancy,
    decide_fill_vacancy,
    decide_open_vacancy,
)
from services.registration.models.items import VacancyChangesItem
from services.registration.models.vacancy import VacancyClosure, VacancyCreate, VacancyFill, VacancyPublic
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import DomainError
from services.runtime.eventstore import Append, Metadata


def vacancy_public(state: VacancyState) -> VacancyPublic:
    """A vacancy as clients see it, with the positions remaining and its status."""
    return VacancyPublic.model_validate(state, from_attributes=True)


async def _save(conn: Connection, changed: Changed[VacancyState]) -> list[Append]:
    row = vacancy_public(changed.after).model_dump()
    await conn.execute(
        f"INSERT INTO vacancies ({', '.join(queries.VACANCY_FIELDS)})"
        f" VALUES ({', '.join(['%s'] * len(queries.VACANCY_FIELDS))})"
        " ON CONFLICT (vacancy_id) DO UPDATE SET filled = excluded.filled, withdrawn = excluded.withdrawn,"
        " closed_on = excluded.closed_on, status = excluded.status, version = excluded.version",
        [row[name] for name in queries.VACANCY_FIELDS],
    )
    return []


async def open_vacancy(
    ledger: Ledger, conn: Connection, principal: Principal, body: VacancyCreate, metadata: Metadata
) -> VacancyPublic:
    """Open a vacancy (岗位) of a registered employer in the caller's region."""
    employer_id = str(body.employer_id)
    employer = await ledger.employers.load(conn, employer_id)
    if employer is not None:
        principal.require_region(employer.region_code)
    today = ledger.today()
    command = OpenVacancy(
        vacancy_id=str(uuid.uuid4()),
        employer=employer,
        employer_id=employer_id,
        occupation=body.occupation,
        positions=body.positions,
        wage_min_fen=body.wage_min_fen,
        wage_max_fen=body.wage_max_fen,
        requirements=body.requirements,
        opened_on=body.opened_on or today,
    )
    events = decide_open_vacancy(command, today=today)
    changed = await ledger.vacancies.create(conn, command.vacancy_id, events, metadata, effects=_save)
    return vacancy_public(changed.after)


async def fill_vacancy(
    ledger: Ledger, conn: Connection, principal: Principal, vacancy_id: str, body: VacancyFill, metadata: Metadata
) -> VacancyPublic:
    """Fill some or all of the remaining positions; a person named must be in the ledger."""
    state = await ledger.vacancies.get(conn, vacancy_id, principal)
    person_id = str(body.person_id) if body.person_id else None
    today = ledger.today()
    command = FillVacancy(
        count=body.count,
        filled_on=body.filled_on or today,
        person_id=person_id,
        person_in_ledger=person_id is None or await queries.person_exists(conn, person_id),
    )
    events = decide_fill_vacancy(command, state, today=today)
    return vacancy_public(
        (await ledger.vacancies.record(conn, vacancy_id, state, events, metadata, effects=_save)).after
    )


async def close_vacancy(
    ledger: Ledger, conn: Connection, principal: Principal, vacancy_id: str, body: VacancyClosure, metadata: Metadata
) -> VacancyPublic:
    """Close a vacancy, withdrawing the positions not filled."""
    today = ledger.today()
    command = CloseVacancy(closed_on=body.closed_on or today, reason=body.reason)
    changed = await ledger.vacancies.change(
        conn,
        vacancy_id,
        lambda state: decide_close_vacancy(command, state, today=today),
        metadata,
        principal=principal,
        effects=_save,
    )
    return vacancy_public(changed.after)


@dataclass(frozen=True)
class VacancyChanges:
    """One vacancy's fills and closure, in order, as ``POST /vacancies/changes/batch`` takes them."""

    vacancy_id: str
    changes: list[VacancyFill | VacancyClosure]


#: ``action`` of a vacancy change (its route's path after ``/vacancies/{vacancy_id}/``) -> its body model.
VACANCY_ACTIONS: dict[str, type[VacancyFill] | type[VacancyClosure]] = {"fills": VacancyFill, "closure": VacancyClosure}


def parse_vacancy_changes(raw: dict[str, Any]) -> VacancyChanges:
    """A ``VacancyChangesItem``, each change validated as its route's body (a bad one: 422 naming
    ``changes.<i>.<field>``)."""
    item = VacancyChangesItem.model_validate(raw)
    changes: list[VacancyFill | VacancyClosure] = []
    for position, change in enumerate(item.changes):
        body = dict(change)
        action = body.pop("action", None)
        model = VACANCY_ACTIONS.get(action) if isinstance(action, str) else None
        if model is None:
            field = f"changes.{position}.action"
            reason = f"must be one of {', '.join(VACANCY_ACTIONS)}, not {action!r}"
            raise ItemInvalid(
                {
                    "status": 422,
                    "detail": f"{field}: {reason}",
                    "field": field,
                    "rule": "KnownAction",
                    "errors": [{"field": field, "reason": reason}],
                }
            )
        try:
            changes.append(model.model_validate(body))
        except ValidationError as invalid:
            raise invalid_at(f"changes.{position}.", invalid) from None
    return VacancyChanges(item.vacancy_id, changes)


async def change_vacancy(
    ledger: Ledger, conn: Connection, principal: Principal, item: VacancyChanges, metadata: Metadata
) -> VacancyPublic:
    """A vacancy's changes one after another by their routes' commands; the first refusal refuses them all
    (the caller's savepoint undoes the ones before it), naming the change it is in."""
    answer: VacancyPublic | None = None
    for position, change in enumerate(item.changes):
        try:
            if isinstance(change, VacancyFill):
                answer = await fill_vacancy(ledger, conn, principal, item.vacancy_id, change, metadata)
            else:
                answer = await close_vacancy(ledger, conn, principal, item.vacancy_id, change, metadata)
        except DomainError as refused:
            if refused.field != "vacancy_id":
                refused.field = f"changes.{position}.{refused.field}" if refused.field else f"changes.{position}"
            raise
    assert answer is not None  # an item has at least one change
    return answer
