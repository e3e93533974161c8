"""The assistance case (援助台账): one per person, its services and its placement (安置就业).

A case opens when registration records an unemployment registration, or on request for anyone in the
ledger; it follows the person's moves and closes on placement, re-employment, death, retirement or
deregistration (docs/design.md, "Assistance"). Every service is an event with when and outcome; who is
the event's actor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date

from contracts import assistance as a
from contracts.envelope import Event
from contracts.registration import EmploymentKind
from services.assistance.domain import NAMESPACE, Policy
from services.assistance.domain.persons import PersonView
from services.runtime.errors import RuleViolated


def case_id_for(person_id: str) -> str:
    """The id of a person's case: one stream per person, reopened rather than duplicated."""
    return str(uuid.uuid5(NAMESPACE, f"case/{person_id}"))


@dataclass(frozen=True)
class Referral:
    """A job referral (推荐就业) and its outcome (None while pending)."""

    referral_id: str
    vacancy_id: str
    employer_id: str
    outcome: str | None = None


@dataclass(frozen=True)
class Training:
    """A training referral and whether it was completed."""

    training_id: str
    occupation: str
    completed: bool = False


@dataclass(frozen=True)
class Profile:
    """What work the person seeks (求职意向)."""

    occupations: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    expected_wage_fen: int | None = None


@dataclass(frozen=True)
class CaseState:
    """A case as its stream tells it; ``version`` is the ETag."""

    case_id: str
    person_id: str
    region_code: str
    version: int
    is_open: bool
    opened_on: date
    closed_on: date | None = None
    close_reason: str | None = None
    referrals: dict[str, Referral] = field(default_factory=dict)
    trainings: dict[str, Training] = field(default_factory=dict)
    profile: Profile = Profile()
    services: int = 0


def evolve_case(state: CaseState | None, event: Event) -> CaseState:
    """The case after one more of its events."""
    if isinstance(event, a.CaseOpened):
        if state is None:
            return CaseState(event.case_id, event.person_id, event.region_code, 1, True, event.opened_on)
        return replace(
            state,
            version=state.version + 1,
            is_open=True,
            opened_on=event.opened_on,
            region_code=event.region_code,
            closed_on=None,
            close_reason=None,
        )
    assert state is not None, f"{event.event_type} before CaseOpened"
    state = replace(state, version=state.version + 1)
    if isinstance(event, a.CaseMoved):
        return replace(state, region_code=event.region_code)
    if isinstance(event, a.CaseClosed):
        return replace(state, is_open=False, closed_on=event.closed_on, close_reason=event.reason)
    if isinstance(event, a.PlacedInJob):
        return replace(state, is_open=False, closed_on=event.placed_on, close_reason="placed")
    if isinstance(event, a.JobSeekingProfileRecorded):
        profile = Profile(tuple(event.occupations), tuple(event.skills), event.expected_wage_fen)
        return replace(state, profile=profile)
    if isinstance(event, a.JobReferred):
        referral = Referral(event.referral_id, event.vacancy_id, event.employer_id)
        return replace(state, referrals={**state.referrals, event.referral_id: referral}, services=state.services + 1)
    if isinstance(event, a.ReferralOutcomeRecorded):
        done = replace(state.referrals[event.referral_id], outcome=event.outcome)
        return replace(state, referrals={**state.referrals, event.referral_id: done})
    if isinstance(event, a.TrainingReferred):
        training = Training(event.training_id, event.occupation)
        return replace(state, trainings={**state.trainings, event.training_id: training}, services=state.services + 1)
    if isinstance(event, a.TrainingCompleted):
        done_training = replace(state.trainings[event.training_id], completed=True)
        return replace(state, trainings={**state.trainings, event.training_id: done_training})
    if isinstance(event, a.ServiceRated):
        return state  # a rating is not a service
    return replace(state, services=state.services + 1)


def _fact(state: CaseState) -> dict[str, str]:
    return {"case_id": state.case_id, "person_id": state.person_id, "region_code": state.region_code}


def _require_open(state: CaseState) -> None:
    if not state.is_open:
        raise RuleViolated(
            "CaseIsOpen",
            f"case {state.case_id} closed on {state.closed_on} ({state.close_reason}); open it again first",
            field="case_id",
        )


# --- opening, moving, closing --------------------------------------------------------------------------


def decide_open_case(
    state: CaseState | None,
    person: PersonView,
    *,
    on: date,
    reason: a.CaseOpenReason,
    indicated: list[a.HardToEmployCategory],
) -> list[a.CaseOpened]:
    """Open (or reopen) the person's case; an open case stays as it is when a reaction asks again."""
    if state is not None and state.is_open:
        if reason == "requested":
            raise RuleViolated(
                "OneOpenCasePerPerson",
                f"person {person.person_id} already has open case {state.case_id}",
                field="person_id",
                case_id=state.case_id,
            )
        return []
    if not person.in_labour_force or person.status == "employed":
        raise RuleViolated(
            "CaseForPersonWithoutWork",
            f"a case helps someone without work into a job; person {person.person_id} is {person.status}",
            field="person_id",
        )
    return [
        a.CaseOpened(
            case_id=case_id_for(person.person_id),
            person_id=person.person_id,
            region_code=person.region_code,
            opened_on=on,
            reason=reason,
            sex=person.sex,
            birth_date=person.birth_date,
            hukou=person.hukou,
            household_id=person.household_id,
            indicated_categories=indicated,
        )
    ]


def decide_move_case(state: CaseState, region_code: str, on: date) -> list[a.CaseMoved]:
    """An open case follows the person to their new village (registration ``PersonMoved``)."""
    if not state.is_open or state.region_code == region_code:
        return []
    return [
        a.CaseMoved(
            case_id=state.case_id,
            person_id=state.person_id,
            region_code=region_code,
            from_region_code=state.region_code,
            moved_on=on,
        )
    ]


def decide_close_case(state: CaseState, on: date, reason: a.CaseCloseReason) -> list[a.CaseClosed]:
    """Close an open case; a closed one stays closed (reactions may ask twice)."""
    if not state.is_open:
        return []
    return [a.CaseClosed(**_fact(state), closed_on=on, reason=reason)]


# --- services (就业服务) ------------------------------------------------------------------------------


def decide_profile(
    state: CaseState, occupations: list[str], skills: list[str], expected_wage_fen: int | None, on: date
) -> list[a.JobSeekingProfileRecorded]:
    """Record what work the person seeks, which matching ranks vacancies by."""
    _require_open(state)
    return [
        a.JobSeekingProfileRecorded(
            **_fact(state), occupations=occupations, skills=skills, expected_wage_fen=expected_wage_fen, recorded_on=on
        )
    ]


def decide_guidance(state: CaseState, topic: str, outcome: str, on: date) -> list[a.VocationalGuidanceGiven]:
    """Vocational guidance (职业指导)."""
    _require_open(state)
    return [a.VocationalGuidanceGiven(**_fact(state), given_on=on, topic=topic, outcome=outcome)]


def decide_home_visit(state: CaseState, findings: str, needs: list[str], on: date) -> list[a.HomeVisited]:
    """A home visit (入户家访): village staff visit the households they assist (docs/design.md, "Assistance")."""
    _require_open(state)
    return [a.HomeVisited(**_fact(state), visited_on=on, findings=findings, needs=needs)]


@dataclass(frozen=True)
class OpenVacancy:
    """A vacancy as assistance's view of registration's events shows it."""

    vacancy_id: str
    employer_id: str
    region_code: str
    occupation: str
    remaining: int
    is_open: bool
    wage_min_fen: int = 0
    wage_max_fen: int = 0
    requirements: str | None = None


def decide_referral(
    state: CaseState, vacancy: OpenVacancy | None, vacancy_id: str, referral_id: str, on: date
) -> list[a.JobReferred]:
    """Refer the person to an open vacancy with positions left (推荐就业); one pending referral per vacancy."""
    _require_open(state)
    if vacancy is None or not vacancy.is_open or vacancy.remaining < 1:
        raise RuleViolated(
            "ReferralToOpenVacancy", f"vacancy {vacancy_id} is not open with positions left", field="vacancy_id"
        )
    if any(r.vacancy_id == vacancy_id and r.outcome is None for r in state.referrals.values()):
        raise RuleViolated(
            "OnePendingReferralPerVacancy", f"a referral to vacancy {vacancy_id} is still pending", field="vacancy_id"
        )
    return [
        a.JobReferred(
            **_fact(state),
            referral_id=referral_id,
            vacancy_id=vacancy_id,
            employer_id=vacancy.employer_id,
            occupation=vacancy.occupation,
            referred_on=on,
        )
    ]


def decide_referral_outcome(
    state: CaseState, person: PersonView, referral_id: str, outcome: a.ReferralOutcome, on: date, started_on: date
) -> list[Event]:
    """Record how a referral ended; ``hired`` is a placement in that vacancy, which closes the case."""
    referral = state.referrals.get(referral_id)
    if referral is None:
        raise RuleViolated("OutcomeOfAKnownReferral", f"case has no referral {referral_id}", field="referral_id")
    if referral.outcome is not None:
        raise RuleViolated(
            "ReferralOutcomeOnce", f"referral {referral_id} already ended: {referral.outcome}", field="outcome"
        )
    recorded = a.ReferralOutcomeRecorded(
        **_fact(state), referral_id=referral_id, vacancy_id=referral.vacancy_id, outcome=outcome, recorded_on=on
    )
    if outcome != "hired":
        return [recorded]
    placed = decide_placement(
        state,
        person,
        kind="unit",
        employer_id=referral.employer_id,
        vacancy_id=referral.vacancy_id,
        started_on=started_on,
        on=on,
    )
    return [recorded, *placed]


def decide_training_referral(
    state: CaseState, training_id: str, occupation: str, provider: str, on: date
) -> list[a.TrainingReferred]:
    """Refer the person to vocational training (职业技能培训)."""
    _require_open(state)
    return [
        a.TrainingReferred(
            **_fact(state), training_id=training_id, occupation=occupation, provider=provider, referred_on=on
        )
    ]


def decide_training_completion(
    state: CaseState, training_id: str, certificate: str | None, on: date
) -> list[a.TrainingCompleted]:
    """A referred training was completed, once (a closed case may still report it: training outlives placement)."""
    training = state.trainings.get(training_id)
    if training is None:
        raise RuleViolated("TrainingCompletesAReferral", f"case has no training {training_id}", field="training_id")
    if training.completed:
        raise RuleViolated("TrainingCompletedOnce", f"training {training_id} is already completed", field="training_id")
    return [
        a.TrainingCompleted(
            **_fact(state),
            training_id=training_id,
            occupation=training.occupation,
            completed_on=on,
            certificate=certificate,
        )
    ]


def decide_entrepreneurship(
    state: CaseState, kind: a.EntrepreneurshipServiceKind, outcome: str, on: date
) -> list[a.EntrepreneurshipServiceGiven]:
    """An entrepreneurship service (创业服务)."""
    _require_open(state)
    return [a.EntrepreneurshipServiceGiven(**_fact(state), given_on=on, kind=kind, outcome=outcome)]


def decide_loan_pre_review(
    state: CaseState, amount_fen: int, passed: bool, reason: str, on: date, policy: Policy
) -> list[a.BusinessLoanPreReviewed]:
    """Pre-review of a small guaranteed business loan (创业担保贷款资格初审), at most the cap (财金〔2020〕21号)."""
    _require_open(state)
    if amount_fen <= 0:
        raise RuleViolated("BusinessLoanAmountPositive", "the loan amount must be more than 0 fen", field="amount_fen")
    if amount_fen > policy.business_loan_cap_fen:
        raise RuleViolated(
            "BusinessLoanWithinCap",
            f"{amount_fen} fen is over the cap of {policy.business_loan_cap_fen} fen for an individual",
            field="amount_fen",
        )
    return [
        a.BusinessLoanPreReviewed(**_fact(state), amount_fen=amount_fen, passed=passed, reason=reason, reviewed_on=on)
    ]


# --- placement (安置就业) -----------------------------------------------------------------------------


def decide_placement(
    state: CaseState,
    person: PersonView,
    *,
    kind: EmploymentKind,
    employer_id: str | None,
    vacancy_id: str | None,
    started_on: date,
    on: date,
) -> list[a.PlacedInJob]:
    """Place the person in a job: the case closes and registration records the employment (就业登记)."""
    _require_open(state)
    if person.status == "employed":
        raise RuleViolated(
            "PlacementOfPersonWithoutWork", f"person {person.person_id} is already employed", field="person_id"
        )
    if started_on > on:
        raise RuleViolated(
            "PlacementHasStarted",
            f"started_on {started_on} is after the placement is recorded ({on})",
            field="started_on",
        )
    return [
        a.PlacedInJob(
            **_fact(state),
            kind=kind,
            employer_id=employer_id,
            vacancy_id=vacancy_id,
            started_on=started_on,
            placed_on=on,
        )
    ]
