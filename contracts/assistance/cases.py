"""Events of the ``assistance_case`` stream (援助台账): the case, the services given and their ratings."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.assistance.facts import HardToEmployCategory
from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode
from contracts.registration import Hukou, Sex

CaseOpenReason = Literal["unemployment_registered", "requested"]
CaseCloseReason = Literal["reemployed", "died", "retired", "deregistered", "withdrawn"]


class _CaseFact(Event):
    stream_type: ClassVar[str] = "assistance_case"

    case_id: str
    person_id: str
    region_code: RegionCode


class CaseOpened(_CaseFact):
    """An assistance case opened (援助台账建档), on unemployment registration or on request; also a reopening.

    ``indicated_categories`` are the hard-to-employ categories the events already show (4050, long-term
    unemployed, member of a zero-employment household): a hint for the village, not a certification.
    """

    event_type: ClassVar[str] = "CaseOpened"

    opened_on: date
    reason: CaseOpenReason
    sex: Sex
    birth_date: date
    hukou: Hukou | None = None
    household_id: str | None = None
    indicated_categories: list[HardToEmployCategory] = Field(default_factory=list)


class CaseMoved(_CaseFact):
    """The person moved; the case follows them to their new village (``region_code``)."""

    event_type: ClassVar[str] = "CaseMoved"

    from_region_code: RegionCode
    moved_on: date


class CaseClosed(_CaseFact):
    """The case closed other than by placement (re-employed on their own, died, retired, deregistered, withdrawn)."""

    event_type: ClassVar[str] = "CaseClosed"

    closed_on: date
    reason: CaseCloseReason


class JobSeekingProfileRecorded(_CaseFact):
    """What work the person seeks (求职意向): occupations, skills and the lowest monthly wage they accept."""

    event_type: ClassVar[str] = "JobSeekingProfileRecorded"

    occupations: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    expected_wage_fen: NonNegativeFen | None = None
    recorded_on: date


class VocationalGuidanceGiven(_CaseFact):
    """Vocational guidance (职业指导) was given: when, on what, with what outcome."""

    event_type: ClassVar[str] = "VocationalGuidanceGiven"

    given_on: date
    topic: str
    outcome: str


ReferralOutcome = Literal["hired", "not_hired", "no_show"]


class JobReferred(_CaseFact):
    """The person was referred to a vacancy (推荐就业); the outcome is pending."""

    event_type: ClassVar[str] = "JobReferred"

    referral_id: str
    vacancy_id: str
    employer_id: str
    occupation: str
    referred_on: date


class ReferralOutcomeRecorded(_CaseFact):
    """How a referral ended: hired (the case is then placed), not hired, or the person did not show up."""

    event_type: ClassVar[str] = "ReferralOutcomeRecorded"

    referral_id: str
    vacancy_id: str
    outcome: ReferralOutcome
    recorded_on: date


class HomeVisited(_CaseFact):
    """A home visit (入户家访): what was found and what the household needs."""

    event_type: ClassVar[str] = "HomeVisited"

    visited_on: date
    findings: str
    needs: list[str] = Field(default_factory=list)


class TrainingReferred(_CaseFact):
    """The person was referred to vocational training (职业技能培训) in an occupation."""

    event_type: ClassVar[str] = "TrainingReferred"

    training_id: str
    occupation: str
    provider: str
    referred_on: date


class TrainingCompleted(_CaseFact):
    """A referred training was completed, with the certificate obtained (if any)."""

    event_type: ClassVar[str] = "TrainingCompleted"

    training_id: str
    occupation: str
    completed_on: date
    certificate: str | None = None


EntrepreneurshipServiceKind = Literal["training", "project_advice", "incubation", "financing_advice", "other"]


class EntrepreneurshipServiceGiven(_CaseFact):
    """An entrepreneurship service (创业服务) was given."""

    event_type: ClassVar[str] = "EntrepreneurshipServiceGiven"

    given_on: date
    kind: EntrepreneurshipServiceKind
    outcome: str


class BusinessLoanPreReviewed(_CaseFact):
    """A small guaranteed business loan (创业担保贷款) passed or failed the township's pre-review (资格初审)."""

    event_type: ClassVar[str] = "BusinessLoanPreReviewed"

    amount_fen: NonNegativeFen
    passed: bool
    reason: str
    reviewed_on: date


# --- satisfaction rating (服务对象满意度) -----------------------------------------------------------------


class ServiceRated(_CaseFact):
    """The person served rated one service of their case (满意度评价), 1 (very unsatisfied) to 5 (very satisfied).

    Assistance owns the rating because it records the services given: the rating names the service's event
    (``service_event_id``, on this case's stream) and the staff member who gave it (``staff``, that event's
    actor), so that reporting credits the satisfaction to who served, not to the clerk who typed the slip in
    (seed 003's fourth factor, 服务对象满意度; docs/rules.md, "Staff performance").
    """

    event_type: ClassVar[str] = "ServiceRated"

    service_event_id: str
    service_type: str = Field(description="The rated service's event type, e.g. VocationalGuidanceGiven")
    staff: str = Field(description="The subject of the staff member who gave the service")
    score: int = Field(ge=1, le=5)
    rated_on: date
