"""Assistance's own small read state, kept in the transaction of what changes it.

- what registration's events tell of persons, household membership and vacancies (written by
  ``reactions.py``), so that rules can check a person or a vacancy without asking registration;
- lists of this service's own streams (cases, applications, certifications, zero-employment
  households, public-welfare posts), written by :func:`record` from the events a command appends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts import assistance as a
from contracts.envelope import Event
from contracts.regions import region_level
from services.assistance.domain.cases import OpenVacancy
from services.assistance.domain.persons import PersonView
from services.assistance.domain.ratings import RATEABLE_SERVICES, ServiceOnCase
from services.runtime.db import Connection

DDL = [
    """
    CREATE TABLE IF NOT EXISTS persons (
        person_id text PRIMARY KEY, region_code text NOT NULL, sex text NOT NULL, birth_date date NOT NULL,
        hukou text, categories text[] NOT NULL DEFAULT '{}', status text NOT NULL, unemployed_since date
    )
    """,
    "CREATE TABLE IF NOT EXISTS household_members (person_id text PRIMARY KEY, household_id text NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS vacancies (
        vacancy_id text PRIMARY KEY, employer_id text NOT NULL, region_code text NOT NULL, occupation text NOT NULL,
        wage_min_fen bigint NOT NULL, wage_max_fen bigint NOT NULL, requirements text, remaining int NOT NULL,
        is_open boolean NOT NULL, opened_on date NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS vacancies_open ON vacancies (region_code) WHERE is_open",
    """
    CREATE TABLE IF NOT EXISTS cases (
        case_id text PRIMARY KEY, person_id text NOT NULL UNIQUE, region_code text NOT NULL,
        is_open boolean NOT NULL, opened_on date NOT NULL, closed_on date, close_reason text
    )
    """,
    "CREATE INDEX IF NOT EXISTS cases_region ON cases (region_code text_pattern_ops)",
    """
    CREATE TABLE IF NOT EXISTS applications (
        application_id text PRIMARY KEY, person_id text NOT NULL, region_code text NOT NULL, stage text NOT NULL,
        applied_on date NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS applications_person ON applications (person_id)",
    """
    CREATE TABLE IF NOT EXISTS certifications (
        certification_id text PRIMARY KEY, person_id text NOT NULL, region_code text NOT NULL,
        certified_on date NOT NULL, review_on date NOT NULL, ended_on date
    )
    """,
    "CREATE INDEX IF NOT EXISTS certifications_person ON certifications (person_id) WHERE ended_on IS NULL",
    """
    CREATE TABLE IF NOT EXISTS zero_households (
        household_id text PRIMARY KEY, region_code text NOT NULL, stage text NOT NULL, detected_on date,
        confirmed_on date, clear_by date, cleared_on date, clear_reason text, days_outstanding int
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS posts (
        post_id text PRIMARY KEY, region_code text NOT NULL, unit text NOT NULL, title text NOT NULL,
        positions int NOT NULL, filled int NOT NULL DEFAULT 0, monthly_subsidy_fen bigint NOT NULL,
        term_ends_on date NOT NULL, ended_on date
    )
    """,
]


def subtree_pattern(region_code: str) -> str:
    """A LIKE pattern matching every code in the region's subtree."""
    length = (2, 4, 6, 9, 12)[region_level(region_code).depth]
    return region_code[:length] + "%"


# --- what registration tells ---------------------------------------------------------------------------


_PERSON_SELECT = (
    "SELECT p.person_id, p.region_code, p.sex, p.birth_date, p.hukou, p.categories, p.status,"
    " p.unemployed_since, m.household_id FROM persons p LEFT JOIN household_members m USING (person_id)"
)


def _person(row: tuple[Any, ...]) -> PersonView:
    return PersonView(
        str(row[0]), str(row[1]), str(row[2]), row[3], row[4], tuple(row[5] or ()), str(row[6]), row[7], row[8]
    )


async def person(conn: Connection, person_id: str) -> PersonView | None:
    """A person of the ledger as registration's events told assistance; None if never heard of."""
    cursor = await conn.execute(_PERSON_SELECT + " WHERE p.person_id = %s", (person_id,))
    row = await cursor.fetchone()
    return None if row is None else _person(row)


async def persons(conn: Connection, person_ids: Sequence[str]) -> dict[str, PersonView]:
    """Several persons in one query, by id; those never heard of are absent."""
    cursor = await conn.execute(_PERSON_SELECT + " WHERE p.person_id = ANY(%s)", (list(person_ids),))
    return {str(row[0]): _person(row) for row in await cursor.fetchall()}


_SAVE_PERSON = (
    "INSERT INTO persons (person_id, region_code, sex, birth_date, hukou, categories, status, unemployed_since)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (person_id) DO UPDATE SET"
    " region_code = excluded.region_code, sex = excluded.sex, birth_date = excluded.birth_date,"
    " hukou = excluded.hukou, categories = excluded.categories, status = excluded.status,"
    " unemployed_since = excluded.unemployed_since"
)


def _person_row(p: PersonView) -> tuple[Any, ...]:
    return (p.person_id, p.region_code, p.sex, p.birth_date, p.hukou, list(p.categories), p.status, p.unemployed_since)


async def save_person(conn: Connection, p: PersonView) -> None:
    """Insert or replace a person's attributes (household membership is kept apart)."""
    await conn.execute(_SAVE_PERSON, _person_row(p))


async def save_persons(conn: Connection, views: Sequence[PersonView]) -> None:
    """:func:`save_person` for many persons in one pipelined round of statements (each person at most once)."""
    if views:
        async with conn.cursor() as cursor:
            await cursor.executemany(_SAVE_PERSON, [_person_row(p) for p in views])


async def set_household_members(conn: Connection, household_id: str, member_ids: Sequence[str]) -> None:
    """Who belongs to a household now (a removed member leaves it)."""
    await conn.execute(
        "DELETE FROM household_members WHERE household_id = %s AND NOT person_id = ANY(%s)",
        (household_id, list(member_ids)),
    )
    # One statement for all members: every household event of registration's topic carries the whole list,
    # and a statement per member was most of the worker's round trips on a county's history.
    await conn.execute(
        "INSERT INTO household_members (person_id, household_id) SELECT m, %s FROM unnest(%s::text[]) AS m"
        " ON CONFLICT (person_id) DO UPDATE SET household_id = excluded.household_id",
        (household_id, list(dict.fromkeys(member_ids))),
    )


_VACANCY_COLUMNS = (
    "vacancy_id, employer_id, region_code, occupation, remaining, is_open, wage_min_fen, wage_max_fen, requirements"
)


def _vacancy(row: tuple[Any, ...]) -> OpenVacancy:
    return OpenVacancy(*row)


async def save_vacancy(conn: Connection, v: OpenVacancy, opened_on: date) -> None:
    """A vacancy registration opened."""
    await conn.execute(
        f"INSERT INTO vacancies ({_VACANCY_COLUMNS}, opened_on) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (vacancy_id) DO NOTHING",
        (
            v.vacancy_id,
            v.employer_id,
            v.region_code,
            v.occupation,
            v.remaining,
            v.is_open,
            v.wage_min_fen,
            v.wage_max_fen,
            v.requirements,
            opened_on,
        ),
    )


async def update_vacancy(conn: Connection, vacancy_id: str, *, remaining: int, is_open: bool) -> None:
    """Positions left and whether it is still open."""
    await conn.execute(
        "UPDATE vacancies SET remaining = %s, is_open = %s WHERE vacancy_id = %s", (remaining, is_open, vacancy_id)
    )


async def vacancy(conn: Connection, vacancy_id: str) -> OpenVacancy | None:
    """One vacancy of the view."""
    cursor = await conn.execute(f"SELECT {_VACANCY_COLUMNS} FROM vacancies WHERE vacancy_id = %s", (vacancy_id,))
    row = await cursor.fetchone()
    return None if row is None else _vacancy(row)


async def open_vacancies(conn: Connection, region_code: str) -> list[OpenVacancy]:
    """Open vacancies with positions left in a region's subtree (matching looks within the county)."""
    cursor = await conn.execute(
        f"SELECT {_VACANCY_COLUMNS} FROM vacancies WHERE is_open AND remaining > 0 AND region_code LIKE %s",
        (subtree_pattern(region_code),),
    )
    return [_vacancy(row) for row in await cursor.fetchall()]


# --- this service's own streams --------------------------------------------------------------------------


async def pending_application(conn: Connection, person_id: str) -> str | None:
    """An application of the person still being decided."""
    cursor = await conn.execute(
        "SELECT application_id FROM applications WHERE person_id = %s AND stage IN ('applied', 'under_notice')",
        (person_id,),
    )
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def active_certification(conn: Connection, person_id: str) -> str | None:
    """The person's certification that still holds."""
    cursor = await conn.execute(
        "SELECT certification_id FROM certifications WHERE person_id = %s AND ended_on IS NULL", (person_id,)
    )
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def zero_employment_stage(conn: Connection, household_id: str | None) -> str:
    """``none``, ``detected`` or ``confirmed``."""
    if household_id is None:
        return "none"
    return (await zero_employment_stages(conn, [household_id])).get(household_id, "none")


async def zero_employment_stages(conn: Connection, household_ids: Sequence[str]) -> dict[str, str]:
    """The stage of each of these households that assistance ever detected (the others are ``none``)."""
    if not household_ids:
        return {}
    cursor = await conn.execute(
        "SELECT household_id, stage FROM zero_households WHERE household_id = ANY(%s)", (list(household_ids),)
    )
    return {str(row[0]): str(row[1]) for row in await cursor.fetchall()}


async def record(conn: Connection, events: Sequence[Event]) -> None:
    """Keep the lists current with events just appended, in the same transaction.

    Consecutive events of one type share an ``executemany`` (one pipelined round trip for a whole batch of
    reactions); the order of the events is kept, so a case opened and closed in one batch ends closed.
    """
    run: list[dict[str, Any]] = []
    sql: str | None = None
    for event in events:
        found = _RECORDERS.get(type(event))
        if found is None:
            continue
        if found != sql and run:
            await _execute_many(conn, sql, run)
            run = []
        sql = found
        run.append(event.model_dump())
    if run:
        await _execute_many(conn, sql, run)


async def _execute_many(conn: Connection, sql: str | None, params: list[dict[str, Any]]) -> None:
    assert sql is not None
    if len(params) == 1:
        await conn.execute(sql, params[0])
        return
    async with conn.cursor() as cursor:
        await cursor.executemany(sql, params)


_RECORDERS: dict[type[Event], str] = {
    a.CaseOpened: "INSERT INTO cases (case_id, person_id, region_code, is_open, opened_on)"
    " VALUES (%(case_id)s, %(person_id)s, %(region_code)s, true, %(opened_on)s) ON CONFLICT (case_id) DO UPDATE"
    " SET region_code = excluded.region_code, is_open = true, opened_on = excluded.opened_on,"
    " closed_on = NULL, close_reason = NULL",
    a.CaseMoved: "UPDATE cases SET region_code = %(region_code)s WHERE case_id = %(case_id)s",
    a.CaseClosed: "UPDATE cases SET is_open = false, closed_on = %(closed_on)s, close_reason = %(reason)s"
    " WHERE case_id = %(case_id)s",
    a.PlacedInJob: "UPDATE cases SET is_open = false, closed_on = %(placed_on)s, close_reason = 'placed'"
    " WHERE case_id = %(case_id)s",
    a.HardToEmployApplied: "INSERT INTO applications (application_id, person_id, region_code, stage, applied_on)"
    " VALUES (%(application_id)s, %(person_id)s, %(region_code)s, 'applied', %(applied_on)s)",
    a.HardToEmployReviewed: "UPDATE applications SET stage = CASE WHEN %(passed)s THEN 'under_notice'"
    " ELSE 'refused_at_review' END WHERE application_id = %(application_id)s",
    a.HardToEmployDecided: "UPDATE applications SET stage = CASE WHEN %(certified)s THEN 'certified'"
    " ELSE 'refused' END WHERE application_id = %(application_id)s",
    a.HardToEmployCertified: "INSERT INTO certifications (certification_id, person_id, region_code, certified_on,"
    " review_on) VALUES (%(certification_id)s, %(person_id)s, %(region_code)s, %(certified_on)s, %(review_on)s)",
    a.HardToEmployStatusEnded: "UPDATE certifications SET ended_on = %(ended_on)s"
    " WHERE certification_id = %(certification_id)s",
    a.ZeroEmploymentHouseholdDetected: "INSERT INTO zero_households (household_id, region_code, stage, detected_on)"
    " VALUES (%(household_id)s, %(region_code)s, 'detected', %(detected_on)s) ON CONFLICT (household_id) DO UPDATE"
    " SET region_code = excluded.region_code, stage = 'detected', detected_on = excluded.detected_on,"
    " confirmed_on = NULL, clear_by = NULL, cleared_on = NULL, clear_reason = NULL, days_outstanding = NULL",
    a.ZeroEmploymentHouseholdConfirmed: "UPDATE zero_households SET stage = 'confirmed',"
    " confirmed_on = %(confirmed_on)s, clear_by = %(clear_by)s WHERE household_id = %(household_id)s",
    a.ZeroEmploymentHouseholdDismissed: "UPDATE zero_households SET stage = 'dismissed'"
    " WHERE household_id = %(household_id)s",
    a.ZeroEmploymentHouseholdCleared: "UPDATE zero_households SET stage = 'cleared', cleared_on = %(cleared_on)s,"
    " clear_reason = %(reason)s, days_outstanding = %(days_outstanding)s WHERE household_id = %(household_id)s",
    a.PublicWelfarePostCreated: "INSERT INTO posts (post_id, region_code, unit, title, positions,"
    " monthly_subsidy_fen, term_ends_on) VALUES (%(post_id)s, %(region_code)s, %(unit)s, %(title)s,"
    " %(positions)s, %(monthly_subsidy_fen)s, %(term_ends_on)s)",
    a.PublicWelfarePostFilled: "UPDATE posts SET filled = filled + 1 WHERE post_id = %(post_id)s",
    a.PublicWelfarePostExited: "UPDATE posts SET filled = filled - 1 WHERE post_id = %(post_id)s",
    a.PublicWelfarePostTermEnded: "UPDATE posts SET filled = 0, ended_on = %(ended_on)s WHERE post_id = %(post_id)s",
}


# --- lists ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZeroHousehold:
    """A zero-employment household on the township's list."""

    household_id: str
    region_code: str
    stage: str
    detected_on: date | None
    confirmed_on: date | None
    clear_by: date | None
    cleared_on: date | None
    days_outstanding: int | None


async def zero_households(conn: Connection, region_code: str, stages: Sequence[str]) -> list[ZeroHousehold]:
    """Zero-employment households of a region's subtree in the given stages, oldest confirmation first."""
    cursor = await conn.execute(
        "SELECT household_id, region_code, stage, detected_on, confirmed_on, clear_by, cleared_on, days_outstanding"
        " FROM zero_households WHERE region_code LIKE %s AND stage = ANY(%s)"
        " ORDER BY confirmed_on NULLS LAST, detected_on, household_id",
        (subtree_pattern(region_code), list(stages)),
    )
    return [ZeroHousehold(*row) for row in await cursor.fetchall()]


async def posts_ending(conn: Connection, region_code: str, until: date) -> list[tuple[Any, ...]]:
    """Running posts of a region's subtree whose term ends on or before ``until``."""
    cursor = await conn.execute(
        "SELECT post_id, region_code, unit, title, positions, filled, monthly_subsidy_fen, term_ends_on FROM posts"
        " WHERE region_code LIKE %s AND ended_on IS NULL AND term_ends_on <= %s ORDER BY term_ends_on, post_id",
        (subtree_pattern(region_code), until),
    )
    return list(await cursor.fetchall())


async def cases_in(conn: Connection, region_code: str, *, is_open: bool, limit: int) -> list[tuple[Any, ...]]:
    """Cases of a region's subtree (open or closed), newest first."""
    cursor = await conn.execute(
        "SELECT case_id, person_id, region_code, is_open, opened_on, closed_on, close_reason FROM cases"
        " WHERE region_code LIKE %s AND is_open = %s ORDER BY opened_on DESC, case_id LIMIT %s",
        (subtree_pattern(region_code), is_open, limit),
    )
    return list(await cursor.fetchall())


async def certifications_due(conn: Connection, region_code: str, until: date) -> list[tuple[Any, ...]]:
    """Certified statuses of a region's subtree still holding whose review is due on or before ``until``."""
    cursor = await conn.execute(
        "SELECT certification_id, person_id, region_code, certified_on, review_on FROM certifications"
        " WHERE region_code LIKE %s AND ended_on IS NULL AND review_on <= %s ORDER BY review_on, certification_id",
        (subtree_pattern(region_code), until),
    )
    return list(await cursor.fetchall())


async def certifications_past_review(conn: Connection, today: date) -> list[tuple[str, date]]:
    """(certification id, review date) of every status still holding whose review date is before ``today``."""
    cursor = await conn.execute(
        "SELECT certification_id, review_on FROM certifications WHERE ended_on IS NULL AND review_on < %s"
        " ORDER BY review_on, certification_id",
        (today,),
    )
    return [(str(row[0]), row[1]) for row in await cursor.fetchall()]


async def service_on_case(conn: Connection, case_id: str, event_id: str) -> ServiceOnCase | None:
    """An event of a case's stream with its actor and whether a rating names it (None: no such event)."""
    cursor = await conn.execute(
        "SELECT e.type, e.metadata->>'actor', e.data,"
        " EXISTS (SELECT 1 FROM events r WHERE r.stream_id = e.stream_id AND r.type = %s"
        "         AND r.data->>'service_event_id' = e.event_id::text)"
        " FROM events e WHERE e.stream_id = %s AND e.event_id = %s",
        (a.ServiceRated.event_type, case_id, event_id),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    event_type, actor, data, rated = row
    day_field = RATEABLE_SERVICES.get(event_type)
    given_on = date.fromisoformat(data[day_field]) if day_field and data.get(day_field) else None
    return ServiceOnCase(event_id, event_type, actor, given_on, bool(rated))
