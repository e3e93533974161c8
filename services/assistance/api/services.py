"""Case services routes (就业服务): profile, guidance, home visits, referrals, training, entrepreneurship,
loan pre-review and placement (安置就业), each a change of the person's case."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts import assistance as a
from contracts.money import NonNegativeFen
from contracts.registration import EmploymentKind
from services.assistance.api import (
    CONFLICT_RETRIES,
    ChangeResult,
    change_result,
    day,
    handlers,
    run,
)
from services.assistance.commands.cases import CaseChange, Decision
from services.assistance.domain import cases as rules
from services.runtime.errors import Conflict
from services.runtime.http import CommandContext, Commands
from services.runtime.routes import INVALID, NOT_FOUND, STALE, OptionalExpectedVersion, answer

router = APIRouter(tags=["case services"])

_CHANGE = {**NOT_FOUND, **STALE, **INVALID}


# --- services ------------------------------------------------------------------------------------------


async def record(
    request: Request, command: CommandContext, case_id: str, decide: Decision, version: int | None
) -> Response:
    """Record a change of one case: with the other waiting changes in one transaction (group commit),
    or alone when the request carries an Idempotency-Key (its answer is stored with its transaction).

    A change without If-Match that lost a race with another change of the same case is decided again.
    """
    h = handlers(request)
    if command.metadata.idempotency_key or h.case_batches is None:
        return await run(
            command,
            lambda conn, meta: h.cases.change(conn, command.principal, case_id, decide, meta, expected_version=version),
            expected_version=version,
        )
    change = CaseChange(command.principal, case_id, decide, command.metadata, version)
    retries = CONFLICT_RETRIES if version is None else 0
    for attempt in range(retries + 1):
        try:
            changed = await h.case_batches.submit(change)
            break
        except Conflict:
            if attempt == retries:
                raise
    return answer(change_result(changed).model_dump(mode="json"), changed.version)


class ProfileUpdate(BaseModel):
    """What work the person seeks (求职意向)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"occupations": ["保洁员", "叉车司机"], "skills": ["叉车"], "expected_wage_fen": 250000}]
        },
    )

    occupations: list[str] = Field(default_factory=list, examples=[["保洁员", "叉车司机"]])
    skills: list[str] = Field(default_factory=list, examples=[["叉车", "电工证"]])
    expected_wage_fen: NonNegativeFen | None = Field(default=None, examples=[300000])


class GuidanceCreate(BaseModel):
    """Vocational guidance given (职业指导)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"topic": "求职技巧", "outcome": "已制定求职计划", "given_on": "2026-12-01"}]},
    )

    topic: str = Field(min_length=1, examples=["求职技巧"])
    outcome: str = Field(min_length=1, examples=["已制定求职计划"])
    given_on: date | None = None


class HomeVisitCreate(BaseModel):
    """A home visit (入户家访)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"findings": "夫妻二人均失业，有意愿就近就业", "needs": ["技能培训", "公益性岗位"]}]
        },
    )

    findings: str = Field(min_length=1)
    needs: list[str] = Field(default_factory=list, examples=[["技能培训", "就近就业"]])
    visited_on: date | None = None


class ReferralCreate(BaseModel):
    """Refer to a vacancy (推荐就业)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"vacancy_id": "0b8e7f6a-4b7d-4c1e-9a53-2d0b6f1c2a9e"}]}
    )

    vacancy_id: str
    referred_on: date | None = None


class OutcomeCreate(BaseModel):
    """How a referral ended; ``hired`` places the person (``started_on`` defaults to the day recorded)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"outcome": "hired", "started_on": "2026-12-01"}]}
    )

    outcome: a.ReferralOutcome
    recorded_on: date | None = None
    started_on: date | None = None


class TrainingCreate(BaseModel):
    """Refer to vocational training."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"occupation": "家政服务员", "provider": "绥宁县职业中专"}]}
    )

    occupation: str = Field(min_length=1, examples=["家政服务员"])
    provider: str = Field(min_length=1, examples=["绥宁县职业中专"])
    referred_on: date | None = None


class TrainingCompletion(BaseModel):
    """A training completed, with the certificate obtained (职业资格/技能等级证书)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"certificate": "家政服务员五级", "completed_on": "2026-11-28"}]},
    )

    certificate: str | None = None
    completed_on: date | None = None


class EntrepreneurshipCreate(BaseModel):
    """An entrepreneurship service (创业服务)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"kind": "project_advice", "outcome": "推荐竹木加工项目"}]}
    )

    kind: a.EntrepreneurshipServiceKind
    outcome: str = Field(min_length=1)
    given_on: date | None = None


class LoanPreReview(BaseModel):
    """Pre-review of a small guaranteed business loan (创业担保贷款), the amount in fen."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount_fen": 15000000, "passed": True, "reason": "符合条件"}]}
    )

    amount_fen: NonNegativeFen = Field(examples=[15000000])
    passed: bool
    reason: str = ""
    reviewed_on: date | None = None


class PlacementCreate(BaseModel):
    """Placement in a job (安置就业)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "unit", "employer_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10", "started_on": "2026-12-01"}
            ]
        },
    )

    kind: EmploymentKind
    employer_id: str | None = None
    vacancy_id: str | None = None
    started_on: date
    placed_on: date | None = None


@router.put(
    "/cases/{case_id}/profile", response_model=ChangeResult, responses=_CHANGE, summary="Record the job-seeking profile"
)
async def put_profile(
    case_id: str, body: ProfileUpdate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    on = date.today()
    decide = partial(
        rules.decide_profile,
        occupations=body.occupations,
        skills=body.skills,
        expected_wage_fen=body.expected_wage_fen,
        on=on,
    )
    return await record(request, command, case_id, decide, version)


@router.post(
    "/cases/{case_id}/guidance",
    response_model=ChangeResult,
    responses=_CHANGE,
    summary="Vocational guidance (职业指导)",
)
async def guidance(
    case_id: str, body: GuidanceCreate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    on = day(body.given_on, "given_on")
    decide = partial(rules.decide_guidance, topic=body.topic, outcome=body.outcome, on=on)
    return await record(request, command, case_id, decide, version)


@router.post(
    "/cases/{case_id}/home-visits", response_model=ChangeResult, responses=_CHANGE, summary="Home visit (入户家访)"
)
async def home_visit(
    case_id: str, body: HomeVisitCreate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    on = day(body.visited_on, "visited_on")
    decide = partial(rules.decide_home_visit, findings=body.findings, needs=body.needs, on=on)
    return await record(request, command, case_id, decide, version)


@router.post(
    "/cases/{case_id}/referrals",
    response_model=ChangeResult,
    responses=_CHANGE,
    summary="Refer to a vacancy (推荐就业)",
)
async def refer(
    case_id: str, body: ReferralCreate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    cases, on = handlers(request).cases, day(body.referred_on, "referred_on")
    return await run(
        command,
        lambda conn, meta: cases.refer(conn, command.principal, case_id, body.vacancy_id, on, meta, version),
        expected_version=version,
    )


@router.post(
    "/cases/{case_id}/referrals/{referral_id}/outcome",
    response_model=ChangeResult,
    responses=_CHANGE,
    summary="A referral's outcome: hired (placed), not hired, no show",
)
async def referral_outcome(
    case_id: str,
    referral_id: str,
    body: OutcomeCreate,
    request: Request,
    command: Commands,
    version: OptionalExpectedVersion,
) -> Response:
    cases, on = handlers(request).cases, day(body.recorded_on, "recorded_on")
    started = body.started_on or on
    return await run(
        command,
        lambda conn, meta: cases.referral_outcome(
            conn, command.principal, case_id, referral_id, body.outcome, on, started, meta, version
        ),
        expected_version=version,
    )


@router.post("/cases/{case_id}/trainings", response_model=ChangeResult, responses=_CHANGE, summary="Refer to training")
async def training(
    case_id: str, body: TrainingCreate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    on, training_id = day(body.referred_on, "referred_on"), str(uuid.uuid4())
    decide = partial(
        rules.decide_training_referral,
        training_id=training_id,
        occupation=body.occupation,
        provider=body.provider,
        on=on,
    )
    return await record(request, command, case_id, decide, version)


@router.post(
    "/cases/{case_id}/trainings/{training_id}/completion",
    response_model=ChangeResult,
    responses=_CHANGE,
    summary="Training completed, with its certificate",
)
async def training_completion(
    case_id: str,
    training_id: str,
    body: TrainingCompletion,
    request: Request,
    command: Commands,
    version: OptionalExpectedVersion,
) -> Response:
    on = day(body.completed_on, "completed_on")
    decide = partial(rules.decide_training_completion, training_id=training_id, certificate=body.certificate, on=on)
    return await record(request, command, case_id, decide, version)


@router.post(
    "/cases/{case_id}/entrepreneurship",
    response_model=ChangeResult,
    responses=_CHANGE,
    summary="Entrepreneurship service (创业服务)",
)
async def entrepreneurship(
    case_id: str, body: EntrepreneurshipCreate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    on = day(body.given_on, "given_on")
    decide = partial(rules.decide_entrepreneurship, kind=body.kind, outcome=body.outcome, on=on)
    return await record(request, command, case_id, decide, version)


@router.post(
    "/cases/{case_id}/business-loan-reviews",
    response_model=ChangeResult,
    responses=_CHANGE,
    summary="Business-loan pre-review (创业担保贷款资格初审)",
)
async def loan_review(
    case_id: str, body: LoanPreReview, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    h = handlers(request)
    on, policy = day(body.reviewed_on, "reviewed_on"), h.streams.policy
    decide = partial(
        rules.decide_loan_pre_review,
        amount_fen=body.amount_fen,
        passed=body.passed,
        reason=body.reason,
        on=on,
        policy=policy,
    )
    return await record(request, command, case_id, decide, version)


@router.post(
    "/cases/{case_id}/placement", response_model=ChangeResult, responses=_CHANGE, summary="Place in a job (安置就业)"
)
async def placement(
    case_id: str, body: PlacementCreate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    cases, on = handlers(request).cases, day(body.placed_on, "placed_on")
    return await run(
        command,
        lambda conn, meta: cases.place(
            conn,
            command.principal,
            case_id,
            kind=body.kind,
            employer_id=body.employer_id,
            vacancy_id=body.vacancy_id,
            started_on=body.started_on,
            on=on,
            metadata=meta,
            expected_version=version,
        ),
        expected_version=version,
    )
