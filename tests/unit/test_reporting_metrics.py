"""The metric declarations: each declared once, complete, and ratios computed, not summed."""

from __future__ import annotations

from contracts.registration import EMPLOYMENT_KINDS, PERSON_CATEGORIES
from services.reporting.metrics import ratio_of
from services.reporting.sources import CATALOGUE

METRICS, METRICS_BY_NAME = CATALOGUE.metrics, CATALOGUE.metrics_by_name
STOCKS_BY_ENTITY, FLOWS_BY_EVENT = CATALOGUE.stocks_by_entity, CATALOGUE.flows_by_event


def test_every_metric_is_declared_once_with_labels_unit_and_kind():
    assert len({m.name for m in METRICS}) == len(METRICS)
    for metric in METRICS:
        assert metric.label_zh and metric.label_en and metric.unit, metric.name
        assert metric.kind in ("stock", "flow", "ratio")


def test_the_brief_s_metrics_are_all_there():
    names = set(METRICS_BY_NAME)
    assert {f"labour_force_cat_{c}" for c in PERSON_CATEGORIES} <= names
    assert {f"employed_{k}" for k in EMPLOYMENT_KINDS} <= names
    assert {
        "labour_force",
        "labour_force_female",
        "employed",
        "registered_unemployed",
        "new_employment",
        "new_unemployment",
        "registered_urban_unemployment_rate",
        "employers",
        "open_vacancies",
        "open_positions",
        "survey_completion_rate",
        "service_point_coverage",
        "service_points_compliant",
        "staffing_compliance_rate",
    } <= names
    assert METRICS_BY_NAME["new_employment"].kind == "flow"
    assert METRICS_BY_NAME["registered_urban_unemployment_rate"].kind == "ratio"


def test_stocks_and_flows_are_indexed_by_what_moves_them():
    assert "labour_force" in {m.name for m in STOCKS_BY_ENTITY["person"]}
    assert [m.name for m in FLOWS_BY_EVENT["EmploymentRegistered"]] == ["new_employment"]


def test_the_urban_unemployment_rate_follows_rules_md():
    rate = METRICS_BY_NAME["registered_urban_unemployment_rate"]
    assert ratio_of(rate, {"urban_registered_unemployed": 3, "urban_employed": 97}) == 3.0
    assert ratio_of(rate, {"urban_registered_unemployed": 0, "urban_employed": 0}) is None
