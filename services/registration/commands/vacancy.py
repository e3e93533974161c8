"""Commands on the vacancy aggregate (岗位): open with positions and a wage range in fen, fill, close.

The ``vacancies`` table is the list ``GET /vacancies`` reads and what an employer's deregistration counts;
it is written in the same transaction as the events.
"""

from __future__ import annotations

import uuid

from services.registration import queries
from services.registration.commands.context import Ledger
from services.registration.domain.vacancy import (
    CloseVacancy,
    FillVacancy,
    OpenVacancy,
    VacancyState,
    decide_close_vacancy,
    decide_fill_vacancy,
    decide_open_vacancy,
)
from services.registration.models.vacancy import VacancyClosure, VacancyCreate, VacancyFill, VacancyPublic
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
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
