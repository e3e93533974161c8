"""Arrears monitoring (欠费监控): insurance reports an employer in arrears, supervision watches it until cleared.

docs/design.md, "Cross-service reactions": insurance ``EmployerArrearsReported`` -> supervision monitors the
employer and reconsiders its rating; ``EmployerArrearsCleared`` closes the item. A report while the item is
open, or a clearance of nothing, records nothing (insurance may repeat itself).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from contracts.envelope import Event
from contracts.insurance import EmployerArrearsCleared, EmployerArrearsReported
from contracts.supervision import ArrearsMonitoringClosed, ArrearsMonitoringOpened


@dataclass(frozen=True)
class MonitoringState:
    """An employer's monitoring stream; ``version`` is its stream's version."""

    employer_id: str
    region_code: str
    open: bool
    version: int


def evolve_monitoring(state: MonitoringState | None, event: Event) -> MonitoringState:
    """The item after one more of its events."""
    if isinstance(event, ArrearsMonitoringOpened):
        return MonitoringState(event.employer_id, event.region_code, True, (state.version if state else 0) + 1)
    assert state is not None, "monitoring starts with ArrearsMonitoringOpened"
    if isinstance(event, ArrearsMonitoringClosed):
        return replace(state, open=False, version=state.version + 1)
    return replace(state, version=state.version + 1)


def decide_open(
    state: MonitoringState | None, employer_id: str, report: EmployerArrearsReported
) -> list[ArrearsMonitoringOpened]:
    """Open an item unless one is open already."""
    if state is not None and state.open:
        return []
    return [
        ArrearsMonitoringOpened(
            employer_id=employer_id,
            region_code=report.region_code,
            months=report.months,
            arrears_fen=report.arrears_fen,
            workers=report.workers,
            opened_on=report.reported_on,
        )
    ]


def decide_close(state: MonitoringState | None, cleared: EmployerArrearsCleared) -> list[ArrearsMonitoringClosed]:
    """Close the open item."""
    if state is None or not state.open:
        return []
    return [
        ArrearsMonitoringClosed(
            employer_id=state.employer_id, region_code=state.region_code, closed_on=cleared.cleared_on
        )
    ]
