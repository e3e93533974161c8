"""Routes of the employer aggregate (用人单位): register, read, change (变更登记), deregister (注销)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.registration.api.deps import CONFLICT, INVALID, EmployerInScope, LedgerDep
from services.registration.commands import employer
from services.registration.commands.employer import employer_public
from services.registration.models.employer import EmployerChange, EmployerCreate, EmployerDeregistration, EmployerPublic
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
