"""The quarterly dynamic survey (动态调查) as a decision on the person aggregate: confirm or change the status."""

from __future__ import annotations

from services.registration.commands.context import Ledger
from services.registration.commands.employment import require_registered_employer
from services.registration.commands.person import PersonDecision
from services.registration.domain.employment import RegisterEmployment
from services.registration.domain.survey import Survey, decide_survey
from services.registration.models.survey import SurveyCreate
from services.runtime.db import Connection


async def survey_person(ledger: Ledger, conn: Connection, person_id: str, body: SurveyCreate) -> PersonDecision:
    """Quarterly dynamic survey (动态调查): confirm or update the status

    A new job the survey records must name a registered employer, if any.
    """
    today = ledger.today()
    surveyed_on = body.surveyed_on or today
    job = body.employment
    if job is not None:
        await require_registered_employer(conn, job.employer_id, field="employment.employer_id")
    finding = Survey(
        quarter=body.quarter,
        status=body.status,
        surveyed_on=surveyed_on,
        employment=None
        if job is None
        else RegisterEmployment(
            kind=job.kind, started_on=job.started_on, reported_on=surveyed_on, employer_id=job.employer_id
        ),
        ended_on=body.ended_on,
        end_reason=body.end_reason,
    )
    return PersonDecision(lambda s: decide_survey(s, finding, today=today))
