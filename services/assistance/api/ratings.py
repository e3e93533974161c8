"""The satisfaction rating of a service (服务对象满意度评价), a change of the person's case."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.assistance import queries
from services.assistance.api import ChangeResult, day, handlers, run
from services.assistance.domain.cases import CaseState
from services.assistance.domain.ratings import decide_rating
from services.runtime.aggregate import Changed
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands
from services.runtime.routes import INVALID, NOT_FOUND, STALE, OptionalExpectedVersion

router = APIRouter(tags=["case services"])


class RatingCreate(BaseModel):
    """How satisfied the person served was with one service, from the rating slip or call-back (回访)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"service_event_id": "0190f1d2-7c3a-7b1e-9a53-2d0b6f1c2a9e", "score": 5, "rated_on": "2026-11-20"}
            ]
        },
    )

    service_event_id: uuid.UUID = Field(description="The event id of the service rated (in the case's history)")
    score: int = Field(ge=1, le=5, description="1 very unsatisfied ... 5 very satisfied")
    rated_on: date | None = Field(default=None, description="Default today; not in the future")


@router.post(
    "/cases/{case_id}/ratings",
    response_model=ChangeResult,
    responses={**NOT_FOUND, **STALE, **INVALID},
    summary="The person's satisfaction with one service (满意度评价), credited to the staff member who gave it",
)
async def rate_service(
    case_id: str, body: RatingCreate, request: Request, command: Commands, version: OptionalExpectedVersion
) -> Response:
    cases, on = handlers(request).cases, day(body.rated_on, "rated_on")

    async def change(conn: Connection, meta: Metadata) -> Changed[CaseState]:
        service = await queries.service_on_case(conn, case_id, str(body.service_event_id))
        decide = partial(decide_rating, service=service, score=body.score, on=on)
        return await cases.change(conn, command.principal, case_id, decide, meta, expected_version=version)

    return await run(command, change, expected_version=version)
