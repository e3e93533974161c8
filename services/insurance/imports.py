"""Bulk posting of a month's contribution file (缴费明细导入), CSV or XLSX.

Each row is checked on its own (the reasons go back row by row); the good rows are COPYed into a staging
table and posted with one set-based statement: the ledger's key (person, type, month) makes posting a row
twice impossible, and the file's SHA-256 makes a file posted twice answer with its first result. What the
rows add up to is published as one ``ContributionsPosted`` per employer (or per village for the flexibly
employed), all in one transaction with the ledger rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from openpyxl import load_workbook
from pydantic import BaseModel, Field

from contracts import insurance as ins
from contracts.insurance import MONTH_PATTERN
from contracts.money import yuan_to_fen
from services.insurance.domain.contributions import BaseBounds, RowProblem, check_contribution
from services.insurance.domain.months import require_not_future_month
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated, UnsupportedMediaType
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent

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
#: Stream namespace of files: the same bytes are the same file.
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


@dataclass(frozen=True)
class Row:
    """One checked row: its number in the file and its values."""

    number: int
    person_id: str
    insurance_type: str
    employer_id: str | None
    base_fen: int
    employer_fen: int
    personal_fen: int


def _fen(text: str) -> int:
    """An amount in yuan as whole fen; "12.345" has a fraction of a fen and is refused (ValueError)."""
    whole, dot, cents = text.partition(".")
    if whole.isdigit() and (not dot or (cents.isdigit() and len(cents) <= 2)):
        return int(whole) * 100 + (int(cents.ljust(2, "0")) if cents else 0)
    return yuan_to_fen(text)  # the general case: thousands separators, signs, and its errors


def read_rows(data: bytes, file_name: str) -> Iterator[tuple[int, Sequence[Any]]]:
    """The file's rows, numbered from 1, header included; 415 for a file that is neither CSV nor XLSX."""
    suffix = Path(file_name).suffix.lower()
    if data.startswith(b"PK\x03\x04") and suffix in ("", ".xlsx"):
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            yield from enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
        finally:
            workbook.close()
        return
    if suffix not in ("", ".csv") or data.startswith(b"PK"):
        raise UnsupportedMediaType(f"{file_name} is neither .xlsx nor .csv", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")  # Excel in Chinese saves CSV in GBK
    yield from enumerate(csv.reader(io.StringIO(text)), start=1)


def check_rows(
    rows: Iterator[tuple[int, Sequence[Any]]], month: str, bounds: BaseBounds, today: date
) -> tuple[list[Row], list[RowError], int]:
    """The good rows, the bad rows' reasons, and how many data rows the file has."""
    number, header = next(rows, (0, ()))
    columns = {_field(cell): i for i, cell in enumerate(header) if _field(cell)}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise RuleViolated(
            "ContributionFileColumns", f"the file lacks the column(s) {', '.join(missing)}", field="file"
        )
    good: list[Row] = []
    errors: list[RowError] = []
    total = 0
    p, t, b, e, s = (columns[k] for k in REQUIRED)
    emp = columns.get("employer_id")
    for number, cells in rows:
        if not any(cells):
            continue
        total += 1
        try:
            kind = str(cells[t]).strip()
            kind = TYPE_ALIASES.get(kind, kind)
            values = [_fen(_cell(cells[i])) for i in (b, e, s)]
        except (ValueError, IndexError) as exc:
            errors.append(RowError(row=number, field="amount", rule="AmountInWholeFen", reason=str(exc)))
            continue
        problem = check_contribution(
            insurance_type=kind,
            month=month,
            base_fen=values[0],
            employer_fen=values[1],
            personal_fen=values[2],
            bounds=bounds,
            today=today,
        )
        if problem is not None:
            errors.append(_error(number, problem))
            continue
        employer = str(cells[emp]).strip() if emp is not None and cells[emp] else None
        good.append(Row(number, str(cells[p]).strip(), kind, employer or None, *values))
    return good, errors, total


def _cell(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.2f}" if isinstance(value, float) and round(value, 2) == value else str(value)
    return str(value).strip()


def _field(cell: Any) -> str | None:
    text = str(cell or "").strip()
    return next((name for name, aliases in COLUMN_ALIASES.items() if text in aliases), None)


def _error(number: int, problem: RowProblem) -> RowError:
    return RowError(row=number, field=problem.field, rule=problem.rule, reason=problem.reason)


_STAGE = """
    CREATE TEMP TABLE IF NOT EXISTS contribution_stage (
        row_no int, person_id text, insurance_type text, employer_id text,
        base_fen bigint, employer_fen bigint, personal_fen bigint
    ) ON COMMIT DELETE ROWS
"""

# Rows whose person, enrolment or employer the service does not know: reasons, row by row.
_UNKNOWN = """
    SELECT s.row_no,
           CASE WHEN p.person_id IS NULL THEN 'person_id'
                WHEN e.person_id IS NULL THEN 'insurance_type'
                ELSE 'employer_id' END
    FROM contribution_stage s
    LEFT JOIN persons p ON p.person_id = s.person_id
    LEFT JOIN enrolments e ON e.person_id = s.person_id AND e.insurance_type = s.insurance_type
    LEFT JOIN employers m ON m.employer_id = s.employer_id
    WHERE p.person_id IS NULL OR e.person_id IS NULL OR (s.employer_id IS NOT NULL AND m.employer_id IS NULL)
"""

# Post the known rows once (the ledger's key refuses a second posting), and sum what was posted per
# employer (its region) or, for the flexibly employed, per village.
_POST = """
    WITH posted AS (
        INSERT INTO contributions (person_id, insurance_type, month, employer_id, region_code, base_fen,
                                   employer_fen, personal_fen, file_id)
        SELECT s.person_id, s.insurance_type, %(month)s, s.employer_id, coalesce(m.region_code, p.region_code),
               s.base_fen, s.employer_fen, s.personal_fen, %(file_id)s
        FROM contribution_stage s
        JOIN persons p ON p.person_id = s.person_id
        JOIN enrolments e ON e.person_id = s.person_id AND e.insurance_type = s.insurance_type
        LEFT JOIN employers m ON m.employer_id = s.employer_id
        WHERE s.employer_id IS NULL OR m.employer_id IS NOT NULL
        ORDER BY s.row_no
        ON CONFLICT DO NOTHING
        RETURNING person_id, employer_id, region_code, base_fen, employer_fen, personal_fen
    )
    SELECT employer_id, region_code, count(*), count(DISTINCT person_id), sum(base_fen)::bigint,
           sum(employer_fen)::bigint, sum(personal_fen)::bigint
    FROM posted GROUP BY employer_id, region_code ORDER BY region_code, employer_id
"""

_UNKNOWN_REASONS = {
    "person_id": ("PersonKnownFromRegistration", "registration has not reported this person"),
    "insurance_type": ("ContributionNeedsEnrolment", "the person is not enrolled in this insurance type"),
    "employer_id": ("EmployerKnownFromRegistration", "registration has not reported this employer"),
}


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
    sha256 = hashlib.sha256(month.encode() + b"\0" + data).hexdigest()
    file_id = str(uuid.uuid5(FILE_NAMESPACE, sha256))
    cursor = await conn.execute("SELECT result FROM contribution_files WHERE sha256 = %s", (sha256,))
    first = await cursor.fetchone()
    if first is not None:
        return PostingResult.model_validate({**first[0], "replayed": True})
    good, errors, total = check_rows(read_rows(data, file_name), month, bounds, today)
    await conn.execute(_STAGE)
    async with conn.cursor().copy(
        "COPY contribution_stage (row_no, person_id, insurance_type, employer_id, base_fen, employer_fen,"
        " personal_fen) FROM STDIN"
    ) as copy:
        await copy.write(_copy_text(good))
    cursor = await conn.execute(_UNKNOWN)
    for number, field in await cursor.fetchall():
        rule, reason = _UNKNOWN_REASONS[field]
        errors.append(RowError(row=number, field=field, rule=rule, reason=reason))
    cursor = await conn.execute(_POST, {"month": month, "file_id": file_id})
    groups = await cursor.fetchall()
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
        for employer_id, region, rows, persons, base, employer, personal in groups
    ]
    if events:
        pending = [PendingEvent.of(e, region_code=e.region_code) for e in events]
        await store.append_batch(conn, [Append("contribution_file", file_id, 0, pending, metadata)])
    posted = sum(e.rows for e in events)
    errors.sort(key=lambda e: e.row)
    result = PostingResult(
        file_id=file_id,
        month=month,
        rows=total,
        posted=posted,
        already_posted=total - len(errors) - posted,
        refused=len(errors),
        base_fen=sum(e.base_fen for e in events),
        employer_fen=sum(e.employer_fen for e in events),
        personal_fen=sum(e.personal_fen for e in events),
        events=len(events),
        errors=errors[:ERRORS_LISTED],
    )
    await conn.execute(
        "INSERT INTO contribution_files (file_id, sha256, file_name, result) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (file_id, sha256, file_name, orjson.dumps(result.model_dump(mode="json")).decode()),
    )
    return result


def _copy_text(rows: Sequence[Row]) -> str:
    """COPY's text format (tabs and backslashes cannot be in an id: they are dropped, and the id is then unknown)."""
    out = []
    for r in rows:
        person = r.person_id.replace("\\", "").replace("\t", "")
        employer = r.employer_id.replace("\\", "").replace("\t", "") if r.employer_id else "\\N"
        out.append(
            f"{r.number}\t{person}\t{r.insurance_type}\t{employer}\t{r.base_fen}\t{r.employer_fen}\t{r.personal_fen}\n"
        )
    return "".join(out)


def is_month(text: str) -> bool:
    """Whether ``text`` is a month as ``YYYY-MM``."""
    return re.fullmatch(MONTH_PATTERN, text) is not None
