"""Routes of the monthly evaluation (月度考核): every staff member's score with the events behind it, the
以奖代补 list, and the XLSX a county bureau files.

Individual figures are for county officers and admins only (403 for everyone else); analysts, and
township and village staff within their scope, read the aggregates per township and village
(``/staff-performance/summary``), where a group of fewer than three staff shows no mean score, so that an
aggregate never gives away one person's figure.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from contracts.regions import is_within, normalise_region_code, region_level
from services.reporting.staff.credit import KINDS
from services.reporting.staff.evaluation import (
    CountyEvaluation,
    EvaluationWindow,
    county_evaluation,
    evaluation_window,
)
from services.reporting.staff.scoring import Evaluation
from services.reporting.staff.settings import StaffPerformanceSettings
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.errors import Forbidden, NotFound, RuleViolated
from services.runtime.http import CurrentPrincipal, DbConnection, json_response

router = APIRouter(tags=["staff performance"])

#: Who sees one staff member's figures: the county evaluates its network (seed 003 (四)).
INDIVIDUAL_READERS = frozenset({Role.COUNTY, Role.ADMIN})
#: ``RegionLevel.depth`` of a county: the evaluation is a county's, for it or a region below.
COUNTY_DEPTH = 2
#: The fewest staff whose mean score an aggregate shows.
MIN_GROUP = 3

MonthQuery = Annotated[str | None, Query(description="The month evaluated (default this month)", examples=["2026-11"])]
AsOfQuery = Annotated[
    date | None, Query(description="The month of this day, with the work up to it (instead of month)")
]
RegionQuery = Annotated[
    str,
    Query(description="A county, township or village code; the county's ranking, shown for it", examples=["430527"]),
]


def _window(month: MonthQuery = None, as_of: AsOfQuery = None) -> EvaluationWindow:
    return evaluation_window(month, as_of)


Window = Annotated[EvaluationWindow, Depends(_window)]


def staff_settings(request: Request) -> StaffPerformanceSettings:
    """The running app's evaluation settings."""
    found: StaffPerformanceSettings = request.app.state.staff_settings
    return found


Settings = Annotated[StaffPerformanceSettings, Depends(staff_settings)]


class WorkLine(BaseModel):
    """One kind of credited work: how many events, the points they earned, and their ids."""

    kind: str = Field(examples=["placement"])
    label_zh: str = Field(examples=["安置就业"])
    part: str = Field(examples=["effect"])
    count: int
    points: int = Field(description="Points earned (a rating: the sum of the scores)")
    events: list[str] | None = Field(
        description="The ids of the events credited, oldest first, in one staff member's evaluation "
        "(GET /staff-performance/staff/{subject}); null in the county's list"
    )


class StaffEvaluation(BaseModel):
    """One staff member's month: score, parts, rankings, and the events behind each part."""

    staff_id: str
    subject: str
    role: str
    region_code: str
    township_code: str
    score: float
    parts: dict[str, float | None] = Field(description="workload, cost, effect, satisfaction: 0-100 (null: none)")
    workload_points: int
    effect_points: int
    monthly_funding_yuan: float
    ratings: int
    township_rank: int
    township_size: int
    county_rank: int
    county_size: int
    last_in_township: bool
    last_in_county: bool
    dismissal_due: bool = Field(description="Last in the county this month and the month before (seed 003 末位淘汰)")
    work: list[WorkLine]


class RegionTargetOut(BaseModel):
    """A township or village and whether it met its month's targets (以奖代补)."""

    region_code: str
    name: str
    level: str
    staff: int
    mean_score: float | None = Field(description="Null in an aggregate of fewer than three staff")
    placements: int
    placements_target: int
    met: bool


class StaffPerformance(BaseModel):
    """The county's evaluation for a month, for the region asked about."""

    county_code: str
    region_code: str
    month: str
    last_day: date
    weights: dict[str, float]
    staff: list[StaffEvaluation]
    targets: list[RegionTargetOut]


class StaffPerformanceSummary(BaseModel):
    """Aggregates only: per township and village, staff, mean score, placements, targets met."""

    county_code: str
    region_code: str
    month: str
    last_day: date
    staff: int
    mean_score: float | None
    targets: list[RegionTargetOut]


def require_individual_reader(principal: Principal) -> None:
    """403 unless a county officer or an admin."""
    if principal.role not in INDIVIDUAL_READERS:
        raise Forbidden(
            "only county officers and admins see individual staff figures; "
            "read /staff-performance/summary for the aggregates"
        )


def _region(principal: Principal, raw: str) -> str:
    try:
        code = normalise_region_code(raw)
    except ValueError as exc:
        raise RuleViolated("RegionCodeFormat", str(exc), field="region") from exc
    principal.require_region(code)
    if region_level(code).depth < COUNTY_DEPTH:
        raise RuleViolated(
            "EvaluationRegion", f"the evaluation is a county's; {code} is above a county", field="region"
        )
    return code


def staff_evaluation(e: Evaluation) -> StaffEvaluation:
    """One evaluation as the API shows it."""
    work = [
        WorkLine(
            kind=kind.name,
            label_zh=kind.label_zh,
            part=kind.part,
            count=e.work.counts[kind.name],
            points=sum(e.work.ratings) if kind.part == "satisfaction" else kind.points * e.work.counts[kind.name],
            events=list(e.work.events[kind.name]) if kind.name in e.work.events else None,
        )
        for kind in KINDS.values()
        if e.work.counts.get(kind.name)
    ]
    return StaffEvaluation(
        staff_id=e.work.staff_id,
        subject=e.work.subject,
        role=e.work.role,
        region_code=e.work.region_code,
        township_code=e.work.township_code,
        score=e.score,
        parts=e.parts,
        workload_points=e.workload_points,
        effect_points=e.effect_points,
        monthly_funding_yuan=e.monthly_funding_yuan,
        ratings=len(e.work.ratings),
        township_rank=e.township_rank,
        township_size=e.township_size,
        county_rank=e.county_rank,
        county_size=e.county_size,
        last_in_township=e.last_in_township,
        last_in_county=e.last_in_county,
        dismissal_due=e.dismissal_due,
        work=work,
    )


async def _names(conn: Connection, codes: list[str]) -> dict[str, str]:
    cursor = await conn.execute("SELECT code, name FROM regions WHERE code = ANY(%s::char(12)[])", (codes,))
    return {str(code): str(name) for code, name in await cursor.fetchall()}


async def targets_out(
    conn: Connection, found: CountyEvaluation, region: str, *, hide_small: bool
) -> list[RegionTargetOut]:
    """The 以奖代补 list within ``region``, with names; ``hide_small``: no mean of fewer than three staff."""
    within = [t for t in found.targets if is_within(t.region_code, region)]
    names = await _names(conn, [t.region_code for t in within])
    return [
        RegionTargetOut(
            region_code=t.region_code,
            name=names.get(t.region_code, t.region_code),
            level=t.level,
            staff=t.staff,
            mean_score=None if hide_small and t.staff < MIN_GROUP else t.mean_score,
            placements=t.placements,
            placements_target=t.placements_target,
            met=t.met,
        )
        for t in within
    ]


async def evaluation_for(
    conn: Connection,
    principal: Principal,
    region: str,
    window: EvaluationWindow,
    settings: StaffPerformanceSettings,
    *,
    ids_of: str | None = None,
) -> tuple[str, CountyEvaluation]:
    """The region a request names (in scope) and its county's evaluation (``ids_of``: the subject whose
    score lists the ids of its events)."""
    code = _region(principal, region)
    return code, await county_evaluation(conn, code[:6] + "000000", window, settings, ids_of=ids_of)


@router.get(
    "/staff-performance",
    response_model=StaffPerformance,
    summary="The month's evaluation of every staff member (月度考核评分): county officers and admins only",
)
async def staff_performance(
    principal: CurrentPrincipal, conn: DbConnection, region: RegionQuery, window: Window, settings: Settings
) -> Response:
    require_individual_reader(principal)
    body, _ = await staff_performance_body(conn, principal, region, window, settings)
    return json_response(body)


async def staff_performance_body(
    conn: Connection, principal: Principal, region: str, window: EvaluationWindow, settings: StaffPerformanceSettings
) -> tuple[StaffPerformance, str]:
    """The evaluation of the region a request names, and that region's name."""
    code, found = await evaluation_for(conn, principal, region, window, settings)
    body = StaffPerformance(
        county_code=found.county_code,
        region_code=code,
        month=window.month.label,
        last_day=window.last_day,
        weights=settings.weights,
        staff=[staff_evaluation(e) for e in found.evaluations if is_within(e.work.region_code, code)],
        targets=await targets_out(conn, found, code, hide_small=False),
    )
    names = await _names(conn, [code])
    return body, names.get(code, code)


@router.get(
    "/staff-performance/summary",
    response_model=StaffPerformanceSummary,
    summary="The month's evaluation in aggregates per township and village (以奖代补): for every role",
)
async def staff_performance_summary(
    principal: CurrentPrincipal, conn: DbConnection, region: RegionQuery, window: Window, settings: Settings
) -> Response:
    code, found = await evaluation_for(conn, principal, region, window, settings)
    scores = [e.score for e in found.evaluations if is_within(e.work.region_code, code)]
    body = StaffPerformanceSummary(
        county_code=found.county_code,
        region_code=code,
        month=window.month.label,
        last_day=window.last_day,
        staff=len(scores),
        mean_score=round(sum(scores) / len(scores), 2) if len(scores) >= MIN_GROUP else None,
        targets=await targets_out(conn, found, code, hide_small=True),
    )
    return json_response(body)


@router.get(
    "/staff-performance/staff/{subject}",
    response_model=StaffEvaluation,
    responses={404: {"description": "No such staff member in post that month"}},
    summary="One staff member's month with the events behind every part: county officers and admins only",
)
async def one_staff_member(
    subject: str,
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: RegionQuery,
    window: Window,
    settings: Settings,
) -> Response:
    require_individual_reader(principal)
    _, found = await evaluation_for(conn, principal, region, window, settings, ids_of=subject)
    for e in found.evaluations:
        if e.work.subject == subject:
            return json_response(staff_evaluation(e))
    raise NotFound(f"no staff member {subject} in post in {window.month.label}", field="subject")
