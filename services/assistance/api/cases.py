"""Case routes (援助台账): open, read, services, placement and matching."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts import assistance as a
from services.assistance import queries
from services.assistance.api import (
    ChangeResult,
    day,
    handlers,
    region,
    require_person_reader,
    run,
)
from services.assistance.commands import ledger_person
from services.assistance.domain import cases as rules
from services.assistance.domain.cases import CaseState, case_id_for
from services.assistance.domain.matching import rank
from services.runtime.errors import NotFound, RuleViolated
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import INVALID, NOT_FOUND, STALE, answer

router = APIRouter(tags=["cases"])

_CHANGE = {**NOT_FOUND, **STALE, **INVALID}


class CaseCreate(BaseModel):
    """Open a case on request for a person of the ledger."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"person_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10"}]}
    )

    person_id: str
    opened_on: date | None = None


class ReferralView(BaseModel):
    """A referral and its outcome (None while pending)."""

    referral_id: str
    vacancy_id: str
    outcome: str | None


class TrainingView(BaseModel):
    """A training referral."""

    training_id: str
    occupation: str
    completed: bool


class CaseView(BaseModel):
    """A case as a village or township clerk sees it (no name, no ID number: those stay in registration)."""

    case_id: str
    person_id: str
    region_code: str
    version: int
    is_open: bool
    opened_on: date
    closed_on: date | None
    close_reason: str | None
    status: str | None = Field(description="The person's employment status in registration's ledger")
    sex: str | None
    birth_date: date | None
    hukou: str | None
    categories: list[str] = Field(description="The person's categories in registration's ledger (人员类别)")
    household_id: str | None
    indicated_categories: list[a.HardToEmployCategory] = Field(
        description="Hard-to-employ categories the events show today (computed, not certified)"
    )
    occupations: list[str]
    skills: list[str]
    expected_wage_fen: int | None
    referrals: list[ReferralView]
    trainings: list[TrainingView]
    services: int = Field(description="Services recorded on the case")


async def _view(request: Request, conn: DbConnection, state: CaseState) -> Response:
    person = await queries.person(conn, state.person_id)
    indicated = [] if person is None else await handlers(request).cases.indicated(conn, person, date.today())
    view = CaseView(
        case_id=state.case_id,
        person_id=state.person_id,
        region_code=state.region_code,
        version=state.version,
        is_open=state.is_open,
        opened_on=state.opened_on,
        closed_on=state.closed_on,
        close_reason=state.close_reason,
        status=person.status if person else None,
        sex=person.sex if person else None,
        birth_date=person.birth_date if person else None,
        hukou=person.hukou if person else None,
        categories=list(person.categories) if person else [],
        household_id=person.household_id if person else None,
        indicated_categories=indicated,
        occupations=list(state.profile.occupations),
        skills=list(state.profile.skills),
        expected_wage_fen=state.profile.expected_wage_fen,
        referrals=[
            ReferralView(referral_id=r.referral_id, vacancy_id=r.vacancy_id, outcome=r.outcome)
            for r in state.referrals.values()
        ],
        trainings=[
            TrainingView(training_id=t.training_id, occupation=t.occupation, completed=t.completed)
            for t in state.trainings.values()
        ],
        services=state.services,
    )
    return answer(view.model_dump(mode="json"), state.version)


@router.post(
    "/cases", status_code=201, response_model=ChangeResult, responses=INVALID, summary="Open a case (援助台账建档)"
)
async def open_case(body: CaseCreate, request: Request, command: Commands) -> Response:
    cases = handlers(request).cases
    on = day(body.opened_on, "opened_on")
    return await run(
        command,
        lambda conn, meta: cases.open_on_request(conn, command.principal, body.person_id, on, meta),
        status_code=201,
    )


@router.get("/cases/{case_id}", response_model=CaseView, responses=NOT_FOUND, summary="One case")
async def get_case(case_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    require_person_reader(principal)
    state = await handlers(request).streams.cases.get(conn, case_id, principal)
    return await _view(request, conn, state)


@router.get("/persons/{person_id}/case", response_model=CaseView, responses=NOT_FOUND, summary="A person's case")
async def person_case(person_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    require_person_reader(principal)
    state = await handlers(request).streams.cases.get(conn, case_id_for(person_id), principal)
    return await _view(request, conn, state)


@router.get("/regions/{region_code}/cases", summary="Cases of a region's subtree, newest first")
async def region_cases(
    region_code: str,
    principal: CurrentPrincipal,
    conn: DbConnection,
    is_open: bool = Query(True, alias="open"),
    limit: int = Query(100, ge=1, le=1000),
) -> Response:
    require_person_reader(principal)
    code = region(region_code)
    principal.require_region(code)
    rows = await queries.cases_in(conn, code, is_open=is_open, limit=limit)
    keys = ("case_id", "person_id", "region_code", "is_open", "opened_on", "closed_on", "close_reason")
    return json_response({"cases": [dict(zip(keys, row, strict=True)) for row in rows]})


# --- matching ------------------------------------------------------------------------------------------


class MatchView(BaseModel):
    """One vacancy in the ranking, with why it ranked there."""

    vacancy_id: str
    employer_id: str
    region_code: str
    occupation: str
    wage_min_fen: int
    wage_max_fen: int
    remaining: int
    score: int
    reasons: list[str]


@router.get("/persons/{person_id}/matches", summary="Open vacancies ranked for a job seeker (人岗匹配)")
async def matches(
    person_id: str,
    request: Request,
    principal: CurrentPrincipal,
    conn: DbConnection,
    limit: int = Query(20, ge=1, le=100),
) -> Response:
    require_person_reader(principal)
    try:
        person = await ledger_person(conn, person_id)
    except RuleViolated as exc:
        raise NotFound(exc.detail, field="person_id") from exc
    principal.require_region(person.region_code)
    case = await handlers(request).streams.cases.load(conn, case_id_for(person_id))
    profile = case.profile if case is not None else rules.Profile()
    ranked = rank(profile, person.region_code, await queries.open_vacancies(conn, person.region_code[:6]), limit)
    body = [
        MatchView(
            vacancy_id=m.vacancy.vacancy_id,
            employer_id=m.vacancy.employer_id,
            region_code=m.vacancy.region_code,
            occupation=m.vacancy.occupation,
            wage_min_fen=m.vacancy.wage_min_fen,
            wage_max_fen=m.vacancy.wage_max_fen,
            remaining=m.vacancy.remaining,
            score=m.score,
            reasons=list(m.reasons),
        ).model_dump(mode="json")
        for m in ranked
    ]
    return json_response(
        {
            "person_id": person_id,
            "profile_recorded": case is not None and bool(profile.occupations or profile.skills),
            "matches": body,
        }
    )
