"""What reporting folds, gathered from its sources: topics, kinds of entity, metrics, effective days.

Each source module (``services.reporting.sources.<service>``) declares one ``Source``; a ``Catalogue``
of them is what the projection, the rebuild, the queries, the exports, the API and the dashboard read, so
none of those names a service or an event (docs/design.md, "Reporting").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts.envelope import Event
from contracts.topics import Topic
from services.reporting.entities import PLACE, Entity, profile
from services.reporting.metrics import Metric


def event_types(*models: type[Event]) -> frozenset[str]:
    """The wire names of these contract classes: how a source names the events it folds."""
    return frozenset(model.event_type for model in models)


def field_of(model: type[Event], name: str) -> str:
    """``name`` if it is a field of ``model``'s data, else ``ValueError`` when the source module loads: a
    misspelt or renamed field fails at import, not silently as a missing value in a rebuild."""
    if name not in model.model_fields:
        raise ValueError(f"{model.__name__} has no field {name!r}")
    return name


@dataclass(frozen=True)
class Source:
    """What reporting folds from one topic (one producing service)."""

    topic: Topic
    #: The kinds of thing it keeps a state for (the stock metrics count over them).
    entities: tuple[Entity, ...] = ()
    #: Its figures, in the order the catalogue, the quarterly report and the dashboard show them.
    metrics: tuple[Metric, ...] = ()
    #: Event type -> the field of its data that says when it took effect (others: the day it occurred).
    effective_days: Mapping[str, str] = field(default_factory=dict)

    @property
    def events(self) -> frozenset[str]:
        """Every event type it folds: those that change its entities or move its flows."""
        flows = {event_type for metric in self.metrics for event_type in metric.events}
        return frozenset().union(*(e.events for e in self.entities), flows)


class Catalogue:
    """Every source's declarations, indexed as the projection and the queries read them."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = tuple(sources)
        #: The topics the worker and the rebuild read, in source order.
        self.topics = [s.topic.name for s in self.sources]
        self.metrics: tuple[Metric, ...] = tuple(m for s in self.sources for m in s.metrics)
        self.metrics_by_name: dict[str, Metric] = {m.name: m for m in self.metrics}
        # Places are counted from the service points of whichever source keeps them.
        self.entities: tuple[Entity, ...] = (*(e for s in self.sources for e in s.entities), PLACE)
        self.entity_by_name: dict[str, Entity] = {e.name: e for e in self.entities}
        self.entity_by_event: dict[str, Entity] = {t: e for e in self.entities for t in e.events}
        #: The event types that move service points between places.
        self.place_events: frozenset[str] = frozenset().union(*(e.events for e in self.entities if e.at_places))
        self.effective_days: dict[str, str] = {t: f for s in self.sources for t, f in s.effective_days.items()}
        #: Entity name -> the stock metrics counted over it.
        self.stocks_by_entity: dict[str, tuple[Metric, ...]] = {}
        #: Event type -> the flow metrics it moves.
        self.flows_by_event: dict[str, tuple[Metric, ...]] = {}
        for metric in self.metrics:
            if metric.kind == "stock" and metric.entity:
                self.stocks_by_entity[metric.entity] = (*self.stocks_by_entity.get(metric.entity, ()), metric)
            for event_type in metric.events:
                self.flows_by_event[event_type] = (*self.flows_by_event.get(event_type, ()), metric)
        #: The event types the projection reads; others are skipped before any work.
        self.handled: frozenset[str] = frozenset(self.entity_by_event) | frozenset(self.flows_by_event)
        #: Per event type that changes an entity: (entity kind, the data field naming the entity).
        self.named_by: dict[str, tuple[str, str]] = {t: (e.name, e.id_field) for t, e in self.entity_by_event.items()}
        self._contributions: dict[tuple[Any, ...], list[tuple[str, int]]] = {}
        self._check()

    def contributions(self, entity: str, state: Any) -> list[tuple[str, int]]:
        """What one entity in ``state`` adds to each stock metric (non-zero only).

        Where and when the entity is (``region_code``, ``day``) decide where and when it is counted, never
        what: so the answer is remembered per state profile and most events cost a dictionary lookup.
        """
        if state is None:
            return []
        key = (entity, *profile(state))
        out = self._contributions.get(key)
        if out is None:
            out = []
            for metric in self.stocks_by_entity.get(entity, ()):
                assert metric.counts is not None
                value = metric.counts(state)
                if value:
                    out.append((metric.name, value))
            if len(self._contributions) > 100_000:
                self._contributions.clear()
            self._contributions[key] = out
        return out

    def _check(self) -> None:
        _unique("metric", (m.name for m in self.metrics))
        _unique("entity", (e.name for e in self.entities))
        _unique("topic", self.topics)
        for metric in self.metrics:
            if metric.kind == "ratio":
                missing = [n for n in (*metric.numerator, *metric.denominator) if n not in self.metrics_by_name]
                if missing or not metric.denominator:
                    raise ValueError(f"ratio {metric.name} names unknown or no metrics: {missing}")
            elif metric.kind == "stock" and (metric.entity is None or metric.counts is None):
                raise ValueError(f"stock {metric.name} must say which entity it counts and how")
            elif metric.kind == "stock" and metric.entity not in (*self.entity_by_name, "region"):
                raise ValueError(f"stock {metric.name} counts an entity no source declares: {metric.entity}")
            elif metric.kind == "flow" and not metric.events:
                raise ValueError(f"flow {metric.name} must name the events it counts")


def _unique(what: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"two sources declare the {what} {name!r}")
        seen.add(name)
