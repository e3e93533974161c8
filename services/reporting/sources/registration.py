"""Reporting's source ``registration.events``: the real-name ledger (实名制台账), employers, vacancies and
service points (docs/design.md, "The domains": registration and reporting).

What reporting keeps of each person, employer, vacancy and service point (states and their folds), when
each event took effect, and the figures counted over them: labour force in the ledger, employment and
registered unemployment (registered urban unemployment rate = urban registered unemployed / (urban employed
+ urban registered unemployed) x 100%), the quarterly dynamic survey (动态调查), and the service points'
coverage (建成率) and staffing standards (seed 001: township 1 staff per 6,000 served, at least 5).

Events are named by their contract classes (``contracts.registration``), never by a literal. The folds read
the envelope's raw ``data`` rather than decoding each event with its model: decoding costs about 2 us an
event, a fifth of the whole fold, on the rebuild's hot path (docs/adr/0003-rebuild.md); the field names the
effective days read are checked against the models when this module loads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

from contracts import registration as reg
from contracts.envelope import EventEnvelope
from contracts.regions import RegionLevel, normalise_region_code
from contracts.registration import EMPLOYMENT_KINDS, PERSON_CATEGORIES
from contracts.topics import REGISTRATION_EVENTS
from services.reporting.catalogue import Source, event_types, field_of
from services.reporting.entities import Entity, IsUrban, PlaceState, region_of
from services.reporting.metrics import Metric, every_event


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
    """A person in the ledger as reporting counts them (no identifying data: docs/design.md, "The domains").

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

#: The field of each event's data that says when it took effect.
EFFECTIVE_DAYS: dict[str, str] = {
    model.event_type: field_of(model, name)
    for model, name in (
        (reg.PersonMoved, "moved_on"),
        (reg.PersonCategoriesChanged, "effective_on"),
        (reg.EmploymentRegistered, "started_on"),
        (reg.EmploymentEnded, "ended_on"),
        (reg.UnemploymentRegistered, "registered_on"),
        (reg.UnemploymentDeregistered, "deregistered_on"),
        (reg.PersonRetired, "retired_on"),
        (reg.PersonDied, "died_on"),
        (reg.StatusSurveyed, "surveyed_on"),
        (reg.EmployerDeregistered, "deregistered_on"),
        (reg.VacancyOpened, "opened_on"),
        (reg.VacancyFilled, "filled_on"),
        (reg.VacancyClosed, "closed_on"),
    )
}


IN_LEDGER_STATUSES = frozenset({"not_in_labour_force", "employed", "registered_unemployed"})


def _in_ledger(p: PersonState) -> bool:
    """实名登记劳动力: registered, alive and not retired."""
    return p.status in IN_LEDGER_STATUSES


def persons(name: str, zh: str, en: str, where: Callable[[PersonState], bool]) -> Metric:
    """A stock of persons in a state."""
    return Metric(name, zh, en, "人", "stock", entity="person", counts=lambda p: int(where(p)))


def _first_survey_of_the_quarter(event: EventEnvelope, before: PersonState | None) -> int:
    """A second survey of the same person in the same quarter corrects the first; it is not another one."""
    return 0 if before is not None and event.data.get("quarter") in before.surveyed else 1


_CATEGORY_LABELS = {
    "unemployed": ("失业人员", "unemployed"),
    "laid_off": ("下岗职工", "laid-off workers"),
    "rural_surplus_labour": ("农村富余劳动力", "rural surplus labour"),
    "new_entrant": ("新成长劳动力", "new entrants"),
    "flexible_employment": ("灵活就业人员", "flexible employment"),
    "migrant_worker": ("外出务工人员", "migrant workers"),
    "retired": ("退休人员", "retirees"),
}
_KIND_LABELS = {
    "unit": ("单位就业", "in a work unit"),
    "self_employed": ("个体经营", "self-employed"),
    "flexible": ("灵活就业", "flexible"),
    "public_welfare_post": ("公益性岗位", "public-welfare posts"),
}
_PLACE_LEVELS = frozenset({RegionLevel.TOWNSHIP.value, RegionLevel.VILLAGE.value})


def _category(c: str) -> Metric:
    zh, en = _CATEGORY_LABELS.get(c, (c, c))
    return persons(
        f"labour_force_cat_{c}",
        f"实名登记劳动力：{zh}",
        f"Labour force: {en}",
        lambda p: _in_ledger(p) and c in p.categories,
    )


def _kind(k: str) -> Metric:
    zh, en = _KIND_LABELS.get(k, (k, k))
    return persons(
        f"employed_{k}", f"就业人员：{zh}", f"Employed: {en}", lambda p: p.status == "employed" and p.kind == k
    )


METRICS: tuple[Metric, ...] = (
    # 实名制台账 (registration)
    persons("labour_force", "实名登记劳动力", "Labour force in ledger", _in_ledger),
    persons(
        "labour_force_male", "实名登记劳动力：男", "Labour force: men", lambda p: _in_ledger(p) and p.sex == "male"
    ),
    persons(
        "labour_force_female",
        "实名登记劳动力：女",
        "Labour force: women",
        lambda p: _in_ledger(p) and p.sex == "female",
    ),
    *(_category(c) for c in PERSON_CATEGORIES),
    persons("employed", "就业人员", "Employed", lambda p: p.status == "employed"),
    *(_kind(k) for k in EMPLOYMENT_KINDS),
    persons(
        "registered_unemployed", "登记失业人员", "Registered unemployed", lambda p: p.status == "registered_unemployed"
    ),
    persons("urban_employed", "城镇就业人员", "Urban employed", lambda p: p.urban and p.status == "employed"),
    persons(
        "urban_registered_unemployed",
        "城镇登记失业人员",
        "Urban registered unemployed",
        lambda p: p.urban and p.status == "registered_unemployed",
    ),
    Metric(
        "new_employment", "新增就业", "New employment", "人次", "flow", events={_E.EmploymentRegistered: every_event}
    ),
    Metric(
        "new_unemployment",
        "新增失业登记",
        "New unemployment registrations",
        "人次",
        "flow",
        events={_E.UnemploymentRegistered: every_event},
    ),
    Metric(
        "persons_surveyed",
        "动态调查人数",
        "Persons surveyed",
        "人",
        "flow",
        events={_E.StatusSurveyed: _first_survey_of_the_quarter},
    ),
    Metric(
        "registered_urban_unemployment_rate",
        "城镇登记失业率",
        "Registered urban unemployment rate",
        "%",
        "ratio",
        numerator=("urban_registered_unemployed",),
        denominator=("urban_employed", "urban_registered_unemployed"),
    ),
    Metric(
        "survey_completion_rate",
        "动态调查完成率",
        "Survey completion",
        "%",
        "ratio",
        numerator=("persons_surveyed",),
        denominator=("labour_force",),
    ),
    # 用人单位与岗位
    Metric(
        "employers",
        "登记用人单位",
        "Registered employers",
        "家",
        "stock",
        entity="employer",
        counts=lambda e: int(isinstance(e, EmployerState) and e.active),
    ),
    Metric(
        "open_vacancies",
        "在招岗位",
        "Open vacancies",
        "个",
        "stock",
        entity="vacancy",
        counts=lambda v: int(isinstance(v, VacancyState) and v.open and v.remaining > 0),
    ),
    Metric(
        "open_positions",
        "岗位空缺数",
        "Open positions",
        "个",
        "stock",
        entity="vacancy",
        counts=lambda v: v.remaining if isinstance(v, VacancyState) and v.open else 0,
    ),
    # 基层劳动保障平台 (seed 001)
    Metric(
        "service_points",
        "劳动保障平台",
        "Service points",
        "个",
        "stock",
        entity="service_point",
        counts=lambda s: 1,
    ),
    Metric(
        "service_points_staffed",
        "人员配备达标平台",
        "Service points meeting the staffing standard",
        "个",
        "stock",
        entity="service_point",
        counts=lambda s: int(isinstance(s, ServicePointState) and s.staffed),
    ),
    Metric(
        "service_points_compliant",
        "全面达标平台",
        "Service points meeting every standard",
        "个",
        "stock",
        entity="service_point",
        counts=lambda s: int(isinstance(s, ServicePointState) and s.compliant),
    ),
    Metric(
        "places_with_point",
        "已建平台的乡镇和村（社区）",
        "Townships and villages with a service point",
        "个",
        "stock",
        entity="place",
        counts=lambda p: int(isinstance(p, PlaceState) and p.points > 0),
    ),
    Metric(
        "places",
        "乡镇和村（社区）",
        "Townships and villages",
        "个",
        "stock",
        entity="region",
        counts=lambda level: int(level in _PLACE_LEVELS),
    ),
    Metric(
        "service_point_coverage",
        "平台建成率",
        "Service-point coverage",
        "%",
        "ratio",
        numerator=("places_with_point",),
        denominator=("places",),
    ),
    Metric(
        "staffing_compliance_rate",
        "平台人员配备达标率",
        "Staffing compliance",
        "%",
        "ratio",
        numerator=("service_points_staffed",),
        denominator=("service_points",),
    ),
)


SOURCE = Source(
    REGISTRATION_EVENTS,
    entities=(PERSON, EMPLOYER, VACANCY, SERVICE_POINT),
    metrics=METRICS,
    effective_days=EFFECTIVE_DAYS,
)
