"""Routes of the employer aggregate (用人单位): register, read, change (变更登记), deregister (注销)."""

from __future__ import annotations

from collections.abc import Awaitable

from fastapi import APIRouter
from fastapi.responses import Response

from services.registration.api.deps import CONFLICT, INVALID, EmployerInScope, LedgerDep
from services.registration.commands import employer
from services.registration.commands.employer import employer_public
from services.registration.commands.items import run_each
from services.registration.models.employer import EmployerChange, EmployerCreate, EmployerDeregistration, EmployerPublic
from services.registration.models.items import EmployerBatch, ItemResults
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands
from services.runtime.routes import NOT_FOUND, STALE, ExpectedVersion, answer

router = APIRouter(tags=["registration"])


@router.post(
    "/employers",
    status_code=201,
    response_model=EmployerPublic,
    responses={**CONFLICT, **INVALID},
    summary="Register an employer (用人单位登记)",
)
async def register_employer(body: EmployerCreate, ledger: LedgerDep, command: Commands) -> Response:
    return await command.run(lambda conn, meta: employer.register_employer(ledger, conn, command.principal, body, meta))


@router.post(
    "/employers/batch",
    response_model=ItemResults,
    responses=INVALID,
    summary="Register up to 1,000 employers at once; one result per item, as POST /employers answers it",
    description="Each item is the body of `POST /employers`. One result per item: 201 with the employer, 409 "
    "naming the `employer_id` that holds the credit code, 403 outside your scope, 422 naming the field. The "
    "accepted employers commit together.",
)
async def register_employer_batch(body: EmployerBatch, ledger: LedgerDep, command: Commands) -> Response:
    def run(conn: Connection, meta: Metadata) -> Awaitable[ItemResults]:
        return run_each(
            conn,
            body.items,
            EmployerCreate.model_validate,
            lambda c, item: employer.register_employer(ledger, c, command.principal, item, meta),
            done=201,
        )

    return await command.run(run, status_code=200)


@router.get("/employers/{employer_id}", response_model=EmployerPublic, responses=NOT_FOUND, summary="One employer")
async def get_employer(employer_id: str, state: EmployerInScope) -> Response:
    return answer(employer_public(state), state.version)


@router.patch(
    "/employers/{employer_id}",
    response_model=EmployerPublic,
    responses={**NOT_FOUND, **STALE, **INVALID},
    summary="Change an employer's name, industry, size or region (变更登记)",
)
async def change_employer(
    employer_id: str, body: EmployerChange, ledger: LedgerDep, command: Commands, expected: ExpectedVersion
) -> Response:
    return await command.run(
        lambda conn, meta: employer.change_employer(ledger, conn, command.principal, employer_id, body, expected, meta),
        status_code=200,
        etag=True,
    )


@router.post(
    "/employers/{employer_id}/deregistration",
    response_model=EmployerPublic,
    responses={**NOT_FOUND, **INVALID},
    summary="Deregister an employer (注销)",
)
async def deregister_employer(
    employer_id: str, body: EmployerDeregistration, ledger: LedgerDep, command: Commands
) -> Response:
    return await command.run(
        lambda conn, meta: employer.deregister_employer(ledger, conn, command.principal, employer_id, body, meta),
        status_code=200,
        etag=True,
    )
