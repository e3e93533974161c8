"""Employment and unemployment registration (就业失业登记) on the person aggregate.

Employers report a hire within 30 days and a termination within 15 (就业服务与就业管理规定 Art 62); a
person holds exactly one employment status at a time (docs/design.md "Registration").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from contracts.registration import (
    INVOLUNTARY_END_REASONS,
    EmploymentEnded,
    EmploymentEndReason,
    EmploymentKind,
    EmploymentRegistered,
    Source,
    UnemploymentDeregistered,
    UnemploymentRegistered,
)
from services.registration.domain.common import not_in_future
from services.registration.domain.person import PersonState, require_alive
from services.registration.domain.working_age import MINIMUM_WORKING_AGE, age_on, statutory_retirement_date
from services.runtime.errors import RuleViolated

#: Employers report a hire within 30 days and a termination within 15 (就业服务与就业管理规定 Art 62).
HIRE_REPORT_DAYS = 30
TERMINATION_REPORT_DAYS = 15


@dataclass(frozen=True)
class RegisterEmployment:
    """Employment registration (就业登记)."""

    kind: EmploymentKind
    started_on: date
    reported_on: date
    employer_id: str | None = None
    vacancy_id: str | None = None
    source: Source = "registration"


def decide_register_employment(
    state: PersonState, command: RegisterEmployment, *, today: date
) -> list[EmploymentRegistered]:
    """A person of working age who is not already employed starts work (就业登记).

    The hire is due to be reported within 30 days of the start (就业服务与就业管理规定 Art 62); a later
    report is accepted and flagged ``reported_late``.
    """
    require_alive(state, "employment registration")
    if state.status == "employed":
        raise RuleViolated(
            "OneEmploymentAtATime",
            "the person is already registered as employed; end that employment first",
            field="status",
        )
    if state.status == "retired":
        raise RuleViolated(
            "RetiredLeftTheLabourForce",
            "the person is retired and has left the labour force; employment registration is for working age",
            field="status",
        )
    not_in_future(command.started_on, today, "started_on", "EmploymentStartNotInFuture")
    not_in_future(command.reported_on, today, "reported_on", "ReportNotInFuture")
    if command.reported_on < command.started_on:
        raise RuleViolated(
            "HireReportedAfterStart",
            f"a hire is reported once work has started ({command.started_on}), not on {command.reported_on}",
            field="reported_on",
        )
    if age_on(state.birth_date, command.started_on) < MINIMUM_WORKING_AGE:
        raise RuleViolated(
            "NoEmploymentUnder16",
            f"nobody under {MINIMUM_WORKING_AGE} may be employed (禁止使用童工规定 Art 2); born {state.birth_date}",
            field="started_on",
        )
    retirement = statutory_retirement_date(state.birth_date, state.sex)
    if command.started_on >= retirement:
        raise RuleViolated(
            "RegistrationIsForWorkingAge",
            f"the person reached the statutory retirement age on {retirement}",
            field="started_on",
        )
    deadline = command.started_on + timedelta(days=HIRE_REPORT_DAYS)
    return [
        EmploymentRegistered(
            person_id=state.person_id,
            previous_status=state.status,
            kind=command.kind,
            employer_id=command.employer_id,
            vacancy_id=command.vacancy_id,
            started_on=command.started_on,
            reported_on=command.reported_on,
            report_deadline=deadline,
            reported_late=command.reported_on > deadline,
            source=command.source,
        )
    ]


def decide_end_employment(
    state: PersonState, ended_on: date, reason: EmploymentEndReason, reported_on: date, *, today: date
) -> list[EmploymentEnded]:
    """Employment ends (终止/解除劳动关系), reported within 15 days (Art 62) or flagged late.

    The reasons of 失业保险条例 Art 14 (``INVOLUNTARY_END_REASONS``) mark the loss as not by own choice.
    Ending for retirement leaves the person retired; otherwise not in the labour force until they
    register as unemployed.
    """
    require_alive(state, "ending employment")
    if state.status != "employed" or state.employment is None:
        raise RuleViolated(
            "EndNeedsEmployment", f"the person is {state.status}, not employed: there is no job to end", field="status"
        )
    not_in_future(ended_on, today, "ended_on", "EmploymentEndNotInFuture")
    not_in_future(reported_on, today, "reported_on", "ReportNotInFuture")
    if ended_on < state.employment.started_on:
        raise RuleViolated(
            "EmploymentEndsAfterStart",
            f"the employment started on {state.employment.started_on}; it cannot end on {ended_on}",
            field="ended_on",
        )
    if reported_on < ended_on:
        raise RuleViolated(
            "TerminationReportedAfterEnd",
            f"a termination is reported once it happened ({ended_on})",
            field="reported_on",
        )
    deadline = ended_on + timedelta(days=TERMINATION_REPORT_DAYS)
    return [
        EmploymentEnded(
            person_id=state.person_id,
            kind=state.employment.kind,
            employer_id=state.employment.employer_id,
            ended_on=ended_on,
            reason=reason,
            involuntary=reason in INVOLUNTARY_END_REASONS,
            reported_on=reported_on,
            report_deadline=deadline,
            reported_late=reported_on > deadline,
            status_after="retired" if reason == "retired" else "not_in_labour_force",
        )
    ]


def decide_register_unemployment(
    state: PersonState, registered_on: date, *, today: date
) -> list[UnemploymentRegistered]:
    """Unemployment registration (失业登记) for a person of working age who is out of work.

    Whether the last job was lost not by own choice comes from how the last employment ended.
    """
    require_alive(state, "unemployment registration")
    if state.status == "employed":
        raise RuleViolated(
            "EndEmploymentBeforeUnemployment",
            "the person is registered as employed; end that employment before registering unemployment",
            field="status",
        )
    if state.status == "registered_unemployed":
        raise RuleViolated("AlreadyRegisteredUnemployed", "the person is already registered unemployed", field="status")
    if state.status == "retired":
        raise RuleViolated(
            "RetiredLeftTheLabourForce", "a retired person cannot register as unemployed", field="status"
        )
    not_in_future(registered_on, today, "registered_on", "RegistrationNotInFuture")
    if state.last_ended_on is not None and registered_on < state.last_ended_on:
        raise RuleViolated(
            "UnemploymentAfterLastJob",
            f"the last employment ended on {state.last_ended_on}; unemployment starts after that",
            field="registered_on",
        )
    if not state.working_age_on(registered_on):
        raise RuleViolated(
            "RegistrationIsForWorkingAge",
            f"unemployment registration is for ages {MINIMUM_WORKING_AGE} to the statutory retirement age "
            f"({statutory_retirement_date(state.birth_date, state.sex)}); born {state.birth_date}",
            field="registered_on",
        )
    return [
        UnemploymentRegistered(
            person_id=state.person_id,
            previous_status=state.status,
            registered_on=registered_on,
            involuntary=state.last_end_reason in INVOLUNTARY_END_REASONS,
            last_employment_end_reason=state.last_end_reason,
        )
    ]


DeregistrationReason = Literal["stopped_seeking_work", "moved_away", "enlisted", "emigrated", "imprisoned", "other"]


def decide_deregister_unemployment(
    state: PersonState, deregistered_on: date, reason: DeregistrationReason, *, today: date
) -> list[UnemploymentDeregistered]:
    """Cancel an unemployment registration (注销失业登记) other than by finding work."""
    require_alive(state, "deregistration")
    if state.status != "registered_unemployed":
        raise RuleViolated(
            "DeregistrationNeedsUnemploymentRegistration",
            f"the person is {state.status}, not registered unemployed",
            field="status",
        )
    not_in_future(deregistered_on, today, "deregistered_on", "DeregistrationNotInFuture")
    return [UnemploymentDeregistered(person_id=state.person_id, deregistered_on=deregistered_on, reason=reason)]
