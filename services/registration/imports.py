"""Bulk imports: a village's Excel ledger of persons (台账导入) and the official division list.

A ledger (XLSX or CSV) is read in streaming mode, every row is validated on its own, and the good rows are
registered in batches through ``commands.person.register_persons`` (set-based, one transaction per batch,
so a long import never holds the event store's ordering lock for long). The keyed hash of the ID number makes a
re-upload register nothing twice: rows already in the ledger are reported as such, not as errors. Bad rows are
kept, encrypted, so the clerk can download them as an XLSX with a reasons column, fix them and upload again.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import orjson
from openpyxl import Workbook, load_workbook
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field, ValidationError

from contracts.reference import parse_regions_csv
from contracts.regions import Region
from contracts.registration import PERSON_CATEGORIES
from services.registration.commands import context
from services.registration.commands.person import PersonRequest, register_persons
from services.registration.models.person import PersonCreate, PersonPublic
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RuleViolated,
    UnsupportedMediaType,
)
from services.runtime.eventstore import Metadata
from services.runtime.regions import load_regions

#: Rows registered per transaction, and transactions in flight.
IMPORT_BATCH = 1_000
IMPORT_CONCURRENCY = 2
#: Rows scanned for the header row (a ledger often has a title and a date above it).
HEADER_SEARCH_ROWS = 10

#: Column headers a clerk's ledger uses, and the English field names, for each field.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证"),
    "name": ("姓名",),
    "region_code": ("所在村(社区)代码", "村(社区)代码", "所在村代码", "村居代码", "区划代码", "行政区划代码"),
    "phone": ("联系电话", "手机号码", "手机号", "电话"),
    "hukou": ("户籍类型", "户口性质", "户籍性质"),
    "education": ("文化程度", "学历"),
    "categories": ("人员类别", "人员分类"),
}
REQUIRED_FIELDS = ("id_number", "name", "region_code")
#: What the clerk calls each field, for messages and the errors workbook.
COLUMN_TITLES = {f: aliases[0] for f, aliases in COLUMN_ALIASES.items()}

_HUKOU = {
    "农业": "rural",
    "农业户口": "rural",
    "农村": "rural",
    "农村户口": "rural",
    "rural": "rural",
    "非农业": "urban",
    "非农业户口": "urban",
    "城镇": "urban",
    "城镇户口": "urban",
    "居民户口": "urban",
    "urban": "urban",
}
_CATEGORIES = {
    "失业人员": "unemployed",
    "失业": "unemployed",
    "下岗职工": "laid_off",
    "下岗": "laid_off",
    "农村富余劳动力": "rural_surplus_labour",
    "富余劳动力": "rural_surplus_labour",
    "新成长劳动力": "new_entrant",
    "高校毕业生": "new_entrant",
    "应届毕业生": "new_entrant",
    "灵活就业人员": "flexible_employment",
    "灵活就业": "flexible_employment",
    "外出务工人员": "migrant_worker",
    "外出务工": "migrant_worker",
    "农民工": "migrant_worker",
    "退休人员": "retired",
    "退休": "retired",
    **{name: name for name in PERSON_CATEGORIES},
}
_CATEGORY_SEPARATORS = re.compile(r"[、,，;；/\s]+")
#: What Excel makes of an 18-digit number saved to CSV: 4.30527E+17.
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
#: Fields whose digits survive being stored as an Excel number (12 and 11 digits are under 15 significant).
_NUMBER_OK = frozenset({"region_code", "phone"})

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _normalise_header(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")").lower()


_HEADER_FIELDS = {
    _normalise_header(alias): name for name, aliases in COLUMN_ALIASES.items() for alias in (name, *aliases)
}


class ImportRowError(BaseModel):
    """Why one field of one row was not accepted."""

    row: int = Field(description="Row number as the spreadsheet shows it (the header row counts)")
    field: str
    column: str | None = Field(default=None, description="The column header in the uploaded file")
    reasons: list[str]
    rule: str | None = None


class ImportDuplicate(BaseModel):
    """A row whose ID number is already in the ledger: registered before, not again."""

    row: int
    person_id: str | None


class ImportResult(BaseModel):
    """What an upload did: counts, every bad row with its reasons, and where to download them."""

    import_id: str
    file_name: str
    file_sha256: str
    previous_import_id: str | None = Field(
        default=None, description="The first import of this very file, if it was uploaded before"
    )
    rows: int
    created: int
    already_registered: int
    rejected: int
    errors: list[ImportRowError]
    duplicates: list[ImportDuplicate]
    errors_url: str | None = Field(default=None, description="XLSX of the bad rows with a reasons column")


@dataclass
class LedgerRow:
    """One data row: its number, its cells as text, what it asks to register, and what is wrong with it."""

    number: int
    cells: list[str]
    values: dict[str, Any]
    body: PersonCreate | None = None
    errors: list[ImportRowError] = field(default_factory=list)


@dataclass
class Ledger:
    """A parsed upload: the header as written and every non-empty row after it."""

    columns: list[str]
    rows: list[LedgerRow]


# --- reading -------------------------------------------------------------------------------------------------


def read_ledger(data: bytes, file_name: str) -> Ledger:
    """Parse and validate an uploaded ledger (XLSX or CSV); 415 for another kind, 422 for a bad header or a
    column of the wrong type, which must be fixed in the file before any row can be trusted."""
    suffix = Path(file_name).suffix.lower()
    if data.startswith(b"PK\x03\x04") and suffix in ("", ".xlsx", ".xlsm"):
        return _validate(_xlsx_rows(data))
    if suffix == ".csv" or (suffix == "" and not data.startswith(b"PK")):
        return _validate(_csv_rows(data))
    raise UnsupportedMediaType(
        f"{file_name} is neither an .xlsx workbook nor a .csv file; save the ledger as .xlsx and upload it again",
        field="file",
    )


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise RuleViolated("LedgerIsReadable", f"the workbook cannot be read: {exc}", field="file") from exc
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel in Chinese saves CSV in GBK (GB 18030 is its superset)
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise RuleViolated("LedgerIsReadable", "the CSV is neither UTF-8 nor GBK text", field="file") from exc
    yield from enumerate(csv.reader(io.StringIO(text)), start=1)


def _validate(rows: Iterable[tuple[int, Sequence[Any]]]) -> Ledger:
    iterator = iter(rows)
    header, fields = _find_header(iterator)
    ledger = Ledger(columns=[_text(cell) for cell in header], rows=[])
    wrong_types: dict[str, list[int]] = {}
    first_row_of: dict[str, int] = {}
    for number, raw in iterator:
        cells = [_text(cell) for cell in raw]
        if not any(cells):
            continue
        values: dict[str, Any] = {}
        for index, name in fields.items():
            cell = raw[index] if index < len(raw) else None
            value = _cell_value(name, cell)
            if value is _WRONG_TYPE:
                wrong_types.setdefault(name, []).append(number)
                continue
            if value is not None:
                values[name] = value
        row = LedgerRow(number, cells, values)
        ledger.rows.append(row)
        _check_row(row, first_row_of)
    if wrong_types:
        raise _wrong_type_error(wrong_types, header, fields)
    return ledger


def _find_header(rows: Iterator[tuple[int, Sequence[Any]]]) -> tuple[Sequence[Any], dict[int, str]]:
    best: tuple[Sequence[Any], dict[int, str]] | None = None
    for _, raw in rows:
        fields: dict[int, str] = {}
        for index, cell in enumerate(raw):
            name = _HEADER_FIELDS.get(_normalise_header(_text(cell)))
            if name is not None and name not in fields.values():
                fields[index] = name
        if best is None or len(fields) > len(best[1]):
            best = (raw, fields)
        if all(name in fields.values() for name in REQUIRED_FIELDS):
            return raw, fields
        if _ >= HEADER_SEARCH_ROWS:
            break
    found = set(best[1].values()) if best else set()
    missing = [name for name in REQUIRED_FIELDS if name not in found]
    titles = ", ".join(f"{COLUMN_TITLES[name]} ({name})" for name in missing)
    raise RuleViolated(
        "LedgerHasRequiredColumns",
        f"the ledger has no column {titles}; the header row needs 身份证号, 姓名 and 所在村(社区)代码",
        field=COLUMN_TITLES[missing[0]],
        missing_columns=[COLUMN_TITLES[name] for name in missing],
    )


_WRONG_TYPE = object()


def _cell_value(name: str, cell: Any) -> Any:
    """A cell as the field's text, None when empty, or ``_WRONG_TYPE`` when its type cannot be that field."""
    if cell is None:
        return None
    if isinstance(cell, bool | datetime | date | time):
        return _WRONG_TYPE
    if isinstance(cell, int | float):
        if name in _NUMBER_OK and float(cell).is_integer():
            return str(int(cell))
        return _WRONG_TYPE
    text = str(cell).strip()
    if name == "id_number" and _SCIENTIFIC.match(text):
        return _WRONG_TYPE
    return text or None


def _wrong_type_error(wrong: dict[str, list[int]], header: Sequence[Any], fields: dict[int, str]) -> RuleViolated:
    columns = {name: _text(header[index]) for index, name in fields.items()}
    name, numbers = next(iter(wrong.items()))
    shown = ", ".join(str(n) for n in numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
    hint = (
        "Excel keeps only 15 significant digits of a number, so an 18-digit ID number stored as a number is "
        "already wrong; format the column as text, re-enter the numbers and upload again"
        if name == "id_number"
        else "the column must hold text"
    )
    return RuleViolated(
        "LedgerColumnHasTextCells",
        f"column {columns[name]} ({name}) holds numbers or dates instead of text in rows {shown}: {hint}",
        field=columns[name],
        columns=[columns[n] for n in wrong],
    )


def _check_row(row: LedgerRow, first_row_of: dict[str, int]) -> None:
    def refuse(name: str, reason: str, rule: str | None = None) -> None:
        # The column's header as written is filled in once the whole file is read.
        row.errors.append(ImportRowError(row=row.number, field=name, reasons=[reason], rule=rule))

    values = dict(row.values)
    hukou = values.pop("hukou", None)
    if hukou is not None:
        mapped = _HUKOU.get(hukou.lower())
        if mapped is None:
            refuse("hukou", f"户籍类型 must be 农业 or 非农业 (rural or urban), got {hukou!r}")
        else:
            values["hukou"] = mapped
    categories = values.pop("categories", None)
    if categories is not None:
        parts = [p for p in _CATEGORY_SEPARATORS.split(categories) if p]
        unknown = [p for p in parts if p not in _CATEGORIES]
        if unknown:
            refuse("categories", f"unknown 人员类别 {', '.join(unknown)}; known: {', '.join(PERSON_CATEGORIES)}")
        else:
            values["categories"] = sorted({_CATEGORIES[p] for p in parts})
    try:
        body = PersonCreate.model_validate(values)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "row"
            reason = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing":
                reason = f"{COLUMN_TITLES.get(name, name)} is empty"
            refuse(name, reason)
        return
    if row.errors:
        return
    earlier = first_row_of.setdefault(body.id_number.upper(), row.number)
    if earlier != row.number:
        refuse("id_number", f"same ID number as row {earlier}", "DuplicateRowInFile")
        return
    row.body = body


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


# --- importing -----------------------------------------------------------------------------------------------


@dataclass
class ImportSettings:
    """Limits of an upload."""

    max_bytes: int


async def import_persons(
    pool: AsyncConnectionPool,
    commands: context.Ledger,
    principal: Principal,
    metadata: Metadata,
    data: bytes,
    file_name: str,
    settings: ImportSettings,
) -> ImportResult:
    """Validate every row of a ledger, register the good ones in batches, remember the bad ones."""
    if len(data) > settings.max_bytes:
        raise too_large(len(data), settings.max_bytes)
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only; they cannot import persons")
    ledger = await asyncio.to_thread(read_ledger, data, file_name)
    headers = _header_titles(ledger)
    duplicates: list[ImportDuplicate] = []
    created = 0
    good = [row for row in ledger.rows if row.body is not None]
    batches = [good[start : start + IMPORT_BATCH] for start in range(0, len(good), IMPORT_BATCH)]
    pending = list(reversed(batches))

    async def register() -> None:
        nonlocal created
        while pending:
            batch = pending.pop()
            requests = [PersonRequest(principal, row.body, metadata) for row in batch if row.body is not None]
            async with pool.connection() as conn, conn.transaction():
                outcomes = await register_persons(commands, conn, requests)
            for row, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, PersonPublic):
                    created += 1
                elif isinstance(outcome, Conflict):
                    person_id = outcome.extra.get("person_id")
                    duplicates.append(ImportDuplicate(row=row.number, person_id=str(person_id) if person_id else None))
                else:
                    row.errors.append(_row_error(row.number, outcome))

    # Two batches in flight: one is decided in Python while the other is in Postgres. The file holds each ID
    # number once (a repeat is a row error), so the batches never race for the same person.
    await asyncio.gather(*(register() for _ in range(IMPORT_CONCURRENCY)))
    duplicates.sort(key=lambda d: d.row)
    bad = [row for row in ledger.rows if row.errors]
    for row in bad:
        for error in row.errors:
            error.column = headers.get(error.field)
    import_id = str(uuid.uuid4())
    sha256 = hashlib.sha256(data).hexdigest()
    async with pool.connection() as conn, conn.transaction():
        previous = await _first_import_of(conn, sha256)
        await conn.execute(
            "INSERT INTO person_imports (import_id, file_sha256, file_name, actor, scope_region, columns, rows,"
            " created, already_registered, rejected) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                import_id,
                sha256,
                file_name,
                principal.subject,
                principal.region,
                Jsonb(ledger.columns),
                len(ledger.rows),
                created,
                len(duplicates),
                len(bad),
            ),
        )
        if bad:
            encrypt = commands.vault.encrypt
            await conn.execute(
                "INSERT INTO person_import_errors (import_id, row_number, errors, cells_cipher)"
                " SELECT %s, * FROM unnest(%s::int[], %s::jsonb[], %s::bytea[])",
                (
                    import_id,
                    [row.number for row in bad],
                    [orjson.dumps([e.model_dump() for e in row.errors]).decode() for row in bad],
                    [encrypt(orjson.dumps(row.cells).decode()) for row in bad],
                ),
            )
    return ImportResult(
        import_id=import_id,
        file_name=file_name,
        file_sha256=sha256,
        previous_import_id=previous,
        rows=len(ledger.rows),
        created=created,
        already_registered=len(duplicates),
        rejected=len(bad),
        errors=[error for row in bad for error in row.errors],
        duplicates=duplicates,
        errors_url=f"/imports/{import_id}/errors.xlsx" if bad else None,
    )


def too_large(size: int, limit: int) -> PayloadTooLarge:
    """The 413 for an upload over the limit."""
    return PayloadTooLarge(
        f"the upload has {size:,} bytes, more than the {limit:,} accepted; split the ledger into smaller files",
        field="file",
        max_bytes=limit,
    )


def _header_titles(ledger: Ledger) -> dict[str, str]:
    titles: dict[str, str] = {}
    for cell in ledger.columns:
        name = _HEADER_FIELDS.get(_normalise_header(cell))
        if name is not None:
            titles.setdefault(name, cell)
    return titles


def _row_error(number: int, error: DomainError) -> ImportRowError:
    rule = getattr(error, "rule", None)
    if isinstance(error, Forbidden):
        rule = "OutsideYourRegion"
    return ImportRowError(row=number, field=error.field or "row", reasons=[error.detail], rule=rule)


async def _first_import_of(conn: Connection, sha256: str) -> str | None:
    cursor = await conn.execute(
        "SELECT import_id::text FROM person_imports WHERE file_sha256 = %s ORDER BY imported_at LIMIT 1", (sha256,)
    )
    row = await cursor.fetchone()
    return str(row[0]) if row else None


async def errors_workbook(conn: Connection, commands: context.Ledger, principal: Principal, import_id: str) -> bytes:
    """The bad rows of an import as an XLSX: the original cells and a reasons column (错误原因)."""
    cursor = await conn.execute(
        "SELECT scope_region, columns FROM person_imports WHERE import_id = %s", (_uuid_or_404(import_id),)
    )
    found = await cursor.fetchone()
    if found is None:
        raise NotFound(f"no import {import_id}", field="import_id")
    scope, columns = found
    if not principal.sees_persons or not principal.covers(scope):
        raise Forbidden(f"import {import_id} was made for region {scope}, outside what you may read")
    cursor = await conn.execute(
        "SELECT row_number, errors, cells_cipher FROM person_import_errors WHERE import_id = %s ORDER BY row_number",
        (import_id,),
    )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误行")
    sheet.append(["行号", *columns, "错误原因"])
    for number, errors, cipher in await cursor.fetchall():
        cells = orjson.loads(commands.vault.decrypt(cipher) or "[]")
        reasons = "; ".join(f"{e.get('column') or e['field']}: {' '.join(e['reasons'])}" for e in errors)
        sheet.append([number, *cells, reasons])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _uuid_or_404(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFound(f"no import {value}", field="import_id") from None


# --- the official division list ------------------------------------------------------------------------------


def read_regions_file(path: Path) -> list[Region]:
    """The division list in a CSV file; ValueError naming the line of the first bad row."""
    regions = parse_regions_csv(path.read_text(encoding="utf-8-sig"))
    if not regions:
        raise ValueError("the file lists no regions")
    return regions


async def import_regions(conn: Connection, regions: list[Region]) -> tuple[int, int]:
    """Load divisions into the reference table; every parent must be in the file or already loaded.

    Returns (new, updated). Raises ValueError naming a region whose parent is unknown, before writing anything.
    """
    codes = {r.code for r in regions}
    parents = sorted({r.parent for r in regions if r.parent and r.parent not in codes})
    cursor = await conn.execute("SELECT code FROM regions WHERE code = ANY(%s)", (parents,))
    known = {row[0] for row in await cursor.fetchall()}
    for region in regions:
        if region.parent and region.parent not in codes and region.parent not in known:
            raise ValueError(f"{region.code} {region.name}: parent {region.parent} is neither in the file nor loaded")
    cursor = await conn.execute("SELECT count(*) FROM regions WHERE code = ANY(%s)", (sorted(codes),))
    row = await cursor.fetchone()
    existing = int(row[0]) if row else 0
    async with conn.transaction():
        await load_regions(conn, regions)
    return len(regions) - existing, existing
