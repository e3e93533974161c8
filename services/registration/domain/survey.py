"""The quarterly dynamic survey (动态调查): a status confirmation per person per quarter."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from contracts.registration import (
    EmploymentEndReason,
    EmploymentStatus,
    StatusSurveyed,
)
from services.registration.domain.common import not_in_future
from services.registration.domain.employment import (
    RegisterEmployment,
    decide_deregister_unemployment,
    decide_end_employment,
    decide_register_employment,
    decide_register_unemployment,
)
from services.registration.domain.person import (
    PersonEvent,
    PersonState,
    decide_record_death,
    decide_retire,
    evolve_person,
    require_alive,
)
from services.registration.domain.working_age import add_months
from services.runtime.errors import RuleViolated

# --- the quarterly dynamic survey (动态调查) ---------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter written ``2026Q3``."""
    match = _QUARTER.fullmatch(quarter)
    if match is None:
        raise RuleViolated("QuarterFormat", f"a quarter is written like 2026Q3, not {quarter!r}", field="quarter")
    year, q = int(match[1]), int(match[2])
    first = date(year, 3 * q - 2, 1)
    return first, add_months(first, 3) - timedelta(days=1)


def quarter_of(day: date) -> str:
    """The quarter a day falls in, e.g. ``2026Q3``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Survey:
    """One quarterly status check of a person; the details say how a changed status came about."""

    quarter: str
    status: EmploymentStatus
    surveyed_on: date
    employment: RegisterEmployment | None = None
    ended_on: date | None = None
    end_reason: EmploymentEndReason | None = None


def decide_survey(state: PersonState, survey: Survey, *, today: date) -> list[PersonEvent]:
    """Confirm or update the status for a quarter (动态调查).

    A confirmed status gives ``StatusSurveyed(changed=False)``. A new status gives the same events the
    matching registration would (each checked by its own rule), then ``StatusSurveyed(changed=True)``.
    """
    first, _ = quarter_bounds(survey.quarter)
    if first > today:
        raise RuleViolated("QuarterNotInFuture", f"quarter {survey.quarter} has not begun", field="quarter")
    not_in_future(survey.surveyed_on, today, "surveyed_on", "SurveyNotInFuture")
    if survey.surveyed_on < first:
        raise RuleViolated(
            "SurveyWithinOrAfterQuarter",
            f"a survey for {survey.quarter} is made from {first} on, not on {survey.surveyed_on}",
            field="surveyed_on",
        )
    events: list[PersonEvent] = []
    current = state

    def apply(new: Sequence[PersonEvent]) -> None:
        nonlocal current
        for event in new:
            current = evolve_person(current, event)
            events.append(event)

    def end_job() -> None:
        if survey.ended_on is None or survey.end_reason is None:
            raise RuleViolated(
                "SurveyNeedsEndOfEmployment",
                "the person was employed: give ended_on and end_reason",
                field="ended_on" if survey.ended_on is None else "end_reason",
            )
        apply(decide_end_employment(current, survey.ended_on, survey.end_reason, survey.surveyed_on, today=today))

    target, day = survey.status, survey.surveyed_on
    if target != state.status:
        require_alive(state, "a change of status")
        if target == "employed":
            if survey.employment is None:
                raise RuleViolated(
                    "SurveyNeedsEmploymentDetails",
                    "a survey that finds the person employed gives the employment (kind, started_on)",
                    field="employment",
                )
            apply(decide_register_employment(current, survey.employment, today=today))
        elif target == "registered_unemployed":
            if current.status == "employed":
                end_job()
            apply(decide_register_unemployment(current, day, today=today))
        elif target == "not_in_labour_force":
            if current.status == "employed":
                end_job()
            elif current.status == "registered_unemployed":
                apply(decide_deregister_unemployment(current, day, "stopped_seeking_work", today=today))
            else:
                raise RuleViolated(
                    "TransitionAllowed",
                    f"a {current.status} person does not return to the labour force",
                    field="status",
                )
        elif target == "retired":
            apply(decide_retire(current, day, today=today))
        else:
            apply(decide_record_death(current, day, today=today))
    events.append(
        StatusSurveyed(
            person_id=state.person_id,
            quarter=survey.quarter,
            status=current.status,
            changed=current.status != state.status,
            surveyed_on=day,
        )
    )
    return events
