"""What each event credits to the staff member who caused it: workload, effect or satisfaction points.

Every envelope carries ``actor``, the subject of the token that caused it; a reaction's actor is
``<service>:<actor>`` of the event it reacted to. Workload counts what staff did themselves (the actor
has no prefix). An effect may arrive by reaction: a zero-employment household clears when registration
records the job a placement made, so the chain's last subject (the one who placed) gets it. A rating
credits the staff member it names (``ServiceRated.staff``), not the clerk who recorded the slip.

The four parts are seed 003 (四)'s "服务工作量、服务成本、服务效果和服务对象满意度"; the points per
kind are documented in docs/rules.md, "Staff performance". Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from contracts import assistance as a
from contracts import registration as reg
from contracts import supervision as s
from contracts.envelope import Event, EventEnvelope
from services.reporting.catalogue import field_of
from services.reporting.entities import effective_day

Part = Literal["workload", "effect", "satisfaction"]
PARTS: tuple[Part, ...] = ("workload", "effect", "satisfaction")


@dataclass(frozen=True)
class Kind:
    """One kind of credited work: its part, its label and the points one event of it earns."""

    name: str
    part: Part
    label_zh: str
    points: int = 1
    #: Whether the credit follows a reaction chain to the staff member at its end.
    via_reactions: bool = False


#: Every kind of work the evaluation credits, in the order the report lists them.
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("person_registered", "workload", "实名登记"),
        Kind("person_surveyed", "workload", "动态调查"),
        Kind("service_given", "workload", "就业服务"),
        Kind("referral", "workload", "推荐就业"),
        Kind("referral_outcome", "workload", "推荐结果回访"),
        Kind("complaint_received", "workload", "投诉受理登记"),
        Kind("complaint_decided", "workload", "投诉受理决定"),
        Kind("case_closed", "workload", "案件结案"),
        Kind("referral_hired", "effect", "推荐成功", 1),
        Kind("placement", "effect", "安置就业", 3),
        Kind("zero_household_cleared_in_time", "effect", "零就业家庭按期清零", 3, via_reactions=True),
        Kind("complaint_decided_in_time", "effect", "投诉按期处理", 1),
        Kind("case_closed_in_time", "effect", "案件按期结案", 2),
        Kind("rating", "satisfaction", "满意度评价"),
    )
}

Condition = Callable[[Mapping[str, Any]], bool]


def _always(_: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """What one event type credits: the field of its date (else the day it occurred in China) and, per kind
    it may credit, the condition on its data."""

    model: type[Event]
    day_field: str | None
    kinds: tuple[tuple[str, Condition], ...]

    def __post_init__(self) -> None:
        if self.day_field is not None:
            field_of(self.model, self.day_field)  # a renamed field fails at import
        unknown = [kind for kind, _ in self.kinds if kind not in KINDS]
        if unknown:
            raise ValueError(f"{self.model.__name__} credits unknown kinds {unknown}")


def _rule(model: type[Event], day_field: str | None, *kinds: str | tuple[str, Condition]) -> tuple[str, Rule]:
    pairs = tuple((k, _always) if isinstance(k, str) else k for k in kinds)
    return model.event_type, Rule(model, day_field, pairs)


def _hired(data: Mapping[str, Any]) -> bool:
    return data.get("outcome") == "hired"


def _decided_in_time(data: Mapping[str, Any]) -> bool:
    return data.get("decided_late") is False


#: Event type -> what it credits.
RULES: dict[str, Rule] = dict(
    (
        _rule(reg.PersonRegistered, "registered_on", "person_registered"),
        _rule(reg.StatusSurveyed, "surveyed_on", "person_surveyed"),
        _rule(a.VocationalGuidanceGiven, "given_on", "service_given"),
        _rule(a.HomeVisited, "visited_on", "service_given"),
        _rule(a.TrainingReferred, "referred_on", "service_given"),
        _rule(a.EntrepreneurshipServiceGiven, "given_on", "service_given"),
        _rule(a.BusinessLoanPreReviewed, "reviewed_on", "service_given"),
        _rule(a.JobReferred, "referred_on", "referral"),
        _rule(a.ReferralOutcomeRecorded, "recorded_on", "referral_outcome", ("referral_hired", _hired)),
        _rule(a.PlacedInJob, "placed_on", "placement"),
        _rule(
            a.ZeroEmploymentHouseholdCleared,
            "cleared_on",
            ("zero_household_cleared_in_time", lambda d: d.get("within_target") is True),
        ),
        _rule(s.ComplaintFiled, "received_on", "complaint_received"),
        _rule(s.ComplaintAccepted, "accepted_on", "complaint_decided", ("complaint_decided_in_time", _decided_in_time)),
        _rule(s.ComplaintRefused, "refused_on", "complaint_decided", ("complaint_decided_in_time", _decided_in_time)),
        _rule(
            s.CaseClosed, "closed_on", "case_closed", ("case_closed_in_time", lambda d: d.get("within_limit") is True)
        ),
        _rule(a.ServiceRated, "rated_on", "rating"),
    )
)

#: The day field of each credited event type, in the shape ``effective_day`` reads.
DAY_FIELDS: dict[str, str] = {t: r.day_field for t, r in RULES.items() if r.day_field is not None}


@dataclass(frozen=True)
class Credit:
    """One event's credit to one staff member: ``points`` of ``kind`` (for a rating, the score)."""

    event_id: str
    staff: str
    kind: str
    points: int
    day: Any
    event_type: str
    region_code: str | None


def staff_of(actor: str | None, *, via_reactions: bool) -> str | None:
    """The staff subject an actor credits: itself when it acted directly; through a reaction chain
    (``registration:assistance:v-yang``) the last subject, when the kind follows reactions."""
    if not actor:
        return None
    if ":" not in actor:
        return actor
    if not via_reactions:
        return None
    return actor.rsplit(":", 1)[1] or None


def credits_of(event: EventEnvelope) -> list[Credit]:
    """What one event credits; nothing for an event no rule names or without a staff member to credit."""
    rule = RULES.get(event.type)
    if rule is None:
        return []
    data = event.data
    day = effective_day(event, DAY_FIELDS)
    found = []
    for name, condition in rule.kinds:
        if not condition(data):
            continue
        kind = KINDS[name]
        if kind.part == "satisfaction":
            staff, points = data.get("staff"), int(data.get("score") or 0)
        else:
            staff, points = staff_of(event.actor, via_reactions=kind.via_reactions), kind.points
        if staff:
            found.append(Credit(str(event.event_id), str(staff), name, points, day, event.type, event.region_code))
    return found
