"""Reporting's HTTP routes: figures for any region at any level, and its children (drill-down)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel

from contracts.regions import Region, normalise_region_code
from services.reporting import queries
from services.reporting.metrics import METRICS
from services.runtime.errors import NotFound, RuleViolated
from services.runtime.http import CurrentPrincipal, DbConnection, json_response
from services.runtime.regions import child_regions, find_region

router = APIRouter(tags=["reporting"])

RegionPath = Annotated[
    str, Path(description="12-digit region code, or the 6-digit county code", examples=["430527", "430527100000"])
]


class RegionRef(BaseModel):
    """A region as the API names it."""

    code: str
    name: str
    level: str


class RegionStats(BaseModel):
    """One region's figures."""

    region: RegionRef
    metrics: dict[str, int]


class ChildStats(RegionRef):
    """A child region with its figures."""

    metrics: dict[str, int]


class RegionChildren(BaseModel):
    """A region and the figures of each region directly under it."""

    region: RegionRef
    children: list[ChildStats]


async def _region_in_scope(conn: DbConnection, principal: CurrentPrincipal, raw: str) -> Region:
    try:
        code = normalise_region_code(raw)
    except ValueError as exc:
        raise RuleViolated("RegionCodeFormat", str(exc), field="code") from exc
    principal.require_region(code)
    region = await find_region(conn, code)
    if region is None:
        raise NotFound(f"unknown region {code}", field="code")
    return region


def _ref(region: Region) -> RegionRef:
    return RegionRef(code=region.code, name=region.name, level=str(region.level))


@router.get("/regions/{code}/stats", response_model=RegionStats, summary="A region's figures")
async def region_stats(code: RegionPath, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    region = await _region_in_scope(conn, principal, code)
    figures = await queries.metrics_of(conn, [region.code])
    return json_response(RegionStats(region=_ref(region), metrics=figures[region.code]))


@router.get(
    "/regions/{code}/children",
    response_model=RegionChildren,
    summary="The figures of each region directly under a region (drill-down)",
)
async def region_children(code: RegionPath, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    region = await _region_in_scope(conn, principal, code)
    children = await child_regions(conn, region.code)
    figures = await queries.metrics_of(conn, [c.code for c in children])
    return json_response(
        RegionChildren(
            region=_ref(region),
            children=[ChildStats(**_ref(c).model_dump(), metrics=figures[c.code]) for c in children],
        )
    )


@router.get("/metrics/catalogue", summary="Every metric: name, labels, unit and kind")
async def catalogue(_: CurrentPrincipal) -> Response:
    return json_response(
        [
            {"name": m.name, "label_zh": m.label_zh, "label_en": m.label_en, "unit": m.unit, "kind": m.kind}
            for m in METRICS
        ]
    )
