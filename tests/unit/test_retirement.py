"""Statutory retirement age by group (2024 NPCSC decision, annex tables; docs/rules.md examples)."""

from datetime import date

import pytest

from contracts.retirement import (
    DEFAULT_RETIREMENT_GROUP,
    RetirementGroup,
    add_months,
    is_working_age,
    retirement_delay_months,
    statutory_retirement_date,
)

WORKER, CADRE = RetirementGroup.WORKER, RetirementGroup.CADRE


@pytest.mark.parametrize(
    ("born", "sex", "group", "retires"),
    [
        (date(1964, 12, 15), "male", None, date(2024, 12, 15)),  # before the reform: 60
        (date(1965, 1, 10), "male", None, date(2025, 2, 10)),  # first month delayed
        (date(1965, 5, 1), "male", WORKER, date(2025, 7, 1)),  # +2; a man's group changes nothing
        (date(1976, 9, 1), "male", CADRE, date(2039, 9, 1)),  # men born 1976-09 or later: 63
        (date(1969, 12, 31), "female", CADRE, date(2024, 12, 31)),  # formerly 55, before the base month
        (date(1970, 1, 20), "female", CADRE, date(2025, 2, 20)),
        (date(1981, 9, 1), "female", CADRE, date(2039, 9, 1)),  # 58
        (date(1974, 12, 31), "female", WORKER, date(2024, 12, 31)),  # formerly 50, before the base month
        (date(1975, 1, 5), "female", WORKER, date(2025, 2, 5)),  # +1 per 2 months of birth
        (date(1975, 3, 5), "female", WORKER, date(2025, 5, 5)),
        (date(1984, 11, 1), "female", WORKER, date(2039, 11, 1)),  # cap of 60 months: 55
    ],
)
def test_retirement_date_follows_the_schedule_of_the_group(born, sex, group, retires):
    assert statutory_retirement_date(born, sex, group) == retires


def test_a_woman_worker_retires_years_before_a_woman_cadre_born_the_same_day():
    born = date(1975, 1, 5)
    assert statutory_retirement_date(born, "female", WORKER) == date(2025, 2, 5)  # 50 and 1 month
    assert statutory_retirement_date(born, "female", CADRE) == date(2031, 5, 5)  # 55 and 16 months


def test_working_age_of_a_woman_depends_on_her_group():
    born, day = date(1975, 1, 5), date(2026, 1, 1)
    assert not is_working_age(born, "female", day, WORKER)
    assert is_working_age(born, "female", day, CADRE)


def test_the_default_group_is_the_cadre_schedule_of_55():
    assert DEFAULT_RETIREMENT_GROUP is CADRE
    born = date(1980, 6, 30)
    assert statutory_retirement_date(born, "female") == statutory_retirement_date(born, "female", CADRE)
    assert retirement_delay_months(born, "female") == retirement_delay_months(born, "female", CADRE) == 32


def test_caps_are_three_years_for_men_and_cadres_and_five_for_workers():
    assert retirement_delay_months(date(2000, 1, 1), "male") == 36
    assert retirement_delay_months(date(2000, 1, 1), "female", CADRE) == 36
    assert retirement_delay_months(date(2000, 1, 1), "female", WORKER) == 60


def test_groups_are_plain_strings_on_the_wire():
    assert RetirementGroup("worker") is WORKER
    assert statutory_retirement_date(date(1975, 1, 5), "female", "worker") == date(2025, 2, 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        statutory_retirement_date(date(1975, 1, 5), "female", "farmer")  # type: ignore[arg-type]


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 12, 15), 1) == date(2024, 1, 15)


def test_working_age_starts_at_sixteen():
    assert not is_working_age(date(2010, 5, 21), "male", date(2026, 5, 20))
    assert is_working_age(date(2010, 5, 20), "male", date(2026, 5, 20))
