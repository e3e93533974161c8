"""The steps of a case, each a decision on its state: opening (立案), inspection, rectification order and its
verification, penalty, the one extension (劳动保障监察条例 Art 17), transfer (移送) and closure (结案).

A step out of order is refused naming the rule; every date lies between the case's last step and today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from contracts.envelope import Event
from contracts.supervision import (
    CaseClosed,
    CaseExtended,
    CaseInspected,
    CaseOpened,
    CaseSource,
    CaseTransferred,
    ComplaintType,
    EmployerRef,
    InspectionScope,
    PenaltyImposed,
    RectificationOrdered,
    RectificationVerified,
)
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain.case.state import CaseState, Outcome
from services.supervision.domain.limits import Limits, require_dated


@dataclass(frozen=True)
class OpenCase:
    """Open a case (立案) on an accepted complaint, a grid inspection's finding, arrears, or ex officio."""

    case_id: str
    employer: EmployerRef
    source: CaseSource
    scope: InspectionScope
    opened_on: date
    workers_concerned: int
    complaint_id: str | None = None
    complaint_type: ComplaintType | None = None


def decide_open_case(command: OpenCase, cal: WorkdayCalendar, limits: Limits, today: date) -> list[CaseOpened]:
    """The investigation's limit is 60 working days from the day the case is opened (条例 Art 17)."""
    require_dated(command.opened_on, command.opened_on, today, "opened_on", "itself")
    due = cal.add_workdays(command.opened_on, limits.investigation_workdays)
    return [
        CaseOpened(
            case_id=command.case_id,
            region_code=command.employer.region_code,
            employer=command.employer,
            source=command.source,
            complaint_id=command.complaint_id,
            scope=command.scope,
            complaint_type=command.complaint_type,
            opened_on=command.opened_on,
            due_on=due.due,
            provisional=due.provisional,
            workers_concerned=command.workers_concerned,
        )
    ]


def _require_open(state: CaseState) -> None:
    if not state.open:
        raise RuleViolated(
            "CaseIsOpen", f"case {state.case_id} is {state.status}; it takes no more steps", field="status"
        )


def decide_inspect(
    state: CaseState, inspected_on: date, method: Literal["site", "documents", "interview"], findings: str,
    violation_found: bool, today: date,
) -> list[CaseInspected]:  # fmt: skip
    """An inspection of the employer (调查检查), dated within the case."""
    _require_open(state)
    require_dated(inspected_on, state.opened_on, today, "inspected_on", "the case's opening")
    if not findings.strip():
        raise RuleViolated("InspectionRecordsFindings", "an inspection records what it found", field="findings")
    return [
        CaseInspected(
            case_id=state.case_id,
            region_code=state.region_code,
            inspected_on=inspected_on,
            method=method,
            findings=findings.strip(),
            violation_found=violation_found,
        )
    ]


def decide_order_rectification(
    state: CaseState,
    ordered_on: date,
    requirements: str,
    due_on: date | None,
    workdays: int | None,
    cal: WorkdayCalendar,
    limits: Limits,
    today: date,
) -> list[RectificationOrdered]:
    """A rectification order (责令改正) follows a found violation and carries its own deadline."""
    _require_open(state)
    if not state.violation_found:
        raise RuleViolated(
            "RectificationFollowsAFoundViolation",
            "order rectification only after an inspection found a violation",
            field="inspections",
        )
    if state.order_open:
        raise RuleViolated(
            "OneRectificationOrderAtATime", "the last rectification order has not been verified yet", field="status"
        )
    require_dated(ordered_on, state.since, today, "ordered_on", "the case's last step")
    if due_on is not None and workdays is not None:
        raise RuleViolated("OneDeadlinePerOrder", "give due_on or workdays, not both", field="due_on")
    if due_on is not None:
        if due_on <= ordered_on:
            raise RuleViolated("RectificationDeadlineAfterOrder", "due_on must be after ordered_on", field="due_on")
        deadline = cal.next_workday(due_on)
    else:
        deadline = cal.add_workdays(ordered_on, workdays or limits.rectification_workdays)
    if not requirements.strip():
        raise RuleViolated("OrderStatesRequirements", "the order says what must be corrected", field="requirements")
    return [
        RectificationOrdered(
            case_id=state.case_id,
            region_code=state.region_code,
            ordered_on=ordered_on,
            due_on=deadline.due,
            workdays=None if due_on is not None else workdays or limits.rectification_workdays,
            provisional=deadline.provisional,
            requirements=requirements.strip(),
        )
    ]


def decide_verify_rectification(
    state: CaseState, verified_on: date, complied: bool, wages_paid_fen: int, today: date
) -> list[RectificationVerified]:
    """Check the order: complied with (on time or late) or not (拒不改正)."""
    _require_open(state)
    if not state.order_open or state.order_due is None:
        raise RuleViolated("RectificationOrderedFirst", "there is no rectification order to verify", field="status")
    require_dated(verified_on, state.since, today, "verified_on", "the rectification order")
    return [
        RectificationVerified(
            case_id=state.case_id,
            region_code=state.region_code,
            verified_on=verified_on,
            complied=complied,
            on_time=complied and verified_on <= state.order_due,
            wages_paid_fen=wages_paid_fen,
        )
    ]


def decide_penalty(
    state: CaseState, decided_on: date, amount_fen: int, legal_basis: str, today: date
) -> list[PenaltyImposed]:
    """An administrative penalty (行政处罚) in fen, for a found violation."""
    _require_open(state)
    if not state.violation_found:
        raise RuleViolated(
            "PenaltyFollowsAFoundViolation", "a penalty needs an inspection that found a violation", field="inspections"
        )
    if amount_fen <= 0:
        raise RuleViolated("PenaltyIsAnAmount", "a penalty is a positive amount in fen", field="amount_fen")
    if not legal_basis.strip():
        raise RuleViolated("PenaltyNamesItsBasis", "a penalty names its legal basis", field="legal_basis")
    require_dated(decided_on, state.since, today, "decided_on", "the case's last step")
    return [
        PenaltyImposed(
            case_id=state.case_id,
            region_code=state.region_code,
            decided_on=decided_on,
            amount_fen=amount_fen,
            legal_basis=legal_basis.strip(),
        )
    ]


def decide_extend(
    state: CaseState,
    approved_on: date,
    approved_by: str,
    workdays: int,
    reason: str,
    cal: WorkdayCalendar,
    limits: Limits,
    today: date,
) -> list[CaseExtended]:
    """The one extension (条例 Art 17): at most 30 working days, approved before the limit runs out."""
    _require_open(state)
    if state.extended:
        raise RuleViolated("OneExtension", "the investigation was already extended once (条例 Art 17)", field="status")
    if not 1 <= workdays <= limits.extension_max_workdays:
        raise RuleViolated(
            "ExtensionAtMostThirtyWorkdays",
            f"an extension is 1 to {limits.extension_max_workdays} working days (条例 Art 17), not {workdays}",
            field="workdays",
        )
    require_dated(approved_on, state.opened_on, today, "approved_on", "the case's opening")
    if approved_on > state.due_on:
        raise RuleViolated(
            "ExtensionBeforeTheLimit",
            f"the limit ran out on {state.due_on}; an extension is approved before that",
            field="approved_on",
        )
    if not reason.strip():
        raise RuleViolated("ExtensionGivesAReason", "an extension says why the case needs it", field="reason")
    due = cal.add_workdays(state.due_on, workdays)
    return [
        CaseExtended(
            case_id=state.case_id,
            region_code=state.region_code,
            approved_on=approved_on,
            approved_by=approved_by,
            workdays=workdays,
            due_on=due.due,
            provisional=due.provisional or state.provisional,
            reason=reason.strip(),
        )
    ]


def decide_transfer(
    state: CaseState,
    transferred_on: date,
    to: Literal["public_security", "other_department", "other_jurisdiction"],
    reason: str,
    today: date,
) -> list[Event]:
    """Transfer (移送) ends the case here: it is recorded as closed with outcome ``transferred``."""
    _require_open(state)
    require_dated(transferred_on, state.since, today, "transferred_on", "the case's last step")
    if not reason.strip():
        raise RuleViolated("TransferGivesAReason", "a transfer says why", field="reason")
    return [
        CaseTransferred(
            case_id=state.case_id, region_code=state.region_code, transferred_on=transferred_on, to=to, reason=reason
        ),
        CaseClosed(
            case_id=state.case_id,
            region_code=state.region_code,
            closed_on=transferred_on,
            outcome="transferred",
            violation_found=state.violation_found,
            wages_recovered_fen=state.wages_paid_fen,
            workers_concerned=state.workers_concerned,
            due_on=state.due_on,
            within_limit=transferred_on <= state.due_on,
        ),
    ]


def decide_close(
    state: CaseState, closed_on: date, outcome: Outcome, wages_recovered_fen: int | None, today: date
) -> list[CaseClosed]:
    """Closure (结案): every order verified, the outcome consistent with the steps taken."""
    _require_open(state)
    if state.order_open:
        raise RuleViolated(
            "RectificationVerifiedBeforeClosure", "verify the open rectification order before closing", field="status"
        )
    if outcome != "withdrawn" and state.inspections == 0:
        raise RuleViolated("InspectedBeforeClosure", "a case is inspected before it is closed", field="inspections")
    if outcome == "no_violation" and state.violation_found:
        raise RuleViolated(
            "OutcomeMatchesFindings",
            "an inspection found a violation: the outcome cannot be no_violation",
            field="outcome",
        )
    if outcome == "corrected" and not state.violation_found:
        raise RuleViolated("OutcomeMatchesFindings", "nothing was found to correct", field="outcome")
    if outcome == "penalised" and state.penalties == 0:
        raise RuleViolated("OutcomeMatchesFindings", "no penalty was imposed on this case", field="outcome")
    require_dated(closed_on, state.since, today, "closed_on", "the case's last step")
    return [
        CaseClosed(
            case_id=state.case_id,
            region_code=state.region_code,
            closed_on=closed_on,
            outcome=outcome,
            violation_found=state.violation_found,
            wages_recovered_fen=state.wages_paid_fen if wages_recovered_fen is None else wages_recovered_fen,
            workers_concerned=state.workers_concerned,
            due_on=state.due_on,
            within_limit=closed_on <= state.due_on,
        )
    ]
