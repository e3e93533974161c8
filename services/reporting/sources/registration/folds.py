"""What reporting keeps of registration's persons, employers, vacancies and service points, and how each
event changes it (pure folds; the projection loads and stores the states around them).

Events are named by their contract classes (``contracts.registration``), never by a literal. The folds
read the envelope's raw ``data`` rather than decoding each event with its model: validating costs about
2 us an event (measured over a 200,000-event history), a fifth of the whole fold on the rebuild's hot path
(docs/adr/0003-rebuild.md), and would refuse the partial events the benchmarks replay.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from contracts import registration as reg
from contracts.envelope import EventEnvelope
from contracts.regions import normalise_region_code
from services.reporting.catalogue import event_types
from services.reporting.entities import Entity, IsUrban, region_of


class _E:
    """The wire names of the events folded here, from their contract classes (a namespace, so that a
    ``match`` compares with them as values)."""

    EmployerChanged = reg.EmployerChanged.event_type
    EmployerDeregistered = reg.EmployerDeregistered.event_type
    EmployerRegistered = reg.EmployerRegistered.event_type
    EmploymentEnded = reg.EmploymentEnded.event_type
    EmploymentRegistered = reg.EmploymentRegistered.event_type
    PersonCategoriesChanged = reg.PersonCategoriesChanged.event_type
    PersonCorrected = reg.PersonCorrected.event_type
    PersonDied = reg.PersonDied.event_type
    PersonMoved = reg.PersonMoved.event_type
    PersonRegistered = reg.PersonRegistered.event_type
    PersonRetired = reg.PersonRetired.event_type
    StatusSurveyed = reg.StatusSurveyed.event_type
    UnemploymentDeregistered = reg.UnemploymentDeregistered.event_type
    UnemploymentRegistered = reg.UnemploymentRegistered.event_type
    VacancyClosed = reg.VacancyClosed.event_type
    VacancyFilled = reg.VacancyFilled.event_type
    VacancyOpened = reg.VacancyOpened.event_type


class PersonState(NamedTuple):
    """A person in the ledger as reporting counts them (no identifying data: docs/design.md, "Registration").

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


def _evolve_person(state: PersonState | None, event: EventEnvelope, urban: IsUrban, day: date) -> PersonState | None:
    data = event.data
    if event.type == _E.PersonRegistered:
        region = region_of(event)
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
        case _E.PersonMoved:
            region = region_of(event)
            return state._replace(region_code=region, urban=urban(region))
        case _E.PersonCategoriesChanged:
            return state._replace(categories=tuple(sorted(data.get("categories") or ())))
        case _E.EmploymentRegistered:
            return state.with_status("employed", data.get("kind"))
        case _E.EmploymentEnded:
            return state.with_status(str(data.get("status_after") or "not_in_labour_force"))
        case _E.UnemploymentRegistered:
            return state.with_status("registered_unemployed")
        case _E.UnemploymentDeregistered:
            return state.with_status(str(data.get("status_after") or "not_in_labour_force"))
        case _E.PersonRetired:
            return state.with_status("retired")
        case _E.PersonDied:
            return state.with_status("deceased")
        case _E.StatusSurveyed:
            quarter = str(data["quarter"])
            surveyed = state.surveyed if quarter in state.surveyed else (*state.surveyed, quarter)
            status = str(data.get("status") or state.status) if data.get("changed") else state.status
            kind = state.kind if status == "employed" else None
            return state._replace(surveyed=surveyed, status=status, kind=kind)
        case _E.PersonCorrected:
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
        case _E.EmployerRegistered:
            return EmployerState(region_of(event), state.day if state else day, True)
        case _E.EmployerChanged if state is not None:
            return state._replace(region_code=region_of(event))
        case _E.EmployerDeregistered if state is not None:
            return state._replace(active=False)
    return state


def _evolve_vacancy(state: VacancyState | None, event: EventEnvelope, _: IsUrban, day: date) -> VacancyState | None:
    data = event.data
    match event.type:
        case _E.VacancyOpened:
            return VacancyState(region_of(event), state.day if state else day, True, int(data["positions"]))
        case _E.VacancyFilled if state is not None:
            return state._replace(remaining=int(data["remaining"]))
        case _E.VacancyClosed if state is not None:
            return state._replace(open=False, remaining=0)
    return state


def _evolve_service_point(
    state: ServicePointState | None, event: EventEnvelope, _: IsUrban, day: date
) -> ServicePointState | None:
    data = event.data
    compliance = data.get("compliance") or {}
    return ServicePointState(
        region_code=region_of(event),
        day=state.day if state else day,
        level=str(data.get("level") or ""),
        staffed=bool(compliance.get("staffing_ok")),
        compliant=bool(compliance.get("compliant")),
    )


PERSON = Entity(
    "person",
    PersonState,
    "person_id",
    event_types(
        reg.PersonRegistered,
        reg.PersonCorrected,
        reg.PersonMoved,
        reg.PersonCategoriesChanged,
        reg.EmploymentRegistered,
        reg.EmploymentEnded,
        reg.UnemploymentRegistered,
        reg.UnemploymentDeregistered,
        reg.PersonRetired,
        reg.PersonDied,
        reg.StatusSurveyed,
    ),
    _evolve_person,
    tuple_fields=(5, 8),
)
EMPLOYER = Entity(
    "employer",
    EmployerState,
    "employer_id",
    event_types(reg.EmployerRegistered, reg.EmployerChanged, reg.EmployerDeregistered),
    _evolve_employer,
)
VACANCY = Entity(
    "vacancy",
    VacancyState,
    "vacancy_id",
    event_types(reg.VacancyOpened, reg.VacancyFilled, reg.VacancyClosed),
    _evolve_vacancy,
)
SERVICE_POINT = Entity(
    "service_point",
    ServicePointState,
    "service_point_id",
    event_types(reg.ServicePointEstablished, reg.ServicePointUpdated),
    _evolve_service_point,
    at_places=True,
)
