"""Routes of the vacancy aggregate (岗位): open, list, read, fill, close."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.registration import queries
from services.registration.api.deps import INVALID, LedgerDep, VacancyInScope, region_query
from services.registration.commands import vacancy
from services.registration.commands.context import Ledger
from services.registration.commands.items import run_each
from services.registration.commands.vacancy import vacancy_public
from services.registration.models.items import ItemResults, VacancyBatch, VacancyChangesBatch
from services.registration.models.vacancy import VacancyClosure, VacancyCreate, VacancyFill, VacancyList, VacancyPublic
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import CommandContext, Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import NOT_FOUND, answer

router = APIRouter(tags=["registration"])


@router.post(
    "/vacancies",
    status_code=201,
    response_model=VacancyPublic,
    responses=INVALID,
    summary="Open a vacancy (岗位) with positions, occupation and a wage range in fen",
)
async def open_vacancy(body: VacancyCreate, ledger: LedgerDep, command: Commands) -> Response:
    return await command.run(lambda conn, meta: vacancy.open_vacancy(ledger, conn, command.principal, body, meta))


@router.post(
    "/vacancies/batch",
    response_model=ItemResults,
    responses=INVALID,
    summary="Open up to 1,000 vacancies at once; one result per item, as POST /vacancies answers it",
)
async def open_vacancy_batch(body: VacancyBatch, ledger: LedgerDep, command: Commands) -> Response:
    def run(conn: Connection, meta: Metadata) -> Awaitable[ItemResults]:
        return run_each(
            conn,
            body.items,
            VacancyCreate.model_validate,
            lambda c, item: vacancy.open_vacancy(ledger, c, command.principal, item, meta),
            done=201,
        )

    return await command.run(run, status_code=200)


@router.post(
    "/vacancies/changes/batch",
    response_model=ItemResults,
    responses=INVALID,
    summary="Many vacancies' fills and closures at once: each vacancy's changes in order, all or nothing",
    description="Each item names a vacancy and its changes: each change is the body of a vacancy route plus "
    "`action`, the route's path after `/vacancies/{vacancy_id}/` (`fills`, `closure`), decided by that route. "
    "One result per item (200 with the vacancy after its changes, 404, 403, or 422 naming "
    "`changes.<i>.<field>`); the accepted items commit together.",
)
async def change_vacancy_batch(body: VacancyChangesBatch, ledger: LedgerDep, command: Commands) -> Response:
    def run(conn: Connection, meta: Metadata) -> Awaitable[ItemResults]:
        return run_each(
            conn,
            body.items,
            vacancy.parse_vacancy_changes,
            lambda c, item: vacancy.change_vacancy(ledger, c, command.principal, item, meta),
            done=200,
        )

    return await command.run(run, status_code=200)


@router.get("/vacancies", response_model=VacancyList, summary="Vacancies in a region subtree, newest first")
async def list_vacancies(
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: Annotated[str, Query(description="Region code (2-12 digits); its whole subtree", examples=["430527"])],
    status: Annotated[Literal["open", "filled", "closed"] | None, Query()] = None,
    employer_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    code = region_query(region)
    principal.require_region(code)
    rows = await queries.vacancies_in(
        conn,
        queries.subtree_prefix(code),
        status=status,
        employer_id=str(employer_id) if employer_id else None,
        limit=limit,
        offset=offset,
    )
    vacancies = [VacancyPublic(**row, remaining=row["positions"] - row["filled"] - row["withdrawn"]) for row in rows]
    return json_response(VacancyList(region_code=code, count=len(vacancies), vacancies=vacancies))


@router.get("/vacancies/{vacancy_id}", response_model=VacancyPublic, responses=NOT_FOUND, summary="One vacancy")
async def get_vacancy(vacancy_id: str, state: VacancyInScope) -> Response:
    return answer(vacancy_public(state), state.version)


@router.post(
    "/vacancies/{vacancy_id}/fills",
    response_model=VacancyPublic,
    responses={**NOT_FOUND, **INVALID},
    summary="Fill positions of a vacancy, at most those remaining",
)
async def fill_vacancy(vacancy_id: str, body: VacancyFill, ledger: LedgerDep, command: Commands) -> Response:
    return await _run(command, ledger, vacancy_id, body, vacancy.fill_vacancy)


@router.post(
    "/vacancies/{vacancy_id}/closure",
    response_model=VacancyPublic,
    responses={**NOT_FOUND, **INVALID},
    summary="Close a vacancy; positions not filled are withdrawn",
)
async def close_vacancy(vacancy_id: str, body: VacancyClosure, ledger: LedgerDep, command: Commands) -> Response:
    return await _run(command, ledger, vacancy_id, body, vacancy.close_vacancy)


B = TypeVar("B")
VacancyCommand = Callable[[Ledger, Connection, Principal, str, B, Metadata], Awaitable[VacancyPublic]]


async def _run(
    command: CommandContext, ledger: Ledger, vacancy_id: str, body: B, handler: VacancyCommand[B]
) -> Response:
    """Run a change of one vacancy in the command's transaction; 200 with the vacancy."""
    return await command.run(
        lambda conn, meta: handler(ledger, conn, command.principal, vacancy_id, body, meta), status_code=200
    )
