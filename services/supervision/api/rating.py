"""Employer routes: supervision's view of an employer and its compliance rating (守法诚信等级)."""

from __future__ import annotations

from datetime import date

import orjson
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from contracts.supervision import Grade
from services.runtime.errors import NotFound
from services.runtime.http import CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import NOT_FOUND
from services.supervision import queries
from services.supervision.api import Service

router = APIRouter(tags=["employers"])


class RatingPublic(BaseModel):
    """An employer's grade, why, and the facts it follows from."""

    employer_id: str
    credit_code: str
    name: str
    region_code: str
    registered: bool
    grade: Grade
    reasons: list[str]
    rated_on: date | None
    violations: int
    penalties: int
    penalty_fen: int
    arrears_open: bool
    arrears_fen: int


@router.get("/employers/{employer_id}/rating", response_model=RatingPublic, responses=NOT_FOUND)
async def employer_rating(
    employer_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    """The employer's compliance rating; an employer with no record is A."""
    employer = await queries.employer_by_id(conn, employer_id)
    if employer is None:
        raise NotFound(f"no employer {employer_id}", field="employer_id")
    principal.require_region(employer.region_code)
    cursor = await conn.execute(
        "SELECT grade, reasons, rated_on, violations, penalties, penalty_fen, arrears_open, arrears_fen"
        " FROM employer_compliance WHERE employer_id = %s",
        (employer.employer_id,),
    )
    row = await cursor.fetchone()
    grade, reasons, rated_on, violations, penalties, penalty_fen, arrears_open, arrears_fen = row or (
        "A", [], None, 0, 0, 0, False, 0,
    )  # fmt: skip
    return json_response(
        RatingPublic(
            employer_id=employer.employer_id,
            credit_code=employer.credit_code,
            name=employer.name,
            region_code=employer.region_code,
            registered=employer.registered,
            grade=grade,
            reasons=reasons if isinstance(reasons, list) else orjson.loads(reasons),
            rated_on=rated_on,
            violations=violations,
            penalties=penalties,
            penalty_fen=penalty_fen,
            arrears_open=arrears_open,
            arrears_fen=arrears_fen,
        )
    )
