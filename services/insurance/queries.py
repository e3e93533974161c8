"""Insurance's own read state: what registration's events told it (persons, employers), and small tables kept
from its own events in the same transaction as the append (open enrolments, expectations, retirees, the
contribution ledger), so lists and set-based checks are one indexed read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any

from contracts import insurance as ins
from contracts.envelope import Event
from contracts.regions import normalise_region_code, region_level
from services.insurance.domain.benefit import RegistrationFacts
from services.runtime.aggregate import is_uuid
from services.runtime.db import Connection

DDL = [
    # From registration.events: who lives where and their employment status (docs/design.md, "Registration").
    """
    CREATE TABLE IF NOT EXISTS persons (
        person_id   uuid PRIMARY KEY,
        region_code char(12) NOT NULL,
        status      text     NOT NULL,
        unemployment_registered_on date,
        involuntary boolean  NOT NULL DEFAULT false
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS employers (
        employer_id uuid PRIMARY KEY,
        region_code char(12) NOT NULL,
        name        text     NOT NULL,
        active      boolean  NOT NULL DEFAULT true
    )
    """,
    # From insurance's own events.
    """
    CREATE TABLE IF NOT EXISTS enrolments (
        person_id      uuid NOT NULL,
        insurance_type text NOT NULL,
        basis          text NOT NULL,
        employer_id    uuid,
        enrolled_on    date NOT NULL,
        PRIMARY KEY (person_id, insurance_type)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS expectations (
        person_id   text     NOT NULL,
        started_on  date     NOT NULL,
        region_code char(12) NOT NULL,
        employer_id text,
        due_on      date     NOT NULL,
        met_on      date,
        PRIMARY KEY (person_id, started_on)
    )
    """,
    "CREATE INDEX IF NOT EXISTS expectations_open ON expectations (region_code, due_on) WHERE met_on IS NULL",
    """
    CREATE TABLE IF NOT EXISTS retirees (
        person_id   text PRIMARY KEY,
        region_code char(12) NOT NULL,
        monthly_pension_fen bigint NOT NULL,
        due_on      date     NOT NULL,
        status      text     NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS retirees_due ON retirees (region_code, due_on)",
    # Benefits being paid, for the monthly payment run.
    """
    CREATE TABLE IF NOT EXISTS benefits_paying (
        person_id   uuid PRIMARY KEY,
        region_code char(12) NOT NULL,
        starts_on   date     NOT NULL
    )
    """,
    # The contribution ledger (缴费明细): one row per person, type and month, posted once.
    """
    CREATE TABLE IF NOT EXISTS contributions (
        person_id      uuid     NOT NULL,
        insurance_type text     NOT NULL,
        month          char(7)  NOT NULL,
        employer_id    uuid,
        region_code    char(12) NOT NULL,
        base_fen       bigint   NOT NULL,
        employer_fen   bigint   NOT NULL,
        personal_fen   bigint   NOT NULL,
        file_id        text     NOT NULL,
        PRIMARY KEY (person_id, insurance_type, month)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS contribution_files (
        file_id     text PRIMARY KEY,
        sha256      text NOT NULL UNIQUE,
        file_name   text NOT NULL,
        result      jsonb NOT NULL,
        posted_at   timestamptz NOT NULL DEFAULT now()
    )
    """,
]


def subtree_prefix(region_code: str) -> str:
    """The leading digits every code in a region's subtree shares: ``430527`` for the county 430527000000."""
    code = normalise_region_code(region_code)
    return code[: (2, 4, 6, 9, 12)[region_level(code).depth]]


async def apply_own(conn: Connection, events: Sequence[Event]) -> None:
    """Keep the tables above in step with insurance's own events, in the appending transaction.

    Events go in order; a run of events of one type is one ``executemany`` per statement (pipelined, one
    round trip), so a batch of a thousand stops costs what a handful of statements do."""
    for _, run in groupby(events, key=type):
        same = list(run)
        statements = _OWN.get(type(same[0]), ())
        if not statements:
            continue
        params = [event.model_dump() for event in same]
        async with conn.cursor() as cursor:
            for sql in statements:
                await cursor.executemany(sql, params)


_OWN: dict[type[Event], tuple[str, ...]] = {
    ins.InsuranceEnrolled: (
        """
        INSERT INTO enrolments (person_id, insurance_type, basis, employer_id, enrolled_on)
        VALUES (%(person_id)s, %(insurance_type)s, %(basis)s, %(employer_id)s, %(enrolled_on)s)
        """,
        """
        UPDATE expectations SET met_on = %(enrolled_on)s
        WHERE person_id = %(person_id)s AND met_on IS NULL AND %(basis)s = 'employer'
          AND (employer_id IS NULL OR employer_id = %(employer_id)s)
        """,
    ),
    ins.EnrolmentTerminated: (
        ("DELETE FROM enrolments WHERE person_id = %(person_id)s AND insurance_type = %(insurance_type)s"),
    ),
    ins.EnrolmentExpected: (
        """
        INSERT INTO expectations (person_id, started_on, region_code, employer_id, due_on)
        VALUES (%(person_id)s, %(started_on)s, %(region_code)s, %(employer_id)s, %(due_on)s)
        ON CONFLICT DO NOTHING
    """,
    ),
    ins.RetireeTransferredIn: (
        """
        INSERT INTO retirees (person_id, region_code, monthly_pension_fen, due_on, status)
        VALUES (%(person_id)s, %(region_code)s, %(monthly_pension_fen)s, %(certification_due_on)s, 'paying')
    """,
    ),
    ins.PensionEligibilityCertified: (
        ("UPDATE retirees SET due_on = %(next_due_on)s, status = 'paying' WHERE person_id = %(person_id)s"),
    ),
    ins.UnemploymentBenefitGranted: (
        """
        INSERT INTO benefits_paying (person_id, region_code, starts_on)
        VALUES (%(person_id)s, %(region_code)s, %(starts_on)s) ON CONFLICT (person_id) DO NOTHING
        """,
    ),
    ins.UnemploymentBenefitStopped: ("DELETE FROM benefits_paying WHERE person_id = %(person_id)s",),
    ins.PensionSuspended: ("UPDATE retirees SET status = 'suspended' WHERE person_id = %(person_id)s",),
    ins.PensionStopped: ("UPDATE retirees SET status = 'stopped' WHERE person_id = %(person_id)s",),
}


async def person_region(conn: Connection, person_id: str) -> str | None:
    """Where registration says the person lives; None for a person registration never reported."""
    cursor = await conn.execute("SELECT region_code FROM persons WHERE person_id = %s", (person_id,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def person_regions(conn: Connection, person_ids: Sequence[str]) -> dict[str, str]:
    """Where registration says each known person lives (``person_region`` for many); unknown ones are absent."""
    wanted = [p for p in dict.fromkeys(person_ids) if is_uuid(p)]
    if not wanted:
        return {}
    cursor = await conn.execute(
        "SELECT person_id::text, region_code FROM persons WHERE person_id = ANY(%s::uuid[])", (wanted,)
    )
    return {str(row[0]): str(row[1]) for row in await cursor.fetchall()}


async def active_employers(conn: Connection, employer_ids: Sequence[str]) -> set[str]:
    """Those of ``employer_ids`` registration knows as active (``employer_region`` for many)."""
    wanted = [e for e in dict.fromkeys(employer_ids) if is_uuid(e)]
    if not wanted:
        return set()
    cursor = await conn.execute(
        "SELECT employer_id::text FROM employers WHERE employer_id = ANY(%s::uuid[]) AND active", (wanted,)
    )
    return {str(row[0]) for row in await cursor.fetchall()}


async def registration_facts(conn: Connection, person_ids: Sequence[str]) -> dict[str, tuple[RegistrationFacts, str]]:
    """Each known person's employment status as registration's events tell it, and where they live."""
    cursor = await conn.execute(
        "SELECT person_id::text, status, unemployment_registered_on, involuntary, region_code FROM persons"
        " WHERE person_id = ANY(%s::uuid[])",
        ([p for p in dict.fromkeys(person_ids) if is_uuid(p)],),
    )
    return {
        str(row[0]): (RegistrationFacts(row[1], row[2], involuntary=bool(row[3])), str(row[4]))
        for row in await cursor.fetchall()
    }


async def employer_region(conn: Connection, employer_id: str) -> str | None:
    """Where an active employer registration knows is registered; None otherwise."""
    if not is_uuid(employer_id):
        return None
    cursor = await conn.execute("SELECT region_code FROM employers WHERE employer_id = %s AND active", (employer_id,))
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def contribution_months(
    conn: Connection, insurance_type: str, wanted: Sequence[tuple[str, str | None]]
) -> dict[str, int]:
    """Per person, the months they contributed to ``insurance_type``: for ``(person, after)``, only those after
    ``after`` when given. A person with none is absent."""
    cursor = await conn.execute(
        "SELECT c.person_id::text, count(*) FROM unnest(%s::uuid[], %s::text[]) AS w(person_id, after)"
        " JOIN contributions c ON c.person_id = w.person_id AND c.insurance_type = %s AND c.month > w.after"
        " GROUP BY c.person_id",
        ([p for p, _ in wanted], [a or "" for _, a in wanted], insurance_type),
    )
    return {str(row[0]): int(row[1]) for row in await cursor.fetchall()}


async def pension_contribution_years(conn: Connection, person_id: str) -> int:
    """Full years of pension contributions in the ledger (either scheme)."""
    cursor = await conn.execute(
        "SELECT count(DISTINCT month) FROM contributions WHERE person_id = %s"
        " AND insurance_type IN ('enterprise_pension', 'resident_pension')",
        (person_id,),
    )
    row = await cursor.fetchone()
    return int(row[0]) // 12 if row else 0


async def overdue_expectations(conn: Connection, region_code: str, as_of: date, limit: int) -> list[dict[str, Any]]:
    """New hires whose enrolment is overdue on ``as_of`` (社会保险法 Art 58), in a region subtree."""
    cursor = await conn.execute(
        "SELECT person_id, region_code, employer_id, started_on, due_on FROM expectations"
        " WHERE met_on IS NULL AND due_on < %s AND region_code LIKE %s ORDER BY due_on, person_id LIMIT %s",
        (as_of, subtree_prefix(region_code) + "%", limit),
    )
    columns = ("person_id", "region_code", "employer_id", "started_on", "due_on")
    return [dict(zip(columns, row, strict=True)) for row in await cursor.fetchall()]


async def certification_due(conn: Connection, region_code: str, first: date, last: date) -> list[dict[str, Any]]:
    """Retirees whose certification falls due between ``first`` and ``last`` (or is overdue), by village."""
    cursor = await conn.execute(
        "SELECT person_id, region_code, due_on, status FROM retirees"
        " WHERE status <> 'stopped' AND due_on <= %s AND region_code LIKE %s ORDER BY region_code, due_on, person_id",
        (last, subtree_prefix(region_code) + "%"),
    )
    columns = ("person_id", "region_code", "due_on", "status")
    return [{**dict(zip(columns, row, strict=True)), "overdue": row[2] < first} for row in await cursor.fetchall()]


async def overdue_retirees(conn: Connection, region_code: str, as_of: date) -> list[str]:
    """Paying retirees whose certification was due before ``as_of``."""
    cursor = await conn.execute(
        "SELECT person_id FROM retirees WHERE status = 'paying' AND due_on < %s AND region_code LIKE %s",
        (as_of, subtree_prefix(region_code) + "%"),
    )
    return [str(row[0]) for row in await cursor.fetchall()]


async def person_contributions(conn: Connection, person_id: str) -> list[dict[str, Any]]:
    """The person's contribution ledger, newest month first."""
    cursor = await conn.execute(
        "SELECT insurance_type, month, employer_id, base_fen, employer_fen, personal_fen FROM contributions"
        " WHERE person_id = %s ORDER BY month DESC, insurance_type",
        (person_id,),
    )
    columns = ("insurance_type", "month", "employer_id", "base_fen", "employer_fen", "personal_fen")
    return [dict(zip(columns, row, strict=True)) for row in await cursor.fetchall()]


async def benefits_due(conn: Connection, region_code: str, month: str) -> list[str]:
    """Persons in a region subtree drawing a benefit that began by the end of ``month``."""
    cursor = await conn.execute(
        "SELECT person_id::text FROM benefits_paying WHERE region_code LIKE %s AND to_char(starts_on, 'YYYY-MM') <= %s"
        " ORDER BY person_id",
        (subtree_prefix(region_code) + "%", month),
    )
    return [str(row[0]) for row in await cursor.fetchall()]


async def drawing_benefit(conn: Connection, person_ids: Sequence[str]) -> set[str]:
    """Which of the persons draw an unemployment benefit now."""
    cursor = await conn.execute(
        "SELECT person_id::text FROM benefits_paying WHERE person_id = ANY(%s::uuid[])",
        ([p for p in dict.fromkeys(person_ids) if is_uuid(p)],),
    )
    return {str(row[0]) for row in await cursor.fetchall()}
