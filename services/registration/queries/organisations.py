"""Registration's read state of employers, vacancies, service points and the staff roster."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts.regions import normalise_region_code, region_level
from services.runtime.db import Connection


async def employer_id_by_credit_code(conn: Connection, credit_code: str) -> str | None:
    """The employer registered under a credit code."""
    cursor = await conn.execute("SELECT employer_id::text FROM employers WHERE credit_code = %s", (credit_code,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None


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


async def employer_exists(conn: Connection, employer_id: str) -> bool:
    """Whether an employer id is in the ledger."""
    cursor = await conn.execute("SELECT 1 FROM employers WHERE employer_id = %s", (employer_id,))
    return await cursor.fetchone() is not None


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
