"""Enrolment (参保登记) by insurance type, the 30-day enrolment expectation, and the flexible-employment
insurance subsidy (docs/rules.md, "Insurance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from contracts import insurance as ins
from contracts.insurance import EnrolmentBasis, InsuranceType
from services.insurance.domain.insured import InsuredState
from services.insurance.domain.months import month_of, require_not_future
from services.runtime.errors import RuleViolated

#: Types a flexibly employed person may enrol in on their own (社会保险法 Art 10, 23): pension and medical.
FLEXIBLE_TYPES: frozenset[str] = frozenset({"enterprise_pension", "resident_pension", "medical"})
#: The two pension schemes; a person belongs to one at a time (国发〔2014〕8号 Art 9).
PENSION_TYPES: frozenset[str] = frozenset({"enterprise_pension", "resident_pension"})

SUBSIDY_ARTICLE = "就业促进法 Art 52; 就业补助资金管理办法 (财社〔2017〕164号) Art 7"


@dataclass(frozen=True)
class Enrol:
    """Enrol a person in one insurance type."""

    insurance_type: InsuranceType
    basis: EnrolmentBasis
    enrolled_on: date
    employer_id: str | None = None


def require_alive(state: InsuredState) -> None:
    """Nothing new starts for a person whose death is recorded."""
    if state.died_on is not None:
        raise RuleViolated("PersonIsAlive", f"person {state.person_id} died on {state.died_on}", field="person_id")


def decide_enrol(
    command: Enrol, state: InsuredState, *, employer_known: bool, today: date
) -> list[ins.InsuranceEnrolled]:
    """One open enrolment per person and type; employer-based needs an employer registration knows, and the
    resident pension, work injury and maternity have their own bases (社会保险法 Art 10, 23, 33, 53, 58)."""
    require_alive(state)
    require_not_future(command.enrolled_on, today, field="enrolled_on")
    kind = command.insurance_type
    if kind in state.enrolments:
        raise RuleViolated(
            "OneOpenEnrolmentPerType",
            f"person {state.person_id} is already enrolled in {kind} since {state.enrolments[kind].enrolled_on}",
            field="insurance_type",
        )
    if kind in PENSION_TYPES and PENSION_TYPES & state.enrolments.keys():
        raise RuleViolated(
            "OnePensionScheme", "a person belongs to one pension scheme at a time", field="insurance_type"
        )
    if command.basis == "employer":
        if kind == "resident_pension":
            raise RuleViolated(
                "ResidentPensionIsIndividual",
                "the urban-rural resident pension is enrolled individually, never through an employer",
                field="basis",
            )
        if command.employer_id is None or not employer_known:
            raise RuleViolated(
                "EmployerKnownFromRegistration",
                f"employer {command.employer_id} is not registered (就业登记 of employers comes from registration)",
                field="employer_id",
            )
    else:
        if command.employer_id is not None:
            raise RuleViolated("FlexibleHasNoEmployer", "a flexible enrolment names no employer", field="employer_id")
        if kind not in FLEXIBLE_TYPES:
            raise RuleViolated(
                "FlexibleEnrolmentTypes",
                f"flexibly employed persons enrol in {', '.join(sorted(FLEXIBLE_TYPES))} only",
                field="insurance_type",
            )
    return [
        ins.InsuranceEnrolled(
            person_id=state.person_id,
            region_code=state.region_code,
            insurance_type=kind,
            basis=command.basis,
            employer_id=command.employer_id,
            enrolled_on=command.enrolled_on,
        )
    ]


@dataclass(frozen=True)
class EndEnrolment:
    """Suspend, resume or terminate an enrolment, with the reason."""

    insurance_type: InsuranceType
    action: Literal["suspend", "resume", "terminate"]
    on: date
    reason: str = ""


def decide_end_enrolment(
    command: EndEnrolment, state: InsuredState, *, today: date
) -> list[ins.EnrolmentSuspended | ins.EnrolmentResumed | ins.EnrolmentTerminated]:
    """Suspension and termination name their reason; only a suspended enrolment resumes."""
    require_not_future(command.on, today, field="on")
    enrolment = state.enrolments.get(command.insurance_type)
    if enrolment is None:
        raise RuleViolated(
            "EnrolmentIsOpen",
            f"no open {command.insurance_type} enrolment for {state.person_id}",
            field="insurance_type",
        )
    if command.on < enrolment.enrolled_on:
        raise RuleViolated("AfterEnrolment", f"the enrolment began on {enrolment.enrolled_on}", field="on")
    if command.action != "resume" and not command.reason.strip():
        raise RuleViolated("ReasonGiven", f"to {command.action} an enrolment, give the reason", field="reason")
    common = {"person_id": state.person_id, "region_code": state.region_code, "insurance_type": command.insurance_type}
    if command.action == "resume":
        if not enrolment.suspended:
            raise RuleViolated("EnrolmentIsSuspended", "only a suspended enrolment resumes", field="insurance_type")
        return [ins.EnrolmentResumed(**common, resumed_on=command.on)]
    if command.action == "suspend":
        if enrolment.suspended:
            raise RuleViolated("EnrolmentIsActive", "the enrolment is already suspended", field="insurance_type")
        return [ins.EnrolmentSuspended(**common, suspended_on=command.on, reason=command.reason)]
    return [ins.EnrolmentTerminated(**common, terminated_on=command.on, reason=command.reason)]


def decide_expect_enrolment(
    state: InsuredState,
    *,
    employer_id: str | None,
    started_on: date,
    due_on: date,
    source: Literal["registration", "assistance"],
) -> list[ins.EnrolmentExpected]:
    """A new hire is expected to be enrolled by ``due_on`` (社会保险法 Art 58); a hire already expected (the
    same start reported by registration and by assistance) or already enrolled by the employer changes nothing."""
    if state.died_on is not None or any(e.started_on == started_on for e in state.expectations):
        return []
    if any(
        e.basis == "employer" and (employer_id is None or e.employer_id == employer_id)
        for e in state.enrolments.values()
    ):
        return []
    return [
        ins.EnrolmentExpected(
            person_id=state.person_id,
            region_code=state.region_code,
            employer_id=employer_id,
            started_on=started_on,
            due_on=due_on,
            source=source,
        )
    ]


def decide_grant_subsidy(
    state: InsuredState, *, certification_id: str, certified_on: date, review_on: date
) -> list[ins.FlexibleSubsidyGranted]:
    """A certified hard-to-employ person may draw the flexible-employment insurance subsidy from the month of
    certification until the certification's review date (就业促进法 Art 52)."""
    if state.died_on is not None or state.subsidy_certification == certification_id:
        return []
    return [
        ins.FlexibleSubsidyGranted(
            person_id=state.person_id,
            region_code=state.region_code,
            certification_id=certification_id,
            from_month=month_of(certified_on),
            review_on=review_on,
            article=SUBSIDY_ARTICLE,
        )
    ]


def decide_end_subsidy(
    state: InsuredState, *, certification_id: str, ended_on: date, reason: str
) -> list[ins.FlexibleSubsidyEnded]:
    """The subsidy ends with the hard-to-employ status it rests on (a different certification: nothing)."""
    if state.subsidy_certification != certification_id:
        return []
    return [
        ins.FlexibleSubsidyEnded(
            person_id=state.person_id,
            region_code=state.region_code,
            certification_id=certification_id,
            ended_on=ended_on,
            reason=reason,
        )
    ]
