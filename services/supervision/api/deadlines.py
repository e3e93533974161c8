"""Every open statutory limit of a region, of every kind, in due order (``GET /deadlines``).

What the township office's wall chart shows: complaints awaiting a decision, investigations and
rectification orders, grid follow-ups, mediations, arbitration acceptances and awards, petitions to answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from contracts.regions import normalise_region_code
from services.runtime.errors import RuleViolated
from services.runtime.http import CurrentPrincipal, DbConnection, json_response
from services.supervision import queries
from services.supervision.api import Service
from services.supervision.domain.limits import DeadlineView, deadline_view

router = APIRouter(tags=["deadlines"])


class OpenLimit(BaseModel):
    """One running limit: whose, which, and where it stands."""

    stream_type: str
    stream_id: str
    limit: str
    region_code: str
    deadline: DeadlineView


class OpenLimits(BaseModel):
    """A region's running limits, earliest first."""

    region_code: str
    limits: list[OpenLimit]


@router.get("/deadlines", response_model=OpenLimits, summary="Open statutory limits of a region; overdue=true: passed")
async def deadlines(
    service: Service,
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: str | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    try:
        code = normalise_region_code(region or principal.region)
    except ValueError as exc:
        raise RuleViolated("RegionCodeValid", str(exc), field="region") from None
    principal.require_region(code)
    ctx = service.context
    today = ctx.today()
    rows = await queries.region_deadlines(conn, code, due_before=today if overdue else None, limit=limit)
    return json_response(
        OpenLimits(
            region_code=code,
            limits=[
                OpenLimit(
                    stream_type=r[0],
                    stream_id=r[1],
                    limit=r[2],
                    region_code=r[3],
                    deadline=deadline_view(ctx.calendar, r[4], r[5], today, None),
                )
                for r in rows
            ],
        )
    )
