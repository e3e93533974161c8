"""Routes of the quarterly dynamic survey (动态调查): record a survey, list who is not yet surveyed."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.registration import queries
from services.registration.api.deps import INVALID, LedgerDep, PersonReader, add_person_change
from services.registration.api.search import CURSOR, LIMIT, decode_cursor, page, scoped_region
from services.registration.commands import survey
from services.registration.domain.survey import quarter_bounds, quarter_of
from services.registration.models.survey import QUARTER_PATTERN, SurveyCreate, SurveyPendingPage
from services.runtime.http import DbConnection, json_response

router = APIRouter(tags=["registration"])


add_person_change(router, "/persons/{person_id}/surveys", SurveyCreate, survey.survey_person)


@router.get(
    "/regions/{region_code}/survey-pending",
    response_model=SurveyPendingPage,
    responses={403: {"description": "Region outside the caller's scope"}, **INVALID},
    summary="Who in a village (or any region subtree) has not been surveyed this quarter (动态调查)",
)
async def survey_pending(
    region_code: str,
    ledger: LedgerDep,
    principal: PersonReader,
    conn: DbConnection,
    quarter: str | None = Query(None, pattern=QUARTER_PATTERN, description="Default: the current quarter"),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
) -> Response:
    scope = scoped_region(principal, region_code)
    quarter = quarter or quarter_of(ledger.today())
    _, last = quarter_bounds(quarter)
    rows = await queries.survey_pending(conn, scope, quarter, last, limit=limit + 1, after=decode_cursor(cursor))
    found = page(rows, limit, principal, ledger.vault)
    return json_response(SurveyPendingPage(region_code=scope, quarter=quarter, **found.model_dump()))
