"""Reporting's source ``insurance.events``: social insurance (社会保险) for every region at every level
(docs/design.md, "Insurance" and "Reporting").

What reporting keeps of each insured person (the insurance types they are enrolled in, whether they draw an
unemployment benefit, their pension under community management, their death) and of each employer's account
(the months it owes), and the figures over them: enrolment by type, contributions and arrears in fen, benefit
recipients and amounts paid, retirees managed and the certification completion rate (资格认证完成率),
deaths and survivor claims. Folds read the envelope's ``data`` (see ``services.reporting.sources``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from contracts import insurance as ins
from contracts.envelope import EventEnvelope
from contracts.insurance import INSURANCE_TYPES
from contracts.topics import INSURANCE_EVENTS
from services.reporting.catalogue import Source, event_types, field_of
from services.reporting.entities import Entity, IsUrban, region_of
from services.reporting.metrics import FlowDelta, Metric, every_event, stocks


class InsuredState(NamedTuple):
    """An insured person as reporting counts them: no identifying data, only what the figures need."""

    region_code: str
    day: date
    enrolled: tuple[str, ...]
    benefit: bool
    #: "" (no pension managed here), "paying", "suspended" or "stopped".
    pension: str
    died: bool


class AccountState(NamedTuple):
    """An employer's account: the months it owes, as ``"YYYY-MM:fen"``."""

    region_code: str
    day: date
    owed: tuple[str, ...]


def _evolve_insured(state: InsuredState | None, event: EventEnvelope, _: IsUrban, day: date) -> InsuredState:
    s = state or InsuredState(region_of(event), day, (), False, "", False)
    data, kind = event.data, event.type
    enrolled, benefit, pension, died = s.enrolled, s.benefit, s.pension, s.died
    if kind == ins.InsuranceEnrolled.event_type:
        enrolled = tuple(sorted({*enrolled, data["insurance_type"]}))
    elif kind == ins.EnrolmentTerminated.event_type:
        enrolled = tuple(t for t in enrolled if t != data["insurance_type"])
    elif kind == ins.UnemploymentBenefitGranted.event_type:
        benefit = True
    elif kind == ins.UnemploymentBenefitStopped.event_type:
        benefit = False
    elif kind in (ins.RetireeTransferredIn.event_type, ins.PensionEligibilityCertified.event_type):
        pension = "paying" if pension != "stopped" else pension
    elif kind == ins.PensionSuspended.event_type:
        pension = "suspended" if pension == "paying" else pension
    elif kind == ins.PensionStopped.event_type:
        pension = "stopped" if pension else pension
    elif kind in (ins.DeathReported.event_type, ins.DeathRecorded.event_type):
        died = True
    after = InsuredState(region_of(event), day, enrolled, benefit, pension, died)
    # A change that changes nothing dates nothing: the entity keeps its day (back-dated changes count from it).
    return s if state is not None and after[2:] == s[2:] and after[0] == s[0] else after


def _evolve_account(state: AccountState | None, event: EventEnvelope, _: IsUrban, day: date) -> AccountState:
    owed = dict(o.split(":") for o in state.owed) if state is not None else {}
    if event.type == ins.ArrearsAssessed.event_type:
        owed[event.data["month"]] = str(event.data["amount_fen"])
    else:
        owed.pop(event.data["month"], None)
    after = AccountState(region_of(event), day, tuple(f"{m}:{a}" for m, a in sorted(owed.items())))
    return state if state is not None and (after[0], after[2]) == (state[0], state[2]) else after


INSURED = Entity(
    "insured_person",
    InsuredState,
    "person_id",
    event_types(
        ins.InsuranceEnrolled,
        ins.EnrolmentTerminated,
        ins.UnemploymentBenefitGranted,
        ins.UnemploymentBenefitStopped,
        ins.RetireeTransferredIn,
        ins.PensionEligibilityCertified,
        ins.PensionSuspended,
        ins.PensionStopped,
        ins.DeathReported,
        ins.DeathRecorded,
    ),
    _evolve_insured,
    tuple_fields=(2,),
)
ACCOUNT = Entity(
    "employer_account",
    AccountState,
    "employer_id",
    event_types(ins.ArrearsAssessed, ins.ArrearsPaid),
    _evolve_account,
    tuple_fields=(2,),
)

EFFECTIVE_DAYS: dict[str, str] = {
    model.event_type: field_of(model, name)
    for model, name in (
        (ins.InsuranceEnrolled, "enrolled_on"),
        (ins.EnrolmentTerminated, "terminated_on"),
        (ins.EnrolmentExpected, "started_on"),
        (ins.UnemploymentBenefitGranted, "claimed_on"),
        (ins.UnemploymentBenefitStopped, "stopped_on"),
        (ins.RetireeTransferredIn, "transferred_on"),
        (ins.PensionEligibilityCertified, "certified_on"),
        (ins.DeathReported, "died_on"),
        (ins.DeathRecorded, "died_on"),
        (ins.SurvivorBenefitsClaimed, "claimed_on"),
        (ins.SurvivorBenefitsPaid, "paid_on"),
        (ins.ArrearsPaid, "paid_on"),
    )
}

_TYPE_LABELS = {
    "enterprise_pension": ("企业职工基本养老保险", "enterprise employee pension"),
    "resident_pension": ("城乡居民基本养老保险", "urban-rural resident pension"),
    "medical": ("基本医疗保险", "basic medical"),
    "unemployment": ("失业保险", "unemployment"),
    "work_injury": ("工伤保险", "work injury"),
    "maternity": ("生育保险", "maternity"),
}


def _amount(*fields: str) -> FlowDelta:
    """A flow adding up fields of the event's data, in fen."""

    def total(event: EventEnvelope, _: Any) -> int:
        return sum(int(event.data.get(f) or 0) for f in fields)

    return total


def _enrolled(kind: str) -> tuple[str, str, str, Any]:
    zh, en = _TYPE_LABELS[kind]
    return (f"insured_{kind}", f"参保人数：{zh}", f"Insured: {en}", lambda s: int(kind in s.enrolled))


def _owed(s: AccountState) -> int:
    return sum(int(o.split(":")[1]) for o in s.owed)


def _flow(name: str, zh: str, en: str, unit: str, events: dict[str, FlowDelta]) -> Metric:
    return Metric(name, zh, en, unit, "flow", events=events)


METRICS: tuple[Metric, ...] = (
    *stocks(
        "insured_person",
        "人",
        ("insured_persons", "参保人数", "Insured persons", lambda s: int(bool(s.enrolled))),
        *(_enrolled(k) for k in INSURANCE_TYPES),
        ("benefit_recipients", "领取失业保险金人数", "Unemployment benefit recipients", lambda s: int(s.benefit)),
        (
            "retirees_managed",
            "社会化管理退休人员",
            "Retirees under community management",
            lambda s: int(s.pension in ("paying", "suspended")),
        ),
        ("retirees_certified", "已认证退休人员", "Retirees certified", lambda s: int(s.pension == "paying")),
        ("pensions_suspended", "暂停发放养老金人数", "Pensions suspended", lambda s: int(s.pension == "suspended")),
    ),
    Metric(
        "certification_completion_rate",
        "资格认证完成率",
        "Certification completion",
        "%",
        "ratio",
        numerator=("retirees_certified",),
        denominator=("retirees_managed",),
    ),
    *stocks(
        "employer_account",
        "家",
        ("employers_in_arrears", "欠费单位", "Employers in arrears", lambda s: int(bool(s.owed))),
    ),
    *stocks("employer_account", "分", ("arrears_outstanding_fen", "欠费金额", "Arrears outstanding", _owed)),
    _flow(
        "contributions_fen",
        "征缴社会保险费",
        "Contributions posted",
        "分",
        {ins.ContributionsPosted.event_type: _amount("employer_fen", "personal_fen")},
    ),
    _flow(
        "contributions_employer_fen",
        "单位缴费",
        "Employer contributions",
        "分",
        {ins.ContributionsPosted.event_type: _amount("employer_fen")},
    ),
    _flow(
        "contributions_personal_fen",
        "个人缴费",
        "Personal contributions",
        "分",
        {ins.ContributionsPosted.event_type: _amount("personal_fen")},
    ),
    _flow(
        "arrears_assessed_fen",
        "核定欠费",
        "Arrears assessed",
        "分",
        {ins.ArrearsAssessed.event_type: _amount("amount_fen")},
    ),
    _flow("arrears_paid_fen", "补缴欠费", "Arrears paid", "分", {ins.ArrearsPaid.event_type: _amount("amount_fen")}),
    _flow(
        "late_surcharge_fen",
        "滞纳金",
        "Late surcharge paid",
        "分",
        {ins.ArrearsPaid.event_type: _amount("surcharge_fen")},
    ),
    _flow(
        "employers_reported_in_arrears",
        "欠费移送监察",
        "Employers reported to supervision",
        "家",
        {ins.EmployerArrearsReported.event_type: every_event},
    ),
    _flow(
        "benefits_granted",
        "核准失业保险金",
        "Unemployment benefits granted",
        "人次",
        {ins.UnemploymentBenefitGranted.event_type: every_event},
    ),
    _flow(
        "benefits_stopped",
        "停发失业保险金",
        "Unemployment benefits stopped",
        "人次",
        {ins.UnemploymentBenefitStopped.event_type: every_event},
    ),
    _flow(
        "benefit_paid_fen",
        "发放失业保险金",
        "Unemployment benefit paid",
        "分",
        {ins.UnemploymentBenefitPaid.event_type: _amount("amount_fen")},
    ),
    _flow(
        "pension_back_pay_fen",
        "补发养老金",
        "Pension back pay",
        "分",
        {ins.PensionEligibilityCertified.event_type: _amount("back_pay_fen")},
    ),
    _flow(
        "certifications",
        "资格认证",
        "Eligibility certifications",
        "人次",
        {ins.PensionEligibilityCertified.event_type: every_event},
    ),
    _flow(
        "deaths_reported",
        "死亡报告",
        "Deaths reported",
        "人",
        {ins.DeathReported.event_type: every_event, ins.DeathRecorded.event_type: every_event},
    ),
    _flow(
        "survivor_claims",
        "丧葬抚恤申领",
        "Survivor claims",
        "人次",
        {ins.SurvivorBenefitsClaimed.event_type: every_event},
    ),
    _flow(
        "survivor_paid_fen",
        "发放丧葬补助金和抚恤金",
        "Funeral grants and survivor payments paid",
        "分",
        {ins.SurvivorBenefitsPaid.event_type: _amount("amount_fen")},
    ),
    _flow(
        "enrolment_expected",
        "应参保新增就业",
        "New hires to enrol",
        "人",
        {ins.EnrolmentExpected.event_type: every_event},
    ),
)

SOURCE = Source(INSURANCE_EVENTS, entities=(INSURED, ACCOUNT), metrics=METRICS, effective_days=EFFECTIVE_DAYS)
