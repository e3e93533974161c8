"""The SQL that reads and writes supervision's own tables (their DDL and what each is for: ``schema.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from contracts.regions import RegionLevel, region_level
from services.runtime.db import Connection
from services.supervision.domain.case import CaseState
from services.supervision.domain.complaint import ComplaintState
from services.supervision.domain.rating import ComplianceFacts

#: Employers entered as free text get an id derived from their credit code, so entering one twice is one employer.
FREE_TEXT_EMPLOYERS = uuid.UUID("5f0b8a52-4c1e-4d7e-9a0c-6b2f1e3d4c5a")


def free_text_employer_id(credit_code: str) -> str:
    """The id of an employer known only by its credit code."""
    return str(uuid.uuid5(FREE_TEXT_EMPLOYERS, credit_code))


@dataclass(frozen=True)
class EmployerRow:
    """An employer as supervision knows it."""

    employer_id: str
    credit_code: str
    name: str
    region_code: str
    registered: bool
    deregistered_on: date | None


_EMPLOYER = "SELECT employer_id::text, credit_code, name, region_code, registered, deregistered_on FROM employers"


async def employer_by_id(conn: Connection, employer_id: str) -> EmployerRow | None:
    """An employer by supervision's id or by registration's."""
    cursor = await conn.execute(
        _EMPLOYER + " WHERE employer_id = %(id)s OR registration_id = %(id)s LIMIT 1", {"id": employer_id}
    )
    row = await cursor.fetchone()
    return EmployerRow(*row) if row else None


async def employer_by_credit_code(conn: Connection, credit_code: str) -> EmployerRow | None:
    """An employer by its unified social credit code."""
    cursor = await conn.execute(_EMPLOYER + " WHERE credit_code = %s", (credit_code,))
    row = await cursor.fetchone()
    return EmployerRow(*row) if row else None


async def save_registered_employer(
    conn: Connection, registration_id: str, credit_code: str, name: str, region_code: str
) -> None:
    """Registration's employer: new, or merged into one entered earlier as free text with the same code."""
    await conn.execute(
        """
        INSERT INTO employers (employer_id, registration_id, credit_code, name, region_code, registered)
        VALUES (%(id)s, %(id)s, %(code)s, %(name)s, %(region)s, true)
        ON CONFLICT (credit_code) DO UPDATE
        SET registration_id = EXCLUDED.registration_id, name = EXCLUDED.name,
            region_code = EXCLUDED.region_code, registered = true
        """,
        {"id": registration_id, "code": credit_code, "name": name, "region": region_code},
    )


async def change_registered_employer(conn: Connection, registration_id: str, changes: dict[str, Any]) -> None:
    """Registration changed the employer's name or region."""
    fields = {k: v for k, v in changes.items() if k in ("name", "region_code")}
    if fields:
        sets = ", ".join(f"{k} = %({k})s" for k in fields)
        await conn.execute(
            f"UPDATE employers SET {sets} WHERE registration_id = %(id)s", {**fields, "id": registration_id}
        )


async def deregister_employer(conn: Connection, registration_id: str, on: date) -> None:
    """Registration deregistered the employer; its record here stays for the cases about it."""
    await conn.execute("UPDATE employers SET deregistered_on = %s WHERE registration_id = %s", (on, registration_id))


async def save_free_text_employer(conn: Connection, row: EmployerRow) -> None:
    """An employer entered by credit code and name only."""
    await conn.execute(
        "INSERT INTO employers (employer_id, credit_code, name, region_code, registered)"
        " VALUES (%s, %s, %s, %s, false) ON CONFLICT DO NOTHING",
        (row.employer_id, row.credit_code, row.name, row.region_code),
    )


async def set_deadlines(
    conn: Connection,
    stream_type: str,
    stream_id: str,
    region_code: str,
    limits: Sequence[tuple[str, date, bool]],
) -> None:
    """The stream's open limits become exactly ``limits``; a limit whose due day moved is checked again."""
    names = [name for name, _, _ in limits]
    await conn.execute("DELETE FROM deadlines WHERE stream_id = %s AND NOT (limit_name = ANY(%s))", (stream_id, names))
    for name, due, provisional in limits:
        await conn.execute(
            """
            INSERT INTO deadlines (stream_id, limit_name, stream_type, region_code, due_on, provisional)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (stream_id, limit_name) DO UPDATE
            SET due_on = EXCLUDED.due_on, provisional = EXCLUDED.provisional, region_code = EXCLUDED.region_code,
                flagged = deadlines.flagged AND deadlines.due_on = EXCLUDED.due_on
            """,
            (stream_id, name, stream_type, region_code, due, provisional),
        )


async def passed_deadlines(conn: Connection, today: date, limit: int = 1000) -> list[tuple[str, str]]:
    """``(stream_type, stream_id)`` of streams with a limit passed and not yet checked."""
    cursor = await conn.execute(
        "SELECT DISTINCT stream_type, stream_id::text FROM deadlines WHERE NOT flagged AND due_on < %s LIMIT %s",
        (today, limit),
    )
    return [(str(t), str(s)) for t, s in await cursor.fetchall()]


async def provisional_deadlines(conn: Connection, official_years: Sequence[int]) -> list[tuple[str, str]]:
    """``(stream_type, stream_id)`` of streams with a provisional limit falling in a year the calendar now
    knows officially, of every kind of stream."""
    cursor = await conn.execute(
        "SELECT DISTINCT stream_type, stream_id::text FROM deadlines WHERE provisional"
        " AND extract(year FROM due_on)::int = ANY(%s)",
        (list(official_years),),
    )
    return [(str(t), str(s)) for t, s in await cursor.fetchall()]


async def mark_checked(conn: Connection, stream_id: str, today: date) -> None:
    """The stream's passed limits were checked (and flagged where a rule says so)."""
    await conn.execute("UPDATE deadlines SET flagged = true WHERE stream_id = %s AND due_on < %s", (stream_id, today))


async def load_facts(conn: Connection, employer_id: str, region_code: str) -> tuple[ComplianceFacts, str]:
    """The employer's rating facts (locked for this transaction) and its recorded grade."""
    await conn.execute(
        "INSERT INTO employer_compliance (employer_id, region_code) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (employer_id, region_code),
    )
    cursor = await conn.execute(
        """
        SELECT violations, penalties, penalty_fen, child_labour, refused_rectification, criminal_transfer,
               arrears_open, arrears_fen, arrears_months, grade
        FROM employer_compliance WHERE employer_id = %s FOR UPDATE
        """,
        (employer_id,),
    )
    row = await cursor.fetchone()
    assert row is not None
    facts = ComplianceFacts(employer_id, region_code, *row[:9])
    return facts, str(row[9])


async def save_facts(conn: Connection, facts: ComplianceFacts, grade: str, reasons: list[str], on: date) -> None:
    """The facts and the grade they give."""
    await conn.execute(
        """
        UPDATE employer_compliance SET region_code = %s, violations = %s, penalties = %s, penalty_fen = %s,
            child_labour = %s, refused_rectification = %s, criminal_transfer = %s, arrears_open = %s,
            arrears_fen = %s, arrears_months = %s, grade = %s, reasons = %s, rated_on = %s
        WHERE employer_id = %s
        """,
        (
            facts.region_code,
            facts.violations,
            facts.penalties,
            facts.penalty_fen,
            facts.child_labour,
            facts.refused_rectification,
            facts.criminal_transfer,
            facts.arrears_open,
            facts.arrears_fen,
            facts.arrears_months,
            grade,
            orjson.dumps(reasons).decode(),
            on,
            facts.employer_id,
        ),
    )


async def save_complaint(conn: Connection, state: ComplaintState) -> None:
    """The complaint's row in the lists."""
    await conn.execute(
        """
        INSERT INTO complaints (complaint_id, region_code, employer_id, complaint_type, status, received_on,
                                decision_due, provisional, decided_on, case_id, version)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (complaint_id) DO UPDATE
        SET status = EXCLUDED.status, decision_due = EXCLUDED.decision_due, provisional = EXCLUDED.provisional,
            decided_on = EXCLUDED.decided_on, case_id = EXCLUDED.case_id, version = EXCLUDED.version
        """,
        (
            state.complaint_id,
            state.region_code,
            state.employer.employer_id,
            state.complaint_type,
            state.status,
            state.received_on,
            state.decision_due,
            state.provisional,
            state.decided_on,
            state.case_id,
            state.version,
        ),
    )


async def save_case(conn: Connection, state: CaseState) -> None:
    """The case's row in the overdue and due-soon lists."""
    await conn.execute(
        """
        INSERT INTO cases (case_id, region_code, employer_id, employer_name, scope, source, status, opened_on,
                           due_on, provisional, extended, order_due, closed_on, version)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (case_id) DO UPDATE
        SET status = EXCLUDED.status, due_on = EXCLUDED.due_on, provisional = EXCLUDED.provisional,
            extended = EXCLUDED.extended, order_due = EXCLUDED.order_due, closed_on = EXCLUDED.closed_on,
            version = EXCLUDED.version
        """,
        (
            state.case_id,
            state.region_code,
            state.employer.employer_id,
            state.employer.name,
            state.scope,
            state.source,
            state.status,
            state.opened_on,
            state.due_on,
            state.provisional,
            state.extended,
            state.order_due if state.order_open else None,
            state.closed_on,
            state.version,
        ),
    )


CASE_COLUMNS = (
    "case_id::text, region_code, employer_id::text, employer_name, scope, source, status, opened_on, due_on,"
    " provisional, extended, order_due, closed_on, version"
)


def _region_filter(region_code: str) -> tuple[str, dict[str, Any]]:
    """The condition that keeps a region's open cases on the matching partial index."""
    level = region_level(region_code)
    if level is RegionLevel.COUNTY:
        return "county = %(scope)s", {"scope": region_code[:6]}
    if level is RegionLevel.TOWNSHIP:
        return "township = %(scope)s", {"scope": region_code[:9]}
    if level is RegionLevel.VILLAGE:
        return "township = %(scope)s AND region_code = %(region)s", {"scope": region_code[:9], "region": region_code}
    width = 2 if level is RegionLevel.PROVINCE else 4
    return "region_code LIKE %(scope)s", {"scope": region_code[:width] + "%"}


async def open_cases(
    conn: Connection,
    region_code: str,
    *,
    due_before: date | None = None,
    due_from: date | None = None,
    due_until: date | None = None,
    after: tuple[date, str] | None = None,
    limit: int = 50,
) -> list[tuple[Any, ...]]:
    """Open cases of a region in due order: passed (``due_before``) or due in a window; keyset after ``after``."""
    where, params = _region_filter(region_code)
    conditions = ["status = 'open'", where]
    if due_before is not None:
        conditions.append("due_on < %(before)s")
        params["before"] = due_before
    if due_from is not None:
        conditions.append("due_on >= %(from)s")
        params["from"] = due_from
    if due_until is not None:
        conditions.append("due_on <= %(until)s")
        params["until"] = due_until
    if after is not None:
        conditions.append("(due_on, case_id) > (%(after_due)s, %(after_id)s::uuid)")
        params.update(after_due=after[0], after_id=after[1])
    params["limit"] = limit
    cursor = await conn.execute(
        f"SELECT {CASE_COLUMNS} FROM cases WHERE {' AND '.join(conditions)} ORDER BY due_on, case_id LIMIT %(limit)s",
        params,
    )
    return list(await cursor.fetchall())


async def region_deadlines(
    conn: Connection, region_code: str, *, due_before: date | None, limit: int
) -> list[tuple[Any, ...]]:
    """Open limits of every kind in a region, in due order.

    Rows are ``(stream_type, stream_id, limit, region, due, provisional)``.
    """
    scope = region_prefix(region_code)
    cursor = await conn.execute(
        "SELECT stream_type, stream_id::text, limit_name, region_code, due_on, provisional FROM deadlines"
        " WHERE region_code::text LIKE %s AND (%s::date IS NULL OR due_on < %s) ORDER BY due_on LIMIT %s",
        (scope + "%", due_before, due_before, limit),
    )
    return list(await cursor.fetchall())


def region_prefix(region_code: str) -> str:
    """The leading digits every code inside a region shares, for a ``LIKE`` over ``region_code``."""
    width = {RegionLevel.PROVINCE: 2, RegionLevel.CITY: 4, RegionLevel.COUNTY: 6, RegionLevel.TOWNSHIP: 9}
    return region_code[: width.get(region_level(region_code), 12)]


async def region_complaints(
    conn: Connection, region_code: str, *, status: str | None, due_before: date | None, limit: int
) -> list[tuple[Any, ...]]:
    """Complaints received in a region, earliest decision first, optionally by status or with the decision passed."""
    cursor = await conn.execute(
        """
        SELECT complaint_id::text, region_code, complaint_type, status, received_on, decision_due, provisional,
               decided_on, case_id::text, version
        FROM complaints
        WHERE region_code::text LIKE %(scope)s AND (%(status)s::text IS NULL OR status = %(status)s)
          AND (%(before)s::date IS NULL OR (status = 'received' AND decision_due < %(before)s))
        ORDER BY decision_due, complaint_id LIMIT %(limit)s
        """,
        {"scope": region_prefix(region_code) + "%", "status": status, "before": due_before, "limit": limit},
    )
    return list(await cursor.fetchall())
