"""Events of the supervision service (劳动保障监察, 劳动争议调解) on ``supervision.events``.

Reporting folds them; no other domain service reacts to them yet. The complainant's and the petitioner's
identity never appear in any of them: the service keeps it encrypted at rest. Every statutory time limit an
event sets is carried with it as a due date and ``provisional`` (computed for a year the official calendar
does not know yet, see ``services/runtime/workdays.py``). Money is integer fen (``contracts.money``).

Streams: ``complaint`` (投诉), ``case`` (立案查处), ``grid_inspection`` (网格化监察), ``dispute`` (劳动争议:
mediation, then arbitration), ``petition`` (来信来访), ``employer_rating`` (守法诚信等级) and
``arrears_monitoring`` (欠费监控, from insurance's arrears).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event
from contracts.money import NonNegativeFen
from contracts.regions import RegionCode

#: What a complaint is about (投诉事项).
ComplaintType = Literal[
    "wage_arrears",  # 拖欠工资
    "no_written_contract",  # 未签订书面劳动合同
    "insurance_not_paid",  # 未缴纳社会保险
    "excessive_overtime",  # 超时加班
    "child_labour",  # 使用童工
    "other",  # 其他, naming its Art 11 item
]

#: The matters labour inspection covers (劳动保障监察条例 Art 11).
InspectionScope = Literal[
    "work_rules",  # 规章制度
    "labour_contracts",  # 劳动合同
    "child_labour",  # 禁止使用童工
    "women_minors_protection",  # 女职工和未成年工特殊劳动保护
    "working_hours_leave",  # 工作时间和休息休假
    "wages_minimum_wage",  # 工资和最低工资
    "social_insurance",  # 社会保险
    "agencies_training",  # 职业介绍、职业技能培训和职业技能考核鉴定
]

#: Why a complaint was refused (不予受理).
RefusalReason = Literal[
    "older_than_two_years",  # 条例 Art 20
    "outside_jurisdiction",  # 不属于本部门管辖
    "outside_scope",  # 不属于劳动保障监察职责 (条例 Art 11)
    "no_clear_employer",  # 无明确被投诉用人单位
]

CaseSource = Literal["complaint", "grid_inspection", "arrears_monitoring", "ex_officio"]
Grade = Literal["A", "B", "C"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EmployerRef(_Value):
    """The employer a record is about: a registered one (its id), or free text with its credit code."""

    employer_id: str = Field(description="Registration's employer id, or an id derived from the credit code")
    credit_code: str
    name: str
    region_code: RegionCode = Field(description="Where the employer operates: its inspection jurisdiction")
    registered: bool = Field(description="True when the employer is in registration's ledger")


# --- complaint (投诉) ---------------------------------------------------------------------------------


class _ComplaintEvent(Event):
    stream_type: ClassVar[str] = "complaint"

    complaint_id: str
    region_code: RegionCode = Field(description="Where the complaint was received")


class ComplaintFiled(_ComplaintEvent):
    """A complaint was received (投诉登记); acceptance is decided by ``decision_due`` (若干规定 Art 18)."""

    event_type: ClassVar[str] = "ComplaintFiled"

    employer: EmployerRef
    complaint_type: ComplaintType
    scope: InspectionScope
    facts: str
    violation_from: date
    violation_until: date | None = Field(default=None, description="None while the violation continues")
    received_on: date
    decision_due: date
    provisional: bool
    workers_concerned: int = Field(ge=1)
    amount_claimed_fen: NonNegativeFen = 0
    on_behalf: bool = Field(description="Filed by a village station on a resident's behalf")


class ComplaintCompletionRequested(_ComplaintEvent):
    """Material was incomplete: the complainant is asked to complete it and the clock pauses (若干规定 Art 18)."""

    event_type: ClassVar[str] = "ComplaintCompletionRequested"

    requested_on: date
    missing: list[str] = Field(min_length=1)
    workdays_left: int = Field(ge=0, description="Working days of the 5 still to run when the clock resumes")


class ComplaintCompleted(_ComplaintEvent):
    """The complainant completed the material; the clock runs again from ``completed_on``."""

    event_type: ClassVar[str] = "ComplaintCompleted"

    completed_on: date
    decision_due: date
    provisional: bool


class ComplaintAccepted(_ComplaintEvent):
    """The complaint was accepted (受理) and a case opened (立案)."""

    event_type: ClassVar[str] = "ComplaintAccepted"

    accepted_on: date
    case_id: str
    decided_late: bool


class ComplaintRefused(_ComplaintEvent):
    """The complaint was refused in writing (不予受理), with the reason."""

    event_type: ClassVar[str] = "ComplaintRefused"

    refused_on: date
    reason: RefusalReason
    explanation: str
    decided_late: bool


class ComplaintDecisionOverdue(_ComplaintEvent):
    """Five working days passed without a decision (flagged once, by the worker's scheduled check)."""

    event_type: ClassVar[str] = "ComplaintDecisionOverdue"

    decision_due: date
    detected_on: date


# --- case (立案查处) ----------------------------------------------------------------------------------


class _CaseEvent(Event):
    stream_type: ClassVar[str] = "case"

    case_id: str
    region_code: RegionCode = Field(description="The employer's township or village")


class CaseOpened(_CaseEvent):
    """A case was opened (立案); the investigation closes by ``due_on`` (劳动保障监察条例 Art 17: 60 working days)."""

    event_type: ClassVar[str] = "InspectionCaseOpened"

    employer: EmployerRef
    source: CaseSource
    complaint_id: str | None = None
    scope: InspectionScope
    complaint_type: ComplaintType | None = None
    opened_on: date
    due_on: date
    provisional: bool
    workers_concerned: int = Field(ge=0)


class CaseInspected(_CaseEvent):
    """An inspection of the employer for the case (调查检查): site, documents or interviews."""

    event_type: ClassVar[str] = "CaseInspected"

    inspected_on: date
    method: Literal["site", "documents", "interview"]
    findings: str
    violation_found: bool


class RectificationOrdered(_CaseEvent):
    """A rectification order (责令改正) with its own deadline."""

    event_type: ClassVar[str] = "RectificationOrdered"

    ordered_on: date
    due_on: date
    workdays: int | None = Field(default=None, description="Working days from ordered_on; None: a named date")
    provisional: bool
    requirements: str


class RectificationVerified(_CaseEvent):
    """The order was checked: complied with, or not (拒不改正 counts against the rating)."""

    event_type: ClassVar[str] = "RectificationVerified"

    verified_on: date
    complied: bool
    on_time: bool
    wages_paid_fen: NonNegativeFen = 0


class PenaltyImposed(_CaseEvent):
    """An administrative penalty (行政处罚), in fen."""

    event_type: ClassVar[str] = "PenaltyImposed"

    decided_on: date
    amount_fen: NonNegativeFen
    legal_basis: str


class CaseExtended(_CaseEvent):
    """The investigation's one extension (延长), approved at county level (条例 Art 17: at most 30 working days)."""

    event_type: ClassVar[str] = "CaseExtended"

    approved_on: date
    approved_by: str
    workdays: int = Field(ge=1, le=30)
    due_on: date
    provisional: bool
    reason: str


class CaseTransferred(_CaseEvent):
    """The case went to another authority (移送): public security for a crime, another department or county."""

    event_type: ClassVar[str] = "CaseTransferred"

    transferred_on: date
    to: Literal["public_security", "other_department", "other_jurisdiction"]
    reason: str


class CaseClosed(_CaseEvent):
    """The case was closed (结案); ``within_limit`` compares ``closed_on`` with the (extended) due date."""

    event_type: ClassVar[str] = "InspectionCaseClosed"

    closed_on: date
    outcome: Literal["corrected", "penalised", "no_violation", "transferred", "withdrawn"]
    violation_found: bool
    wages_recovered_fen: NonNegativeFen = 0
    workers_concerned: int = Field(ge=0)
    due_on: date
    within_limit: bool


class CaseDeadlineBreached(_CaseEvent):
    """A case's time limit passed while it was open (flagged once per limit, by the worker's scheduled check)."""

    event_type: ClassVar[str] = "CaseDeadlineBreached"

    limit: Literal["investigation", "rectification"]
    due_on: date
    detected_on: date


class CaseDeadlineRecomputed(_CaseEvent):
    """A provisional limit was computed again once its year's official calendar arrived (holiday notice)."""

    event_type: ClassVar[str] = "CaseDeadlineRecomputed"

    limit: Literal["investigation", "rectification"]
    previous_due_on: date
    due_on: date
    provisional: bool


# --- grid inspection (网格化监察) ------------------------------------------------------------------------


class Finding(_Value):
    """One thing a grid inspector found wrong, within 条例 Art 11."""

    scope: InspectionScope
    description: str
    workers: int = Field(ge=0, default=0)


class GridInspectionRecorded(Event):
    """A township grid inspector visited an employer (网格化巡查); findings need a follow-up by ``follow_up_due``."""

    event_type: ClassVar[str] = "GridInspectionRecorded"
    stream_type: ClassVar[str] = "grid_inspection"

    inspection_id: str
    region_code: RegionCode = Field(description="The employer's township or village")
    grid: str = Field(description="The township's grid (网格) the employer lies in")
    employer: EmployerRef
    inspected_on: date
    findings: list[Finding]
    follow_up_due: date | None
    provisional: bool = False


class GridFollowUpRecorded(Event):
    """The follow-up (复查) of an inspection's findings: resolved, or escalated to a case."""

    event_type: ClassVar[str] = "GridFollowUpRecorded"
    stream_type: ClassVar[str] = "grid_inspection"

    inspection_id: str
    region_code: RegionCode
    followed_up_on: date
    resolved: bool
    notes: str
    case_id: str | None = None
    on_time: bool


# --- dispute: mediation and arbitration (劳动争议调解仲裁法) ------------------------------------------------


class _DisputeEvent(Event):
    stream_type: ClassVar[str] = "dispute"

    dispute_id: str
    region_code: RegionCode = Field(description="The township whose mediation committee received it")


class MediationApplied(_DisputeEvent):
    """A mediation application was received (调解申请); without agreement by ``mediation_due`` (Art 14: 15 days)
    it goes to arbitration."""

    event_type: ClassVar[str] = "MediationApplied"

    employer: EmployerRef
    claim: str
    amount_claimed_fen: NonNegativeFen = 0
    workers_concerned: int = Field(ge=1)
    received_on: date
    mediation_due: date
    provisional: bool


class MediationSessionHeld(_DisputeEvent):
    """A mediation session (调解) with both parties."""

    event_type: ClassVar[str] = "MediationSessionHeld"

    held_on: date
    summary: str


class MediationAgreed(_DisputeEvent):
    """The parties signed a mediation agreement (调解协议)."""

    event_type: ClassVar[str] = "MediationAgreed"

    agreed_on: date
    amount_agreed_fen: NonNegativeFen = 0


class MediationFailed(_DisputeEvent):
    """Mediation ended without agreement (调解不成)."""

    event_type: ClassVar[str] = "MediationFailed"

    failed_on: date
    reason: str


class DisputeReferredToArbitration(_DisputeEvent):
    """The dispute may go to arbitration (Art 14): mediation failed, or 15 days passed without agreement."""

    event_type: ClassVar[str] = "DisputeReferredToArbitration"

    referred_on: date
    reason: Literal["mediation_failed", "no_agreement_in_15_days"]


class ArbitrationApplied(_DisputeEvent):
    """An arbitration application was received (仲裁申请); acceptance is decided by ``accept_due`` (Art 29: 5 days)."""

    event_type: ClassVar[str] = "ArbitrationApplied"

    applied_on: date
    accept_due: date
    provisional: bool


class ArbitrationAccepted(_DisputeEvent):
    """The arbitration committee accepted the case (受理); the award is due by ``award_due`` (Art 43: 45 days)."""

    event_type: ClassVar[str] = "ArbitrationAccepted"

    accepted_on: date
    on_time: bool
    award_due: date
    provisional: bool


class ArbitrationExtended(_DisputeEvent):
    """The award's time limit was extended once, by at most 15 days (Art 43)."""

    event_type: ClassVar[str] = "ArbitrationExtended"

    extended_on: date
    days: int = Field(ge=1, le=15)
    award_due: date
    provisional: bool


class ArbitrationAwarded(_DisputeEvent):
    """The arbitral award (仲裁裁决)."""

    event_type: ClassVar[str] = "ArbitrationAwarded"

    awarded_on: date
    on_time: bool
    amount_awarded_fen: NonNegativeFen = 0


# --- petition (来信来访) --------------------------------------------------------------------------------


class _PetitionEvent(Event):
    stream_type: ClassVar[str] = "petition"

    petition_id: str
    region_code: RegionCode = Field(description="Where the letter or visit was received")


class PetitionRegistered(_PetitionEvent):
    """A letter, visit, call or online message was registered (信访登记); answer due by ``answer_due``."""

    event_type: ClassVar[str] = "PetitionRegistered"

    channel: Literal["letter", "visit", "phone", "online"]
    subject: str
    received_on: date
    answer_due: date
    provisional: bool


class PetitionAssigned(_PetitionEvent):
    """The petition was assigned to an officer to handle (交办)."""

    event_type: ClassVar[str] = "PetitionAssigned"

    assigned_on: date
    assignee: str


class PetitionAnswered(_PetitionEvent):
    """The petitioner was answered (答复); ``on_time`` compares with the limit."""

    event_type: ClassVar[str] = "PetitionAnswered"

    answered_on: date
    on_time: bool
    summary: str


# --- employer rating and arrears monitoring -------------------------------------------------------------


class EmployerRatingChanged(Event):
    """An employer's compliance grade changed (企业劳动保障守法诚信等级, 人社部规〔2016〕1号 Art 7), saying why."""

    event_type: ClassVar[str] = "EmployerRatingChanged"
    stream_type: ClassVar[str] = "employer_rating"

    employer_id: str
    region_code: RegionCode
    grade: Grade
    previous_grade: Grade | None
    reasons: list[str] = Field(min_length=1)
    rated_on: date
    violations: int = Field(ge=0)
    penalties: int = Field(ge=0)
    penalty_fen: NonNegativeFen
    arrears_open: bool


class ArrearsMonitoringOpened(Event):
    """Insurance reported the employer in arrears: supervision monitors it (欠费监控) until cleared."""

    event_type: ClassVar[str] = "ArrearsMonitoringOpened"
    stream_type: ClassVar[str] = "arrears_monitoring"

    employer_id: str
    region_code: RegionCode
    months: list[str]
    arrears_fen: NonNegativeFen
    workers: int = Field(ge=0)
    opened_on: date


class ArrearsMonitoringClosed(Event):
    """The employer paid what it owed; the monitoring item closes."""

    event_type: ClassVar[str] = "ArrearsMonitoringClosed"
    stream_type: ClassVar[str] = "arrears_monitoring"

    employer_id: str
    region_code: RegionCode
    closed_on: date


# --- provisional limits recomputed (every stream but the case's, which has CaseDeadlineRecomputed) ---------


class ComplaintDeadlineRecomputed(_ComplaintEvent):
    """The provisional decision limit was computed again once its year's official calendar arrived."""

    event_type: ClassVar[str] = "ComplaintDeadlineRecomputed"

    limit: Literal["decision"]
    previous_due_on: date
    due_on: date
    provisional: bool


class GridFollowUpRecomputed(Event):
    """The provisional follow-up limit of an inspection was computed again on the official calendar."""

    event_type: ClassVar[str] = "GridFollowUpRecomputed"
    stream_type: ClassVar[str] = "grid_inspection"

    inspection_id: str
    region_code: RegionCode
    limit: Literal["follow_up"]
    previous_due_on: date
    due_on: date
    provisional: bool


class DisputeDeadlineRecomputed(_DisputeEvent):
    """A provisional limit of mediation or arbitration was computed again on the official calendar."""

    event_type: ClassVar[str] = "DisputeDeadlineRecomputed"

    limit: Literal["mediation", "arbitration_acceptance", "award"]
    previous_due_on: date
    due_on: date
    provisional: bool


class PetitionDeadlineRecomputed(_PetitionEvent):
    """The provisional answer limit of a petition was computed again on the official calendar."""

    event_type: ClassVar[str] = "PetitionDeadlineRecomputed"

    limit: Literal["answer"]
    previous_due_on: date
    due_on: date
    provisional: bool


#: Every event type on ``supervision.events``, in the order they were introduced.
EVENTS: tuple[type[Event], ...] = (
    ComplaintFiled,
    ComplaintCompletionRequested,
    ComplaintCompleted,
    ComplaintAccepted,
    ComplaintRefused,
    ComplaintDecisionOverdue,
    CaseOpened,
    CaseInspected,
    RectificationOrdered,
    RectificationVerified,
    PenaltyImposed,
    CaseExtended,
    CaseTransferred,
    CaseClosed,
    CaseDeadlineBreached,
    GridInspectionRecorded,
    GridFollowUpRecorded,
    MediationApplied,
    MediationSessionHeld,
    MediationAgreed,
    MediationFailed,
    DisputeReferredToArbitration,
    ArbitrationApplied,
    ArbitrationAccepted,
    ArbitrationExtended,
    ArbitrationAwarded,
    PetitionRegistered,
    PetitionAssigned,
    PetitionAnswered,
    EmployerRatingChanged,
    ArrearsMonitoringOpened,
    ArrearsMonitoringClosed,
    CaseDeadlineRecomputed,
    ComplaintDeadlineRecomputed,
    GridFollowUpRecomputed,
    DisputeDeadlineRecomputed,
    PetitionDeadlineRecomputed,
)
