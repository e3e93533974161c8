"""Reporting's source ``assistance.events``: employment assistance (就业援助) (docs/design.md, "Assistance"
and "Reporting").

What reporting keeps of each case, certified hard-to-employ status, zero-employment household and
public-welfare post, and the figures counted over them: hard-to-employ certified, assisted and placed;
zero-employment households outstanding and cleared, and the days they took; public-welfare positions
filled; trainings completed; referrals and their success rate.

Days to clear are given as a mean (the sum of the days of the households cleared over how many): a median
cannot be kept per region so that a level's figure follows from its children's, which every figure here
must (docs/design.md, "Regions").
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from contracts import assistance as a
from contracts.envelope import EventEnvelope
from contracts.topics import ASSISTANCE_EVENTS
from services.reporting.catalogue import Source, event_types, field_of
from services.reporting.entities import Entity, IsUrban, region_of
from services.reporting.metrics import Metric, every_event, stocks


class _E:
    """The wire names of the events folded here, from their contract classes."""

    CaseOpened = a.CaseOpened.event_type
    CaseMoved = a.CaseMoved.event_type
    CaseClosed = a.CaseClosed.event_type
    PlacedInJob = a.PlacedInJob.event_type
    Certified = a.HardToEmployCertified.event_type
    StatusEnded = a.HardToEmployStatusEnded.event_type
    Detected = a.ZeroEmploymentHouseholdDetected.event_type
    Confirmed = a.ZeroEmploymentHouseholdConfirmed.event_type
    Dismissed = a.ZeroEmploymentHouseholdDismissed.event_type
    Cleared = a.ZeroEmploymentHouseholdCleared.event_type
    PostCreated = a.PublicWelfarePostCreated.event_type
    PostFilled = a.PublicWelfarePostFilled.event_type
    PostExited = a.PublicWelfarePostExited.event_type
    PostTermEnded = a.PublicWelfarePostTermEnded.event_type


class CaseState(NamedTuple):
    """An assistance case (援助台账): open or not."""

    region_code: str
    day: date
    open: bool


class CertificationState(NamedTuple):
    """A certified hard-to-employ status (就业困难人员): holding or ended."""

    region_code: str
    day: date
    active: bool


class HouseholdState(NamedTuple):
    """A zero-employment household: ``none``, ``detected`` or ``confirmed`` (outstanding until cleared)."""

    region_code: str
    day: date
    stage: str


class PostState(NamedTuple):
    """A public-welfare post (公益性岗位): positions, how many are filled, and whether its term runs."""

    region_code: str
    day: date
    positions: int
    filled: int
    running: bool


def _evolve_case(state: CaseState | None, event: EventEnvelope, _: IsUrban, day: date) -> CaseState | None:
    if event.type == _E.CaseOpened:
        return CaseState(region_of(event), state.day if state else day, True)
    if state is None:
        return None
    if event.type == _E.CaseMoved:
        return state._replace(region_code=region_of(event))
    return state._replace(open=False)  # CaseClosed, PlacedInJob


def _evolve_certification(
    state: CertificationState | None, event: EventEnvelope, _: IsUrban, day: date
) -> CertificationState | None:
    if event.type == _E.Certified:
        return CertificationState(region_of(event), state.day if state else day, True)
    return None if state is None else state._replace(active=False)


def _evolve_household(
    state: HouseholdState | None, event: EventEnvelope, _: IsUrban, day: date
) -> HouseholdState | None:
    if event.type == _E.Detected:
        return HouseholdState(region_of(event), state.day if state else day, "detected")
    if state is None:
        return None
    if event.type == _E.Confirmed:
        return state._replace(stage="confirmed")
    return state._replace(stage="none")  # Dismissed, Cleared


def _evolve_post(state: PostState | None, event: EventEnvelope, _: IsUrban, day: date) -> PostState | None:
    data = event.data
    if event.type == _E.PostCreated:
        return PostState(region_of(event), state.day if state else day, int(data.get("positions") or 0), 0, True)
    if state is None:
        return None
    match event.type:
        case _E.PostFilled:
            return state._replace(filled=state.filled + 1)
        case _E.PostExited:
            return state._replace(filled=max(0, state.filled - 1))
    return state._replace(filled=0, running=False)  # PostTermEnded


CASE = Entity(
    "assistance_case",
    CaseState,
    "case_id",
    event_types(a.CaseOpened, a.CaseMoved, a.CaseClosed, a.PlacedInJob),
    _evolve_case,
)
CERTIFICATION = Entity(
    "hard_to_employ_certification",
    CertificationState,
    "certification_id",
    event_types(a.HardToEmployCertified, a.HardToEmployStatusEnded),
    _evolve_certification,
)
HOUSEHOLD = Entity(
    "zero_employment_household",
    HouseholdState,
    "household_id",
    event_types(
        a.ZeroEmploymentHouseholdDetected,
        a.ZeroEmploymentHouseholdConfirmed,
        a.ZeroEmploymentHouseholdDismissed,
        a.ZeroEmploymentHouseholdCleared,
    ),
    _evolve_household,
)
POST = Entity(
    "public_welfare_post",
    PostState,
    "post_id",
    event_types(
        a.PublicWelfarePostCreated, a.PublicWelfarePostFilled, a.PublicWelfarePostExited, a.PublicWelfarePostTermEnded
    ),
    _evolve_post,
)

#: The field of each event's data that says when it took effect.
EFFECTIVE_DAYS: dict[str, str] = {
    model.event_type: field_of(model, name)
    for model, name in (
        (a.CaseOpened, "opened_on"),
        (a.CaseMoved, "moved_on"),
        (a.CaseClosed, "closed_on"),
        (a.PlacedInJob, "placed_on"),
        (a.VocationalGuidanceGiven, "given_on"),
        (a.JobReferred, "referred_on"),
        (a.ReferralOutcomeRecorded, "recorded_on"),
        (a.HomeVisited, "visited_on"),
        (a.TrainingReferred, "referred_on"),
        (a.TrainingCompleted, "completed_on"),
        (a.EntrepreneurshipServiceGiven, "given_on"),
        (a.BusinessLoanPreReviewed, "reviewed_on"),
        (a.HardToEmployCertified, "certified_on"),
        (a.HardToEmployStatusEnded, "ended_on"),
        (a.ZeroEmploymentHouseholdDetected, "detected_on"),
        (a.ZeroEmploymentHouseholdConfirmed, "confirmed_on"),
        (a.ZeroEmploymentHouseholdDismissed, "dismissed_on"),
        (a.ZeroEmploymentHouseholdCleared, "cleared_on"),
        (a.PublicWelfarePostFilled, "started_on"),
        (a.PublicWelfarePostExited, "exited_on"),
        (a.PublicWelfarePostTermEnded, "ended_on"),
    )
}

#: The services a case records (就业服务), each one counted as one person-time of assistance.
SERVICES = (
    a.VocationalGuidanceGiven,
    a.JobReferred,
    a.HomeVisited,
    a.TrainingReferred,
    a.EntrepreneurshipServiceGiven,
    a.BusinessLoanPreReviewed,
)


def _hired(event: EventEnvelope, _: Any) -> int:
    return int(event.data.get("outcome") == "hired")


def _days_outstanding(event: EventEnvelope, _: Any) -> int:
    return int(event.data.get("days_outstanding") or 0)


def _within_target(event: EventEnvelope, _: Any) -> int:
    return int(bool(event.data.get("within_target")))


def _flow(name: str, zh: str, en: str, unit: str, *models: type[Any], delta: Any = every_event) -> Metric:
    return Metric(name, zh, en, unit, "flow", events={m.event_type: delta for m in models})


METRICS: tuple[Metric, ...] = (
    *stocks(
        "assistance_case",
        "人",
        ("assistance_cases_open", "援助台账在册人数", "Open assistance cases", lambda c: int(c.open)),
    ),
    *stocks(
        "hard_to_employ_certification",
        "人",
        ("hard_to_employ_certified", "就业困难人员（认定在册）", "Certified hard to employ", lambda s: int(s.active)),
    ),
    _flow(
        "hard_to_employ_newly_certified",
        "新认定就业困难人员",
        "Newly certified hard to employ",
        "人",
        a.HardToEmployCertified,
    ),
    _flow("assistance_services", "就业援助服务人次", "Assistance services", "人次", *SERVICES),
    _flow("assisted_placed", "援助安置就业人数", "Placed in a job by assistance", "人", a.PlacedInJob),
    *stocks(
        "zero_employment_household",
        "户",
        (
            "zero_employment_households_detected",
            "零就业家庭（待认定）",
            "Zero-employment households awaiting confirmation",
            lambda h: int(h.stage == "detected"),
        ),
        (
            "zero_employment_households_outstanding",
            "零就业家庭（未清零）",
            "Zero-employment households outstanding",
            lambda h: int(h.stage == "confirmed"),
        ),
    ),
    _flow(
        "zero_employment_households_cleared",
        "零就业家庭清零户数",
        "Zero-employment households cleared",
        "户",
        a.ZeroEmploymentHouseholdCleared,
    ),
    _flow(
        "zero_employment_cleared_within_target",
        "零就业家庭按时清零户数",
        "Zero-employment households cleared within the target",
        "户",
        a.ZeroEmploymentHouseholdCleared,
        delta=_within_target,
    ),
    _flow(
        "zero_employment_days_to_clear",
        "零就业家庭清零用时合计",
        "Days taken to clear zero-employment households (sum)",
        "天",
        a.ZeroEmploymentHouseholdCleared,
        delta=_days_outstanding,
    ),
    Metric(
        "zero_employment_mean_days_to_clear",
        "零就业家庭平均清零天数",
        "Mean days to clear a zero-employment household",
        "天",
        "ratio",
        numerator=("zero_employment_days_to_clear",),
        denominator=("zero_employment_households_cleared",),
        scale=1,
    ),
    *stocks(
        "public_welfare_post",
        "个",
        (
            "public_welfare_positions",
            "公益性岗位数",
            "Public-welfare positions",
            lambda p: p.positions if p.running else 0,
        ),
        (
            "public_welfare_positions_filled",
            "公益性岗位在岗人数",
            "Public-welfare positions filled",
            lambda p: p.filled if p.running else 0,
        ),
    ),
    _flow("trainings_completed", "培训结业人数", "Trainings completed", "人次", a.TrainingCompleted),
    _flow("job_referrals", "推荐就业人次", "Job referrals", "人次", a.JobReferred),
    _flow(
        "job_referral_outcomes",
        "推荐就业有结果人次",
        "Job referrals with an outcome",
        "人次",
        a.ReferralOutcomeRecorded,
    ),
    _flow(
        "job_referrals_hired",
        "推荐就业成功人次",
        "Job referrals hired",
        "人次",
        a.ReferralOutcomeRecorded,
        delta=_hired,
    ),
    Metric(
        "job_referral_success_rate",
        "推荐就业成功率",
        "Job referral success rate",
        "%",
        "ratio",
        numerator=("job_referrals_hired",),
        denominator=("job_referral_outcomes",),
    ),
)

SOURCE = Source(
    ASSISTANCE_EVENTS,
    entities=(CASE, CERTIFICATION, HOUSEHOLD, POST),
    metrics=METRICS,
    effective_days=EFFECTIVE_DAYS,
)
