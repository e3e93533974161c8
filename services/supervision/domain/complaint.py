"""Complaints (投诉): received, completed when material is missing, then accepted or refused in 5 working days.

关于实施〈劳动保障监察条例〉若干规定 Art 18: accept within 5 working days a complaint about a violation within
2 years that names an employer and lies within the office's jurisdiction; refuse one older than 2 years in
writing within the same 5 working days; ask for missing material, which pauses the clock (docs/rules.md,
"Supervision"). 劳动保障监察条例 Art 20: the 2 years run from the violation's end when it continues.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Literal

from contracts.envelope import Event
from contracts.supervision import (
    ComplaintAccepted,
    ComplaintCompleted,
    ComplaintCompletionRequested,
    ComplaintDeadlineRecomputed,
    ComplaintDecisionOverdue,
    ComplaintFiled,
    ComplaintRefused,
    ComplaintType,
    EmployerRef,
    InspectionScope,
    RefusalReason,
)
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain import limits as limits_rule
from services.supervision.domain.limits import (
    Limits,
    RunningLimit,
    add_years,
    require_dated,
    require_not_future,
    resume,
)

#: The 条例 Art 11 item each complaint type falls under; ``other`` names its own.
SCOPE_OF_TYPE: dict[str, InspectionScope] = {
    "wage_arrears": "wages_minimum_wage",
    "no_written_contract": "labour_contracts",
    "insurance_not_paid": "social_insurance",
    "excessive_overtime": "working_hours_leave",
    "child_labour": "child_labour",
}

ComplaintStatus = Literal["received", "awaiting_material", "accepted", "refused"]


@dataclass(frozen=True)
class ComplaintState:
    """A complaint as its stream tells it; ``version`` is the ETag."""

    complaint_id: str
    region_code: str
    employer: EmployerRef
    complaint_type: ComplaintType
    scope: InspectionScope
    violation_from: date
    violation_until: date | None
    received_on: date
    workers_concerned: int
    amount_claimed_fen: int
    status: ComplaintStatus
    #: The clock: it runs ``clock_workdays`` working days from ``clock_from``, paused while material is missing.
    clock_from: date
    #: None: the full 5 working days; else what was left when the clock paused.
    clock_workdays: int | None
    decision_due: date
    provisional: bool
    version: int
    paused_on: date | None = None
    decided_on: date | None = None
    case_id: str | None = None
    refusal_reason: RefusalReason | None = None
    overdue_flagged: bool = False

    @property
    def open(self) -> bool:
        """Still waiting for a decision."""
        return self.status in ("received", "awaiting_material")


def evolve_complaint(state: ComplaintState | None, event: Event) -> ComplaintState:
    """The complaint after one more of its events."""
    if isinstance(event, ComplaintFiled):
        return ComplaintState(
            complaint_id=event.complaint_id,
            region_code=event.region_code,
            employer=event.employer,
            complaint_type=event.complaint_type,
            scope=event.scope,
            violation_from=event.violation_from,
            violation_until=event.violation_until,
            received_on=event.received_on,
            workers_concerned=event.workers_concerned,
            amount_claimed_fen=event.amount_claimed_fen,
            status="received",
            clock_from=event.received_on,
            clock_workdays=None,
            decision_due=event.decision_due,
            provisional=event.provisional,
            version=1,
        )
    assert state is not None, "a complaint starts with ComplaintFiled"
    state = replace(state, version=state.version + 1)
    if isinstance(event, ComplaintCompletionRequested):
        return replace(
            state, status="awaiting_material", paused_on=event.requested_on, clock_workdays=event.workdays_left
        )
    if isinstance(event, ComplaintCompleted):
        return replace(
            state,
            status="received",
            paused_on=None,
            clock_from=event.completed_on,
            decision_due=event.decision_due,
            provisional=event.provisional,
            overdue_flagged=False,
        )
    if isinstance(event, ComplaintAccepted):
        return replace(state, status="accepted", decided_on=event.accepted_on, case_id=event.case_id)
    if isinstance(event, ComplaintRefused):
        return replace(state, status="refused", decided_on=event.refused_on, refusal_reason=event.reason)
    if isinstance(event, ComplaintDecisionOverdue):
        return replace(state, overdue_flagged=True)
    if isinstance(event, ComplaintDeadlineRecomputed):
        return replace(state, decision_due=event.due_on, provisional=event.provisional)
    return state


def running_limits(state: ComplaintState, limits: Limits) -> list[RunningLimit]:
    """The decision's limit while the clock runs: 5 working days from receipt, or what was left of them
    from the day the material was completed (若干规定 Art 18)."""
    if state.status != "received":
        return []
    start, left = state.clock_from, state.clock_workdays
    return [
        RunningLimit(
            "decision",
            state.decision_due,
            state.provisional,
            lambda cal: (
                cal.add_workdays(start, limits.complaint_decision_workdays)
                if left is None
                else resume(cal, start, left)
            ),
        )
    ]


def decide_recompute(state: ComplaintState, cal: WorkdayCalendar, limits: Limits) -> list[ComplaintDeadlineRecomputed]:
    """Provisional limits computed again on the calendar as it now is; one event per limit that moved."""
    recorded = partial(ComplaintDeadlineRecomputed, complaint_id=state.complaint_id, region_code=state.region_code)
    return limits_rule.decide_recompute(running_limits(state, limits), cal, recorded)


@dataclass(frozen=True)
class FileComplaint:
    """Receive a complaint (投诉登记). The complainant's identity is kept apart, encrypted, by the command."""

    complaint_id: str
    region_code: str
    employer: EmployerRef
    complaint_type: ComplaintType
    scope: InspectionScope | None
    facts: str
    violation_from: date
    violation_until: date | None
    received_on: date
    workers_concerned: int
    amount_claimed_fen: int
    on_behalf: bool


def inspection_scope(complaint_type: ComplaintType, scope: InspectionScope | None) -> InspectionScope:
    """The 条例 Art 11 item a complaint falls under: given by its type, or named for ``other``."""
    implied = SCOPE_OF_TYPE.get(complaint_type)
    if implied is None:
        if scope is None:
            raise RuleViolated(
                "ComplaintWithinInspectionScope",
                "a complaint of type other must name the 劳动保障监察条例 Art 11 matter it concerns",
                field="scope",
            )
        return scope
    if scope is not None and scope != implied:
        raise RuleViolated(
            "ScopeMatchesComplaintType", f"a {complaint_type} complaint concerns {implied}, not {scope}", field="scope"
        )
    return implied


def decide_file_complaint(
    command: FileComplaint, cal: WorkdayCalendar, limits: Limits, today: date
) -> list[ComplaintFiled]:
    """A complaint is received with its facts and dates; the decision falls due 5 working days later."""
    require_not_future(command.received_on, today, "received_on")
    if command.violation_from > command.received_on:
        raise RuleViolated(
            "ViolationBeforeComplaint",
            f"violation_from {command.violation_from} is after the complaint was received ({command.received_on})",
            field="violation_from",
        )
    if command.violation_until is not None and not (
        command.violation_from <= command.violation_until <= command.received_on
    ):
        raise RuleViolated(
            "ViolationPeriodInOrder",
            "violation_until must lie between violation_from and the day the complaint was received",
            field="violation_until",
        )
    if not command.facts.strip():
        raise RuleViolated("ComplaintStatesFacts", "a complaint states its facts", field="facts")
    scope = inspection_scope(command.complaint_type, command.scope)
    due = cal.add_workdays(command.received_on, limits.complaint_decision_workdays)
    return [
        ComplaintFiled(
            complaint_id=command.complaint_id,
            region_code=command.region_code,
            employer=command.employer,
            complaint_type=command.complaint_type,
            scope=scope,
            facts=command.facts.strip(),
            violation_from=command.violation_from,
            violation_until=command.violation_until,
            received_on=command.received_on,
            decision_due=due.due,
            provisional=due.provisional,
            workers_concerned=command.workers_concerned,
            amount_claimed_fen=command.amount_claimed_fen,
            on_behalf=command.on_behalf,
        )
    ]


def _require_undecided(state: ComplaintState) -> None:
    if not state.open:
        raise RuleViolated(
            "ComplaintDecidedOnce", f"complaint {state.complaint_id} is already {state.status}", field="status"
        )


def workdays_left(state: ComplaintState, cal: WorkdayCalendar, limits: Limits, on: date) -> int:
    """Working days of the decision period still to run on ``on``."""
    allotted = limits.complaint_decision_workdays if state.clock_workdays is None else state.clock_workdays
    return max(0, allotted - cal.workdays_between(state.clock_from, on))


def decide_request_completion(
    state: ComplaintState, requested_on: date, missing: list[str], cal: WorkdayCalendar, limits: Limits, today: date
) -> list[ComplaintCompletionRequested]:
    """Ask for the missing material (补正); the clock stops with what is left of the 5 working days."""
    _require_undecided(state)
    if state.status == "awaiting_material":
        raise RuleViolated(
            "OneCompletionRequestAtATime", "the complainant was already asked to complete the material", field="status"
        )
    require_dated(requested_on, state.clock_from, today, "requested_on", "the clock's start")
    if not [m for m in missing if m.strip()]:
        raise RuleViolated("CompletionNamesTheMissingMaterial", "name the material that is missing", field="missing")
    return [
        ComplaintCompletionRequested(
            complaint_id=state.complaint_id,
            region_code=state.region_code,
            requested_on=requested_on,
            missing=[m.strip() for m in missing if m.strip()],
            workdays_left=workdays_left(state, cal, limits, requested_on),
        )
    ]


def decide_complete_material(
    state: ComplaintState, completed_on: date, cal: WorkdayCalendar, today: date
) -> list[ComplaintCompleted]:
    """The material is complete: the clock runs again with the working days it had left."""
    if state.status != "awaiting_material" or state.paused_on is None:
        raise RuleViolated(
            "CompletionFollowsARequest", "no completion of material was asked for on this complaint", field="status"
        )
    require_dated(completed_on, state.paused_on, today, "completed_on", "the request for completion")
    due = resume(cal, completed_on, state.clock_workdays or 0)
    return [
        ComplaintCompleted(
            complaint_id=state.complaint_id,
            region_code=state.region_code,
            completed_on=completed_on,
            decision_due=due.due,
            provisional=due.provisional,
        )
    ]


def _require_received(state: ComplaintState) -> None:
    _require_undecided(state)
    if state.status == "awaiting_material":
        raise RuleViolated(
            "MaterialCompleteBeforeDecision",
            "the complainant has not yet completed the material asked for; record the completion first",
            field="status",
        )


def within_jurisdiction(state: ComplaintState) -> bool:
    """The employer lies in the county whose network received the complaint (用工所在地管辖)."""
    return state.employer.region_code[:6] == state.region_code[:6]


def decide_accept(
    state: ComplaintState, accepted_on: date, case_id: str, limits: Limits, today: date
) -> list[ComplaintAccepted]:
    """Accept (受理): within 2 years of the violation and within jurisdiction; the case is opened beside it."""
    _require_received(state)
    require_dated(accepted_on, state.clock_from, today, "accepted_on", "the complaint's receipt")
    limitation_ends = add_years(state.violation_until or state.received_on, limits.limitation_years)
    if state.received_on > limitation_ends:
        raise RuleViolated(
            "ViolationWithinTwoYears",
            f"the violation ended on {state.violation_until}, more than {limits.limitation_years} years before the "
            f"complaint (劳动保障监察条例 Art 20): refuse it in writing with reason older_than_two_years",
            field="violation_until",
        )
    if not within_jurisdiction(state):
        raise RuleViolated(
            "ComplaintWithinJurisdiction",
            f"the employer lies in {state.employer.region_code}, outside county {state.region_code[:6]}: "
            "refuse it with reason outside_jurisdiction and name the competent office",
            field="employer.region_code",
        )
    return [
        ComplaintAccepted(
            complaint_id=state.complaint_id,
            region_code=state.region_code,
            accepted_on=accepted_on,
            case_id=case_id,
            decided_late=accepted_on > state.decision_due,
        )
    ]


def decide_refuse(
    state: ComplaintState, refused_on: date, reason: RefusalReason, explanation: str, limits: Limits, today: date
) -> list[ComplaintRefused]:
    """Refuse in writing (不予受理); a reason the facts contradict is refused in turn."""
    _require_undecided(state)
    require_dated(refused_on, state.received_on, today, "refused_on", "the complaint's receipt")
    old = state.received_on > add_years(state.violation_until or state.received_on, limits.limitation_years)
    if reason == "older_than_two_years" and not old:
        raise RuleViolated(
            "RefusalReasonHolds",
            "the violation lies within 2 years of the complaint (条例 Art 20): it cannot be refused as too old",
            field="reason",
        )
    if reason == "outside_jurisdiction" and within_jurisdiction(state):
        raise RuleViolated(
            "RefusalReasonHolds",
            "the employer lies within this county: the complaint is in jurisdiction",
            field="reason",
        )
    if not explanation.strip():
        raise RuleViolated(
            "RefusalInWriting", "a refusal explains itself in writing to the complainant", field="explanation"
        )
    return [
        ComplaintRefused(
            complaint_id=state.complaint_id,
            region_code=state.region_code,
            refused_on=refused_on,
            reason=reason,
            explanation=explanation.strip(),
            decided_late=refused_on > state.decision_due,
        )
    ]


def decide_flag_overdue(state: ComplaintState, today: date) -> list[ComplaintDecisionOverdue]:
    """The scheduled check: a complaint undecided after its due day is flagged once (idempotent)."""
    if state.status != "received" or state.overdue_flagged or today <= state.decision_due:
        return []
    return [
        ComplaintDecisionOverdue(
            complaint_id=state.complaint_id,
            region_code=state.region_code,
            decision_due=state.decision_due,
            detected_on=today,
        )
    ]
