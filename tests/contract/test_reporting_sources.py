"""Reporting folds only events the contracts publish, each from the topic that carries it."""

from __future__ import annotations

import pytest

from contracts.registry import EVENT_TYPES, TOPIC_EVENTS
from services.reporting.sources import CATALOGUE, SOURCES


def _carried_by(topic: str) -> set[str]:
    return {model.event_type for t, models in TOPIC_EVENTS.items() if t.name == topic for model in models}


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.topic.name)
def test_every_event_a_source_folds_is_a_published_event_of_its_topic(source):
    unknown = source.events - EVENT_TYPES.keys()
    assert not unknown, f"reporting folds events contracts.registry does not know: {sorted(unknown)}"
    elsewhere = source.events - _carried_by(source.topic.name)
    assert not elsewhere, f"{source.topic.name} does not carry {sorted(elsewhere)}"
    dated = set(source.effective_days) - source.events
    assert not dated, f"effective days named for events the source does not fold: {sorted(dated)}"


def test_every_field_an_effective_day_reads_is_a_field_of_the_event():
    for event_type, name in CATALOGUE.effective_days.items():
        assert name in EVENT_TYPES[event_type].model_fields, (event_type, name)


def test_the_projection_handles_only_known_events():
    assert CATALOGUE.handled <= EVENT_TYPES.keys()
    assert CATALOGUE.handled == frozenset().union(*(s.events for s in SOURCES))
