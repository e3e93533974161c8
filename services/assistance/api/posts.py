"""Public-welfare post routes (公益性岗位): create, fill, exit, term end, posts ending soon."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.money import NonNegativeFen
from services.assistance import queries
from services.assistance.api import ChangeResult, Handlers, Run, add_change, day, handlers, region, run
from services.assistance.domain.posts import CreatePost
from services.runtime.auth import Principal
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import INVALID, NOT_FOUND, STALE, answer

router = APIRouter(tags=["public-welfare posts"])

_CHANGE = {**NOT_FOUND, **STALE, **INVALID}


class PostCreate(BaseModel):
    """A public-welfare post: unit, positions, monthly subsidy in fen, term."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "region_code": "430527100000",
                    "unit": "长铺镇人民政府",
                    "title": "保洁员",
                    "positions": 2,
                    "monthly_subsidy_fen": 150000,
                    "term_starts_on": "2026-01-01",
                    "term_ends_on": "2028-12-31",
                }
            ]
        },
    )

    region_code: str = Field(examples=["430527100000"])
    unit: str = Field(min_length=1, examples=["长铺镇人民政府"])
    title: str = Field(min_length=1, examples=["保洁员"])
    positions: int = Field(ge=1)
    monthly_subsidy_fen: NonNegativeFen = Field(examples=[150000])
    term_starts_on: date
    term_ends_on: date


class FillCreate(BaseModel):
    """Place a certified person in the post."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"person_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10", "started_on": "2026-12-01"}]
        },
    )

    person_id: str
    started_on: date
    ends_on: date | None = None


class ExitCreate(BaseModel):
    """An occupant leaves the post."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"person_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10", "reason": "本人辞职"}]},
    )

    person_id: str
    reason: str = Field(min_length=1, examples=["本人辞职"])
    exited_on: date | None = None


class TermEnd(BaseModel):
    """The post's term ran out."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"ended_on": "2028-12-31"}]})

    ended_on: date | None = None


class PostView(BaseModel):
    """A post and who holds it."""

    post_id: str
    region_code: str
    version: int
    unit: str
    title: str
    positions: int
    vacant: int
    monthly_subsidy_fen: int
    term_starts_on: date
    term_ends_on: date
    ended_on: date | None
    occupants: dict[str, date] = Field(description="person_id -> end of the placement")


@router.post(
    "/public-welfare-posts", status_code=201, response_model=ChangeResult, responses=INVALID, summary="Create a post"
)
async def create_post(body: PostCreate, request: Request, command: Commands) -> Response:
    posts = handlers(request).posts
    post = CreatePost(
        post_id=str(uuid.uuid4()),
        region_code=region(body.region_code),
        unit=body.unit,
        title=body.title,
        positions=body.positions,
        monthly_subsidy_fen=body.monthly_subsidy_fen,
        term_starts_on=body.term_starts_on,
        term_ends_on=body.term_ends_on,
    )
    return await run(command, lambda conn, meta: posts.create(conn, command.principal, post, meta), status_code=201)


@router.get("/public-welfare-posts/{post_id}", response_model=PostView, responses=NOT_FOUND)
async def get_post(post_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    """One post."""
    s = await handlers(request).streams.posts.get(conn, post_id, principal)
    view = PostView(
        post_id=s.post_id,
        region_code=s.region_code,
        version=s.version,
        unit=s.unit,
        title=s.title,
        positions=s.positions,
        vacant=s.vacant,
        monthly_subsidy_fen=s.monthly_subsidy_fen,
        term_starts_on=s.term_starts_on,
        term_ends_on=s.term_ends_on,
        ended_on=s.ended_on,
        occupants=s.occupants if principal.sees_persons else {},
    )
    return answer(view.model_dump(mode="json"), s.version)


def fill(h: Handlers, who: Principal, ids: dict[str, str], body: FillCreate, version: int | None) -> Run:
    """Fill a position (安置)"""
    on = date.today()
    return lambda conn, meta: h.posts.fill(
        conn, who, ids["post_id"], person_id=body.person_id, started_on=body.started_on, ends_on=body.ends_on, on=on,
        metadata=meta, expected_version=version,
    )  # fmt: skip


add_change(router, "/public-welfare-posts/{post_id}/fills", FillCreate, fill)


def exit_post(h: Handlers, who: Principal, ids: dict[str, str], body: ExitCreate, version: int | None) -> Run:
    """An occupant leaves"""
    on = day(body.exited_on, "exited_on")
    return lambda conn, meta: h.posts.exit(conn, who, ids["post_id"], body.person_id, body.reason, on, meta, version)


add_change(router, "/public-welfare-posts/{post_id}/exits", ExitCreate, exit_post)


def term_end(h: Handlers, who: Principal, ids: dict[str, str], body: TermEnd, version: int | None) -> Run:
    """The term ended"""
    on = day(body.ended_on, "ended_on")
    return lambda conn, meta: h.posts.end_term(conn, who, ids["post_id"], on, meta, version)


add_change(router, "/public-welfare-posts/{post_id}/term-end", TermEnd, term_end)


@router.get("/regions/{region_code}/public-welfare-posts", summary="Running posts, optionally those ending soon")
async def region_posts(
    region_code: str,
    principal: CurrentPrincipal,
    conn: DbConnection,
    ending_within_days: int = Query(30, ge=0, le=3660),
) -> Response:
    """Running posts of a region's subtree whose term ends within ``ending_within_days`` (default 30)."""
    code = region(region_code)
    principal.require_region(code)
    until = date.today() + timedelta(days=ending_within_days)
    keys = ("post_id", "region_code", "unit", "title", "positions", "filled", "monthly_subsidy_fen", "term_ends_on")
    rows = await queries.posts_ending(conn, code, until)
    return json_response(
        {"region_code": code, "ending_on_or_before": until, "posts": [dict(zip(keys, r, strict=True)) for r in rows]}
    )
