"""The insured person (参保人) as its stream tells it: open enrolments, expected enrolments, the unemployment
benefit, the pension under community management, death and survivor claims, the flexible-employment subsidy.

One stream per person (``insured_person``, keyed by registration's person id), so every rule about a person
decides over one consistent state and one version.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from contracts import insurance as ins
from contracts.envelope import Event
from services.insurance.domain.months import month_of, next_month


@dataclass(frozen=True)
class Enrolment:
    """One open enrolment (参保) of one insurance type."""

    insurance_type: str
    basis: str
    employer_id: str | None
    enrolled_on: date
    suspended: bool = False


@dataclass(frozen=True)
class Expectation:
    """An employer's duty to enrol a new hire within 30 days (社会保险法 Art 58)."""

    employer_id: str | None
    started_on: date
    due_on: date
    met_on: date | None = None


@dataclass(frozen=True)
class Claim:
    """An unemployment benefit (失业保险金) granted for ``months`` months."""

    claim_id: str
    starts_on: date
    months: int
    monthly_amount_fen: int
    paid_months: tuple[str, ...] = ()
    stopped: bool = False

    @property
    def months_left(self) -> int:
        """Months granted and not yet paid."""
        return self.months - len(self.paid_months)

    @property
    def active(self) -> bool:
        """Still being paid."""
        return not self.stopped and self.months_left > 0


@dataclass(frozen=True)
class Pension:
    """A retiree's pension under community management (退休人员社会化管理)."""

    monthly_pension_fen: int
    retired_on: date
    contribution_years: int
    certification_due_on: date
    suspended_from: str | None = None
    stopped_from: str | None = None

    @property
    def paying(self) -> bool:
        """Neither suspended nor stopped."""
        return self.suspended_from is None and self.stopped_from is None


@dataclass(frozen=True)
class InsuredState:
    """Everything insurance knows about one person; ``version`` is the stream's version (the ETag)."""

    person_id: str
    region_code: str
    version: int = 0
    enrolments: dict[str, Enrolment] = field(default_factory=dict)
    expectations: tuple[Expectation, ...] = ()
    claim: Claim | None = None
    #: Months left from earlier claims, carried into the next one (失业保险条例 Art 17).
    unused_months: int = 0
    pension: Pension | None = None
    died_on: date | None = None
    survivor_claim: ins.SurvivorBenefitsClaimed | None = None
    survivor_paid: bool = False
    subsidy_certification: str | None = None

    @classmethod
    def blank(cls, person_id: str, region_code: str) -> InsuredState:
        """A person insurance has recorded nothing about yet."""
        return cls(person_id=person_id, region_code=region_code)

    @property
    def open_expectations(self) -> tuple[Expectation, ...]:
        """Expected enrolments not yet met."""
        return tuple(e for e in self.expectations if e.met_on is None)


def evolve_insured(state: InsuredState | None, event: Event) -> InsuredState:
    """The person after one more of their events."""
    assert isinstance(event, ins.DeathReported | ins.PersonFact)
    if state is None:
        state = InsuredState.blank(event.person_id, event.region_code)
    state = replace(state, version=state.version + 1, region_code=event.region_code)
    return _apply(state, event)


def _apply(state: InsuredState, event: Event) -> InsuredState:
    if isinstance(event, ins.InsuranceEnrolled):
        enrolment = Enrolment(event.insurance_type, event.basis, event.employer_id, event.enrolled_on)
        met = tuple(
            replace(e, met_on=event.enrolled_on) if e.met_on is None and _meets(event, e) else e
            for e in state.expectations
        )
        return replace(state, enrolments={**state.enrolments, event.insurance_type: enrolment}, expectations=met)
    if isinstance(event, ins.EnrolmentSuspended | ins.EnrolmentResumed):
        current = state.enrolments[event.insurance_type]
        changed = replace(current, suspended=isinstance(event, ins.EnrolmentSuspended))
        return replace(state, enrolments={**state.enrolments, event.insurance_type: changed})
    if isinstance(event, ins.EnrolmentTerminated):
        return replace(state, enrolments={k: v for k, v in state.enrolments.items() if k != event.insurance_type})
    if isinstance(event, ins.EnrolmentExpected):
        expectation = Expectation(event.employer_id, event.started_on, event.due_on)
        return replace(state, expectations=(*state.expectations, expectation))
    if isinstance(event, ins.UnemploymentBenefitGranted | ins.UnemploymentBenefitPaid | ins.UnemploymentBenefitStopped):
        return _apply_benefit(state, event)
    if isinstance(event, ins.RetireeTransferredIn):
        pension = Pension(
            event.monthly_pension_fen, event.retired_on, event.contribution_years, event.certification_due_on
        )
        return replace(state, pension=pension)
    if isinstance(event, ins.PensionEligibilityCertified | ins.PensionSuspended | ins.PensionStopped):
        return _apply_pension(state, event)
    if isinstance(event, ins.DeathReported | ins.DeathRecorded):
        return replace(state, died_on=event.died_on)
    if isinstance(event, ins.SurvivorBenefitsClaimed):
        return replace(state, survivor_claim=event)
    if isinstance(event, ins.SurvivorBenefitsPaid):
        return replace(state, survivor_paid=True)
    if isinstance(event, ins.FlexibleSubsidyGranted):
        return replace(state, subsidy_certification=event.certification_id)
    if isinstance(event, ins.FlexibleSubsidyEnded):
        return replace(state, subsidy_certification=None)
    return state


def _meets(enrolled: ins.InsuranceEnrolled, expected: Expectation) -> bool:
    """An employer-based enrolment by the expected employer (or any, when the hire named none) meets it."""
    if enrolled.basis != "employer":
        return False
    return expected.employer_id is None or expected.employer_id == enrolled.employer_id


def _apply_benefit(
    state: InsuredState,
    event: ins.UnemploymentBenefitGranted | ins.UnemploymentBenefitPaid | ins.UnemploymentBenefitStopped,
) -> InsuredState:
    if isinstance(event, ins.UnemploymentBenefitGranted):
        claim = Claim(event.claim_id, event.starts_on, event.months, event.monthly_amount_fen)
        return replace(state, claim=claim, unused_months=0)
    assert state.claim is not None
    if isinstance(event, ins.UnemploymentBenefitPaid):
        return replace(state, claim=replace(state.claim, paid_months=(*state.claim.paid_months, event.month)))
    return replace(state, claim=replace(state.claim, stopped=True), unused_months=event.months_left)


def _apply_pension(
    state: InsuredState, event: ins.PensionEligibilityCertified | ins.PensionSuspended | ins.PensionStopped
) -> InsuredState:
    assert state.pension is not None
    if isinstance(event, ins.PensionEligibilityCertified):
        pension = replace(state.pension, certification_due_on=event.next_due_on, suspended_from=None)
    elif isinstance(event, ins.PensionSuspended):
        pension = replace(state.pension, suspended_from=event.suspended_from)
    else:
        pension = replace(state.pension, stopped_from=event.stopped_from)
    return replace(state, pension=pension)


def pension_stops_from(died_on: date) -> str:
    """The pension is paid for the month of death and stops from the next month (docs/rules.md, "Insurance")."""
    return next_month(month_of(died_on))
