"""The metrics reporting maintains, each declared once: name, labels, unit, kind and how events move it.

Storage, the API and exports all follow from these declarations; adding another service's metric is a
new ``Metric`` here and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from contracts.envelope import EventEnvelope

Delta = Callable[[EventEnvelope], int]


def _count(_: EventEnvelope) -> int:
    return 1


@dataclass(frozen=True)
class Metric:
    """One figure kept for every region at every level.

    ``stock`` metrics count what is true now (people in the ledger); ``flow`` metrics count events in a
    period (new registrations). ``changes`` maps an event type to how much it moves the figure at the
    event's region and every region above it.
    """

    name: str
    label_zh: str
    label_en: str
    unit: str
    kind: Literal["stock", "flow"]
    changes: dict[str, Delta] = field(default_factory=dict)


METRICS: tuple[Metric, ...] = (
    Metric("labour_force", "实名登记劳动力", "Labour force in ledger", "人", "stock", {"PersonRegistered": _count}),
    Metric("employers", "登记用人单位", "Registered employers", "家", "stock", {"EmployerRegistered": _count}),
)

METRICS_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}

#: Event type -> the metrics it moves.
METRICS_BY_EVENT: dict[str, list[Metric]] = {}
for _metric in METRICS:
    for _event_type in _metric.changes:
        METRICS_BY_EVENT.setdefault(_event_type, []).append(_metric)
