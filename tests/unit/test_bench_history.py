"""The rebuild benchmark's synthetic county history: every event a valid contract event on its own topic."""

from __future__ import annotations

import random

from bench.history import county_history, county_mix, synthetic_history
from contracts import registry
from contracts.envelope import EventEnvelope
from contracts.topics import REGISTRATION_EVENTS, Topic
from services.reporting.sources import CATALOGUE


def test_every_event_is_a_valid_contract_event_on_the_topic_of_its_type() -> None:
    history = list(county_history(random.Random(3), 20_000))
    carried: dict[str, Topic] = {t.event_type: topic for topic, types in registry.TOPIC_EVENTS.items() for t in types}
    for item in history:
        assert carried[item.event.event_type].name == item.topic, item.event.event_type
        # Through the wire and back: what a consumer decodes is the event that was generated.
        envelope = EventEnvelope.model_validate_json(item.envelope().model_dump_json())
        assert registry.decode(envelope) == item.event
    assert {item.topic for item in history} == set(CATALOGUE.topics), "every topic reporting folds"


def test_each_stream_is_on_one_topic_with_versions_from_one() -> None:
    streams: dict[tuple[str, str], list[int]] = {}
    for item in county_history(random.Random(4), 20_000):
        streams.setdefault((item.topic, item.stream_id), []).append(item.version)
    assert all(versions == list(range(1, len(versions) + 1)) for versions in streams.values())


def test_registration_is_about_sixty_per_cent_and_every_source_folds_several_types() -> None:
    mix = county_mix(list(county_history(random.Random(5), 50_000)))
    total = sum(sum(types.values()) for types in mix.values())
    assert 0.5 < sum(mix[REGISTRATION_EVENTS.name].values()) / total < 0.7
    assert all(len(types) >= 5 for types in mix.values()), mix
    folded = CATALOGUE.handled
    assert all(event_type in folded for types in mix.values() for event_type in types), "all folded by reporting"


def test_the_registration_only_history_is_unchanged_in_kind() -> None:
    assert {item.topic for item in synthetic_history(random.Random(6), 5_000)} == {REGISTRATION_EVENTS.name}
