"""The metrics reporting maintains, each declared once: name, labels, unit, kind and how it is counted.

Storage, the API, the quarterly report, the SQL views and the dashboard all follow from these
declarations, which each source makes (``services.reporting.sources``). Three kinds (docs/design.md,
"Reporting"):

- ``stock``: things in a state at a moment (people in the ledger, open vacancies), counted over the states
  reporting keeps per entity (``services.reporting.entities``); taken at the end of a period.
- ``flow``: events in a period (new employment), summed over the days of the period.
- ``ratio``: ``scale`` x the sum of its numerator metrics / the sum of its denominator metrics, computed
  from the figures of the same region and period, never summed across regions.

Adding another service's metric is a ``Metric`` in that service's source module; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.envelope import EventEnvelope

Kind = Literal["stock", "flow", "ratio"]
#: How much one event adds to a flow, given the event and its entity's state before it (None if unknown).
FlowDelta = Callable[[EventEnvelope, Any], int]


@dataclass(frozen=True)
class Metric:
    """One figure kept for every region at every level and every day."""

    name: str
    label_zh: str
    label_en: str
    unit: str
    kind: Kind
    #: stock: the entity counted ("person", "employer", ...; "region" counts the division table itself).
    entity: str | None = None
    #: stock: how much one entity in a given state adds (a region's level for ``entity="region"``); it may
    #: read anything but the state's ``region_code`` and ``day``, which say where and when it counts.
    counts: Callable[[Any], int] | None = None
    #: flow: event type -> how much one such event adds, at its entity's region, on its effective day.
    events: Mapping[str, FlowDelta] = field(default_factory=dict)
    #: ratio: scale x sum(numerator) / sum(denominator), rounded to two decimals; None when dividing by 0.
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    scale: int = 100

    def describe(self) -> dict[str, str]:
        """The catalogue entry: name, labels, unit and kind."""
        return {
            "name": self.name,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "unit": self.unit,
            "kind": self.kind,
        }


def stocks(entity: str, unit: str, *rows: tuple[str, str, str, Callable[[Any], int]]) -> tuple[Metric, ...]:
    """Stock metrics counted over one kind of entity, in one unit: a (name, label_zh, label_en, counts) row
    each, ``counts`` saying how much one entity in a state adds."""
    return tuple(Metric(name, zh, en, unit, "stock", entity=entity, counts=counts) for name, zh, en, counts in rows)


def every_event(_: EventEnvelope, __: Any) -> int:
    """A flow that counts every event it names once."""
    return 1


def ratio_of(metric: Metric, figures: Mapping[str, float | int | None]) -> float | None:
    """A ratio metric from the same region's and period's figures; None when the denominator is zero."""
    numerator = sum(float(figures.get(n) or 0) for n in metric.numerator)
    denominator = sum(float(figures.get(d) or 0) for d in metric.denominator)
    if not denominator:
        return None
    return round(metric.scale * numerator / denominator, 2)
