"""Search of the ledger (paginated, always inside the caller's region): by ID number, exact name, category,
status. Names are stored encrypted; a keyed hash of the whole name finds exact matches only."""

from __future__ import annotations

import base64
import uuid
from typing import cast

from fastapi import APIRouter, Query
from fastapi.responses import Response

from contracts.regions import normalise_region_code
from contracts.registration import EmploymentStatus, PersonCategory, Sex
from services.registration import queries
from services.registration.api.deps import INVALID, PII_ROLES, LedgerDep, PersonReader, region_query
from services.registration.commands.person import name_lookup_hash, parse_id_number
from services.registration.models.person import PersonPage, PersonSummary
from services.runtime.auth import Principal
from services.runtime.errors import RuleViolated
from services.runtime.http import DbConnection, json_response
from services.runtime.pii import PiiVault, mask_id_number

router = APIRouter(tags=["registration"])

LIMIT = Query(50, ge=1, le=200, description="Entries per page")
CURSOR = Query(None, description="next_cursor of the previous page")


@router.get(
    "/persons",
    response_model=PersonPage,
    responses={403: {"description": "Region outside the caller's scope, or an analyst"}, **INVALID},
    summary="Search the ledger: by ID number, by exact name in a region, by category or status",
    description="Names are stored encrypted; a keyed hash of the whole name allows exact matches only "
    "(no partial or fuzzy name search). Results are in region and id order, inside the caller's region "
    "unless `region` narrows it.",
)
async def search_persons(
    ledger: LedgerDep,
    principal: PersonReader,
    conn: DbConnection,
    id_number: str | None = Query(None, description="Exact resident ID number", examples=["11010519491231002X"]),
    name: str | None = Query(None, max_length=100, description="Exact full name", examples=["杨秀成"]),
    region: str | None = Query(None, description="Region subtree (default: your scope)", examples=["430527100000"]),
    category: PersonCategory | None = Query(None, description="Person category"),
    status: EmploymentStatus | None = Query(None, description="Employment status"),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
) -> Response:
    vault = ledger.vault
    where = queries.PersonFilter(
        region_code=scoped_region(principal, region),
        id_hash=vault.lookup_hash(parse_id_number(id_number).number) if id_number is not None else None,
        name_hash=name_lookup_hash(vault, name) if name else None,
        category=category,
        status=status,
    )
    rows = await queries.search_persons(conn, where, limit=limit + 1, after=decode_cursor(cursor))
    return json_response(page(rows, limit, principal, vault))


def scoped_region(principal: Principal, region: str | None) -> str:
    """The region subtree a list reads: the caller's scope, or a region inside it."""
    if region is None:
        return principal.region
    code = region_query(region, "RegionCodeFormat")
    principal.require_region(code)
    return code


def page(rows: list[queries.PersonRow], limit: int, principal: Principal, vault: PiiVault) -> PersonPage:
    """One page of ledger entries (``rows`` holds one more than ``limit`` when there is a next page)."""
    full = principal.role in PII_ROLES
    persons = []
    for row in rows[:limit]:
        number = vault.decrypt(row.id_cipher) or ""
        persons.append(
            PersonSummary(
                person_id=row.person_id,
                id_number=number if full else mask_id_number(number),
                name=vault.decrypt(row.name_cipher) if full else None,
                sex=cast(Sex, row.sex),
                birth_date=row.birth_date,
                region_code=row.region_code,
                status=cast(EmploymentStatus, row.status),
                categories=list(row.categories),
                version=row.version,
            )
        )
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = base64.urlsafe_b64encode(f"{last.region_code}|{last.person_id}".encode()).decode() if last else None
    return PersonPage(persons=persons, next_cursor=next_cursor)


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    """The (region, person id) a ``next_cursor`` we gave points after; 422 for anything else."""
    if not cursor:
        return None
    try:
        region_code, person_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        uuid.UUID(person_id)
        normalise_region_code(region_code)
    except ValueError as exc:
        raise RuleViolated("CursorFromPreviousPage", "cursor is not a next_cursor we gave", field="cursor") from exc
    return region_code, person_id
