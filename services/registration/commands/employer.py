"""Commands on the employer aggregate (用人单位): register, change (变更登记), deregister (注销).

The ``employers`` table keeps one employer per unified social credit code (GB 32100-2015) and what
vacancies and employment registrations check against; it is written in the same transaction as the events.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict

from contracts.identifiers import parse_credit_code
from contracts.registration import EmployerChanged
from services.registration import queries
from services.registration.commands.context import Ledger
from services.registration.domain.employer import (
    ChangeEmployer,
    DeregisterEmployer,
    EmployerState,
    RegisterEmployer,
    decide_change_employer,
    decide_deregister_employer,
    decide_register_employer,
)
from services.registration.models.employer import EmployerChange, EmployerCreate, EmployerDeregistration, EmployerPublic
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict
from services.runtime.eventstore import Append, Metadata

#: Said in the response to a legacy credit code that fails the check character (GB 32100), accepted anyway.
LEGACY_CREDIT_CODE_WARNING = "credit code fails the GB 32100 check character; accepted as a legacy pilot code"


def employer_public(state: EmployerState) -> EmployerPublic:
    """An employer as clients see it (a legacy credit code with its warning)."""
    warnings = [] if state.credit_code_check_ok else [LEGACY_CREDIT_CODE_WARNING]
    return EmployerPublic.model_validate({**asdict(state), "warnings": warnings})


async def register_employer(
    ledger: Ledger, conn: Connection, principal: Principal, body: EmployerCreate, metadata: Metadata
) -> EmployerPublic:
    """Register an employer; legacy credit codes that fail the check are accepted with a warning."""
    principal.require_region(body.region_code)
    credit = parse_credit_code(body.credit_code, allow_legacy=True)
    command = RegisterEmployer(
        employer_id=str(uuid.uuid4()),
        credit=credit,
        name=body.name,
        region=await ledger.region(conn, body.region_code),
        region_code=body.region_code,
        industry=body.industry,
        size=body.size,
    )
    events = decide_register_employer(command)
    cursor = await conn.execute(
        "INSERT INTO employers (employer_id, credit_code, check_ok, name, region_code, industry, size)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (credit_code) DO NOTHING RETURNING employer_id",
        (command.employer_id, credit.code, credit.check_ok, body.name, body.region_code, body.industry, body.size),
    )
    if await cursor.fetchone() is None:
        existing = await queries.employer_id_by_credit_code(conn, credit.code)
        raise Conflict(
            "an employer with this credit code is already registered", field="credit_code", employer_id=existing
        )
    changed = await ledger.employers.create(conn, command.employer_id, events, metadata)
    return employer_public(changed.after)


async def _save(conn: Connection, changed: Changed[EmployerState]) -> list[Append]:
    new = changed.after
    await conn.execute(
        "UPDATE employers SET name = %s, industry = %s, size = %s, region_code = %s, version = %s,"
        " deregistered_on = %s WHERE employer_id = %s",
        (new.name, new.industry, new.size, new.region_code, new.version, new.deregistered_on, new.employer_id),
    )
    return []


async def change_employer(
    ledger: Ledger,
    conn: Connection,
    principal: Principal,
    employer_id: str,
    body: EmployerChange,
    expected_version: int | None,
    metadata: Metadata,
) -> EmployerPublic:
    """Change an employer's details (变更登记); 409 when it changed since ``expected_version``."""
    region_code = body.region_code if "region_code" in body.model_fields_set else None
    region = await ledger.region(conn, region_code) if region_code else None

    def decide(state: EmployerState) -> list[EmployerChanged]:
        if region_code is not None and region_code != state.region_code:
            principal.require_region(region_code)  # moving it needs the new region in scope too
        command = ChangeEmployer(
            sent=frozenset(body.model_fields_set),
            name=body.name,
            industry=body.industry,
            size=body.size,
            region=region,
            region_code=region_code,
        )
        return decide_change_employer(command, state)

    changed = await ledger.employers.change(
        conn, employer_id, decide, metadata, expected_version=expected_version, principal=principal, effects=_save
    )
    return employer_public(changed.after)


async def deregister_employer(
    ledger: Ledger,
    conn: Connection,
    principal: Principal,
    employer_id: str,
    body: EmployerDeregistration,
    metadata: Metadata,
) -> EmployerPublic:
    """Take an employer out of the ledger (注销) once its vacancies are closed."""
    state = await ledger.employers.get(conn, employer_id, principal)
    command = DeregisterEmployer(
        deregistered_on=body.deregistered_on,
        reason=body.reason,
        open_vacancies=await queries.open_vacancy_count(conn, employer_id),
    )
    events = decide_deregister_employer(command, state, today=ledger.today())
    changed = await ledger.employers.record(conn, employer_id, state, events, metadata, effects=_save)
    return employer_public(changed.after)
