"""Dispute routes (劳动争议): mediation steps at the township, arbitration steps at the county."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.money import NonNegativeFen
from contracts.supervision import EmployerRef
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands, CurrentPrincipal, DbConnection
from services.runtime.routes import INVALID, NOT_FOUND, answer
from services.supervision.api import Body, ChangeRoutes, EmployerBody, Service, Supervision, run_change
from services.supervision.commands.dispute import Decide
from services.supervision.domain import dispute as domain
from services.supervision.domain.limits import DeadlineView, deadline_view

router = APIRouter(tags=["disputes"])


class MediationCreate(Body):
    """A mediation application (调解申请)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employer": {"employer_id": "0190f3a2-6c1e-7c3e-9a4b-2f6d8e1a5b7c"},
                    "claim": "追索加班费",
                    "amount_claimed_fen": 300000,
                    "workers_concerned": 1,
                }
            ]
        }
    )

    employer: EmployerBody
    claim: str = Field(min_length=1)
    amount_claimed_fen: NonNegativeFen = 0
    workers_concerned: int = Field(default=1, ge=1)
    region_code: str | None = Field(default=None, description="The township's committee; default: your region")
    received_on: date | None = None


class SessionBody(Body):
    """A mediation session."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"summary": "双方陈述，企业同意核对考勤"}]})

    summary: str = ""
    held_on: date | None = None


class AgreementBody(Body):
    """A mediation agreement (调解协议)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"amount_agreed_fen": 250000}]})

    amount_agreed_fen: NonNegativeFen = 0
    agreed_on: date | None = None


class FailureBody(Body):
    """Mediation failed (调解不成)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "双方分歧较大"}]})

    reason: str = Field(min_length=1)
    failed_on: date | None = None


class DayBody(Body):
    """A step that is only its date (arbitration applied for, accepted)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"on": "2026-11-20"}]})

    on: date | None = None


class ArbitrationExtensionBody(Body):
    """The award's one extension (Art 43)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"days": 15}]})

    days: int = Field(examples=[15])
    extended_on: date | None = None


class AwardBody(Body):
    """The award (仲裁裁决)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"amount_awarded_fen": 280000}]})

    amount_awarded_fen: NonNegativeFen = 0
    awarded_on: date | None = None


class DisputePublic(BaseModel):
    """A dispute with the limits of its stages."""

    dispute_id: str
    region_code: str
    employer: EmployerRef
    stage: domain.DisputeStage
    received_on: date
    mediation: DeadlineView
    sessions: int
    referred_on: date | None
    arbitration_acceptance: DeadlineView | None
    award: DeadlineView | None
    extended: bool
    version: int


def dispute_public(service: Supervision, state: domain.DisputeState) -> DisputePublic:
    """The answer about a dispute."""
    cal, today = service.context.calendar, service.context.today()
    mediation_done = state.finished_on if state.stage == "agreed" else state.referred_on
    acceptance = award = None
    if state.accept_due is not None:
        acceptance = deadline_view(cal, state.accept_due, state.accept_provisional, today, state.accepted_on)
    if state.award_due is not None:
        done = state.finished_on if state.stage == "awarded" else None
        award = deadline_view(cal, state.award_due, state.award_provisional, today, done)
    return DisputePublic(
        dispute_id=state.dispute_id,
        region_code=state.region_code,
        employer=state.employer,
        stage=state.stage,
        received_on=state.received_on,
        mediation=deadline_view(cal, state.mediation_due, state.provisional, today, mediation_done),
        sessions=state.sessions,
        referred_on=state.referred_on,
        arbitration_acceptance=acceptance,
        award=award,
        extended=state.extended,
        version=state.version,
    )


@router.post("/disputes", status_code=201, response_model=DisputePublic, responses=INVALID)
async def apply_for_mediation(body: MediationCreate, service: Service, command: Commands) -> Response:
    """Receive a mediation application; agreement is due within 15 days (劳动争议调解仲裁法 Art 14)."""

    async def run(conn: Connection, meta: Metadata) -> DisputePublic:
        changed = await service.disputes.apply(
            conn, command.principal, body.region_code, body.employer.given(), body.claim, body.amount_claimed_fen,
            body.workers_concerned, body.received_on, meta,
        )  # fmt: skip
        return dispute_public(service, changed.after)

    return await run_change(command, run, 201)


@router.get("/disputes/{dispute_id}", response_model=DisputePublic, responses=NOT_FOUND)
async def get_dispute(dispute_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    """One dispute with its limits."""
    state = await service.disputes.disputes.get(conn, dispute_id, principal)
    return answer(dispute_public(service, state), state.version)


_CHANGES = ChangeRoutes(router, "dispute_id", dispute_public, DisputePublic)


def _add_step(
    path: str, body: type[BaseModel], name: str, doc: str, decide: Callable[[Supervision, Any], Decide], county: bool
) -> None:
    """A step decided on the dispute's state; ``county``: an arbitration step, for the county's committee."""
    _CHANGES.add(
        path,
        body,
        name,
        "",
        lambda s, conn, who, dispute_id, b, expected, meta: s.disputes.step(
            conn, who, dispute_id, decide(s, b), expected, meta, arbitration=county
        ),
        doc,
    )


_add_step(
    "/disputes/{dispute_id}/sessions",
    SessionBody,
    "session",
    "Record a mediation session.",
    lambda _, b: lambda s, today: domain.decide_session(s, b.held_on or today, b.summary, today),
    False,
)
_add_step(
    "/disputes/{dispute_id}/agreement",
    AgreementBody,
    "agreement",
    "Record the mediation agreement.",
    lambda _, b: lambda s, today: domain.decide_agree(s, b.agreed_on or today, b.amount_agreed_fen, today),
    False,
)
_add_step(
    "/disputes/{dispute_id}/failure",
    FailureBody,
    "failure",
    "Record that mediation failed; the dispute is referred to arbitration.",
    lambda _, b: lambda s, today: domain.decide_fail(s, b.failed_on or today, b.reason, today),
    False,
)
_add_step(
    "/disputes/{dispute_id}/arbitration",
    DayBody,
    "apply_for_arbitration",
    "Record the arbitration application; acceptance is due within 5 days (Art 29).",
    lambda svc, b: (
        lambda s, today: domain.decide_apply_arbitration(
            s, b.on or today, svc.context.calendar, svc.context.limits, today
        )
    ),
    True,
)
_add_step(
    "/disputes/{dispute_id}/arbitration/acceptance",
    DayBody,
    "accept_arbitration",
    "Accept the arbitration; the award is due within 45 days (Art 43).",
    lambda svc, b: (
        lambda s, today: domain.decide_accept_arbitration(
            s, b.on or today, svc.context.calendar, svc.context.limits, today
        )
    ),
    True,
)
_add_step(
    "/disputes/{dispute_id}/arbitration/extension",
    ArbitrationExtensionBody,
    "extend_arbitration",
    "Extend the award's limit once, by at most 15 days (Art 43).",
    lambda svc, b: (
        lambda s, today: domain.decide_extend_arbitration(
            s, b.extended_on or today, b.days, svc.context.calendar, svc.context.limits, today
        )
    ),
    True,
)
_add_step(
    "/disputes/{dispute_id}/arbitration/award",
    AwardBody,
    "award",
    "Record the award.",
    lambda _, b: lambda s, today: domain.decide_award(s, b.awarded_on or today, b.amount_awarded_fen, today),
    True,
)
