"""Reporting's source ``supervision.events``: complaints, cases, mediation, petitions and employer ratings
(docs/design.md, "Supervision" and "Reporting").

Flows count what happened in a period where it happened: complaints filed (where received), accepted and
refused; cases opened and closed, closed within the limit (劳动保障监察条例 Art 17) and its rate, wage arrears
recovered in fen and the workers concerned; penalties in fen; mediations applied for, agreed and referred to
arbitration (劳动争议调解仲裁法 Art 14) and the success rate; petitions registered and answered. Stocks count
what stands at the end of a day: complaints awaiting a decision and those flagged overdue, open cases and
those past a limit, employers by the grade of their latest rating change (人社部规〔2016〕1号; an employer
never rated is A and not counted).
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple, TypeVar

from contracts import supervision as sup
from contracts.envelope import Event, EventEnvelope
from contracts.topics import SUPERVISION_EVENTS
from services.reporting.catalogue import Source, event_types, field_of
from services.reporting.entities import Entity, IsUrban, region_of
from services.reporting.metrics import Metric, every_event, stocks

EFFECTIVE_DAYS: dict[str, str] = {
    model.event_type: field_of(model, name)
    for model, name in (
        (sup.ComplaintFiled, "received_on"),
        (sup.ComplaintAccepted, "accepted_on"),
        (sup.ComplaintRefused, "refused_on"),
        (sup.ComplaintDecisionOverdue, "detected_on"),
        (sup.CaseOpened, "opened_on"),
        (sup.CaseClosed, "closed_on"),
        (sup.CaseDeadlineBreached, "detected_on"),
        (sup.PenaltyImposed, "decided_on"),
        (sup.MediationApplied, "received_on"),
        (sup.MediationAgreed, "agreed_on"),
        (sup.DisputeReferredToArbitration, "referred_on"),
        (sup.PetitionRegistered, "received_on"),
        (sup.PetitionAnswered, "answered_on"),
        (sup.EmployerRatingChanged, "rated_on"),
    )
}


class ComplaintState(NamedTuple):
    """A complaint as reporting keeps it: undecided or not, and flagged overdue."""

    region_code: str
    day: date
    undecided: bool
    overdue: bool


class CaseState(NamedTuple):
    """A case as reporting keeps it: open or not, and past a limit while open."""

    region_code: str
    day: date
    open: bool
    overdue: bool


class RatingState(NamedTuple):
    """An employer's latest grade."""

    region_code: str
    day: date
    grade: str


_Flagged = TypeVar("_Flagged", ComplaintState, CaseState)


def _complaint(state: ComplaintState | None, event: EventEnvelope, _: IsUrban, day: date) -> ComplaintState | None:
    if event.type == sup.ComplaintFiled.event_type:
        return ComplaintState(region_of(event), day, True, False)
    if state is None:
        return None
    if event.type == sup.ComplaintDecisionOverdue.event_type:
        return _changed(state, day, overdue=state.undecided)
    if event.type == sup.ComplaintCompleted.event_type:
        return _changed(state, day, overdue=False)
    return _changed(state, day, undecided=False, overdue=False)  # accepted or refused


def _case(state: CaseState | None, event: EventEnvelope, _: IsUrban, day: date) -> CaseState | None:
    if event.type == sup.CaseOpened.event_type:
        return CaseState(region_of(event), day, True, False)
    if state is None:
        return None
    if event.type == sup.CaseDeadlineBreached.event_type:
        return _changed(state, day, overdue=state.open)
    return _changed(state, day, open=False, overdue=False)  # closed


def _rating(state: RatingState | None, event: EventEnvelope, _: IsUrban, day: date) -> RatingState:
    rated = RatingState(region_of(event), day, str(event.data["grade"]))
    return state if state is not None and state._replace(day=day) == rated else rated


def _changed(state: _Flagged, day: date, **fields: Any) -> _Flagged:
    """The state with ``fields`` from ``day``; one the event leaves as it was keeps its day (it dates nothing)."""
    after = state._replace(**fields)
    return state if after == state else after._replace(day=day)


COMPLAINT = Entity(
    "complaint",
    ComplaintState,
    "complaint_id",
    event_types(
        sup.ComplaintFiled, sup.ComplaintDecisionOverdue, sup.ComplaintCompleted, sup.ComplaintAccepted,
        sup.ComplaintRefused,
    ),
    _complaint,
)  # fmt: skip
CASE = Entity(
    "case", CaseState, "case_id", event_types(sup.CaseOpened, sup.CaseDeadlineBreached, sup.CaseClosed), _case
)
EMPLOYER_RATING = Entity("employer_rating", RatingState, "employer_id", event_types(sup.EmployerRatingChanged), _rating)


def _flow(name: str, zh: str, en: str, unit: str, model: type[Event], count: Any = every_event) -> Metric:
    return Metric(name, zh, en, unit, "flow", events={model.event_type: count})


def _field(name: str) -> Any:
    def delta(event: EventEnvelope, _: Any) -> int:
        return int(event.data.get(name) or 0)

    return delta


def _in_time(event: EventEnvelope, _: Any) -> int:
    return int(bool(event.data.get("within_limit")))


def _grade(grade: str) -> Any:
    return lambda s: int(s.grade == grade)


METRICS: tuple[Metric, ...] = (
    _flow("complaints_filed", "投诉受理登记", "Complaints filed", "件", sup.ComplaintFiled),
    _flow("complaints_accepted", "投诉立案受理", "Complaints accepted", "件", sup.ComplaintAccepted),
    _flow("complaints_refused", "投诉不予受理", "Complaints refused", "件", sup.ComplaintRefused),
    *stocks(
        "complaint",
        "件",
        ("complaints_undecided", "待决定投诉", "Complaints awaiting a decision", lambda s: int(s.undecided)),
        ("complaints_overdue", "超期未决定投诉", "Complaints undecided past 5 working days", lambda s: int(s.overdue)),
    ),
    _flow("cases_opened", "立案", "Cases opened", "件", sup.CaseOpened),
    _flow("cases_closed", "结案", "Cases closed", "件", sup.CaseClosed),
    _flow("cases_closed_in_time", "按期结案", "Cases closed within the limit", "件", sup.CaseClosed, _in_time),
    Metric(
        "cases_closed_in_time_rate",
        "按期结案率",
        "Cases closed within the limit",
        "%",
        "ratio",
        numerator=("cases_closed_in_time",),
        denominator=("cases_closed",),
    ),
    *stocks(
        "case",
        "件",
        ("cases_open", "在办案件", "Open cases", lambda s: int(s.open)),
        ("cases_overdue", "超期案件", "Open cases past a time limit", lambda s: int(s.overdue)),
    ),
    _flow(
        "wage_arrears_recovered_fen",
        "追发工资",
        "Wage arrears recovered",
        "分",
        sup.CaseClosed,
        _field("wages_recovered_fen"),
    ),
    _flow(
        "workers_concerned",
        "结案涉及劳动者",
        "Workers concerned by closed cases",
        "人",
        sup.CaseClosed,
        _field("workers_concerned"),
    ),
    _flow("penalties_fen", "罚款", "Penalties imposed", "分", sup.PenaltyImposed, _field("amount_fen")),
    _flow("mediations_applied", "调解申请", "Mediation applications", "件", sup.MediationApplied),
    _flow("mediations_agreed", "调解成功", "Mediations agreed", "件", sup.MediationAgreed),
    _flow(
        "mediations_referred",
        "调解不成转仲裁",
        "Mediations referred to arbitration",
        "件",
        sup.DisputeReferredToArbitration,
    ),
    Metric(
        "mediation_success_rate",
        "调解成功率",
        "Mediation success rate",
        "%",
        "ratio",
        numerator=("mediations_agreed",),
        denominator=("mediations_agreed", "mediations_referred"),
    ),
    _flow("petitions_registered", "信访登记", "Petitions registered", "件", sup.PetitionRegistered),
    _flow("petitions_answered", "信访答复", "Petitions answered", "件", sup.PetitionAnswered),
    *stocks(
        "employer_rating",
        "家",
        ("employers_rated_a", "守法诚信等级A级（评定变更）", "Employers rated A (after a change)", _grade("A")),
        ("employers_rated_b", "守法诚信等级B级", "Employers rated B", _grade("B")),
        ("employers_rated_c", "守法诚信等级C级", "Employers rated C", _grade("C")),
    ),
)

SOURCE = Source(
    SUPERVISION_EVENTS,
    entities=(COMPLAINT, CASE, EMPLOYER_RATING),
    metrics=METRICS,
    effective_days=EFFECTIVE_DAYS,
)
