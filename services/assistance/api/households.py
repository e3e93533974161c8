"""Zero-employment household routes (零就业家庭): status, confirmation, dismissal, refusal, the township's lists."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.assistance import queries
from services.assistance.api import Handlers, Run, add_change, day, handlers, region
from services.runtime.auth import Principal
from services.runtime.http import CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import INVALID, NOT_FOUND, STALE, answer

router = APIRouter(tags=["zero-employment households"])

_CHANGE = {**NOT_FOUND, **STALE, **INVALID}


class ConfirmationCreate(BaseModel):
    """The township confirms: no member works and the household has no business or investment income."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"confirmed_on": "2026-12-01"}]})

    confirmed_on: date | None = None


class DismissalCreate(BaseModel):
    """The township finds the household is not zero-employment."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "有经营性收入"}]})

    reason: str = Field(min_length=1, examples=["有经营性收入"])
    dismissed_on: date | None = None


class RefusalCreate(BaseModel):
    """The household refused help without good reason (无正当理由拒绝帮助)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"refused_on": "2026-12-01"}]})

    refused_on: date | None = None


class HouseholdView(BaseModel):
    """A household's zero-employment status."""

    household_id: str
    region_code: str
    version: int
    stage: str
    detected_on: date | None
    confirmed_on: date | None
    clear_by: date | None
    days_outstanding: int | None
    member_ids: list[str]


@router.get("/households/{household_id}/zero-employment", response_model=HouseholdView, responses=NOT_FOUND)
async def get_household(
    household_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    """A household's zero-employment status (404 if it was never detected)."""
    s = await handlers(request).streams.households.get(conn, household_id, principal)
    outstanding = (date.today() - s.confirmed_on).days if s.stage == "confirmed" and s.confirmed_on else None
    view = HouseholdView(
        household_id=s.household_id,
        region_code=s.region_code,
        version=s.version,
        stage=s.stage,
        detected_on=s.detected_on,
        confirmed_on=s.confirmed_on,
        clear_by=s.clear_by,
        days_outstanding=outstanding,
        member_ids=list(s.member_ids),
    )
    return answer(view.model_dump(mode="json"), s.version)


def confirm(h: Handlers, who: Principal, ids: dict[str, str], body: ConfirmationCreate, version: int | None) -> Run:
    """Township confirmation (认定); the clearing clock starts"""
    on = day(body.confirmed_on, "confirmed_on")
    return lambda conn, meta: h.households.confirm(conn, who, ids["household_id"], on, meta, version)


add_change(router, "/households/{household_id}/zero-employment/confirmation", ConfirmationCreate, confirm)


def dismiss(h: Handlers, who: Principal, ids: dict[str, str], body: DismissalCreate, version: int | None) -> Run:
    """Not a zero-employment household after all"""
    on = day(body.dismissed_on, "dismissed_on")
    return lambda conn, meta: h.households.dismiss(conn, who, ids["household_id"], body.reason, on, meta, version)


add_change(router, "/households/{household_id}/zero-employment/dismissal", DismissalCreate, dismiss)


def refusal(h: Handlers, who: Principal, ids: dict[str, str], body: RefusalCreate, version: int | None) -> Run:
    """Help refused without reason: the household leaves the list"""
    on = day(body.refused_on, "refused_on")
    return lambda conn, meta: h.households.refused_help(conn, who, ids["household_id"], on, meta, version)


add_change(router, "/households/{household_id}/zero-employment/refusal", RefusalCreate, refusal)


@router.get("/regions/{region_code}/zero-employment-households", summary="The list of a township (or any region)")
async def region_households(
    region_code: str,
    request: Request,
    principal: CurrentPrincipal,
    conn: DbConnection,
    stage: str = Query("outstanding", pattern="^(outstanding|detected|confirmed|cleared|overdue)$"),
) -> Response:
    """Households by stage; ``outstanding`` is detected or confirmed, ``overdue`` confirmed past the target."""
    code = region(region_code)
    principal.require_region(code)
    today = date.today()
    target = handlers(request).streams.policy.clear_target_days
    stages = {"outstanding": ["detected", "confirmed"], "overdue": ["confirmed"]}.get(stage, [stage])
    rows = await queries.zero_households(conn, code, stages)
    if stage == "overdue":
        rows = [r for r in rows if r.clear_by is not None and r.clear_by < today]
    body = [
        {
            "household_id": r.household_id,
            "region_code": r.region_code,
            "stage": r.stage,
            "detected_on": r.detected_on,
            "confirmed_on": r.confirmed_on,
            "clear_by": r.clear_by,
            "cleared_on": r.cleared_on,
            "days_outstanding": r.days_outstanding
            if r.stage == "cleared"
            else (today - r.confirmed_on).days
            if r.confirmed_on
            else None,
        }
        for r in rows
    ]
    return json_response({"region_code": code, "stage": stage, "target_days": target, "households": body})
