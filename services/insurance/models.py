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

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "insurance_type": "unemployment",
                    "basis": "employer",
                    "employer_id": "0b7f3c9a-2d4e-4f61-8a90-3c5d7e9f1a22",
                    "enrolled_on": "2026-03-01",
                }
            ]
        },
    )

    insurance_type: InsuranceType
    basis: EnrolmentBasis
    employer_id: str | None = None
    enrolled_on: date


class EnrolmentChange(_Input):
    """Suspend, resume or terminate an enrolment; suspension and termination need a reason."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"on": "2026-11-01", "reason": "外出务工"}]}
    )

    on: date
    reason: str = ""


class BenefitClaim(_Input):
    """Claim the unemployment benefit (失业保险金申领); the day defaults to today."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"claimed_on": "2026-11-05"}]})

    claimed_on: date | None = None


class BenefitPayment(_Input):
    """Pay one month of the benefit."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"month": "2026-11"}]})

    month: str = Field(pattern=MONTH_PATTERN, examples=["2026-11"])


class BenefitStop(_Input):
    """A clerk records why a benefit stops (失业保险条例 Art 15)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "refused_suitable_work", "stopped_on": "2026-12-01"}]},
    )

    reason: Literal["refused_suitable_work", "enlisted", "emigrated", "imprisoned"]
    stopped_on: date


class RetireeCreate(_Input):
    """Transfer a retiree into community management (退休人员社会化管理) with their pension."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person_id": "5f0c2d1e-8a8b-4c1e-9a57-0d6c3f1b2a10",
                    "monthly_pension_fen": 320000,
                    "retired_on": "2016-02-01",
                    "contribution_years": 30,
                    "transferred_on": "2025-03-10",
                }
            ]
        },
    )

    person_id: str
    monthly_pension_fen: NonNegativeFen
    retired_on: date
    contribution_years: int = Field(ge=0, le=60)
    transferred_on: date


class Certification(_Input):
    """The yearly eligibility certification (资格认证); the day defaults to today."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"certified_on": "2026-06-15"}]})

    certified_on: date | None = None


class SuspensionRun(_Input):
    """Suspend the pensions whose certification is overdue on ``as_of`` (default today), in your region."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"as_of": "2026-12-01"}]})

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

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"died_on": "2026-11-20", "reported_on": "2026-11-22"}]}
    )

    died_on: date
    reported_on: date | None = None


class SurvivorClaim(_Input):
    """The family claims the funeral grant and survivor payment."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"claimed_on": "2026-11-25"}]})

    claimed_on: date | None = None


class SurvivorPayment(_Input):
    """The survivor claim is paid."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"paid_on": "2026-12-01"}]})

    paid_on: date | None = None


class ArrearsCreate(_Input):
    """What an employer owes for one month (欠费核定), in fen."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"month": "2026-10", "amount_fen": 123456, "workers": 6, "due_on": "2026-11-15"}]
        },
    )

    month: str = Field(pattern=MONTH_PATTERN)
    amount_fen: NonNegativeFen
    workers: int = Field(ge=0)
    due_on: date


class ArrearsPayment(_Input):
    """A month's arrears paid in full; the surcharge is computed to the day of payment."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount_fen": 123456, "paid_on": "2026-12-20"}]}
    )

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

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "month": "2026-11",
                    "rows": [
                        {
                            "person_id": "5f0c2d1e-8a8b-4c1e-9a57-0d6c3f1b2a10",
                            "insurance_type": "unemployment",
                            "employer_id": "0b7f3c9a-2d4e-4f61-8a90-3c5d7e9f1a22",
                            "base_fen": 500000,
                            "employer_fen": 2500,
                            "personal_fen": 2500,
                        }
                    ],
                }
            ]
        },
    )

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
