"""``POST /enrolments/batch``: many persons' enrolments, suspensions, resumptions and terminations at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.insurance.batches import EnrolmentBatch, EnrolmentBatchResult
from services.insurance.commands.enrolments import ACTIONS, change_enrolments
from services.insurance.commands.insured import InsuredCommands
from services.runtime.errors import Conflict
from services.runtime.http import Commands
from services.runtime.routes import INVALID

router = APIRouter(tags=["insured persons"])
#: Times a batch is decided again when another writer (the worker reacting to registration) changed one of its
#: persons between the read and the append: the whole transaction was refused, nothing of it is written.
CONFLICT_RETRIES = 4


@router.post(
    "/enrolments/batch",
    response_model=EnrolmentBatchResult,
    responses=INVALID,
    summary="Many persons' enrolments at once: each person's changes in order, all or nothing",
    description="Each item names a person, optionally the `expected_version` it was read at, and its changes: "
    f"each change is `action` ({', '.join(f'`{a}`' for a in ACTIONS)}) and the body of that route "
    "(`POST /persons/{person_id}/enrolments`, or `.../enrolments/{insurance_type}/{action}` with "
    "`insurance_type` in the body), decided by its rules. One result per item (200, 404, 403, 409, or 422 "
    "naming `changes.<i>.<field>`); the accepted items commit together. Send an `Idempotency-Key` to retry safely.",
)
async def change_enrolment_batch(body: EnrolmentBatch, request: Request, command: Commands) -> Response:
    handlers: InsuredCommands = request.app.state.insured
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return await command.run(
                lambda conn, meta: change_enrolments(handlers, conn, command.principal, body.items, meta),
                status_code=200,
            )
        except Conflict:
            if attempt == CONFLICT_RETRIES:
                raise
    raise AssertionError("unreachable")
