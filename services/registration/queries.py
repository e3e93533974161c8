"""Registration's own read state: lookup tables written in the same transaction as the events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from contracts.regions import normalise_region_code, region_level
from services.runtime.db import Connection

DDL = [
    """
    CREATE TABLE IF NOT EXISTS persons (
        person_id    uuid PRIMARY KEY,
        id_hash      bytea       NOT NULL UNIQUE,
        id_cipher    bytea       NOT NULL,
        name_cipher  bytea       NOT NULL,
        phone_cipher bytea,
        sex          text        NOT NULL,
        birth_date   date        NOT NULL,
        hukou        text,
        education    text,
        region_code  char(12)    NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX IF NOT EXISTS persons_region ON persons (region_code)",
    """
    CREATE TABLE IF NOT EXISTS employers (
        employer_id   uuid PRIMARY KEY,
        credit_code   text     NOT NULL UNIQUE,
        check_ok      boolean  NOT NULL,
        name          text     NOT NULL,
        region_code   char(12) NOT NULL,
        industry      text,
        size          text,
        registered_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    # --- employers' changes, vacancies and service points (reg-b) ---
    "ALTER TABLE employers ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1",
    "ALTER TABLE employers ADD COLUMN IF NOT EXISTS deregistered_on date",
    "CREATE INDEX IF NOT EXISTS employers_region ON employers (region_code)",
    """
    CREATE TABLE IF NOT EXISTS vacancies (
        vacancy_id   uuid PRIMARY KEY,
        employer_id  uuid     NOT NULL,
        region_code  char(12) NOT NULL,
        occupation   text     NOT NULL,
        positions    integer  NOT NULL,
        filled       integer  NOT NULL,
        withdrawn    integer  NOT NULL,
        wage_min_fen bigint   NOT NULL,
        wage_max_fen bigint   NOT NULL,
        requirements text,
        opened_on    date     NOT NULL,
        closed_on    date,
        status       text     NOT NULL,
        version      integer  NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS vacancies_region ON vacancies (region_code, status)",
    "CREATE INDEX IF NOT EXISTS vacancies_employer_open ON vacancies (employer_id) WHERE status = 'open'",
    """
    CREATE TABLE IF NOT EXISTS service_points (
        service_point_id  uuid PRIMARY KEY,
        level             text     NOT NULL,
        region_code       char(12) NOT NULL UNIQUE,
        name              text     NOT NULL,
        staff             integer  NOT NULL,
        floor_area_m2     integer  NOT NULL,
        has_archive_room  boolean  NOT NULL,
        equipment         jsonb    NOT NULL,
        population_served integer  NOT NULL,
        compliance        jsonb    NOT NULL,
        compliant         boolean  NOT NULL,
        version           integer  NOT NULL
    )
    """,
    # Uploaded ledgers (台账导入) and their bad rows, encrypted: services.registration.imports.
    """
    CREATE TABLE IF NOT EXISTS person_imports (
        import_id          uuid PRIMARY KEY,
        file_sha256        text        NOT NULL,
        file_name          text        NOT NULL,
        actor              text        NOT NULL,
        scope_region       char(12)    NOT NULL,
        columns            jsonb       NOT NULL,
        rows               integer     NOT NULL,
        created            integer     NOT NULL,
        already_registered integer     NOT NULL,
        rejected           integer     NOT NULL,
        imported_at        timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX IF NOT EXISTS person_imports_file ON person_imports (file_sha256, imported_at)",
    """
    CREATE TABLE IF NOT EXISTS person_import_errors (
        import_id    uuid    NOT NULL REFERENCES person_imports ON DELETE CASCADE,
        row_number   integer NOT NULL,
        errors       jsonb   NOT NULL,
        cells_cipher bytea   NOT NULL,
        PRIMARY KEY (import_id, row_number)
    )
    """,
    # --- end reg-b ---
]


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


async def person(conn: Connection, person_id: str) -> PersonRow | None:
    """One ledger entry by id."""
    cursor = await conn.execute(
        "SELECT person_id::text, id_cipher, name_cipher, phone_cipher, sex, birth_date, hukou, education,"
        " region_code, registered_at FROM persons WHERE person_id = %s",
        (person_id,),
    )
    row = await cursor.fetchone()
    return PersonRow(*row) if row else None


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
