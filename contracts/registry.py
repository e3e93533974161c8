"""Every event type that crosses a boundary, by wire name, with upcasters for older schema versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts import assistance, insurance, supervision
from contracts import registration as reg
from contracts.envelope import Event, EventEnvelope
from contracts.topics import ASSISTANCE_EVENTS, INSURANCE_EVENTS, REGISTRATION_EVENTS, SUPERVISION_EVENTS, Topic

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

#: Event types each topic carries, in the order they were introduced.
TOPIC_EVENTS: dict[Topic, tuple[type[Event], ...]] = {
    REGISTRATION_EVENTS: reg.EVENTS,
    # Each service's contract module lists its own events, so a service adds events without touching this file.
    ASSISTANCE_EVENTS: assistance.EVENTS,
    INSURANCE_EVENTS: insurance.EVENTS,
    SUPERVISION_EVENTS: supervision.EVENTS,
}


def _by_wire_name(topics: dict[Topic, tuple[type[Event], ...]]) -> dict[str, type[Event]]:
    """Every event type by its wire name; two services naming different events alike is a build error,
    since a consumer could not tell them apart (assistance's and supervision's cases once did)."""
    found: dict[str, type[Event]] = {}
    for events in topics.values():
        for event in events:
            other = found.setdefault(event.event_type, event)
            if other is not event:
                raise TypeError(
                    f"{event.event_type!r} names both {other.__module__}.{other.__name__} and "
                    f"{event.__module__}.{event.__name__}"
                )
    return found


EVENT_TYPES: dict[str, type[Event]] = _by_wire_name(TOPIC_EVENTS)

#: (event type, from version) -> function turning that version's data into the next version's.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownEventType(ValueError):
    """The envelope names an event type this build does not know."""


def decode(envelope: EventEnvelope) -> Event:
    """The typed event inside an envelope, upcast to the current schema version."""
    try:
        model = EVENT_TYPES[envelope.type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {envelope.type!r}") from None
    data, version = envelope.data, envelope.schema_version
    while version < model.schema_version:
        data = UPCASTERS[(envelope.type, version)](data)
        version += 1
    return model.model_validate(data)
