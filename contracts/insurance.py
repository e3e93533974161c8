"""Events of the insurance service (社会保险) on ``insurance.events``.

The cross-service facts are fixed here before either side uses them: registration reacts to
``DeathReported``; supervision reacts to ``EmployerArrearsReported`` (an employer two months or more in
arrears) and ``EmployerArrearsCleared``. The insurance service adds its other events to this module and to
:data:`EVENTS`, which ``contracts.registry`` reads. Money is integer fen (``contracts.money``).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode

#: Insurance types a person enrols in (险种): enterprise employee pension, urban-rural resident pension,
#: basic medical, unemployment, work injury, maternity.
InsuranceType = Literal[
    "enterprise_pension",  # 企业职工基本养老保险
    "resident_pension",  # 城乡居民基本养老保险
    "medical",  # 基本医疗保险
    "unemployment",  # 失业保险
    "work_injury",  # 工伤保险
    "maternity",  # 生育保险
]
INSURANCE_TYPES: tuple[str, ...] = InsuranceType.__args__  # type: ignore[attr-defined]

#: How a person is enrolled: through an employer (单位参保) or on their own as flexibly employed (灵活就业).
EnrolmentBasis = Literal["employer", "flexible"]

#: Why an unemployment benefit stops (失业保险条例 Art 15, 社会保险法 Art 51), or ``exhausted``.
BenefitStopReason = Literal[
    "reemployed", "enlisted", "emigrated", "pension", "imprisoned", "refused_suitable_work", "died", "exhausted"
]

#: A calendar month as ``YYYY-MM``.
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class DeathReported(Event):
    """A death was reported to insurance (死亡报告): the pension stops; registration marks the person deceased."""

    event_type: ClassVar[str] = "DeathReported"
    stream_type: ClassVar[str] = "insured_person"

    person_id: str
    region_code: RegionCode
    died_on: date
    reported_on: date


class EmployerArrearsReported(Event):
    """An employer owes contributions for two months or more (欠费): supervision opens a monitoring item.

    The surcharge is 0.05 % of the arrears per day late (社会保险法 Art 86), in whole fen.
    """

    event_type: ClassVar[str] = "EmployerArrearsReported"
    stream_type: ClassVar[str] = "employer_account"

    employer_id: str
    region_code: RegionCode
    months: list[str] = Field(min_length=1, description="The months in arrears, YYYY-MM")
    arrears_fen: NonNegativeFen
    surcharge_fen: NonNegativeFen
    workers: int = Field(ge=0, description="Insured workers the arrears concern")
    reported_on: date


class EmployerArrearsCleared(Event):
    """An employer paid what it owed: supervision closes the monitoring item and reconsiders the rating."""

    event_type: ClassVar[str] = "EmployerArrearsCleared"
    stream_type: ClassVar[str] = "employer_account"

    employer_id: str
    region_code: RegionCode
    cleared_on: date


# --- insured person (参保人): enrolment, benefits, pension -----------------------------------------------


class PersonFact(Event):
    """Base of the facts on an insured person's stream (keyed by registration's person id)."""

    stream_type: ClassVar[str] = "insured_person"

    person_id: str
    region_code: RegionCode


class InsuranceEnrolled(PersonFact):
    """A person was enrolled in one insurance type (参保登记), through an employer or flexibly."""

    event_type: ClassVar[str] = "InsuranceEnrolled"

    insurance_type: InsuranceType
    basis: EnrolmentBasis
    employer_id: str | None = None
    enrolled_on: date


class EnrolmentSuspended(PersonFact):
    """An enrolment was suspended (暂停缴费), with the reason; it still counts as the open enrolment."""

    event_type: ClassVar[str] = "EnrolmentSuspended"

    insurance_type: InsuranceType
    suspended_on: date
    reason: str


class EnrolmentResumed(PersonFact):
    """A suspended enrolment was resumed (恢复缴费)."""

    event_type: ClassVar[str] = "EnrolmentResumed"

    insurance_type: InsuranceType
    resumed_on: date


class EnrolmentTerminated(PersonFact):
    """An enrolment ended (终止参保), with the reason; the type may be enrolled again afterwards."""

    event_type: ClassVar[str] = "EnrolmentTerminated"

    insurance_type: InsuranceType
    terminated_on: date
    reason: str


class EnrolmentExpected(PersonFact):
    """A new hire must be enrolled within 30 days of starting work (社会保险法 Art 58)."""

    event_type: ClassVar[str] = "EnrolmentExpected"

    employer_id: str | None = None
    started_on: date
    due_on: date
    source: Literal["registration", "assistance"]


class UnemploymentBenefitGranted(PersonFact):
    """An unemployment benefit was granted (失业保险金), naming the articles it applies."""

    event_type: ClassVar[str] = "UnemploymentBenefitGranted"

    claim_id: str
    claimed_on: date
    starts_on: date = Field(description="The day of unemployment registration (社会保险法 Art 50)")
    contribution_months: int = Field(ge=12)
    months: int = Field(ge=1, le=24, description="Months granted, carried-over months included")
    carried_over_months: int = Field(ge=0)
    monthly_amount_fen: NonNegativeFen
    article: str


class UnemploymentBenefitPaid(PersonFact):
    """One month of an unemployment benefit was paid."""

    event_type: ClassVar[str] = "UnemploymentBenefitPaid"

    claim_id: str
    month: str = Field(pattern=MONTH_PATTERN)
    amount_fen: NonNegativeFen
    months_left: int = Field(ge=0)


class UnemploymentBenefitStopped(PersonFact):
    """An unemployment benefit stopped; the unpaid months carry into a later claim (条例 Art 17)."""

    event_type: ClassVar[str] = "UnemploymentBenefitStopped"

    claim_id: str
    stopped_on: date
    reason: BenefitStopReason
    months_paid: int = Field(ge=0)
    months_left: int = Field(ge=0)
    article: str


class RetireeTransferredIn(PersonFact):
    """A retiree came under community management (退休人员社会化管理) with the pension they draw."""

    event_type: ClassVar[str] = "RetireeTransferredIn"

    monthly_pension_fen: NonNegativeFen
    retired_on: date
    contribution_years: int = Field(ge=0)
    transferred_on: date
    certification_due_on: date


class PensionEligibilityCertified(PersonFact):
    """The yearly pension eligibility certification (资格认证) was done; a suspended pension resumes."""

    event_type: ClassVar[str] = "PensionEligibilityCertified"

    certified_on: date
    next_due_on: date
    resumed: bool
    back_paid_months: list[str] = Field(default_factory=list, description="Suspended months paid back, YYYY-MM")
    back_pay_fen: NonNegativeFen = 0
    article: str


class PensionSuspended(PersonFact):
    """The pension is suspended because the certification is overdue (人社部发〔2015〕32号)."""

    event_type: ClassVar[str] = "PensionSuspended"

    due_on: date
    suspended_from: str = Field(pattern=MONTH_PATTERN, description="The first month not paid")
    article: str


class PensionStopped(PersonFact):
    """The pension stops for good (death): paid for the month of death, stopped from the next month."""

    event_type: ClassVar[str] = "PensionStopped"

    stopped_from: str = Field(pattern=MONTH_PATTERN)
    reason: Literal["died"]
    article: str


class DeathRecorded(PersonFact):
    """Registration recorded a death reported there (``PersonDied``): insurance stops what it pays.

    A death reported to insurance itself is ``DeathReported``, which registration reacts to.
    """

    event_type: ClassVar[str] = "DeathRecorded"

    died_on: date


class SurvivorBenefitsClaimed(PersonFact):
    """Funeral grant (丧葬补助金) and survivor payment (抚恤金) computed for a deceased insured person."""

    event_type: ClassVar[str] = "SurvivorBenefitsClaimed"

    claimed_on: date
    province_code: str = Field(pattern=r"^[0-9]{2}$")
    income_year: int
    monthly_income_fen: NonNegativeFen
    funeral_grant_fen: NonNegativeFen
    survivor_months: int = Field(ge=9, le=24)
    survivor_benefit_fen: NonNegativeFen
    article: str


class SurvivorBenefitsPaid(PersonFact):
    """The funeral grant and the survivor payment were paid to the family."""

    event_type: ClassVar[str] = "SurvivorBenefitsPaid"

    paid_on: date
    amount_fen: NonNegativeFen


class FlexibleSubsidyGranted(PersonFact):
    """A certified hard-to-employ person may draw the flexible-employment insurance subsidy (灵活就业社保补贴)."""

    event_type: ClassVar[str] = "FlexibleSubsidyGranted"

    certification_id: str
    from_month: str = Field(pattern=MONTH_PATTERN)
    review_on: date
    article: str


class FlexibleSubsidyEnded(PersonFact):
    """The subsidy ended with the hard-to-employ status."""

    event_type: ClassVar[str] = "FlexibleSubsidyEnded"

    certification_id: str
    ended_on: date
    reason: str


# --- employer account (单位缴费账户) and contribution files ----------------------------------------------


class ArrearsAssessed(Event):
    """An employer owes the contributions of one month (欠费核定), due on ``due_on``."""

    event_type: ClassVar[str] = "ArrearsAssessed"
    stream_type: ClassVar[str] = "employer_account"

    employer_id: str
    region_code: RegionCode
    month: str = Field(pattern=MONTH_PATTERN)
    amount_fen: NonNegativeFen
    workers: int = Field(ge=0)
    due_on: date


class ArrearsPaid(Event):
    """An employer paid one month's arrears with the late surcharge (社会保险法 Art 86)."""

    event_type: ClassVar[str] = "ArrearsPaid"
    stream_type: ClassVar[str] = "employer_account"

    employer_id: str
    region_code: RegionCode
    month: str = Field(pattern=MONTH_PATTERN)
    amount_fen: NonNegativeFen
    days_late: int = Field(ge=0)
    surcharge_fen: NonNegativeFen
    paid_on: date


class ContributionsPosted(Event):
    """One group of a month's contribution file was posted (缴费到账): an employer's, or one village's
    flexibly employed. The per-person rows stay in the insurance service's ledger."""

    event_type: ClassVar[str] = "ContributionsPosted"
    stream_type: ClassVar[str] = "contribution_file"

    file_id: str
    month: str = Field(pattern=MONTH_PATTERN)
    employer_id: str | None = None
    region_code: RegionCode
    rows: int = Field(ge=1)
    persons: int = Field(ge=1)
    base_fen: NonNegativeFen
    employer_fen: NonNegativeFen
    personal_fen: NonNegativeFen


#: Every event type on ``insurance.events``, in the order they were introduced.
EVENTS: tuple[type[Event], ...] = (
    DeathReported,
    EmployerArrearsReported,
    EmployerArrearsCleared,
    InsuranceEnrolled,
    EnrolmentSuspended,
    EnrolmentResumed,
    EnrolmentTerminated,
    EnrolmentExpected,
    UnemploymentBenefitGranted,
    UnemploymentBenefitPaid,
    UnemploymentBenefitStopped,
    RetireeTransferredIn,
    PensionEligibilityCertified,
    PensionSuspended,
    PensionStopped,
    DeathRecorded,
    SurvivorBenefitsClaimed,
    SurvivorBenefitsPaid,
    FlexibleSubsidyGranted,
    FlexibleSubsidyEnded,
    ArrearsAssessed,
    ArrearsPaid,
    ContributionsPosted,
)
