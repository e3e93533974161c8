"""Routes of the household aggregate (户): enter one, read it, add and remove members, change the head."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.registration.api.deps import CHANGE, INVALID, HouseholdInScope, LedgerDep, PersonReader
from services.registration.commands import batch, household
from services.registration.commands.context import Ledger
from services.registration.commands.household import household_public
from services.registration.models.household import (
    HeadChange,
    HouseholdBatch,
    HouseholdBatchResult,
    HouseholdCreate,
    HouseholdPublic,
    MemberAdd,
)
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import CommandContext, Commands
from services.runtime.routes import IfMatchHeader, answer, version_from

router = APIRouter(tags=["registration"])


@router.post(
    "/households",
    status_code=201,
    response_model=HouseholdPublic,
    responses={409: {"description": "A member already belongs to another household"}, **INVALID},
    summary="Enter a household (户) with its members and head",
)
async def create_household(body: HouseholdCreate, ledger: LedgerDep, command: Commands) -> Response:
    return await command.run(lambda conn, meta: household.create_household(ledger, conn, command.principal, body, meta))


@router.post(
    "/households/batch",
    response_model=HouseholdBatchResult,
    responses=INVALID,
    summary="Enter up to 1,000 households at once; one result per item (201, 409, 403 or 422)",
    description="Each item is the body of `POST /households`, with `entered_on` for a household entered before "
    "today. One result per item: 201 with the household, 409 when a member already belongs to a household "
    "(the problem names the person and that household; a person in two items of the batch is 409 in the "
    "second), 403 outside your scope, 422 naming the field. The accepted households commit together. Send an "
    "`Idempotency-Key` to retry safely.",
)
async def create_household_batch(body: HouseholdBatch, ledger: LedgerDep, command: Commands) -> Response:
    return await command.run(
        lambda conn, meta: batch.create_households(ledger, conn, command.principal, body.items, meta),
        status_code=200,
    )


@router.get(
    "/households/{household_id}",
    response_model=HouseholdPublic,
    responses={404: {"description": "No such household"}},
    summary="A household with its members' working age and employment status",
)
async def get_household(household_id: str, principal: PersonReader, state: HouseholdInScope) -> Response:
    return answer(household_public(state), state.version)


@router.post(
    "/households/{household_id}/members",
    response_model=HouseholdPublic,
    responses={409: {"description": "Stale version, or the person belongs to another household"}, **INVALID},
    summary="A person joins the household",
)
async def add_member(
    household_id: str, body: MemberAdd, ledger: LedgerDep, command: Commands, if_match: IfMatchHeader = None
) -> Response:
    return await _run(command, ledger, household_id, _versioned(body, if_match), household.add_member)


@router.delete(
    "/households/{household_id}/members/{person_id}",
    response_model=HouseholdPublic,
    responses=CHANGE,
    summary="A person leaves the household (the head leaves last)",
)
async def remove_member(
    household_id: str,
    person_id: str,
    ledger: LedgerDep,
    command: Commands,
    reason: str = Query(min_length=1, max_length=200, examples=["moved_out", "died", "recorded_in_error"]),
    if_match: IfMatchHeader = None,
) -> Response:
    version = version_from(if_match, None)
    return await command.run(
        lambda conn, meta: household.remove_member(
            ledger, conn, command.principal, household_id, person_id, reason, meta, version
        ),
        status_code=200,
        etag=True,
    )


@router.put(
    "/households/{household_id}/head",
    response_model=HouseholdPublic,
    responses=CHANGE,
    summary="Another member becomes head of the household (户主)",
)
async def change_head(
    household_id: str, body: HeadChange, ledger: LedgerDep, command: Commands, if_match: IfMatchHeader = None
) -> Response:
    return await _run(command, ledger, household_id, _versioned(body, if_match), household.change_head)


B = TypeVar("B", MemberAdd, HeadChange)
HouseholdCommand = Callable[[Ledger, Connection, Principal, str, B, Metadata], Awaitable[HouseholdPublic]]


def _versioned(body: B, if_match: str | None) -> B:
    """The body with the version it is based on, from If-Match or its own ``expected_version``."""
    return body.model_copy(update={"expected_version": version_from(if_match, body.expected_version)})


async def _run(
    command: CommandContext, ledger: Ledger, household_id: str, body: B, handler: HouseholdCommand[B]
) -> Response:
    """Run a change of one household in the command's transaction; 200 with the household and its ETag."""
    return await command.run(
        lambda conn, meta: handler(ledger, conn, command.principal, household_id, body, meta),
        status_code=200,
        etag=True,
    )
