"""Reporting's source ``registration.events``: the real-name ledger (实名制台账), employers, vacancies and
service points (docs/design.md, "Registration" and "Reporting").

What reporting keeps of each person, employer, vacancy and service point (states and their folds), when
each event took effect, and the figures counted over them: labour force in the ledger, employment and
registered unemployment (registered urban unemployment rate = urban registered unemployed / (urban
employed + urban registered unemployed) x 100%, docs/rules.md, "Employment and unemployment"), the
quarterly dynamic survey (动态调查), and the service points' coverage (建成率) and staffing and premises
standards (docs/design.md, "Registration").

The states and their folds are in ``folds``; the field names the effective days read are checked against
the contract models when this module loads (``field_of``).
"""

from __future__ import annotations

from collections.abc import Callable

from contracts import registration as reg
from contracts.envelope import EventEnvelope
from contracts.regions import RegionLevel
from contracts.registration import EMPLOYMENT_KINDS, PERSON_CATEGORIES
from contracts.topics import REGISTRATION_EVENTS
from services.reporting.catalogue import Source, field_of
from services.reporting.entities import PlaceState
from services.reporting.metrics import Metric, every_event, stocks
from services.reporting.sources.registration.folds import (
    EMPLOYER,
    PERSON,
    SERVICE_POINT,
    VACANCY,
    PersonState,
    ServicePointState,
)

__all__ = ["EMPLOYER", "PERSON", "SERVICE_POINT", "SOURCE", "VACANCY", "PersonState", "ServicePointState"]

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


def _staffed(s: ServicePointState) -> int:
    return int(s.staffed)


def _compliant(s: ServicePointState) -> int:
    return int(s.compliant)


def _has_point(p: PlaceState) -> int:
    return int(p.points > 0)


def _is_place_level(level: str) -> int:
    return int(level in _PLACE_LEVELS)


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
        "new_employment",
        "新增就业",
        "New employment",
        "人次",
        "flow",
        events={reg.EmploymentRegistered.event_type: every_event},
    ),
    Metric(
        "new_unemployment",
        "新增失业登记",
        "New unemployment registrations",
        "人次",
        "flow",
        events={reg.UnemploymentRegistered.event_type: every_event},
    ),
    Metric(
        "persons_surveyed",
        "动态调查人数",
        "Persons surveyed",
        "人",
        "flow",
        events={reg.StatusSurveyed.event_type: _first_survey_of_the_quarter},
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
    *stocks(
        "employer",
        "家",
        ("employers", "登记用人单位", "Registered employers", lambda e: int(e.active)),
    ),
    *stocks(
        "vacancy",
        "个",
        ("open_vacancies", "在招岗位", "Open vacancies", lambda v: int(v.open and v.remaining > 0)),
        ("open_positions", "岗位空缺数", "Open positions", lambda v: v.remaining if v.open else 0),
    ),
    # 基层劳动保障平台 (docs/design.md, "Registration": service points and their standards)
    *stocks(
        "service_point",
        "个",
        ("service_points", "劳动保障平台", "Service points", lambda s: 1),
        ("service_points_staffed", "人员配备达标平台", "Service points meeting the staffing standard", _staffed),
        ("service_points_compliant", "全面达标平台", "Service points meeting every standard", _compliant),
    ),
    *stocks(
        "place",
        "个",
        ("places_with_point", "已建平台的乡镇和村（社区）", "Townships and villages with a service point", _has_point),
    ),
    # Counted over the division table itself: a region's level says whether it is a place.
    *stocks("region", "个", ("places", "乡镇和村（社区）", "Townships and villages", _is_place_level)),
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
