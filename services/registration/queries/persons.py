"""Registration's read state of the ledger's persons: their rows, the search, the quarterly surveys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

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


async def person_exists(conn: Connection, person_id: str) -> bool:
    """Whether a person is in the ledger."""
    cursor = await conn.execute("SELECT 1 FROM persons WHERE person_id = %s", (person_id,))
    return await cursor.fetchone() is not None


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
