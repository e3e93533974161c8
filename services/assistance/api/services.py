"""Case services routes (就业服务): profile, guidance, home visits, referrals, training, entrepreneurship,
loan pre-review and placement (安置就业), each a change of the person's case."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts import assistance as a
from contracts.money import NonNegativeFen
from contracts.registration import EmploymentKind
from services.assistance.api import (
    CONFLICT_RETRIES,
    Handlers,
    Run,
    add_change,
    add_command_route,
    change_result,
    day,
    handlers,
    run,
)
from services.assistance.commands.cases import CaseChange, Decision
from services.assistance.domain import cases as rules
from services.assistance.domain.cases import CaseState
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.errors import Conflict
from services.runtime.eventstore import Metadata
from services.runtime.http import CommandContext
from services.runtime.middleware import CommandShortcut
from services.runtime.routes import INVALID, NOT_FOUND, STALE, answer

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
    changed = await _batched(h, CaseChange(command.principal, case_id, decide, command.metadata, version))
    return answer(change_result(changed).model_dump(mode="json"), changed.version)


async def _batched(h: Handlers, change: CaseChange) -> Changed[CaseState]:
    """``change`` with the other waiting changes of cases (group commit); one without If-Match that lost a
    race with another change of the same case is decided again."""
    assert h.case_batches is not None
    retries = CONFLICT_RETRIES if change.expected_version is None else 0
    for attempt in range(retries + 1):
        try:
            return await h.case_batches.submit(change)
        except Conflict:
            if attempt == retries:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


#: A case service's decision, built from the handlers, the path's ids and the validated body; what it checks
#: before the decision (a day in the future) it checks here.
DecisionOf = Callable[[Handlers, dict[str, str], Any], Decision]

#: Plain requests of the case services (valid token and body, no Idempotency-Key, no If-Match) skip FastAPI's
#: routing and dependencies (``CommandShortcut``): they are the bulk of a service point's day, and FastAPI
#: was most of a small command's CPU in the profile. Everything else, every error included, is the route's.
SHORTCUTS: list[CommandShortcut] = []


def add_service(path: str, body: type[BaseModel], decision: DecisionOf, *, method: str = "POST") -> None:
    """A route recording a service on the case of the path through :func:`record` (group commit), and its
    shortcut; the first line of ``decision``'s docstring is its summary and its name the operation's."""

    async def endpoint(
        *, body: BaseModel, request: Request, command: CommandContext, version: int | None, **ids: str
    ) -> Response:
        return await record(request, command, ids["case_id"], decision(handlers(request), ids, body), version)

    async def shortcut(app: Any, principal: Principal, body: BaseModel, metadata: Metadata, **ids: str) -> BaseModel:
        h: Handlers = app.state.assistance
        if h.case_batches is None:
            raise Conflict("this API runs without group commit", field="If-Match")  # never in create_app
        return change_result(await _batched(h, CaseChange(principal, ids["case_id"], decision(h, ids, body), metadata)))

    add_command_route(router, path, body, endpoint, decision, method=method, responses=_CHANGE)
    SHORTCUTS.append(CommandShortcut(method, path, body, shortcut, status_code=200, etag=True))


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


def put_profile(h: Handlers, ids: dict[str, str], body: ProfileUpdate) -> Decision:
    """Record the job-seeking profile"""
    return partial(
        rules.decide_profile,
        occupations=body.occupations,
        skills=body.skills,
        expected_wage_fen=body.expected_wage_fen,
        on=date.today(),
    )


add_service("/cases/{case_id}/profile", ProfileUpdate, put_profile, method="PUT")


def guidance(h: Handlers, ids: dict[str, str], body: GuidanceCreate) -> Decision:
    """Vocational guidance (职业指导)"""
    on = day(body.given_on, "given_on")
    return partial(rules.decide_guidance, topic=body.topic, outcome=body.outcome, on=on)


add_service("/cases/{case_id}/guidance", GuidanceCreate, guidance)


def home_visit(h: Handlers, ids: dict[str, str], body: HomeVisitCreate) -> Decision:
    """Home visit (入户家访)"""
    on = day(body.visited_on, "visited_on")
    return partial(rules.decide_home_visit, findings=body.findings, needs=body.needs, on=on)


add_service("/cases/{case_id}/home-visits", HomeVisitCreate, home_visit)


def refer(h: Handlers, who: Principal, ids: dict[str, str], body: ReferralCreate, version: int | None) -> Run:
    """Refer to a vacancy (推荐就业)"""
    on = day(body.referred_on, "referred_on")
    return lambda conn, meta: h.cases.refer(conn, who, ids["case_id"], body.vacancy_id, on, meta, version)


add_change(router, "/cases/{case_id}/referrals", ReferralCreate, refer)


def referral_outcome(h: Handlers, who: Principal, ids: dict[str, str], body: OutcomeCreate, version: int | None) -> Run:
    """A referral's outcome: hired (placed), not hired, no show"""
    on = day(body.recorded_on, "recorded_on")
    started = body.started_on or on
    return lambda conn, meta: h.cases.referral_outcome(
        conn, who, ids["case_id"], ids["referral_id"], body.outcome, on, started, meta, version
    )


add_change(router, "/cases/{case_id}/referrals/{referral_id}/outcome", OutcomeCreate, referral_outcome)


def training(h: Handlers, ids: dict[str, str], body: TrainingCreate) -> Decision:
    """Refer to training"""
    on, training_id = day(body.referred_on, "referred_on"), str(uuid.uuid4())
    return partial(
        rules.decide_training_referral,
        training_id=training_id,
        occupation=body.occupation,
        provider=body.provider,
        on=on,
    )


add_service("/cases/{case_id}/trainings", TrainingCreate, training)


def training_completion(h: Handlers, ids: dict[str, str], body: TrainingCompletion) -> Decision:
    """Training completed, with its certificate"""
    on = day(body.completed_on, "completed_on")
    return partial(
        rules.decide_training_completion, training_id=ids["training_id"], certificate=body.certificate, on=on
    )


add_service("/cases/{case_id}/trainings/{training_id}/completion", TrainingCompletion, training_completion)


def entrepreneurship(h: Handlers, ids: dict[str, str], body: EntrepreneurshipCreate) -> Decision:
    """Entrepreneurship service (创业服务)"""
    on = day(body.given_on, "given_on")
    return partial(rules.decide_entrepreneurship, kind=body.kind, outcome=body.outcome, on=on)


add_service("/cases/{case_id}/entrepreneurship", EntrepreneurshipCreate, entrepreneurship)


def loan_review(h: Handlers, ids: dict[str, str], body: LoanPreReview) -> Decision:
    """Business-loan pre-review (创业担保贷款资格初审)"""
    on = day(body.reviewed_on, "reviewed_on")
    return partial(
        rules.decide_loan_pre_review,
        amount_fen=body.amount_fen,
        passed=body.passed,
        reason=body.reason,
        on=on,
        policy=h.streams.policy,
    )


add_service("/cases/{case_id}/business-loan-reviews", LoanPreReview, loan_review)


def placement(h: Handlers, who: Principal, ids: dict[str, str], body: PlacementCreate, version: int | None) -> Run:
    """Place in a job (安置就业)"""
    on = day(body.placed_on, "placed_on")
    return lambda conn, meta: h.cases.place(
        conn, who, ids["case_id"], kind=body.kind, employer_id=body.employer_id, vacancy_id=body.vacancy_id,
        started_on=body.started_on, on=on, metadata=meta, expected_version=version,
    )  # fmt: skip


add_change(router, "/cases/{case_id}/placement", PlacementCreate, placement)
