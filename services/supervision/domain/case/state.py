"""A case's state (立案查处) and how each of its events changes it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from contracts.envelope import Event
from contracts.supervision import (
    CaseClosed,
    CaseDeadlineBreached,
    CaseDeadlineRecomputed,
    CaseExtended,
    CaseInspected,
    CaseOpened,
    CaseSource,
    CaseTransferred,
    EmployerRef,
    InspectionScope,
    PenaltyImposed,
    RectificationOrdered,
    RectificationVerified,
)

CaseStatus = Literal["open", "closed", "transferred"]
Outcome = Literal["corrected", "penalised", "no_violation", "withdrawn"]


@dataclass(frozen=True)
class CaseState:
    """A case as its stream tells it; ``version`` is the ETag."""

    case_id: str
    region_code: str
    employer: EmployerRef
    source: CaseSource
    scope: InspectionScope
    complaint_id: str | None
    opened_on: date
    due_on: date
    provisional: bool
    workers_concerned: int
    version: int
    status: CaseStatus = "open"
    extended: bool = False
    inspections: int = 0
    violation_found: bool = False
    last_step_on: date | None = None
    order_due: date | None = None
    #: How the order's deadline was given: from ``order_from``, ``order_workdays`` working days, or a date.
    order_from: date | None = None
    order_workdays: int | None = None
    order_named_due: date | None = None
    order_provisional: bool = False
    extension_workdays: int = 0
    order_open: bool = False
    order_breached: bool = False
    refused_rectification: bool = False
    wages_paid_fen: int = 0
    penalties: int = 0
    penalty_fen: int = 0
    investigation_breached: bool = False
    closed_on: date | None = None
    transferred_to: str | None = None

    @property
    def open(self) -> bool:
        """Still under investigation."""
        return self.status == "open"

    @property
    def since(self) -> date:
        """The earliest date the next step may carry: the last step's, or the opening."""
        return self.last_step_on or self.opened_on


def evolve_case(state: CaseState | None, event: Event) -> CaseState:
    """The case after one more of its events."""
    if isinstance(event, CaseOpened):
        return CaseState(
            case_id=event.case_id,
            region_code=event.region_code,
            employer=event.employer,
            source=event.source,
            scope=event.scope,
            complaint_id=event.complaint_id,
            opened_on=event.opened_on,
            due_on=event.due_on,
            provisional=event.provisional,
            workers_concerned=event.workers_concerned,
            version=1,
        )
    assert state is not None, "a case starts with CaseOpened"
    state = replace(state, version=state.version + 1)
    if isinstance(event, CaseInspected):
        return replace(
            state,
            inspections=state.inspections + 1,
            violation_found=state.violation_found or event.violation_found,
            last_step_on=event.inspected_on,
        )
    if isinstance(event, RectificationOrdered):
        named = event.due_on if event.workdays is None else None
        return replace(
            state,
            order_due=event.due_on,
            order_from=event.ordered_on,
            order_workdays=event.workdays,
            order_named_due=named,
            order_provisional=event.provisional,
            order_open=True,
            order_breached=False,
            last_step_on=event.ordered_on,
        )
    if isinstance(event, RectificationVerified):
        return replace(
            state,
            order_open=False,
            refused_rectification=state.refused_rectification or not event.complied,
            wages_paid_fen=state.wages_paid_fen + event.wages_paid_fen,
            last_step_on=event.verified_on,
        )
    if isinstance(event, PenaltyImposed):
        return replace(
            state,
            penalties=state.penalties + 1,
            penalty_fen=state.penalty_fen + event.amount_fen,
            last_step_on=event.decided_on,
        )
    if isinstance(event, CaseExtended):
        return replace(
            state, extended=True, extension_workdays=event.workdays, due_on=event.due_on, provisional=event.provisional
        )
    if isinstance(event, CaseDeadlineRecomputed):
        if event.limit == "investigation":
            return replace(state, due_on=event.due_on, provisional=event.provisional)
        return replace(state, order_due=event.due_on, order_provisional=event.provisional)
    if isinstance(event, CaseTransferred):
        return replace(state, status="transferred", transferred_to=event.to, closed_on=event.transferred_on)
    if isinstance(event, CaseClosed):
        return replace(state, status="closed" if state.status == "open" else state.status, closed_on=event.closed_on)
    if isinstance(event, CaseDeadlineBreached):
        if event.limit == "investigation":
            return replace(state, investigation_breached=True)
        return replace(state, order_breached=True)
    return state
