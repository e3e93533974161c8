"""Employers change and leave the ledger; vacancies open, fill and close by named rules."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from contracts.identifiers import parse_credit_code
from contracts.reference import demo_county
from contracts.regions import RegionLevel
from contracts.registration import EmployerChanged
from services.registration.domain.employer import (
    ChangeEmployer,
    DeregisterEmployer,
    EmployerState,
    RegisterEmployer,
    decide_change_employer,
    decide_deregister_employer,
    decide_register_employer,
    evolve_employer,
)
from services.registration.domain.vacancy import (
    CloseVacancy,
    FillVacancy,
    OpenVacancy,
    VacancyState,
    decide_close_vacancy,
    decide_fill_vacancy,
    decide_open_vacancy,
    evolve_vacancy,
)
from services.runtime.errors import RuleViolated

TODAY = date(2026, 5, 20)
REGIONS = {r.code: r for r in demo_county()}
TOWNSHIP = REGIONS["430527101000"]
VILLAGE = next(r for r in demo_county() if r.level is RegionLevel.VILLAGE)


def registered(**overrides) -> EmployerState:
    [event] = decide_register_employer(
        RegisterEmployer(
            employer_id="e1",
            credit=parse_credit_code("91350100M000100Y43"),
            name="绥宁县竹木加工厂",
            region=REGIONS["430527100000"],
            region_code="430527100000",
            industry="C",
            size="small",
        )
    )
    state = evolve_employer(None, event)
    assert state is not None
    return dataclasses.replace(state, **overrides) if overrides else state


def test_a_change_lists_each_field_with_old_and_new_value():
    state = registered()
    command = ChangeEmployer(sent=frozenset({"name", "size"}), name="绥宁县竹木制品有限公司", size="medium")
    [event] = decide_change_employer(command, state)
    assert [(c.field, c.old, c.new) for c in event.changes] == [
        ("name", "绥宁县竹木加工厂", "绥宁县竹木制品有限公司"),
        ("size", "small", "medium"),
    ]
    after = evolve_employer(state, event)
    assert after is not None
    assert (after.name, after.size, after.version) == ("绥宁县竹木制品有限公司", "medium", 2)


def test_sending_the_recorded_values_changes_nothing():
    command = ChangeEmployer(sent=frozenset({"industry"}), industry="C")
    assert decide_change_employer(command, registered()) == []


def test_clearing_the_industry_is_a_change_to_none():
    [event] = decide_change_employer(ChangeEmployer(sent=frozenset({"industry"})), registered())
    assert [(c.field, c.old, c.new) for c in event.changes] == [("industry", "C", None)]


def test_moving_to_another_township_records_both_regions():
    command = ChangeEmployer(sent=frozenset({"region_code"}), region=TOWNSHIP, region_code=TOWNSHIP.code)
    [event] = decide_change_employer(command, registered())
    assert isinstance(event, EmployerChanged)
    assert (event.from_region_code, event.region_code) == ("430527100000", TOWNSHIP.code)


@pytest.mark.parametrize(
    ("region", "code", "rule"),
    [
        (None, "430527999000", "RegionMustExist"),
        (REGIONS["430527000000"], "430527000000", "EmployerSitsInTownshipOrVillage"),
    ],
)
def test_an_employer_cannot_move_to_an_unknown_region_or_a_county(region, code, rule):
    command = ChangeEmployer(sent=frozenset({"region_code"}), region=region, region_code=code)
    with pytest.raises(RuleViolated) as refused:
        decide_change_employer(command, registered())
    assert (refused.value.rule, refused.value.field) == (rule, "region_code")


def test_a_deregistered_employer_cannot_change():
    state = registered(deregistered_on=date(2026, 1, 1))
    with pytest.raises(RuleViolated) as refused:
        decide_change_employer(ChangeEmployer(sent=frozenset({"size"}), size="large"), state)
    assert refused.value.rule == "DeregisteredEmployerCannotChange"


def test_deregistration_needs_its_vacancies_closed_and_a_date_that_has_come():
    state = registered()
    with pytest.raises(RuleViolated) as open_vacancies:
        decide_deregister_employer(DeregisterEmployer(TODAY, "歇业", 2), state, today=TODAY)
    assert open_vacancies.value.rule == "CloseVacanciesBeforeDeregistration"
    with pytest.raises(RuleViolated) as future:
        decide_deregister_employer(DeregisterEmployer(date(2026, 6, 1), "歇业", 0), state, today=TODAY)
    assert (future.value.rule, future.value.field) == ("DeregistrationNotInFuture", "deregistered_on")
    [event] = decide_deregister_employer(DeregisterEmployer(TODAY, "歇业", 0), state, today=TODAY)
    after = evolve_employer(state, event)
    assert after is not None and not after.active
    with pytest.raises(RuleViolated) as twice:
        decide_deregister_employer(DeregisterEmployer(TODAY, "歇业", 0), after, today=TODAY)
    assert twice.value.rule == "EmployerAlreadyDeregistered"


def opening(employer=None, **overrides) -> OpenVacancy:
    values = {
        "vacancy_id": "v1",
        "employer": registered() if employer is None else employer,
        "employer_id": "e1",
        "occupation": "操作工",
        "positions": 5,
        "wage_min_fen": 300_000,
        "wage_max_fen": 450_000,
        "opened_on": date(2026, 5, 1),
    }
    return OpenVacancy(**{**values, **overrides})


def opened(**overrides) -> VacancyState:
    [event] = decide_open_vacancy(opening(**overrides), today=TODAY)
    state = evolve_vacancy(None, event)
    assert state is not None
    return state


def test_a_vacancy_opens_in_its_employers_region_with_wages_in_fen():
    [event] = decide_open_vacancy(opening(), today=TODAY)
    assert (event.region_code, event.positions, event.wage_min_fen, event.wage_max_fen) == (
        "430527100000",
        5,
        300_000,
        450_000,
    )


@pytest.mark.parametrize(
    ("overrides", "rule", "field"),
    [
        ({"wage_min_fen": 500_000}, "WageMinimumNotAboveMaximum", "wage_min_fen"),
        ({"positions": 0}, "VacancyHasAtLeastOnePosition", "positions"),
        ({"opened_on": date(2026, 6, 1)}, "VacancyOpensNotInFuture", "opened_on"),
        ({"employer": registered(deregistered_on=TODAY)}, "DeregisteredEmployerCannotOpenVacancy", "employer_id"),
    ],
)
def test_a_vacancy_that_breaks_a_rule_is_refused(overrides, rule, field):
    with pytest.raises(RuleViolated) as refused:
        decide_open_vacancy(opening(**overrides), today=TODAY)
    assert (refused.value.rule, refused.value.field) == (rule, field)


def test_a_vacancy_needs_a_registered_employer():
    command = OpenVacancy(
        vacancy_id="v1",
        employer=None,
        employer_id="nobody",
        occupation="操作工",
        positions=1,
        wage_min_fen=0,
        wage_max_fen=0,
        opened_on=TODAY,
    )
    with pytest.raises(RuleViolated) as refused:
        decide_open_vacancy(command, today=TODAY)
    assert refused.value.rule == "VacancyNeedsRegisteredEmployer"


def test_fills_take_positions_until_none_remain_and_never_more():
    state = opened()
    [first] = decide_fill_vacancy(FillVacancy(3, TODAY), state, today=TODAY)
    assert (first.filled, first.remaining) == (3, 2)
    state = evolve_vacancy(state, first)
    assert state is not None
    with pytest.raises(RuleViolated) as too_many:
        decide_fill_vacancy(FillVacancy(3, TODAY), state, today=TODAY)
    assert (too_many.value.rule, too_many.value.field) == ("FillCannotExceedRemainingPositions", "count")
    [last] = decide_fill_vacancy(FillVacancy(2, TODAY), state, today=TODAY)
    state = evolve_vacancy(state, last)
    assert state is not None and (state.remaining, state.status) == (0, "filled")
    with pytest.raises(RuleViolated) as full:
        decide_fill_vacancy(FillVacancy(1, TODAY), state, today=TODAY)
    assert full.value.rule == "VacancyIsOpen"


def test_a_named_person_fills_one_position_and_must_be_in_the_ledger():
    state = opened()
    with pytest.raises(RuleViolated) as two:
        decide_fill_vacancy(FillVacancy(2, TODAY, person_id="p1"), state, today=TODAY)
    assert two.value.rule == "OnePersonFillsOnePosition"
    with pytest.raises(RuleViolated) as unknown:
        decide_fill_vacancy(FillVacancy(1, TODAY, person_id="p1", person_in_ledger=False), state, today=TODAY)
    assert (unknown.value.rule, unknown.value.field) == ("PersonMustBeInLedger", "person_id")
    [event] = decide_fill_vacancy(FillVacancy(1, TODAY, person_id="p1"), state, today=TODAY)
    assert event.person_id == "p1"


def test_a_fill_dated_before_opening_is_refused():
    with pytest.raises(RuleViolated) as refused:
        decide_fill_vacancy(FillVacancy(1, date(2026, 4, 1)), opened(), today=TODAY)
    assert refused.value.rule == "DateNotBeforeOpening"


def test_closing_withdraws_what_remains_and_a_closed_vacancy_takes_no_fill():
    state = opened()
    [fill] = decide_fill_vacancy(FillVacancy(2, TODAY), state, today=TODAY)
    state = evolve_vacancy(state, fill)
    assert state is not None
    [closed] = decide_close_vacancy(CloseVacancy(TODAY, "招满停招"), state, today=TODAY)
    assert closed.withdrawn == 3
    state = evolve_vacancy(state, closed)
    assert state is not None and state.status == "closed" and state.remaining == 0
    with pytest.raises(RuleViolated) as refused:
        decide_close_vacancy(CloseVacancy(TODAY), state, today=TODAY)
    assert refused.value.rule == "VacancyIsOpen"


def test_village_employers_are_allowed():
    command = ChangeEmployer(sent=frozenset({"region_code"}), region=VILLAGE, region_code=VILLAGE.code)
    [event] = decide_change_employer(command, registered())
    assert event.region_code == VILLAGE.code
