"""Events of the assistance service (就业援助) on ``assistance.events``.

The cross-service facts are fixed here before either side uses them: registration reacts to
``PlacedInJob``; insurance reacts to ``PlacedInJob`` (enrolment expected within 30 days) and to the
hard-to-employ certification events (灵活就业社保补贴). The assistance service adds its other events to
this module and to :data:`EVENTS`, which ``contracts.registry`` reads.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode
from contracts.registration import EmploymentKind, Hukou, Sex


class HardToEmployCategory(StrEnum):
    """Why a person counts as hard to employ (就业促进法 Art 52; the scope is the province's, these the defaults).

    ``aged_4050`` (women 40+, men 50+) and ``long_term_unemployed`` (registered unemployed 1 year or more)
    are computed from registration's events, never typed in.
    """

    aged_4050 = "aged_4050"
    disabled = "disabled"
    minimum_living_allowance = "minimum_living_allowance"
    zero_employment_household = "zero_employment_household"
    rural_poor_household = "rural_poor_household"
    landless_farmer = "landless_farmer"
    long_term_unemployed = "long_term_unemployed"


class HardToEmployCertified(Event):
    """The county certified a person as hard to employ (就业困难人员认定), after township review and public notice.

    Insurance reacts by making the person eligible for the flexible-employment insurance subsidy.
    """

    event_type: ClassVar[str] = "HardToEmployCertified"
    stream_type: ClassVar[str] = "hard_to_employ_certification"

    certification_id: str
    person_id: str
    region_code: RegionCode
    categories: list[HardToEmployCategory] = Field(min_length=1)
    certified_on: date
    review_on: date = Field(description="When the certification must be reviewed at the latest")


class HardToEmployStatusEnded(Event):
    """A certified hard-to-employ status ended (re-employment, review date passed, moved away, death, revoked)."""

    event_type: ClassVar[str] = "HardToEmployStatusEnded"
    stream_type: ClassVar[str] = "hard_to_employ_certification"

    certification_id: str
    person_id: str
    region_code: RegionCode
    ended_on: date
    reason: str = Field(description="reemployed, review_due, moved_away, died or revoked")


class PlacedInJob(Event):
    """An assisted person was placed in a job (安置就业); the assistance case closes.

    Registration reacts by recording the employment (就业登记) with ``source="assistance"``.
    """

    event_type: ClassVar[str] = "PlacedInJob"
    stream_type: ClassVar[str] = "assistance_case"

    case_id: str
    person_id: str
    region_code: RegionCode
    kind: EmploymentKind
    employer_id: str | None = None
    vacancy_id: str | None = None
    started_on: date
    placed_on: date = Field(description="When the placement was recorded")


#: Categories computed from events (registration's ledger, assistance's households), never typed in.
COMPUTED_CATEGORIES: frozenset[HardToEmployCategory] = frozenset(
    {
        HardToEmployCategory.aged_4050,
        HardToEmployCategory.long_term_unemployed,
        HardToEmployCategory.zero_employment_household,
    }
)

# --- assistance case (援助台账) -------------------------------------------------------------------------

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


# --- hard-to-employ application (就业困难人员认定申请) ----------------------------------------------------


class _ApplicationFact(Event):
    stream_type: ClassVar[str] = "hard_to_employ_application"

    application_id: str
    person_id: str
    region_code: RegionCode


class HardToEmployApplied(_ApplicationFact):
    """A person applied to be certified hard to employ, at the village or township.

    ``categories`` are the typed ones (with ``evidence``) and the ones computed from events.
    """

    event_type: ClassVar[str] = "HardToEmployApplied"

    case_id: str
    categories: list[HardToEmployCategory] = Field(min_length=1)
    computed_categories: list[HardToEmployCategory] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    applied_on: date


class HardToEmployReviewed(_ApplicationFact):
    """The township's initial review (初审); passing it starts the public notice (公示)."""

    event_type: ClassVar[str] = "HardToEmployReviewed"

    passed: bool
    reason: str
    reviewed_on: date
    reviewed_by: str
    notice_ends_on: date | None = Field(default=None, description="Last working day of the public notice")
    notice_provisional: bool = Field(default=False, description="The calendar of a year it spans is not official yet")


class HardToEmployObjectionRecorded(_ApplicationFact):
    """An objection (异议) received during the public notice."""

    event_type: ClassVar[str] = "HardToEmployObjectionRecorded"

    objection: str
    received_on: date


class HardToEmployDecided(_ApplicationFact):
    """The county decided (审核认定): certified (a certification stream starts) or refused with a reason."""

    event_type: ClassVar[str] = "HardToEmployDecided"

    certified: bool
    reason: str
    decided_on: date
    decided_by: str
    certification_id: str | None = None
    categories: list[HardToEmployCategory] = Field(default_factory=list)


# --- zero-employment household (零就业家庭) ------------------------------------------------------------


class _HouseholdFact(Event):
    stream_type: ClassVar[str] = "zero_employment_household"

    household_id: str
    region_code: RegionCode


class ZeroEmploymentHouseholdDetected(_HouseholdFact):
    """Registration's snapshot shows a household whose working-age members seeking work are all unemployed."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdDetected"

    detected_on: date
    member_ids: list[str]
    unemployed_member_ids: list[str]


class ZeroEmploymentHouseholdConfirmed(_HouseholdFact):
    """The township confirmed the household (认定); it must be cleared by ``clear_by`` (动态清零)."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdConfirmed"

    confirmed_on: date
    clear_by: date


class ZeroEmploymentHouseholdDismissed(_HouseholdFact):
    """A detected household was not confirmed: business income found, or a member found work first."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdDismissed"

    dismissed_on: date
    reason: str


ClearReason = Literal["member_placed", "member_employed", "refused_help"]


class ZeroEmploymentHouseholdCleared(_HouseholdFact):
    """A confirmed household left the list (清零): a member placed or employed, or help refused without reason."""

    event_type: ClassVar[str] = "ZeroEmploymentHouseholdCleared"

    cleared_on: date
    reason: ClearReason
    person_id: str | None = None
    days_outstanding: int = Field(ge=0, description="Days from confirmation to clearing")
    within_target: bool


# --- public-welfare post (公益性岗位) ------------------------------------------------------------------


class _PostFact(Event):
    stream_type: ClassVar[str] = "public_welfare_post"

    post_id: str
    region_code: RegionCode


class PublicWelfarePostCreated(_PostFact):
    """A public-welfare post was developed (开发): unit, positions, monthly subsidy and term."""

    event_type: ClassVar[str] = "PublicWelfarePostCreated"

    unit: str
    title: str
    positions: int = Field(ge=1)
    monthly_subsidy_fen: NonNegativeFen
    term_starts_on: date
    term_ends_on: date


class PublicWelfarePostFilled(_PostFact):
    """A certified hard-to-employ person took one position of the post (安置)."""

    event_type: ClassVar[str] = "PublicWelfarePostFilled"

    person_id: str
    case_id: str
    certification_id: str
    started_on: date
    ends_on: date


class PublicWelfarePostExited(_PostFact):
    """An occupant left the post (退出)."""

    event_type: ClassVar[str] = "PublicWelfarePostExited"

    person_id: str
    exited_on: date
    reason: str


class PublicWelfarePostTermEnded(_PostFact):
    """The post's term ended; its remaining occupants left it."""

    event_type: ClassVar[str] = "PublicWelfarePostTermEnded"

    ended_on: date
    occupants: list[str] = Field(default_factory=list)


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


#: Every event type on ``assistance.events``, in the order they were introduced.
EVENTS: tuple[type[Event], ...] = (
    PlacedInJob,
    HardToEmployCertified,
    HardToEmployStatusEnded,
    CaseOpened,
    CaseMoved,
    CaseClosed,
    JobSeekingProfileRecorded,
    VocationalGuidanceGiven,
    JobReferred,
    ReferralOutcomeRecorded,
    HomeVisited,
    TrainingReferred,
    TrainingCompleted,
    EntrepreneurshipServiceGiven,
    BusinessLoanPreReviewed,
    HardToEmployApplied,
    HardToEmployReviewed,
    HardToEmployObjectionRecorded,
    HardToEmployDecided,
    ZeroEmploymentHouseholdDetected,
    ZeroEmploymentHouseholdConfirmed,
    ZeroEmploymentHouseholdDismissed,
    ZeroEmploymentHouseholdCleared,
    PublicWelfarePostCreated,
    PublicWelfarePostFilled,
    PublicWelfarePostExited,
    PublicWelfarePostTermEnded,
    ServiceRated,
)
