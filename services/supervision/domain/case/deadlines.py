"""A case's time limits: the investigation's 60 working days and their extension (劳动保障监察条例 Art 17),
and a rectification order's own; each passed limit flagged once, each provisional one recomputed once the
official calendar knows its year (issue 14, ``services/supervision/commands/limits.py``)."""

from __future__ import annotations

from datetime import date
from functools import partial

from contracts.supervision import CaseDeadlineBreached, CaseDeadlineRecomputed
from services.runtime.workdays import Deadline, WorkdayCalendar
from services.supervision.domain import limits as limits_rule
from services.supervision.domain.case.state import CaseState
from services.supervision.domain.limits import Limits, RunningLimit


def decide_flag_breaches(state: CaseState, today: date) -> list[CaseDeadlineBreached]:
    """The scheduled check: each limit passed while open is flagged once, so running it again adds nothing."""
    if not state.open:
        return []
    breaches = []
    if today > state.due_on and not state.investigation_breached:
        breaches.append(
            CaseDeadlineBreached(
                case_id=state.case_id,
                region_code=state.region_code,
                limit="investigation",
                due_on=state.due_on,
                detected_on=today,
            )
        )
    if state.order_open and state.order_due is not None and today > state.order_due and not state.order_breached:
        breaches.append(
            CaseDeadlineBreached(
                case_id=state.case_id,
                region_code=state.region_code,
                limit="rectification",
                due_on=state.order_due,
                detected_on=today,
            )
        )
    return breaches


def running_limits(state: CaseState, limits: Limits) -> list[RunningLimit]:
    """The case's running limits: the investigation (60 working days from opening and the extension, 条例
    Art 17), and the rectification order's while it is open (its working days, or the day it named)."""
    if not state.open:
        return []
    opened, extension = state.opened_on, state.extension_workdays

    def investigation(cal: WorkdayCalendar) -> Deadline:
        due = cal.add_workdays(opened, limits.investigation_workdays)
        if not extension:
            return due
        extended = cal.add_workdays(due.due, extension)
        return Deadline(extended.due, due.provisional or extended.provisional)

    running = [RunningLimit("investigation", state.due_on, state.provisional, investigation)]
    if state.order_open and state.order_due is not None:
        ordered, workdays, named = state.order_from, state.order_workdays, state.order_named_due or state.order_due

        def order(cal: WorkdayCalendar) -> Deadline:
            return cal.add_workdays(ordered, workdays) if workdays and ordered else cal.next_workday(named)

        running.append(RunningLimit("rectification", state.order_due, state.order_provisional, order))
    return running


def decide_recompute(state: CaseState, cal: WorkdayCalendar, limits: Limits) -> list[CaseDeadlineRecomputed]:
    """Provisional limits computed again on the calendar as it now is; one event per limit that moved."""
    recorded = partial(CaseDeadlineRecomputed, case_id=state.case_id, region_code=state.region_code)
    return limits_rule.decide_recompute(running_limits(state, limits), cal, recorded)
