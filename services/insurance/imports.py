"""Bulk posting of a month's contribution file (缴费明细导入), CSV or XLSX, set-based.

Postgres reads the file: a CSV goes to a staging table with ``COPY … (FORMAT csv)`` as it is (an XLSX row by
row through the same ``COPY``), and one statement checks every row against the rules of
``services.insurance.domain.contributions`` (whole fen, the province's base bounds, a person and enrolment
registration and insurance know), one more posts the good rows the ledger lacks, in its key's order.
Postings of one month take turns from their checked rows on (an advisory lock), so what the ledger holds
of the month stays put while a file posts; the ledger's key (person, type, month) holds each row once, and
the file's SHA-256 makes a file posted twice answer with its first result. What the rows add up to is
published as one ``ContributionsPosted`` per employer (or per village for the flexibly employed), all in
one transaction with the ledger rows. Python touches each row only for an XLSX; parsing 300,000 CSV rows
in Python cost more than the whole posting may (``bench/insurance.py``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psycopg
from openpyxl import load_workbook
from pydantic import BaseModel, Field

from contracts import insurance as ins
from contracts.insurance import INSURANCE_TYPES, MONTH_PATTERN
from services.insurance.domain.contributions import RULES, BaseBounds
from services.insurance.domain.months import require_not_future_month
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated, UnsupportedMediaType
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent
from services.runtime.spreadsheets import bounded_rows, check_workbook, decode_csv

#: Column headers of a contribution file, Chinese or English, for each field.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "person_id": ("person_id", "人员编号", "个人编号"),
    "insurance_type": ("insurance_type", "险种"),
    "employer_id": ("employer_id", "单位编号"),
    "base": ("base", "缴费基数"),
    "employer_part": ("employer_part", "单位缴纳", "单位缴费"),
    "personal_part": ("personal_part", "个人缴纳", "个人缴费"),
}
REQUIRED = ("person_id", "insurance_type", "base", "employer_part", "personal_part")
#: Chinese names of the insurance types as files write them.
TYPE_ALIASES = {
    "企业职工基本养老保险": "enterprise_pension",
    "城乡居民基本养老保险": "resident_pension",
    "基本医疗保险": "medical",
    "失业保险": "unemployment",
    "工伤保险": "work_injury",
    "生育保险": "maternity",
}
#: Row problems listed in the answer (the counts are always complete).
ERRORS_LISTED = 1_000
#: Stream namespace of files: the same bytes for the same month are the same file.
FILE_NAMESPACE = uuid.UUID("6f7e1c52-3a0b-4d59-9d1e-5b0c8a2f4e11")


class RowError(BaseModel):
    """Why one row was not posted."""

    row: int
    field: str
    rule: str
    reason: str


class PostingResult(BaseModel):
    """What posting a file did."""

    file_id: str
    month: str
    rows: int
    posted: int = Field(description="Rows added to the ledger by this posting")
    already_posted: int = Field(description="Rows the ledger held already (person, type and month)")
    refused: int
    base_fen: int
    employer_fen: int
    personal_fen: int
    events: int
    errors: list[RowError]
    replayed: bool = Field(default=False, description="The same file was posted before: this is its first answer")


def is_month(text: str) -> bool:
    """Whether ``text`` is a month as ``YYYY-MM``."""
    return re.fullmatch(MONTH_PATTERN, text) is not None


# --- reading ------------------------------------------------------------------------------------------------


def _header_and_body(data: bytes, file_name: str) -> tuple[list[str], str | Iterator[Sequence[Any]]]:
    """The header cells and the rest: CSV text for COPY, or an XLSX's rows; 415 for another kind of file."""
    suffix = Path(file_name).suffix.lower()
    if data.startswith(b"PK\x03\x04") and suffix in ("", ".xlsx"):
        return _xlsx(data)
    if suffix not in ("", ".csv") or data.startswith(b"PK"):
        raise UnsupportedMediaType(f"{file_name} is neither .xlsx nor .csv", field="file")
    # Strict: replacing what does not decode stored mojibake for a file that mixed UTF-8 and GBK lines.
    text = decode_csv(data)
    first, _, rest = text.partition("\n")
    header = list(next(bounded_rows(csv.reader([first])), []))
    # COPY reads an empty line as a row with one empty column; files end with one, spreadsheets add more.
    return header, re.sub(r"\n[ \t\r]*(?=\n|$)", "", "\n" + rest).lstrip("\n")


def _xlsx(data: bytes) -> tuple[list[str], Iterator[Sequence[Any]]]:
    check_workbook(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise RuleViolated("WorkbookIsReadable", f"the workbook cannot be read: {exc}", field="file") from exc
    rows = bounded_rows(workbook.worksheets[0].iter_rows(values_only=True))
    header = [str(cell or "") for cell in next(rows, ())]

    def body() -> Iterator[Sequence[Any]]:
        try:
            yield from rows
        finally:
            workbook.close()

    return header, body()


def _cell(value: Any) -> str | None:
    """An XLSX cell as the text a CSV would hold (a float that is whole fen prints with two decimals)."""
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.2f}" if round(value, 2) == value else repr(value)
    return str(value)


def _columns(header: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = next((n for n, aliases in COLUMN_ALIASES.items() if cell.strip() in aliases), None)
        if name is not None and name not in columns:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise RuleViolated(
            "ContributionFileColumns", f"the file lacks the column(s) {', '.join(missing)}", field="file"
        )
    return columns


# --- checking and posting, in SQL ---------------------------------------------------------------------------


def _fen(cell: str) -> str:
    """SQL: the whole fen of a cell that is yuan with at most two decimals, exactly as ``WHOLE_FEN`` says (1-12
    digits, then optionally a point and one or two digits), else NULL.

    Postgres's ``numeric`` input reads the number (a tenth of what a regular expression over the cell cost);
    what it accepts beyond ``WHOLE_FEN`` (a sign, blanks, ``.5``, ``5.``, ``1e3``, ``1_000``, ``0x10``, NaN,
    Infinity) either does not start with a digit or does not print back as written, leading zeros aside. What
    is left is digits with at most one point, whose digits are counted on either side. The outer CASE keeps
    the cast from ever seeing a cell that is not a number."""
    point = f"strpos({cell}, '.')"
    return (
        f"CASE WHEN pg_input_is_valid({cell}, 'numeric') THEN CASE WHEN ascii({cell}) BETWEEN 48 AND 57"
        f" AND ltrim({cell}, '0') = ltrim({cell}::numeric::text, '0')"
        f" AND CASE {point} WHEN 0 THEN length({cell}) <= 12 ELSE {point} <= 13 AND length({cell}) - {point} <= 2 END"
        f" THEN ({cell}::numeric * 100)::bigint END END"
    )


def _check_sql(columns: dict[str, int]) -> str:
    """One statement that reads the staged file and names, per row, the first rule it breaks (NULL: none).
    The order of the CASE is the order of ``check_contribution``'s checks, then what only the tables know.
    Each cell is read once, in the materialised ``typed``: a CTE Postgres inlined would repeat the reading
    wherever the CASE names its column."""
    c = {name: f"btrim(r.c{index})" for name, index in columns.items()}
    employer = c.get("employer_id", "NULL")
    aliases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in TYPE_ALIASES.items())
    known = ", ".join(f"'{t}'" for t in INSURANCE_TYPES)
    return f"""
    CREATE TEMP TABLE contribution_checked ON COMMIT DROP AS
    WITH raw AS MATERIALIZED (
        SELECT r.row_no + 1 AS row_no, {c["person_id"]} AS person, {c["insurance_type"]} AS kind,
               nullif({employer}, '') AS employer, {c["base"]} AS base, {c["employer_part"]} AS er,
               {c["personal_part"]} AS pe
        FROM contribution_raw r
    ), typed AS MATERIALIZED (
        SELECT row_no, employer, CASE kind {aliases} ELSE kind END AS kind,
               CASE WHEN pg_input_is_valid(person, 'uuid') THEN person::uuid END AS person_id,
               CASE WHEN pg_input_is_valid(employer, 'uuid') THEN employer::uuid END AS employer_id,
               {_fen("base")} AS base_fen, {_fen("er")} AS employer_fen, {_fen("pe")} AS personal_fen
        FROM raw
        WHERE person <> '' OR base <> ''  -- a row of blank cells is no row
    )
    SELECT x.row_no, x.person_id, x.kind AS insurance_type, x.employer_id, x.base_fen, x.employer_fen,
           x.personal_fen, coalesce(m.region_code, p.region_code) AS region_code,
           CASE
               WHEN x.kind IS NULL OR x.kind NOT IN ({known}) THEN 'KnownInsuranceType'
               WHEN x.base_fen IS NULL OR x.employer_fen IS NULL OR x.personal_fen IS NULL THEN 'AmountInWholeFen'
               WHEN x.base_fen NOT BETWEEN %(minimum)s AND %(maximum)s THEN 'BaseWithinProvinceBounds'
               WHEN x.employer_fen + x.personal_fen = 0 THEN 'ContributionIsPaid'
               WHEN p.person_id IS NULL THEN 'PersonKnownFromRegistration'
               WHEN e.person_id IS NULL THEN 'ContributionNeedsEnrolment'
               WHEN x.employer IS NOT NULL AND m.employer_id IS NULL THEN 'EmployerKnownFromRegistration'
           END AS problem,
           CASE WHEN x.base_fen IS NULL THEN 'base' WHEN x.employer_fen IS NULL THEN 'employer_part'
                ELSE 'personal_part' END AS amount_field
    FROM typed x
    LEFT JOIN persons p ON p.person_id = x.person_id
    LEFT JOIN enrolments e ON e.person_id = x.person_id AND e.insurance_type = x.kind
    LEFT JOIN employers m ON m.employer_id = x.employer_id AND m.active
    """


def _post_sql(*, probe: bool) -> str:
    """One statement that posts the checked rows the ledger lacks and sums what it posted per employer (its
    region) or, for the flexibly employed, per village.

    ``fresh`` is the first row of the file for each person and type, in the ledger key's order, inserted as a
    plain INSERT: each lands beside the one before in the key's index, where ``ON CONFLICT`` in the file's
    order probed it twice per row at random places (2.1 s of 300,000 rows' CPU against 0.75 s). With
    ``probe``, the rows the ledger holds for the month are left out, each looked up in key order (``OFFSET
    0`` keeps Postgres from turning the lookups into a scan of the whole ledger); without, the caller knows
    of none and a duplicate key fails the statement. Either way the caller holds the month's lock, so
    nothing else adds any meanwhile. Persons are counted on the rows in person order, first of their
    person in their employer's sum (an incremental sort), not with count(DISTINCT), which sorts them all."""
    held = """
        WHERE NOT EXISTS (
            SELECT FROM contributions c
            WHERE c.person_id = k.person_id AND c.insurance_type = k.insurance_type AND c.month = %(month)s
            OFFSET 0
        )"""
    return f"""
    WITH fresh AS MATERIALIZED (
        SELECT k.*, row_number() OVER (PARTITION BY person_id, employer_id, region_code) = 1 AS first_of_person
        FROM (
            SELECT DISTINCT ON (person_id, insurance_type) person_id, insurance_type, employer_id, region_code,
                   base_fen, employer_fen, personal_fen
            FROM contribution_checked WHERE problem IS NULL
            ORDER BY person_id, insurance_type, row_no OFFSET 0
        ) k{held if probe else ""}
    ), posted AS (
        INSERT INTO contributions (person_id, insurance_type, month, employer_id, region_code, base_fen,
                                   employer_fen, personal_fen, file_id)
        SELECT person_id, insurance_type, %(month)s, employer_id, region_code, base_fen, employer_fen,
               personal_fen, %(file_id)s
        FROM fresh
    )
    SELECT employer_id::text, region_code, count(*), count(*) FILTER (WHERE first_of_person),
           sum(base_fen)::bigint, sum(employer_fen)::bigint, sum(personal_fen)::bigint
    FROM fresh GROUP BY employer_id, region_code ORDER BY region_code, employer_id
    """


async def _post_checked(conn: Connection, month: str, file_id: str) -> list[tuple[Any, ...]]:
    """Post the checked rows (``_post_sql``), under the month's lock: first as if the ledger held none of
    them, which a month's first file is, in a savepoint; when it holds some (a file posted again with
    corrections, another file of the month), again leaving those out."""
    params = {"month": month, "file_id": file_id}
    try:
        async with conn.transaction():
            cursor = await conn.execute(_post_sql(probe=False), params)
            return await cursor.fetchall()
    except psycopg.errors.UniqueViolation:
        cursor = await conn.execute(_post_sql(probe=True), params)
        return await cursor.fetchall()


#: Postings of one month take turns from their checked rows on (a transaction-scoped advisory lock named
#: after the schema and the month; reading and checking a file need no turn): the second sees what the first
#: posted, so ``_post_sql`` can insert without ``ON CONFLICT``, and the same file posted twice at once answers
#: the second time with the first answer.
_MONTH_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('contributions:' || current_schema() || ':' || %s, 0))"


async def _stage(conn: Connection, header: Sequence[str], body: str | Iterator[Sequence[Any]]) -> None:
    width = len(header)
    names = ", ".join(f"c{i}" for i in range(width))
    await conn.execute(
        "CREATE TEMP TABLE contribution_raw (row_no bigint GENERATED ALWAYS AS IDENTITY, "
        + ", ".join(f"c{i} text" for i in range(width))
        + ") ON COMMIT DROP"
    )
    if isinstance(body, str):
        try:
            async with conn.cursor().copy(f"COPY contribution_raw ({names}) FROM STDIN (FORMAT csv)") as copy:
                await copy.write(body)
        except psycopg.DataError as exc:
            # The error names the line; the header is line 1 of the file, line 1 of the COPY is line 2.
            raise RuleViolated("ContributionFileReadable", f"the CSV cannot be read: {exc}", field="file") from exc
        return
    async with conn.cursor().copy(f"COPY contribution_raw ({names}) FROM STDIN") as copy:
        for row in body:
            cells = [_cell(v) for v in row[:width]]
            await copy.write_row(cells + [None] * (width - len(cells)))


async def post_file(
    conn: Connection,
    store: EventStore,
    data: bytes,
    file_name: str,
    month: str,
    bounds: BaseBounds,
    metadata: Metadata,
    *,
    today: date,
) -> PostingResult:
    """Post a month's contribution file in the caller's transaction (see the module docstring)."""
    require_not_future_month(month, today)
    return await _post(conn, store, data, file_name, month, bounds, metadata, lambda: _header_and_body(data, file_name))


#: The header of rows sent as JSON (``post_rows``): the English column names.
JSON_HEADER = ["person_id", "insurance_type", "employer_id", "base", "employer_part", "personal_part"]


async def post_rows(
    conn: Connection,
    store: EventStore,
    rows: Sequence[tuple[str, str, str | None, int, int, int]],
    month: str,
    bounds: BaseBounds,
    metadata: Metadata,
    *,
    today: date,
) -> PostingResult:
    """Post rows sent as JSON, amounts already in fen, the way a file is posted: the same checks, the same
    ledger, the same answer to the same rows sent twice."""
    require_not_future_month(month, today)
    data = orjson.dumps(rows)

    def yuan(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}" if fen >= 0 else str(fen)  # a negative amount fails the check

    def parsed() -> tuple[list[str], Iterator[Sequence[Any]]]:
        return JSON_HEADER, iter([(p, t, e, yuan(b), yuan(er), yuan(pe)) for p, t, e, b, er, pe in rows])

    return await _post(conn, store, data, "contributions.json", month, bounds, metadata, parsed)


async def _post(
    conn: Connection,
    store: EventStore,
    data: bytes,
    file_name: str,
    month: str,
    bounds: BaseBounds,
    metadata: Metadata,
    parse: Callable[[], tuple[list[str], str | Iterator[Sequence[Any]]]],
) -> PostingResult:
    sha256 = hashlib.sha256(month.encode() + b"\0" + data).hexdigest()
    file_id = str(uuid.uuid5(FILE_NAMESPACE, sha256))
    if (first := await _first_answer(conn, sha256)) is not None:
        return first
    header, body = parse()
    columns = _columns(header)
    await conn.execute("SET LOCAL work_mem = '256MB'")  # the checks' joins and sorts stay in memory
    await _stage(conn, header, body)
    await conn.execute(_check_sql(columns), {"minimum": bounds.minimum_fen, "maximum": bounds.maximum_fen})
    cursor = await conn.execute("SELECT count(*), count(problem) FROM contribution_checked")
    counted = await cursor.fetchone()
    total, refused = (int(counted[0]), int(counted[1])) if counted else (0, 0)
    cursor = await conn.execute(
        "SELECT row_no, problem, amount_field FROM contribution_checked WHERE problem IS NOT NULL ORDER BY row_no"
        " LIMIT %s",
        (ERRORS_LISTED,),
    )
    errors = [_error(int(row), str(rule), str(amount), bounds) for row, rule, amount in await cursor.fetchall()]
    await conn.execute(_MONTH_LOCK, (month,))
    if (first := await _first_answer(conn, sha256)) is not None:  # posted meanwhile, while we waited
        return first
    events = [
        ins.ContributionsPosted(
            file_id=file_id,
            month=month,
            employer_id=employer_id,
            region_code=region.strip(),
            rows=rows,
            persons=persons,
            base_fen=base,
            employer_fen=employer,
            personal_fen=personal,
        )
        for employer_id, region, rows, persons, base, employer, personal in await _post_checked(conn, month, file_id)
    ]
    if events:
        pending = [PendingEvent.of(e, region_code=e.region_code) for e in events]
        await store.append_batch(conn, [Append("contribution_file", file_id, 0, pending, metadata)])
    posted = sum(e.rows for e in events)
    result = PostingResult(
        file_id=file_id,
        month=month,
        rows=total,
        posted=posted,
        already_posted=total - refused - posted,
        refused=refused,
        base_fen=sum(e.base_fen for e in events),
        employer_fen=sum(e.employer_fen for e in events),
        personal_fen=sum(e.personal_fen for e in events),
        events=len(events),
        errors=errors,
    )
    await conn.execute(
        "INSERT INTO contribution_files (file_id, sha256, file_name, result) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (file_id, sha256, file_name, orjson.dumps(result.model_dump(mode="json")).decode()),
    )
    return result


async def _first_answer(conn: Connection, sha256: str) -> PostingResult | None:
    """The answer the first posting of these bytes for this month gave, if there was one."""
    cursor = await conn.execute("SELECT result FROM contribution_files WHERE sha256 = %s", (sha256,))
    first = await cursor.fetchone()
    return None if first is None else PostingResult.model_validate({**first[0], "replayed": True})


def _error(row: int, rule: str, amount_field: str, bounds: BaseBounds) -> RowError:
    """A refused row's error; an amount that is not whole fen is named by its column (the first such of
    base, employer_part, personal_part) rather than as any amount."""
    field, reason = RULES[rule]
    if rule == "AmountInWholeFen":
        field = amount_field
    return RowError(row=row, field=field, rule=rule, reason=reason.format(bounds=bounds))
