"""Routes on an employer's contribution account: arrears (欠费) and their payment with the surcharge."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from contracts.insurance import MONTH_PATTERN
from services.insurance.api.answers import run_change
from services.insurance.commands.employer_account import EmployerAccountCommands
from services.insurance.domain.employer_account import AssessArrears, EmployerAccount
from services.insurance.models import AccountChange, AccountPublic, ArrearsCreate, ArrearsPayment, EventOut
from services.runtime.aggregate import Changed
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands, CurrentPrincipal, DbConnection
from services.runtime.routes import INVALID, NOT_FOUND, STALE, OptionalExpectedVersion, answer

router = APIRouter(tags=["employer accounts"])
_CHANGE = {**NOT_FOUND, **STALE, **INVALID}


def _commands(request: Request) -> EmployerAccountCommands:
    commands: EmployerAccountCommands = request.app.state.accounts
    return commands


def _answer(changed: Changed[EmployerAccount], day: date) -> AccountChange:
    return AccountChange(
        version=changed.version,
        events=[EventOut(type=e.event_type, data=e.model_dump(mode="json")) for e in changed.events],
        account=AccountPublic.of(changed.after, day),
    )


@router.get(
    "/employers/{employer_id}/account",
    response_model=AccountPublic,
    responses=NOT_FOUND,
    summary="What an employer owes, month by month, with the late surcharge to a day (default today)",
)
async def get_account(
    employer_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection, on: date | None = None
) -> Response:
    handlers = _commands(request)
    account = await handlers.account(conn, employer_id, principal)
    return answer(AccountPublic.of(account, on or handlers.today()).model_dump(mode="json"), account.version)


@router.post(
    "/employers/{employer_id}/arrears",
    status_code=201,
    response_model=AccountChange,
    responses=_CHANGE,
    summary="Record a month's arrears; two months owed report the employer to supervision",
)
async def assess_arrears(
    employer_id: str, body: ArrearsCreate, request: Request, command: Commands, expected: OptionalExpectedVersion
) -> Response:
    handlers = _commands(request)
    spec = AssessArrears(body.month, body.amount_fen, body.workers, body.due_on)

    async def work(conn: Connection, meta: Metadata) -> AccountChange:
        changed = await handlers.assess(conn, command.principal, employer_id, spec, meta, expected)
        return _answer(changed, handlers.today())

    return await run_change(command, work, status_code=201)


@router.post(
    "/employers/{employer_id}/arrears/{month}/payment",
    response_model=AccountChange,
    responses=_CHANGE,
    summary="A month's arrears paid in full, with the surcharge of 0.05 % a day (社会保险法 Art 86)",
)
async def pay_arrears(
    employer_id: str,
    body: ArrearsPayment,
    request: Request,
    command: Commands,
    expected: OptionalExpectedVersion,
    month: str = Path(pattern=MONTH_PATTERN),
) -> Response:
    handlers = _commands(request)

    async def work(conn: Connection, meta: Metadata) -> AccountChange:
        changed = await handlers.pay(
            conn, command.principal, employer_id, month, body.amount_fen, body.paid_on, meta, expected
        )
        return _answer(changed, body.paid_on or handlers.today())

    return await run_change(command, work)
