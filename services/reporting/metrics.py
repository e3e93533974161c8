"""The metrics reporting maintains, each declared once: name, labels, unit, kind and how it is counted.

Storage, the API, the quarterly report, the SQL views and the dashboard all follow from these
declarations. Three kinds (DESIGN.md section 5, "reporting"):

- ``stock``: things in a state at a moment (people in the ledger, open vacancies), counted over the states
  reporting keeps per entity (``services.reporting.entities``); taken at the end of a period.
- ``flow``: events in a period (new employment), summed over the days of the period.
- ``ratio``: ``scale`` x the sum of its numerator metrics / the sum of its denominator metrics, computed
  from the figures of the same region and period, never summed across regions.

Adding another service's metric is a ``Metric`` here (and, for a new kind of entity, its fold in
``entities.py``); nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.envelope import EventEnvelope
from contracts.regions import RegionLevel
from contracts.registration import EMPLOYMENT_KINDS, PERSON_CATEGORIES
from services.reporting.entities import (
    EmployerState,
    PersonState,
    PlaceState,
    ServicePointState,
    VacancyState,
    profile,
)

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


IN_LEDGER_STATUSES = frozenset({"not_in_labour_force", "employed", "registered_unemployed"})


def _in_ledger(p: PersonState) -> bool:
    """实名登记劳动力: registered, alive and not retired."""
    return p.status in IN_LEDGER_STATUSES


def persons(name: str, zh: str, en: str, where: Callable[[PersonState], bool]) -> Metric:
    """A stock of persons in a state."""
    return Metric(name, zh, en, "人", "stock", entity="person", counts=lambda p: int(where(p)))


def _every_event(_: EventEnvelope, __: Any) -> int:
    return 1


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
        "new_employment", "新增就业", "New employment", "人次", "flow", events={"EmploymentRegistered": _every_event}
    ),
    Metric(
        "new_unemployment",
        "新增失业登记",
        "New unemployment registrations",
        "人次",
        "flow",
        events={"UnemploymentRegistered": _every_event},
    ),
    Metric(
        "persons_surveyed",
        "动态调查人数",
        "Persons surveyed",
        "人",
        "flow",
        events={"StatusSurveyed": _first_survey_of_the_quarter},
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


METRICS_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}

#: Entity name -> the stock metrics counted over it (the projection's contributions).
STOCKS_BY_ENTITY: dict[str, tuple[Metric, ...]] = {}
#: Event type -> the flow metrics it moves.
FLOWS_BY_EVENT: dict[str, tuple[Metric, ...]] = {}
for _metric in METRICS:
    if _metric.kind == "stock" and _metric.entity:
        STOCKS_BY_ENTITY[_metric.entity] = (*STOCKS_BY_ENTITY.get(_metric.entity, ()), _metric)
    for _event_type in _metric.events:
        FLOWS_BY_EVENT[_event_type] = (*FLOWS_BY_EVENT.get(_event_type, ()), _metric)


_CONTRIBUTIONS: dict[tuple[Any, ...], list[tuple[str, int]]] = {}


def contributions(entity: str, state: Any) -> list[tuple[str, int]]:
    """What one entity in ``state`` adds to each stock metric (non-zero only).

    Where and when the entity is (``region_code``, ``day``) decide where and when it is counted, never
    what: so the answer is remembered per state profile and most events cost a dictionary lookup.
    """
    if state is None:
        return []
    key = (entity, *profile(state))
    out = _CONTRIBUTIONS.get(key)
    if out is None:
        out = []
        for metric in STOCKS_BY_ENTITY.get(entity, ()):
            assert metric.counts is not None
            value = metric.counts(state)
            if value:
                out.append((metric.name, value))
        if len(_CONTRIBUTIONS) > 100_000:
            _CONTRIBUTIONS.clear()
        _CONTRIBUTIONS[key] = out
    return out


def ratio_of(metric: Metric, figures: Mapping[str, float | int | None]) -> float | None:
    """A ratio metric from the same region's and period's figures; None when the denominator is zero."""
    numerator = sum(float(figures.get(n) or 0) for n in metric.numerator)
    denominator = sum(float(figures.get(d) or 0) for d in metric.denominator)
    if not denominator:
        return None
    return round(metric.scale * numerator / denominator, 2)


def _check_declarations() -> None:
    for metric in METRICS:
        if metric.kind == "ratio":
            missing = [n for n in (*metric.numerator, *metric.denominator) if n not in METRICS_BY_NAME]
            if missing or not metric.denominator:
                raise ValueError(f"ratio {metric.name} names unknown or no metrics: {missing}")
        elif metric.kind == "stock" and (metric.entity is None or metric.counts is None):
            raise ValueError(f"stock {metric.name} must say which entity it counts and how")
        elif metric.kind == "flow" and not metric.events:
            raise ValueError(f"flow {metric.name} must name the events it counts")


_check_declarations()
