"""What reporting remembers of each person, employer, vacancy and service point, and how events change it.

Stock figures (people in a state) are counts over these states: when an event changes a state, the old
state's contribution leaves its region and the new one's arrives in the (perhaps new) region, so moves,
corrections and deaths move every figure at once, at every level. The folds here are pure; the projection
loads and stores the states (table ``entity_states``) around them.

Dates. Every change is dated by the day it took effect (``effective_day``): the date in the event's data
where it has one (``started_on``, ``moved_on``, ``died_on`` ...), else the day it occurred in China
(UTC+8). A change dated before the entity's previous change takes effect on that previous change's day
instead, so one entity's history is always a sequence of whole states and no village ever shows a person
twice or minus one person on a past date.
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

#: The field of the event's data that says when it took effect.
EFFECTIVE_DAY_FIELDS: Mapping[str, str] = {
    "PersonMoved": "moved_on",
    "PersonCategoriesChanged": "effective_on",
    "EmploymentRegistered": "started_on",
    "EmploymentEnded": "ended_on",
    "UnemploymentRegistered": "registered_on",
    "UnemploymentDeregistered": "deregistered_on",
    "PersonRetired": "retired_on",
    "PersonDied": "died_on",
    "StatusSurveyed": "surveyed_on",
    "EmployerDeregistered": "deregistered_on",
    "VacancyOpened": "opened_on",
    "VacancyFilled": "filled_on",
    "VacancyClosed": "closed_on",
}


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


def effective_day(event: EventEnvelope) -> date:
    """The day an event took effect: its own date where it has one, else the day it occurred in China."""
    name = EFFECTIVE_DAY_FIELDS.get(event.type)
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


def _region(event: EventEnvelope, value: Any = None) -> str:
    code = value or event.data.get("region_code") or event.region_code
    if not code:
        raise ValueError(f"{event.type} {event.event_id} names no region")
    return normalise_region_code(str(code))


#: Whether a region is urban (城镇: urban-rural class 1xx); the projection supplies it from ``regions``.
IsUrban = Callable[[str], bool]


class PersonState(NamedTuple):
    """A person in the ledger as reporting counts them (no identifying data: DESIGN.md section 5).

    ``urban`` follows the village or community of residence (urban-rural class 1xx), not the hukou: the
    agricultural/non-agricultural hukou distinction was abolished in 2014 (国发〔2014〕25号) and events
    may carry no hukou at all.

    States are named tuples, not dataclasses: the projection makes one per event, and a tuple is built,
    compared and hashed several times faster. Every state type begins with ``region_code`` and ``day``.
    """

    region_code: str
    day: date
    urban: bool
    sex: str | None
    hukou: str | None
    categories: tuple[str, ...]
    status: str
    kind: str | None
    surveyed: tuple[str, ...] = ()

    def with_status(self, status: str, kind: str | None = None) -> PersonState:
        """The person in another status (``kind`` of employment only when employed)."""
        return PersonState(
            self.region_code, self.day, self.urban, self.sex, self.hukou, self.categories, status, kind, self.surveyed
        )


class EmployerState(NamedTuple):
    """An employer: where it is registered and whether it is still in the ledger."""

    region_code: str
    day: date
    active: bool


class VacancyState(NamedTuple):
    """A vacancy (岗位): open or closed, and how many of its positions are still unfilled."""

    region_code: str
    day: date
    open: bool
    remaining: int


class ServicePointState(NamedTuple):
    """A service point (平台) and how it measures against the staffing and premises standards."""

    region_code: str
    day: date
    level: str
    staffed: bool
    compliant: bool


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


State = PersonState | EmployerState | VacancyState | ServicePointState | PlaceState


def _evolve_person(state: PersonState | None, event: EventEnvelope, urban: IsUrban, day: date) -> PersonState | None:
    data = event.data
    if event.type == "PersonRegistered":
        region = _region(event)
        status = str(data.get("status") or "not_in_labour_force")
        categories = data.get("categories")
        return PersonState(
            region,
            state.day if state else day,
            urban(region),
            data.get("sex"),
            data.get("hukou"),
            tuple(sorted(categories)) if categories else (),
            status,
            state.kind if state and status == "employed" else None,
            state.surveyed if state else (),
        )
    if state is None:
        # An event about a person reporting never saw registered changes no stock; flows still count it.
        return None
    match event.type:
        case "PersonMoved":
            region = _region(event)
            return state._replace(region_code=region, urban=urban(region))
        case "PersonCategoriesChanged":
            return state._replace(categories=tuple(sorted(data.get("categories") or ())))
        case "EmploymentRegistered":
            return state.with_status("employed", data.get("kind"))
        case "EmploymentEnded":
            return state.with_status(str(data.get("status_after") or "not_in_labour_force"))
        case "UnemploymentRegistered":
            return state.with_status("registered_unemployed")
        case "UnemploymentDeregistered":
            return state.with_status(str(data.get("status_after") or "not_in_labour_force"))
        case "PersonRetired":
            return state.with_status("retired")
        case "PersonDied":
            return state.with_status("deceased")
        case "StatusSurveyed":
            quarter = str(data["quarter"])
            surveyed = state.surveyed if quarter in state.surveyed else (*state.surveyed, quarter)
            status = str(data.get("status") or state.status) if data.get("changed") else state.status
            kind = state.kind if status == "employed" else None
            return state._replace(surveyed=surveyed, status=status, kind=kind)
        case "PersonCorrected":
            return _corrected(state, data.get("changes") or [], urban)
    return state


def _corrected(state: PersonState, changes: list[dict[str, Any]], urban: IsUrban) -> PersonState:
    """信息更正: apply the corrected fields reporting keeps; identifying fields arrive redacted and are skipped."""
    for change in changes:
        if change.get("redacted"):
            continue
        name, new = change.get("field"), change.get("new")
        if name == "region_code" and new:
            region = normalise_region_code(str(new))
            state = state._replace(region_code=region, urban=urban(region))
        elif name == "sex":
            state = state._replace(sex=new)
        elif name == "hukou":
            state = state._replace(hukou=new)
        elif name == "categories":
            state = state._replace(categories=tuple(sorted(new or ())))
        elif name == "status" and new:
            state = state.with_status(str(new), state.kind if new == "employed" else None)
        elif name == "kind" and state.status == "employed":
            state = state._replace(kind=new)
    return state


def _evolve_employer(state: EmployerState | None, event: EventEnvelope, _: IsUrban, day: date) -> EmployerState | None:
    match event.type:
        case "EmployerRegistered":
            return EmployerState(_region(event), state.day if state else day, True)
        case "EmployerChanged" if state is not None:
            return state._replace(region_code=_region(event))
        case "EmployerDeregistered" if state is not None:
            return state._replace(active=False)
    return state


def _evolve_vacancy(state: VacancyState | None, event: EventEnvelope, _: IsUrban, day: date) -> VacancyState | None:
    data = event.data
    match event.type:
        case "VacancyOpened":
            return VacancyState(_region(event), state.day if state else day, True, int(data["positions"]))
        case "VacancyFilled" if state is not None:
            return state._replace(remaining=int(data["remaining"]))
        case "VacancyClosed" if state is not None:
            return state._replace(open=False, remaining=0)
    return state


def _evolve_service_point(
    state: ServicePointState | None, event: EventEnvelope, _: IsUrban, day: date
) -> ServicePointState | None:
    data = event.data
    compliance = data.get("compliance") or {}
    return ServicePointState(
        region_code=_region(event),
        day=state.day if state else day,
        level=str(data.get("level") or ""),
        staffed=bool(compliance.get("staffing_ok")),
        compliant=bool(compliance.get("compliant")),
    )


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

    def load(self, raw: Sequence[Any] | Mapping[str, Any]) -> Any:
        """A state from its stored JSON form: an array of its fields in order (``dump_state``).

        An object keyed by field name, the form written before states were stored as arrays, loads too.
        """
        if isinstance(raw, Mapping):
            raw = [raw[name] for name in self.state_type._fields if name in raw]
        values = list(raw)
        values[1] = parse_day(values[1])
        for index in _TUPLE_FIELDS.get(self.state_type, ()):
            if index < len(values):
                values[index] = tuple(values[index])
        if self.state_type is PlaceState and len(values) > 3:
            values[3] = tuple((day, delta) for day, delta in values[3])
        return self.state_type(*values)


def dump_states(states: Sequence[State]) -> bytes:
    """States' stored JSON forms as one JSON array: each the array of its fields in order (dates as ISO
    strings). One call for them all: one ``orjson.dumps`` per state measured 1 to 12 us in a rebuild,
    each allocating and freeing its own kilobyte buffer, against 0.3 us a state here."""
    return orjson.dumps(list(states), default=tuple)


def dump_state(state: State) -> list[Any]:
    """A state's stored JSON form (what ``dump_states`` writes), decoded."""
    values: list[Any] = orjson.loads(dump_states([state]))[0]
    return values


#: Per state type, the positions of its tuple fields (stored as JSON arrays).
_TUPLE_FIELDS: dict[type[Any], tuple[int, ...]] = {PersonState: (5, 8)}

PERSON = Entity(
    "person",
    PersonState,
    "person_id",
    frozenset(
        {
            "PersonRegistered",
            "PersonCorrected",
            "PersonMoved",
            "PersonCategoriesChanged",
            "EmploymentRegistered",
            "EmploymentEnded",
            "UnemploymentRegistered",
            "UnemploymentDeregistered",
            "PersonRetired",
            "PersonDied",
            "StatusSurveyed",
        }
    ),
    _evolve_person,
)
EMPLOYER = Entity(
    "employer",
    EmployerState,
    "employer_id",
    frozenset({"EmployerRegistered", "EmployerChanged", "EmployerDeregistered"}),
    _evolve_employer,
)
VACANCY = Entity(
    "vacancy",
    VacancyState,
    "vacancy_id",
    frozenset({"VacancyOpened", "VacancyFilled", "VacancyClosed"}),
    _evolve_vacancy,
)
SERVICE_POINT = Entity(
    "service_point",
    ServicePointState,
    "service_point_id",
    frozenset({"ServicePointEstablished", "ServicePointUpdated"}),
    _evolve_service_point,
)
#: Places change through their service points' arrivals and departures, not through events of their own.
PLACE = Entity("place", PlaceState, "region_code", frozenset(), lambda state, _event, _urban, _day: state)

ENTITIES: tuple[Entity, ...] = (PERSON, EMPLOYER, VACANCY, SERVICE_POINT, PLACE)
ENTITY_BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}
ENTITY_BY_EVENT: dict[str, Entity] = {t: e for e in ENTITIES for t in e.events}


def place_moves(before: ServicePointState | None, after: ServicePointState | None) -> list[tuple[str, int]]:
    """How a service point's change moves the count of points at places: (region, +1 or -1).

    Places are townships and villages (建成率 counts them); a county's own point covers no place.
    """
    old = before.region_code if before else None
    new = after.region_code if after else None
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
