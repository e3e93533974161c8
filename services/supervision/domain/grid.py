"""Grid inspection (网格化监察): township grid inspectors visit employers, record findings, follow them up.

Each township divides itself into grids (网格) with an inspector each; a visit with findings needs a
follow-up (复查) within a local limit of working days (``Limits.grid_follow_up_workdays``), where the
findings are resolved or escalated to a case (docs/design.md, "Supervision").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import partial

from contracts.envelope import Event
from contracts.supervision import (
    EmployerRef,
    Finding,
    GridFollowUpRecomputed,
    GridFollowUpRecorded,
    GridInspectionRecorded,
)
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain import limits as limits_rule
from services.supervision.domain.limits import Limits, RunningLimit, require_dated, require_not_future


@dataclass(frozen=True)
class GridInspectionState:
    """A grid inspection as its stream tells it; ``version`` is the ETag."""

    inspection_id: str
    region_code: str
    grid: str
    employer: EmployerRef
    inspected_on: date
    findings: tuple[Finding, ...]
    follow_up_due: date | None
    provisional: bool
    version: int
    followed_up_on: date | None = None
    resolved: bool | None = None
    case_id: str | None = None

    @property
    def awaiting_follow_up(self) -> bool:
        """Findings were recorded and not yet followed up."""
        return bool(self.findings) and self.followed_up_on is None


def evolve_grid_inspection(state: GridInspectionState | None, event: Event) -> GridInspectionState:
    """The inspection after one more of its events."""
    if isinstance(event, GridInspectionRecorded):
        return GridInspectionState(
            inspection_id=event.inspection_id,
            region_code=event.region_code,
            grid=event.grid,
            employer=event.employer,
            inspected_on=event.inspected_on,
            findings=tuple(event.findings),
            follow_up_due=event.follow_up_due,
            provisional=event.provisional,
            version=1,
        )
    assert state is not None, "a grid inspection starts with GridInspectionRecorded"
    state = replace(state, version=state.version + 1)
    if isinstance(event, GridFollowUpRecorded):
        return replace(state, followed_up_on=event.followed_up_on, resolved=event.resolved, case_id=event.case_id)
    if isinstance(event, GridFollowUpRecomputed):
        return replace(state, follow_up_due=event.due_on, provisional=event.provisional)
    return state


def running_limits(state: GridInspectionState, limits: Limits) -> list[RunningLimit]:
    """The follow-up of the findings, ``Limits.grid_follow_up_workdays`` working days from the visit."""
    if not state.awaiting_follow_up or state.follow_up_due is None:
        return []
    inspected = state.inspected_on
    return [
        RunningLimit(
            "follow_up",
            state.follow_up_due,
            state.provisional,
            lambda cal: cal.add_workdays(inspected, limits.grid_follow_up_workdays),
        )
    ]


def decide_recompute(state: GridInspectionState, cal: WorkdayCalendar, limits: Limits) -> list[GridFollowUpRecomputed]:
    """Provisional limits computed again on the calendar as it now is; one event per limit that moved."""
    recorded = partial(GridFollowUpRecomputed, inspection_id=state.inspection_id, region_code=state.region_code)
    return limits_rule.decide_recompute(running_limits(state, limits), cal, recorded)


def decide_record_inspection(
    inspection_id: str,
    grid: str,
    employer: EmployerRef,
    inspected_on: date,
    findings: list[Finding],
    cal: WorkdayCalendar,
    limits: Limits,
    today: date,
) -> list[GridInspectionRecorded]:
    """A visit is recorded in the employer's township grid; findings set the follow-up's due day."""
    require_not_future(inspected_on, today, "inspected_on")
    if not grid.strip():
        raise RuleViolated("InspectionNamesItsGrid", "name the grid (网格) the employer lies in", field="grid")
    due = cal.add_workdays(inspected_on, limits.grid_follow_up_workdays) if findings else None
    return [
        GridInspectionRecorded(
            inspection_id=inspection_id,
            region_code=employer.region_code,
            grid=grid.strip(),
            employer=employer,
            inspected_on=inspected_on,
            findings=findings,
            follow_up_due=due.due if due else None,
            provisional=due.provisional if due else False,
        )
    ]


def decide_follow_up(
    state: GridInspectionState, followed_up_on: date, resolved: bool, notes: str, case_id: str | None, today: date
) -> list[GridFollowUpRecorded]:
    """The follow-up: findings resolved, or not (and then escalated to a case, ``case_id``)."""
    if not state.findings:
        raise RuleViolated("FollowUpNeedsFindings", "the inspection found nothing to follow up", field="findings")
    if state.followed_up_on is not None:
        raise RuleViolated("OneFollowUp", "the findings were already followed up", field="status")
    require_dated(followed_up_on, state.inspected_on, today, "followed_up_on", "the inspection")
    assert state.follow_up_due is not None
    return [
        GridFollowUpRecorded(
            inspection_id=state.inspection_id,
            region_code=state.region_code,
            followed_up_on=followed_up_on,
            resolved=resolved,
            notes=notes.strip(),
            case_id=case_id,
            on_time=followed_up_on <= state.follow_up_due,
        )
    ]
