"""The synthetic population: deterministic, valid, and shaped like a rural county."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from contracts.identifiers import parse_citizen_id, parse_credit_code
from contracts.reference import demo_county
from services.registration.domain import age_on
from services.registration.models.employer import EmployerCreate
from services.registration.models.person import PersonCreate
from services.registration.models.service_point import ServicePointCreate
from services.registration.models.vacancy import VacancyCreate
from services.registration.population import generate_population

AS_OF = date(2026, 5, 20)
URBAN_COMMUNITIES = {r.code for r in demo_county() if r.urban_rural_class and r.urban_rural_class.startswith("1")}


@pytest.fixture(scope="module")
def population():
    return generate_population(5_000, seed=7, as_of=AS_OF)


def test_the_same_seed_and_day_give_the_same_population(population):
    again = generate_population(5_000, seed=7, as_of=AS_OF)
    assert again.persons == population.persons and again.employers == population.employers
    other = generate_population(5_000, seed=8, as_of=AS_OF)
    assert other.persons != population.persons


def test_id_numbers_are_valid_unique_of_the_county_and_agree_with_sex_and_birth_date(population):
    assert len(population.persons) == 5_000
    numbers = [p.id_number for p in population.persons]
    assert len(set(numbers)) == len(numbers)
    for person in population.persons:
        info = parse_citizen_id(person.id_number, today=AS_OF)
        assert person.id_number.startswith("430527")
        assert (info.sex, info.birth_date) == (person.sex, person.birth_date)


def test_everyone_is_of_working_age_with_a_pyramid_and_about_106_men_per_100_women(population):
    ages = Counter(age_on(p.birth_date, AS_OF) for p in population.persons)
    assert min(ages) >= 16 and max(ages) <= 64
    assert sum(n for a, n in ages.items() if 45 <= a <= 54) > sum(n for a, n in ages.items() if 20 <= a <= 29)
    sexes = Counter(p.sex for p in population.persons)
    assert 0.95 < sexes["male"] / sexes["female"] < 1.25


def test_villagers_are_mostly_rural_and_the_county_seat_mostly_urban(population):
    village = [p.hukou for p in population.persons if p.region_code not in URBAN_COMMUNITIES]
    seat = [p.hukou for p in population.persons if p.region_code in URBAN_COMMUNITIES]
    assert village.count("rural") / len(village) > 0.9
    assert seat.count("urban") / len(seat) > 0.55


def test_households_have_1_to_6_members_one_head_and_live_together(population):
    sizes = Counter(len(h.members) for h in population.households)
    assert set(sizes) <= {1, 2, 3, 4, 5, 6} and len(sizes) == 6
    for household in population.households[:500]:
        members = [population.persons[i] for i in household.members]
        assert [m.relation for m in members].count("head") == 1 and members[0].relation == "head"
        assert {m.region_code for m in members} == {household.region_code}
        assert {m.relation for m in members} <= {"head", "spouse", "child", "parent", "other"}


def test_categories_are_the_ledgers_and_migrant_workers_are_common(population):
    counts = Counter(c for p in population.persons for c in p.categories)
    assert set(counts) <= {
        "unemployed",
        "laid_off",
        "rural_surplus_labour",
        "new_entrant",
        "flexible_employment",
        "migrant_worker",
        "retired",
    }
    assert counts["migrant_worker"] > counts["unemployed"] > 0


def test_every_body_is_accepted_by_the_api_models(population):
    for person in population.persons[:500]:
        PersonCreate.model_validate(person.body())
    for employer in population.employers:
        EmployerCreate.model_validate(employer.body())
    for vacancy in population.vacancies:
        VacancyCreate.model_validate(vacancy.body("6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10"))
    for point in population.service_points:
        ServicePointCreate.model_validate(point.body())


def test_employers_have_valid_unique_credit_codes_industries_and_mostly_micro_sizes(population):
    assert len(population.employers) == 5_000 // 80
    codes = [e.credit_code for e in population.employers]
    assert len(set(codes)) == len(codes)
    assert all(parse_credit_code(code).check_ok for code in codes)
    assert all(e.industry in "ABCDEFGHIJKLMNOPQRST" for e in population.employers)
    sizes = Counter(e.size for e in population.employers)
    assert sizes["micro"] > sizes["small"] > 0


def test_vacancies_have_wage_ranges_in_whole_fen(population):
    assert population.vacancies
    for vacancy in population.vacancies:
        assert isinstance(vacancy.wage_min_fen, int) and isinstance(vacancy.wage_max_fen, int)
        assert 190_000 <= vacancy.wage_min_fen <= vacancy.wage_max_fen
        assert vacancy.positions >= 1


def test_there_is_a_service_point_per_region_and_some_fall_short(population):
    levels = Counter(p.level for p in population.service_points)
    assert levels == {"county": 1, "township": 17, "village": 223}
    from services.registration.domain.service_point import assess_service_point

    compliant = [
        assess_service_point(
            p.level,  # type: ignore[arg-type]
            staff=p.staff,
            floor_area_m2=p.floor_area_m2,
            has_archive_room=p.has_archive_room,
            population_served=p.population_served,
        ).compliant
        for p in population.service_points
    ]
    assert 0 < sum(compliant) < len(compliant)
