"""Hard-to-employ certification routes (就业困难人员认定): apply -> review -> notice -> decision; the status."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.assistance import HardToEmployCategory
from services.assistance import queries
from services.assistance.api import (
    ChangeResult,
    Handlers,
    Run,
    add_change,
    day,
    handlers,
    region,
    require_person_reader,
    run,
)
from services.assistance.domain.certification import EndReason
from services.runtime.auth import Principal
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import INVALID, NOT_FOUND, STALE, answer

router = APIRouter(tags=["hard-to-employ"])

_CHANGE = {**NOT_FOUND, **STALE, **INVALID, 403: {"description": "Not this level's step (maker-checker)"}}


class ApplicationCreate(BaseModel):
    """Apply at the village or township. Type only the categories that need evidence; 4050, long-term
    unemployment and zero-employment household are computed from the ledger's events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10",
                    "categories": ["disabled"],
                    "evidence": ["残疾人证"],
                }
            ]
        },
    )

    person_id: str
    categories: list[HardToEmployCategory] = Field(default_factory=list, examples=[["disabled"]])
    evidence: list[str] = Field(default_factory=list, examples=[["残疾人证 43052719xxxx"]])
    applied_on: date | None = None


class ReviewCreate(BaseModel):
    """The township's initial review (初审); passing starts the public notice (公示)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"passed": True, "reason": "材料齐全"}]})

    passed: bool
    reason: str = ""
    reviewed_on: date | None = None


class ObjectionCreate(BaseModel):
    """An objection received during the notice (异议)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"objection": "其家庭有经营性收入"}]})

    objection: str = Field(min_length=1)
    received_on: date | None = None


class DecisionCreate(BaseModel):
    """The county's decision (审核认定)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"certify": True, "reason": "公示无异议"}]}
    )

    certify: bool
    reason: str = ""
    decided_on: date | None = None


class StatusEnd(BaseModel):
    """End a certified status: the review is due, or it is revoked."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "review_due"}]})

    reason: EndReason
    ended_on: date | None = None


class ApplicationView(BaseModel):
    """An application and where it stands."""

    application_id: str
    person_id: str
    case_id: str
    region_code: str
    version: int
    stage: str
    typed_categories: list[HardToEmployCategory]
    applied_on: date
    reviewed_by: str | None
    reviewed_on: date | None
    notice_ends_on: date | None
    objections: int
    certification_id: str | None


class CertificationView(BaseModel):
    """A certified hard-to-employ status."""

    certification_id: str
    person_id: str
    region_code: str
    version: int
    categories: list[HardToEmployCategory]
    certified_on: date
    review_on: date
    active: bool
    ended_on: date | None
    end_reason: str | None


@router.post(
    "/hard-to-employ/applications",
    status_code=201,
    response_model=ChangeResult,
    responses=_CHANGE,
    summary="Apply for hard-to-employ certification (village or township)",
)
async def apply(body: ApplicationCreate, request: Request, command: Commands) -> Response:
    certifications, on = handlers(request).certifications, day(body.applied_on, "applied_on")
    return await run(
        command,
        lambda conn, meta: certifications.apply(
            conn, command.principal, body.person_id, body.categories, body.evidence, on, meta
        ),
        status_code=201,
    )


@router.get("/hard-to-employ/applications/{application_id}", response_model=ApplicationView, responses=NOT_FOUND)
async def get_application(
    application_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    """One application."""
    require_person_reader(principal)
    s = await handlers(request).streams.applications.get(conn, application_id, principal)
    view = ApplicationView(
        application_id=s.application_id,
        person_id=s.person_id,
        case_id=s.case_id,
        region_code=s.region_code,
        version=s.version,
        stage=s.stage,
        typed_categories=list(s.typed),
        applied_on=s.applied_on,
        reviewed_by=s.reviewed_by,
        reviewed_on=s.reviewed_on,
        notice_ends_on=s.notice_ends_on,
        objections=s.objections,
        certification_id=s.certification_id,
    )
    return answer(view.model_dump(mode="json"), s.version)


def review(h: Handlers, who: Principal, ids: dict[str, str], body: ReviewCreate, version: int | None) -> Run:
    """Township initial review and public notice (初审、公示)"""
    on = day(body.reviewed_on, "reviewed_on")
    return lambda conn, meta: h.certifications.review(
        conn, who, ids["application_id"], passed=body.passed, reason=body.reason, on=on, metadata=meta,
        expected_version=version,
    )  # fmt: skip


add_change(router, "/hard-to-employ/applications/{application_id}/review", ReviewCreate, review, responses=_CHANGE)


def objection(h: Handlers, who: Principal, ids: dict[str, str], body: ObjectionCreate, version: int | None) -> Run:
    """An objection during the public notice"""
    on = day(body.received_on, "received_on")
    return lambda conn, meta: h.certifications.object(
        conn, who, ids["application_id"], body.objection, on, meta, version
    )


add_change(
    router, "/hard-to-employ/applications/{application_id}/objections", ObjectionCreate, objection, responses=_CHANGE
)


def decision(h: Handlers, who: Principal, ids: dict[str, str], body: DecisionCreate, version: int | None) -> Run:
    """County decision: certify or refuse (审核认定)"""
    on = day(body.decided_on, "decided_on")
    return lambda conn, meta: h.certifications.decide(
        conn, who, ids["application_id"], certify=body.certify, reason=body.reason, on=on, metadata=meta,
        expected_version=version,
    )  # fmt: skip


add_change(
    router, "/hard-to-employ/applications/{application_id}/decision", DecisionCreate, decision, responses=_CHANGE
)


@router.get("/hard-to-employ/certifications/{certification_id}", response_model=CertificationView, responses=NOT_FOUND)
async def get_certification(
    certification_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    """One certified status."""
    require_person_reader(principal)
    s = await handlers(request).streams.certifications.get(conn, certification_id, principal)
    view = CertificationView(
        certification_id=s.certification_id,
        person_id=s.person_id,
        region_code=s.region_code,
        version=s.version,
        categories=list(s.categories),
        certified_on=s.certified_on,
        review_on=s.review_on,
        active=s.active,
        ended_on=s.ended_on,
        end_reason=s.end_reason,
    )
    return answer(view.model_dump(mode="json"), s.version)


def end_status(h: Handlers, who: Principal, ids: dict[str, str], body: StatusEnd, version: int | None) -> Run:
    """End a certified status (review due, revoked)"""
    on = day(body.ended_on, "ended_on")
    return lambda conn, meta: h.certifications.end(conn, who, ids["certification_id"], body.reason, on, meta, version)


add_change(router, "/hard-to-employ/certifications/{certification_id}/end", StatusEnd, end_status, responses=_CHANGE)


@router.get("/regions/{region_code}/hard-to-employ/review-due", summary="Certifications due for review")
async def review_due(
    region_code: str, principal: CurrentPrincipal, conn: DbConnection, within_days: int = Query(30, ge=0, le=3660)
) -> Response:
    """Certified statuses still holding whose review date falls within ``within_days`` (or has passed)."""
    require_person_reader(principal)
    code = region(region_code)
    principal.require_region(code)
    until = date.today() + timedelta(days=within_days)
    keys = ("certification_id", "person_id", "region_code", "certified_on", "review_on")
    rows = await queries.certifications_due(conn, code, until)
    return json_response(
        {
            "region_code": code,
            "due_on_or_before": until,
            "certifications": [dict(zip(keys, r, strict=True)) for r in rows],
        }
    )
