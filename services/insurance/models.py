"""What clients send to the insurance API and what they see: separate input and output types."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.insurance import MONTH_PATTERN, EnrolmentBasis, InsuranceType
from contracts.money import NonNegativeFen
from services.insurance.domain.employer_account import EmployerAccount
from services.insurance.domain.insured import InsuredState
from services.runtime.aggregate import Changed


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolmentCreate(_Input):
    """Enrol a person in one insurance type (参保登记)."""

    insurance_type: InsuranceType
    basis: EnrolmentBasis
    employer_id: str | None = None
    enrolled_on: date


class EnrolmentChange(_Input):
    """Suspend, resume or terminate an enrolment; suspension and termination need a reason."""

    on: date
    reason: str = ""


class BenefitClaim(_Input):
    """Claim the unemployment benefit (失业保险金申领); the day defaults to today."""

    claimed_on: date | None = None


class BenefitPayment(_Input):
    """Pay one month of the benefit."""

    month: str = Field(pattern=MONTH_PATTERN, examples=["2026-11"])


class BenefitStop(_Input):
    """A clerk records why a benefit stops (失业保险条例 Art 15)."""

    reason: Literal["refused_suitable_work", "enlisted", "emigrated", "imprisoned"]
    stopped_on: date


class RetireeCreate(_Input):
    """Transfer a retiree into community management (退休人员社会化管理) with their pension."""

    person_id: str
    monthly_pension_fen: NonNegativeFen
    retired_on: date
    contribution_years: int = Field(ge=0, le=60)
    transferred_on: date


class Certification(_Input):
    """The yearly eligibility certification (资格认证); the day defaults to today."""

    certified_on: date | None = None


class SuspensionRun(_Input):
    """Suspend the pensions whose certification is overdue on ``as_of`` (default today), in your region."""

    as_of: date | None = None


class Suspended(BaseModel):
    """How many pensions an overdue run suspended."""

    as_of: date
    suspended: int


class PaymentRun(BaseModel):
    """How many benefits a monthly payment run paid."""

    month: str
    paid: int


class DeathReport(_Input):
    """A death reported to insurance (死亡报告)."""

    died_on: date
    reported_on: date | None = None


class SurvivorClaim(_Input):
    """The family claims the funeral grant and survivor payment."""

    claimed_on: date | None = None


class SurvivorPayment(_Input):
    """The survivor claim is paid."""

    paid_on: date | None = None


class ArrearsCreate(_Input):
    """What an employer owes for one month (欠费核定), in fen."""

    month: str = Field(pattern=MONTH_PATTERN)
    amount_fen: NonNegativeFen
    workers: int = Field(ge=0)
    due_on: date


class ArrearsPayment(_Input):
    """A month's arrears paid in full; the surcharge is computed to the day of payment."""

    amount_fen: NonNegativeFen
    paid_on: date | None = None


class ContributionIn(_Input):
    """One person's contribution of one type for the month, in fen."""

    person_id: str
    insurance_type: str
    employer_id: str | None = None
    base_fen: NonNegativeFen
    employer_fen: NonNegativeFen
    personal_fen: NonNegativeFen


class ContributionBatch(_Input):
    """A month's contributions sent as JSON (up to 10,000 rows; larger months go as a file)."""

    month: str = Field(pattern=MONTH_PATTERN)
    rows: list[ContributionIn] = Field(min_length=1, max_length=10_000)


class EventOut(BaseModel):
    """An event a command appended."""

    type: str
    data: dict[str, Any]


class InsuredPublic(BaseModel):
    """A person's insurance record."""

    person_id: str
    region_code: str
    version: int
    enrolments: list[dict[str, Any]]
    expectations: list[dict[str, Any]]
    benefit: dict[str, Any] | None
    unused_benefit_months: int
    pension: dict[str, Any] | None
    died_on: date | None
    survivor_claim: dict[str, Any] | None
    survivor_paid: bool
    subsidy_certification: str | None

    @classmethod
    def of(cls, state: InsuredState) -> InsuredPublic:
        """The record of ``state``."""
        claim = state.claim
        return cls(
            person_id=state.person_id,
            region_code=state.region_code,
            version=state.version,
            enrolments=[e.__dict__ for e in state.enrolments.values()],
            expectations=[e.__dict__ for e in state.expectations],
            benefit=None
            if claim is None
            else {**claim.__dict__, "months_left": claim.months_left, "active": claim.active},
            unused_benefit_months=state.unused_months,
            pension=None if state.pension is None else {**state.pension.__dict__, "paying": state.pension.paying},
            died_on=state.died_on,
            survivor_claim=None if state.survivor_claim is None else state.survivor_claim.model_dump(mode="json"),
            survivor_paid=state.survivor_paid,
            subsidy_certification=state.subsidy_certification,
        )


class InsuredChange(BaseModel):
    """The answer to a command on a person: the new version, what was appended, the record after it."""

    version: int
    events: list[EventOut]
    insurance: InsuredPublic

    @classmethod
    def of(cls, changed: Changed[InsuredState]) -> InsuredChange:
        """The answer for ``changed``."""
        return cls(
            version=changed.version,
            events=[EventOut(type=e.event_type, data=e.model_dump(mode="json")) for e in changed.events],
            insurance=InsuredPublic.of(changed.after),
        )


class AccountPublic(BaseModel):
    """An employer's arrears, with the surcharge to the day asked about."""

    employer_id: str
    region_code: str
    version: int
    owed: list[dict[str, Any]]
    arrears_fen: int
    surcharge_fen: int
    surcharge_on: date
    reported_to_supervision: bool

    @classmethod
    def of(cls, account: EmployerAccount, day: date) -> AccountPublic:
        """The account as of ``day``."""
        return cls(
            employer_id=account.employer_id,
            region_code=account.region_code,
            version=account.version,
            owed=[{"month": m, **o.__dict__} for m, o in sorted(account.owed.items())],
            arrears_fen=sum(o.amount_fen for o in account.owed.values()),
            surcharge_fen=account.surcharge_on(day),
            surcharge_on=day,
            reported_to_supervision=account.reported,
        )


class AccountChange(BaseModel):
    """The answer to a command on an employer's account."""

    version: int
    events: list[EventOut]
    account: AccountPublic
