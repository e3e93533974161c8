"""Registration's HTTP routes: thin, each one a command or a query."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.registration import queries
from services.registration.commands import PersonRequest, RegistrationCommands
from services.registration.models import EmployerCreate, EmployerPublic, PersonCreate, PersonPublic
from services.registration.pii import mask_id_number
from services.runtime.auth import Role
from services.runtime.errors import Forbidden, NotFound
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response

router = APIRouter(tags=["registration"])

_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Already registered; the body names the existing id"}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "A field breaks a rule; the body names the field and the reason"}
}

#: Roles that see a person's ID number, name and phone in full.
PII_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})


def _commands(request: Request) -> RegistrationCommands:
    commands: RegistrationCommands = request.app.state.commands
    return commands


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonPublic,
    responses={**_CONFLICT, **_INVALID},
    summary="Register a resident in the labour-force ledger (劳动力实名登记)",
)
async def register_person(body: PersonCreate, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    if command.metadata.idempotency_key:  # the response must be stored with the command, in its transaction
        return await command.run(lambda conn, meta: handlers.register_person(conn, command.principal, body, meta))
    batches: GroupCommit[PersonRequest, PersonPublic] = request.app.state.person_batches
    return json_response(await batches.submit(PersonRequest(command.principal, body, command.metadata)), 201)


@router.get("/persons/{person_id}", response_model=PersonPublic, summary="One ledger entry")
async def get_person(person_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person")
    row = await queries.person(conn, person_id) if _is_uuid(person_id) else None
    if row is None:
        raise NotFound(f"no person {person_id}")
    principal.require_region(row.region_code)
    vault = _commands(request).vault
    full = principal.role in PII_ROLES
    number = vault.decrypt(row.id_cipher) or ""
    return json_response(
        PersonPublic(
            person_id=row.person_id,
            id_number=number if full else mask_id_number(number),
            name=vault.decrypt(row.name_cipher) if full else None,
            phone=vault.decrypt(row.phone_cipher) if full else None,
            sex=row.sex,
            birth_date=row.birth_date,
            hukou=row.hukou,
            education=row.education,
            region_code=row.region_code,
        )
    )


@router.post(
    "/employers",
    status_code=201,
    response_model=EmployerPublic,
    responses={**_CONFLICT, **_INVALID},
    summary="Register an employer (用人单位登记)",
)
async def register_employer(body: EmployerCreate, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    return await command.run(lambda conn, meta: handlers.register_employer(conn, command.principal, body, meta))


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
