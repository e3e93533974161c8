"""Bulk imports: a village's Excel ledger of persons (台账导入) and the official division list.

A ledger (XLSX or CSV) is read in streaming mode, every row is validated on its own, and the good rows are
registered in batches through ``commands.person.register_persons`` (set-based, one transaction per batch,
so a long import never holds the event store's ordering lock for long). The keyed hash of the ID number makes a
re-upload register nothing twice: rows already in the ledger are reported as such, not as errors. Bad rows are
kept, encrypted, so the clerk can download them as an XLSX with a reasons column, fix them and upload again.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
from openpyxl import Workbook
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from contracts.reference import parse_regions_csv
from contracts.regions import Region
from services.registration.commands import context
from services.registration.commands.person import PersonRequest, register_persons
from services.registration.ledger_file import HEADER_FIELDS, ImportRowError, Ledger, normalise_header, read_ledger
from services.registration.models.person import PersonPublic
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
)
from services.runtime.eventstore import Metadata
from services.runtime.regions import load_regions
from services.runtime.spreadsheets import xlsx_cell

#: Rows registered per transaction, and transactions in flight.
IMPORT_BATCH = 1_000
IMPORT_CONCURRENCY = 2

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        name = HEADER_FIELDS.get(normalise_header(cell))
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
    sheet.append(["行号", *(xlsx_cell(sheet, column) for column in columns), "错误原因"])
    for number, errors, cipher in await cursor.fetchall():
        cells = orjson.loads(commands.vault.decrypt(cipher) or "[]")
        # A row read without its empty trailing cells still puts its reasons under 错误原因.
        cells = [*cells, *[None] * (len(columns) - len(cells))]
        reasons = "; ".join(f"{e.get('column') or e['field']}: {' '.join(e['reasons'])}" for e in errors)
        # The clerk's cells go back as they came, and a formula among them stays text (CSV/XLSX injection).
        sheet.append([number, *(xlsx_cell(sheet, cell) for cell in cells), xlsx_cell(sheet, reasons)])
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
