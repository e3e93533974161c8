"""Registration's own read state: lookup tables written in the same transaction as the events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from psycopg import errors as pg_errors

from contracts.regions import normalise_region_code, region_level
from services.runtime.db import Connection
from services.runtime.errors import Conflict


@dataclass(frozen=True)
class PersonRow:
    """A ledger entry as stored (personal data still encrypted)."""

    person_id: str
    id_cipher: bytes
    name_cipher: bytes
    phone_cipher: bytes | None
    sex: str
    birth_date: date
    hukou: str | None
    education: str | None
    region_code: str
    registered_at: datetime
    status: str = "not_in_labour_force"
    categories: tuple[str, ...] = ()
    version: int = 1
    #: A woman's retirement group (contracts/retirement.py); None: not recorded, the 55 schedule.
    retirement_group: str | None = None


async def person(conn: Connection, person_id: str) -> PersonRow | None:
    """One ledger entry by id."""
    cursor = await conn.execute(
        "SELECT person_id::text, id_cipher, name_cipher, phone_cipher, sex, birth_date, hukou, education,"
        " region_code, registered_at, status, categories, version, retirement_group FROM persons WHERE person_id = %s",
        (person_id,),
    )
    row = await cursor.fetchone()
    return _person_row(row) if row else None


async def person_ids_by_hash(conn: Connection, id_hashes: list[bytes]) -> dict[bytes, str]:
    """The persons registered under several keyed hashes at once."""
    if not id_hashes:
        return {}
    cursor = await conn.execute("SELECT id_hash, person_id::text FROM persons WHERE id_hash = ANY(%s)", (id_hashes,))
    return {bytes(h): str(pid) for h, pid in await cursor.fetchall()}


async def employer_id_by_credit_code(conn: Connection, credit_code: str) -> str | None:
    """The employer registered under a credit code."""
    cursor = await conn.execute("SELECT employer_id::text FROM employers WHERE credit_code = %s", (credit_code,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None


# --- employers' changes, vacancies and service points (reg-b) ----------------------------------------


def subtree_prefix(region_code: str) -> str:
    """The leading digits every code in a region's subtree shares: ``430527`` for the county 430527000000."""
    code = normalise_region_code(region_code)
    return code[: (2, 4, 6, 9, 12)[region_level(code).depth]]


async def open_vacancy_count(conn: Connection, employer_id: str) -> int:
    """How many vacancies of an employer are still open."""
    cursor = await conn.execute(
        "SELECT count(*) FROM vacancies WHERE employer_id = %s AND status = 'open'", (employer_id,)
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def person_exists(conn: Connection, person_id: str) -> bool:
    """Whether a person is in the ledger."""
    cursor = await conn.execute("SELECT 1 FROM persons WHERE person_id = %s", (person_id,))
    return await cursor.fetchone() is not None


_VACANCY_COLUMNS = (
    "vacancy_id::text, employer_id::text, region_code, occupation, positions, filled, withdrawn, wage_min_fen,"
    " wage_max_fen, requirements, opened_on, closed_on, status, version"
)
VACANCY_FIELDS = (
    "vacancy_id",
    "employer_id",
    "region_code",
    "occupation",
    "positions",
    "filled",
    "withdrawn",
    "wage_min_fen",
    "wage_max_fen",
    "requirements",
    "opened_on",
    "closed_on",
    "status",
    "version",
)


async def vacancies_in(
    conn: Connection, region_prefix: str, *, status: str | None, employer_id: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Vacancies whose region code starts with ``region_prefix`` (a region subtree), newest first."""
    cursor = await conn.execute(
        f"SELECT {_VACANCY_COLUMNS} FROM vacancies WHERE region_code LIKE %s"
        " AND (%s::text IS NULL OR status = %s) AND (%s::uuid IS NULL OR employer_id = %s::uuid)"
        " ORDER BY opened_on DESC, vacancy_id LIMIT %s OFFSET %s",
        (region_prefix + "%", status, status, employer_id, employer_id, limit, offset),
    )
    return [dict(zip(VACANCY_FIELDS, row, strict=True)) for row in await cursor.fetchall()]


async def service_point_id_in(conn: Connection, region_code: str) -> str | None:
    """The service point of a region, if it has one."""
    cursor = await conn.execute(
        "SELECT service_point_id::text FROM service_points WHERE region_code = %s", (region_code,)
    )
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def service_points_in(conn: Connection, region_prefix: str, *, compliant: bool | None) -> list[dict[str, Any]]:
    """Service points in a region subtree, by region code."""
    cursor = await conn.execute(
        "SELECT service_point_id::text, level, region_code, name, staff, floor_area_m2, has_archive_room, equipment,"
        " population_served, compliance, version FROM service_points WHERE region_code LIKE %s"
        " AND (%s::boolean IS NULL OR compliant = %s) ORDER BY region_code",
        (region_prefix + "%", compliant, compliant),
    )
    columns = (
        "service_point_id",
        "level",
        "region_code",
        "name",
        "staff",
        "floor_area_m2",
        "has_archive_room",
        "equipment",
        "population_served",
        "compliance",
        "version",
    )
    return [dict(zip(columns, row, strict=True)) for row in await cursor.fetchall()]


_PERSON_COLUMNS = (
    "person_id::text, id_cipher, name_cipher, phone_cipher, sex, birth_date, hukou, education,"
    " region_code, registered_at, status, categories, version, retirement_group"
)

#: Where each level's segment ends in a 12-digit region code (province, city, county, township, village).
_SEGMENT_ENDS = (2, 4, 6, 9, 12)


def subtree_bounds(code: str) -> tuple[str, str]:
    """The first and last 12-digit code in a region's subtree: ``430527100000`` -> ``430527100000..430527100999``.

    Codes pad with zeros below their level, so a subtree is one range of an index on ``region_code``.
    """
    end = _SEGMENT_ENDS[region_level(code).depth]
    prefix = normalise_region_code(code)[:end]
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


async def save_person(conn: Connection, person_id: str, values: dict[str, object]) -> None:
    """Write a ledger entry's new attributes (and, for a correction, its new encrypted PII and hashes).

    A new ID number that another person holds violates ``id_hash``'s uniqueness: ``Conflict`` naming them.
    """
    unknown = set(values) - _WRITABLE
    assert not unknown, f"not a persons column: {unknown}"
    assignments = ", ".join(f"{column} = %({column})s" for column in values)
    try:
        async with conn.transaction():  # a savepoint: the caller's transaction survives the conflict
            await conn.execute(
                f"UPDATE persons SET {assignments} WHERE person_id = %(person_id)s", {**values, "person_id": person_id}
            )
    except pg_errors.UniqueViolation:
        holder = await person_ids_by_hash(conn, [cast(bytes, values["id_hash"])])
        raise Conflict(
            "a person with this ID number is already registered",
            field="id_number",
            person_id=next(iter(holder.values()), None),
        ) from None


_WRITABLE = frozenset(
    {
        "sex",
        "birth_date",
        "hukou",
        "education",
        "region_code",
        "status",
        "categories",
        "version",
        "retirement_group",
        "id_hash",
        "id_cipher",
        "name_cipher",
        "name_hash",
        "phone_cipher",
    }
)


async def employer_exists(conn: Connection, employer_id: str) -> bool:
    """Whether an employer id is in the ledger."""
    cursor = await conn.execute("SELECT 1 FROM employers WHERE employer_id = %s", (employer_id,))
    return await cursor.fetchone() is not None


@dataclass(frozen=True)
class PersonFilter:
    """What a search asks for; every search is inside one region subtree."""

    region_code: str
    id_hash: bytes | None = None
    name_hash: bytes | None = None
    category: str | None = None
    status: str | None = None


async def search_persons(
    conn: Connection, where: PersonFilter, *, limit: int, after: tuple[str, str] | None = None
) -> list[PersonRow]:
    """Ledger entries matching the filter, in (region_code, person_id) order, after a cursor."""
    query, params = search_sql(where, limit=limit, after=after)
    cursor = await conn.execute(query, params)
    return [_person_row(row) for row in await cursor.fetchall()]


#: The optional filters of a search: the ``PersonFilter`` field and the clause it adds.
_FILTERS = {
    "id_hash": "id_hash = %(id_hash)s",
    "name_hash": "name_hash = %(name_hash)s",
    "category": "categories @> ARRAY[%(category)s]::text[]",
    "status": "status = %(status)s",
}


def search_sql(
    where: PersonFilter, *, limit: int, after: tuple[str, str] | None = None
) -> tuple[str, dict[str, object]]:
    """The statement ``search_persons`` runs (tests EXPLAIN it to check the indexes serve every filter)."""
    low, high = subtree_bounds(where.region_code)
    clauses = ["region_code BETWEEN %(low)s AND %(high)s"]
    params: dict[str, object] = {"low": low, "high": high, "limit": limit}
    for name, clause in _FILTERS.items():
        value = getattr(where, name)
        if value is not None:
            clauses.append(clause)
            params[name] = value
    if after is not None:
        clauses.append("(region_code, person_id) > (%(after_region)s, %(after_person)s::uuid)")
        params["after_region"], params["after_person"] = after
    query = (
        f"SELECT {_PERSON_COLUMNS} FROM persons WHERE {' AND '.join(clauses)}"
        " ORDER BY region_code, person_id LIMIT %(limit)s"
    )
    return query, params


def _person_row(row: tuple[object, ...]) -> PersonRow:
    values = list(row)
    values[11] = tuple(cast(list[str], values[11]))
    return PersonRow(*values)  # type: ignore[arg-type]


async def survey_pending(
    conn: Connection, region_code: str, quarter: str, quarter_end: date, *, limit: int, after: tuple[str, str] | None
) -> list[PersonRow]:
    """Living persons of a region subtree, registered by the quarter's end, with no survey for the quarter."""
    low, high = subtree_bounds(region_code)
    cursor_clause = "AND (p.region_code, p.person_id) > (%s, %s::uuid)" if after else ""
    cursor = await conn.execute(
        f"SELECT {', '.join('p.' + c.strip() for c in _PERSON_COLUMNS.split(','))} FROM persons p"
        " WHERE p.region_code BETWEEN %s AND %s AND p.status <> 'deceased' AND p.registered_at::date <= %s"
        f" {cursor_clause} AND NOT EXISTS ("
        "   SELECT 1 FROM person_surveys s WHERE s.person_id = p.person_id AND s.quarter = %s)"
        " ORDER BY p.region_code, p.person_id LIMIT %s",
        (low, high, quarter_end, *(after or ()), quarter, limit),
    )
    return [_person_row(row) for row in await cursor.fetchall()]


async def record_survey(conn: Connection, person_id: str, quarter: str, status: str, surveyed_on: date) -> None:
    """Remember that a person was surveyed for a quarter (a second survey replaces the first)."""
    await conn.execute(
        "INSERT INTO person_surveys (person_id, quarter, status, surveyed_on) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (person_id, quarter) DO UPDATE SET status = excluded.status, surveyed_on = excluded.surveyed_on",
        (person_id, quarter, status, surveyed_on),
    )


# --- households (reg-a) ----------------------------------------------------------------------------------


async def save_person_states(conn: Connection, rows: Sequence[PersonStateRow]) -> None:
    """``save_person`` of the non-identifying columns for many entries in one statement (a batch of changes),
    each person once."""
    if not rows:
        return
    await conn.execute(
        "UPDATE persons AS p SET sex = v.sex, birth_date = v.birth_date, hukou = v.hukou, education = v.education,"
        " region_code = v.region_code, status = v.status, version = v.version,"
        " categories = coalesce(string_to_array(nullif(v.categories, ''), ','), '{}')"
        " FROM unnest(%s::uuid[], %s::text[], %s::date[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::text[], %s::int[]) AS v(person_id, sex, birth_date, hukou, education, region_code, status,"
        " categories, version) WHERE p.person_id = v.person_id",
        tuple(list(column) for column in zip(*rows, strict=True)),
    )


#: (person_id, sex, birth_date, hukou, education, region_code, status, categories joined by commas, version)
PersonStateRow = tuple[str, str, date, str | None, str | None, str, str, str, int]


async def record_surveys(conn: Connection, rows: Sequence[tuple[str, str, str, date]]) -> None:
    """``record_survey`` for many (person_id, quarter, status, surveyed_on) in one statement, each
    (person, quarter) once."""
    if not rows:
        return
    await conn.execute(
        "INSERT INTO person_surveys (person_id, quarter, status, surveyed_on)"
        " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::date[])"
        " ON CONFLICT (person_id, quarter) DO UPDATE SET status = excluded.status, surveyed_on = excluded.surveyed_on",
        tuple(list(column) for column in zip(*rows, strict=True)),
    )


async def lock_persons(conn: Connection, person_ids: Sequence[str]) -> dict[str, PersonRow]:
    """Ledger entries locked until commit, in id order (so two commands never deadlock on them).

    A household command reads its members' status under this lock; a status change waits for it and
    then sees the membership, so no change escapes the household's snapshot.
    """
    if not person_ids:
        return {}
    cursor = await conn.execute(
        f"SELECT {_PERSON_COLUMNS} FROM persons WHERE person_id = ANY(%s::uuid[]) ORDER BY person_id FOR UPDATE",
        (list(person_ids),),
    )
    return {row.person_id: row for row in map(_person_row, await cursor.fetchall())}


async def household_of(conn: Connection, person_id: str) -> str | None:
    """The household a person belongs to."""
    cursor = await conn.execute("SELECT household_id::text FROM household_members WHERE person_id = %s", (person_id,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def households_of(conn: Connection, person_ids: Sequence[str]) -> dict[str, str]:
    """The households several persons belong to (person id -> household id)."""
    cursor = await conn.execute(
        "SELECT person_id::text, household_id::text FROM household_members WHERE person_id = ANY(%s::uuid[])",
        (list(person_ids),),
    )
    return {str(p): str(h) for p, h in await cursor.fetchall()}


async def save_household(
    conn: Connection, household_id: str, region_code: str, head_person_id: str | None, members: dict[str, str]
) -> None:
    """Write a household and its member list (person id -> relation) as they now are.

    A person already in another household violates ``household_members``' key: ``Conflict`` naming it.
    """
    await conn.execute(
        "INSERT INTO households (household_id, region_code, head_person_id) VALUES (%s, %s, %s)"
        " ON CONFLICT (household_id) DO UPDATE SET head_person_id = excluded.head_person_id",
        (household_id, region_code, head_person_id),
    )
    await conn.execute(
        "DELETE FROM household_members WHERE household_id = %s AND NOT person_id = ANY(%s::uuid[])",
        (household_id, list(members)),
    )
    cursor = await conn.execute(
        "INSERT INTO household_members (person_id, household_id, relation)"
        " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[])"
        " ON CONFLICT (person_id) DO UPDATE SET relation = excluded.relation"
        " WHERE household_members.household_id = excluded.household_id RETURNING person_id::text",
        (list(members), [household_id] * len(members), list(members.values())),
    )
    written = {str(row[0]) for row in await cursor.fetchall()}
    elsewhere = sorted(set(members) - written)
    if elsewhere:
        taken = await households_of(conn, elsewhere)
        raise Conflict(
            "a person belongs to at most one household",
            field="person_id",
            person_id=elsewhere[0],
            household_id=taken.get(elsewhere[0]),
        )


async def save_new_households(
    conn: Connection,
    households: Sequence[tuple[str, str, str | None]],
    members: Sequence[tuple[str, str, str]],
) -> None:
    """Write new households (id, region, head) and their members (person, household, relation) set-based.

    The caller has locked the members' rows and checked that none belongs to a household yet; the member list's
    key would still refuse a second household of a person (``Conflict``), writing nothing.
    """
    await conn.execute(
        "INSERT INTO households (household_id, region_code, head_person_id)"
        " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::uuid[])",
        ([h[0] for h in households], [h[1] for h in households], [h[2] for h in households]),
    )
    cursor = await conn.execute(
        "INSERT INTO household_members (person_id, household_id, relation)"
        " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[]) ON CONFLICT (person_id) DO NOTHING"
        " RETURNING person_id::text",
        ([m[0] for m in members], [m[1] for m in members], [m[2] for m in members]),
    )
    written = {str(row[0]) for row in await cursor.fetchall()}
    elsewhere = sorted({m[0] for m in members} - written)
    if elsewhere:
        raise Conflict("a person belongs to at most one household", field="person_id", person_id=elsewhere[0])


_STAFF_COLUMNS = "staff_id::text, subject, role, service_point_id::text, region_code, started_on, ended_on, version"
_STAFF_FIELDS = ("staff_id", "subject", "role", "service_point_id", "region_code", "started_on", "ended_on", "version")


async def staff_id_in_post(conn: Connection, subject: str) -> str | None:
    """The appointment a subject holds now, if any."""
    cursor = await conn.execute("SELECT staff_id::text FROM staff WHERE subject = %s AND ended_on IS NULL", (subject,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def staff_in_post_at(conn: Connection, service_point_id: str) -> int:
    """How many staff are in post at a service point now."""
    cursor = await conn.execute(
        "SELECT count(*) FROM staff WHERE service_point_id = %s AND ended_on IS NULL", (service_point_id,)
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def has_roster(conn: Connection, service_point_id: str) -> bool:
    """Whether anyone was ever appointed at the point: its staffing then follows the roster."""
    cursor = await conn.execute("SELECT EXISTS (SELECT 1 FROM staff WHERE service_point_id = %s)", (service_point_id,))
    row = await cursor.fetchone()
    return bool(row and row[0])


async def staff_in(conn: Connection, region_prefix: str, *, in_post_on: date | None) -> list[dict[str, Any]]:
    """The roster of a region subtree, by region and start; only those in post on a day when given."""
    cursor = await conn.execute(
        f"SELECT {_STAFF_COLUMNS} FROM staff WHERE region_code LIKE %s"
        " AND (%s::date IS NULL OR (started_on <= %s AND (ended_on IS NULL OR ended_on >= %s)))"
        " ORDER BY region_code, started_on, subject",
        (region_prefix + "%", in_post_on, in_post_on, in_post_on),
    )
    return [dict(zip(_STAFF_FIELDS, row, strict=True)) for row in await cursor.fetchall()]
