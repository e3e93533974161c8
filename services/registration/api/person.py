"""Routes of the person aggregate: enter a resident (the hot path), read an entry, change it, its history."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.identifiers import id_document_type
from contracts.registration import EmploymentStatus
from contracts.retirement import RetirementGroup
from services.registration import queries
from services.registration.api.deps import (
    CONFLICT,
    INVALID,
    PII_ROLES,
    LedgerDep,
    PersonReader,
    add_person_change,
    ledger_of,
)
from services.registration.commands import person
from services.registration.commands.person import PersonRequest
from services.registration.models.person import (
    CategoriesUpdate,
    DeathRecord,
    HistoryEntry,
    PersonCorrection,
    PersonCreate,
    PersonHistory,
    PersonMove,
    PersonPublic,
    RetirementCreate,
)
from services.runtime.aggregate import is_uuid
from services.runtime.auth import Principal
from services.runtime.errors import NotFound
from services.runtime.eventstore import Metadata
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import Commands, CommandShortcut, DbConnection, json_response
from services.runtime.pii import mask_id_number
from services.runtime.routes import NOT_FOUND, answer

router = APIRouter(tags=["registration"])


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonPublic,
    responses={**CONFLICT, **INVALID},
    summary="Register a resident in the labour-force ledger (劳动力实名登记)",
)
async def register_person(body: PersonCreate, request: Request, command: Commands) -> Response:
    if command.metadata.idempotency_key:  # the response must be stored with the command, in its transaction
        ledger = ledger_of(request)
        request_ = PersonRequest(command.principal, body, command.metadata)
        return await command.run(lambda conn, meta: person.register_person(ledger, conn, request_))
    return json_response(await _submit_person(request.app, command.principal, body, command.metadata), 201)


async def _submit_person(app: Any, principal: Principal, body: PersonCreate, metadata: Metadata) -> PersonPublic:
    """Register with whatever other registrations are waiting (group commit)."""
    batches: GroupCommit[PersonRequest, PersonPublic] = app.state.person_batches
    return await batches.submit(PersonRequest(principal, body, metadata))


#: Plain ``POST /persons`` (no Idempotency-Key, valid token and body) skip FastAPI: the bulk of a ledger
#: drive (CommandShortcut). Everything else, every error included, is the route's above.
REGISTER_PERSON = CommandShortcut("POST", "/persons", PersonCreate, _submit_person)


@router.get("/persons/{person_id}", response_model=PersonPublic, responses=NOT_FOUND, summary="One ledger entry")
async def get_person(person_id: str, ledger: LedgerDep, principal: PersonReader, conn: DbConnection) -> Response:
    row = await queries.person(conn, person_id) if is_uuid(person_id) else None
    if row is None:
        raise NotFound(f"no person {person_id}")
    principal.require_region(row.region_code)
    vault, full = ledger.vault, principal.role in PII_ROLES
    number = vault.decrypt(row.id_cipher) or ""
    entry = PersonPublic(
        person_id=row.person_id,
        id_number=number if full else mask_id_number(number),
        name=vault.decrypt(row.name_cipher) if full else None,
        phone=vault.decrypt(row.phone_cipher) if full else None,
        sex=row.sex,
        birth_date=row.birth_date,
        hukou=row.hukou,
        education=row.education,
        region_code=row.region_code,
        id_document_type=id_document_type(number) if number else "resident_id",
        retirement_group=RetirementGroup(row.retirement_group) if row.retirement_group else None,
        status=cast(EmploymentStatus, row.status),
        categories=list(row.categories),
        version=row.version,
    )
    return answer(entry, row.version)


add_person_change(router, "/persons/{person_id}/corrections", PersonCorrection, person.correct_person)
add_person_change(router, "/persons/{person_id}/moves", PersonMove, person.move_person)
add_person_change(router, "/persons/{person_id}/death", DeathRecord, person.record_death)
add_person_change(router, "/persons/{person_id}/categories", CategoriesUpdate, person.change_categories, "PUT")
add_person_change(router, "/persons/{person_id}/retirement", RetirementCreate, person.retire)


@router.get(
    "/persons/{person_id}/history",
    response_model=PersonHistory,
    responses={404: {"description": "No such person"}},
    summary="Audit trail: every change with who, when and why",
)
async def person_history(person_id: str, ledger: LedgerDep, principal: PersonReader, conn: DbConnection) -> Response:
    await ledger.persons.get(conn, person_id, principal)
    entries = [
        HistoryEntry(
            event_id=str(r.envelope.event_id),
            version=r.envelope.version,
            type=r.envelope.type,
            occurred_at=r.envelope.occurred_at,
            recorded_at=r.envelope.recorded_at,
            actor=r.envelope.actor,
            reason=_reason_of(r.envelope.data),
            correlation_id=r.envelope.correlation_id,
            causation_id=r.envelope.causation_id,
            data=r.envelope.data,
        )
        for r in await ledger.store.load(conn, person_id)
    ]
    return json_response(PersonHistory(person_id=person_id, entries=entries))


def _reason_of(data: dict[str, Any]) -> str | None:
    """The why of a change: its reason, or for a reaction the service it came from."""
    reason = data.get("reason")
    if isinstance(reason, str):
        return reason
    source = data.get("source")
    return f"reported by {source}" if isinstance(source, str) and source != "registration" else None
