"""What reporting remembers of each entity, and how it dates a change: the part every source shares.

Stock figures (people in a state) are counts over per-entity states: when an event changes a state, the
old state's contribution leaves its region and the new one's arrives in the (perhaps new) region, so moves,
corrections and deaths move every figure at once, at every level. Each source (``services.reporting.sources``)
declares its kinds of entity (``Entity``) with pure folds; the projection loads and stores the states (table
``entity_states``) around them. Places (townships and villages, for 建成率) are kept here: they change through
the service points that arrive and leave, whatever source declares those.

Dates. Every change is dated by the day it took effect (``effective_day``): the date in the event's data
where its source names one (``started_on``, ``moved_on``, ``died_on`` ...), else the day it occurred in China
(UTC+8). A change dated before the entity's previous change takes effect on that previous change's day
instead, so one entity's history is always a sequence of whole states and no village ever shows a person
twice or minus one person on a past date (docs/design.md, "Regions").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, NamedTuple

import orjson

from contracts.envelope import EventEnvelope
from contracts.regions import normalise_region_code

_CHINA_OFFSET = timedelta(hours=8)
#: China Standard Time: the calendar day an event without a date of its own belongs to.
CHINA = timezone(_CHINA_OFFSET, "CST")

#: ISO dates already parsed: a year of history names a few hundred distinct days, millions of times.
_DAYS: dict[str, date] = {}


def parse_day(value: str) -> date:
    """The date an ISO date (or date-time) string begins with."""
    day = _DAYS.get(value)
    if day is None:
        day = date.fromisoformat(value[:10])
        if len(_DAYS) < 100_000:
            _DAYS[value] = day
    return day


def effective_day(event: EventEnvelope, fields: Mapping[str, str]) -> date:
    """The day an event took effect: its own date where it has one (``fields``: event type -> the field of
    its data that says when it took effect), else the day it occurred in China."""
    name = fields.get(event.type)
    if name is not None:
        value = event.data.get(name)
        if isinstance(value, str):
            return parse_day(value)
        if isinstance(value, date):
            return value
    occurred = event.occurred_at
    offset = occurred.utcoffset()
    # CHINA is a fixed offset (no summer time): adding it costs less than ``astimezone``. A naive time is UTC.
    return (occurred + (_CHINA_OFFSET if offset is None else _CHINA_OFFSET - offset)).date()


def region_of(event: EventEnvelope, value: Any = None) -> str:
    """Where an event counts: ``value``, else its data's ``region_code``, else the envelope's."""
    code = value or event.data.get("region_code") or event.region_code
    if not code:
        raise ValueError(f"{event.type} {event.event_id} names no region")
    return normalise_region_code(str(code))


#: Whether a region is urban (城镇: urban-rural class 1xx); the projection supplies it from ``regions``.
IsUrban = Callable[[str], bool]


class PlaceState(NamedTuple):
    """A township or village as a place that may have service points (for 建成率).

    ``changes`` keeps every arrival (+1) and departure (-1) of a point with its day, because whether a
    place had a point on a day depends on all its points' histories, not on the order events came in.
    """

    region_code: str
    day: date
    points: int
    changes: tuple[tuple[str, int], ...] = ()

    def with_change(self, day: date, delta: int) -> PlaceState:
        """The place after a point arrived (+1) or left (-1) on ``day``."""
        # Kept sorted, so a place's state is the same whatever order its points' events were folded in
        # (a rebuild split across processes folds them in another order than the live worker).
        changes = tuple(sorted((*self.changes, (day.isoformat(), delta))))
        return PlaceState(self.region_code, max(self.day, day), self.points + delta, changes)

    def on_each_day(self) -> list[PlaceState]:
        """The place as it stood at the end of each day its count of points changed, in day order."""
        totals: dict[str, int] = {}
        for day, delta in self.changes:
            totals[day] = totals.get(day, 0) + delta
        out, running = [], 0
        for day in sorted(totals):
            running += totals[day]
            out.append(PlaceState(self.region_code, date.fromisoformat(day), running))
        return out


@dataclass(frozen=True)
class Entity:
    """A kind of thing reporting keeps a state for: which events change it and how."""

    name: str
    state_type: type[Any]
    #: The field of the event's data that names the entity.
    id_field: str
    events: frozenset[str]
    #: (state or None, event, is_urban, the event's ``effective_day``) -> the state after the event.
    evolve: Callable[[Any, EventEnvelope, IsUrban, date], Any]
    #: Positions of the state's fields that are tuples (stored as JSON arrays).
    tuple_fields: tuple[int, ...] = ()
    #: Its states are service points: their arrivals at and departures from places count (建成率).
    at_places: bool = False

    def load(self, raw: Sequence[Any] | Mapping[str, Any]) -> Any:
        """A state from its stored JSON form: an array of its fields in order (``dump_state``).

        An object keyed by field name, the form written before states were stored as arrays, loads too.
        """
        if isinstance(raw, Mapping):
            raw = [raw[name] for name in self.state_type._fields if name in raw]
        values = list(raw)
        values[1] = parse_day(values[1])
        for index in self.tuple_fields:
            if index < len(values):
                values[index] = tuple(values[index])
        if self.state_type is PlaceState and len(values) > 3:
            values[3] = tuple((day, delta) for day, delta in values[3])
        return self.state_type(*values)


#: Any entity's state: a named tuple that begins with ``region_code`` and ``day``.
State = tuple[Any, ...]


def dump_states(states: Sequence[State]) -> bytes:
    """States' stored JSON forms as one JSON array: each the array of its fields in order (dates as ISO
    strings). One call for them all: one ``orjson.dumps`` per state measured 1 to 12 us in a rebuild,
    each allocating and freeing its own kilobyte buffer, against 0.3 us a state here."""
    return orjson.dumps(list(states), default=tuple)


def dump_state(state: State) -> list[Any]:
    """A state's stored JSON form (what ``dump_states`` writes), decoded."""
    values: list[Any] = orjson.loads(dump_states([state]))[0]
    return values


#: Places change through their service points' arrivals and departures, not through events of their own.
PLACE = Entity("place", PlaceState, "region_code", frozenset(), lambda state, _event, _urban, _day: state)


def place_moves(before: State | None, after: State | None) -> list[tuple[str, int]]:
    """How a service point's change moves the count of points at places: (region, +1 or -1).

    Places are townships and villages (建成率 counts them); a county's own point covers no place.
    """
    old = before[0] if before else None
    new = after[0] if after else None
    if old == new:
        return []
    return [(code, delta) for code, delta in ((old, -1), (new, 1)) if code is not None and is_place(code)]


def is_place(code: str) -> bool:
    """Whether a 12-digit region code is a township or a village (a place 建成率 counts)."""
    return code[6:9] != "000"


def profile(state: State) -> tuple[Any, ...]:
    """What a state says apart from where and when (its first two fields): the key its contributions are
    remembered by."""
    return (type(state), state[2:])


def now_in_china() -> datetime:
    """The current time in China, for "now" and "this quarter"."""
    return datetime.now(CHINA)
