"""The demo's simulated county, before anything is sent: plausible, dated in the past, deterministic."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from contracts.reference import demo_county
from contracts.regions import is_urban
from services.demo import POPULATION_DAY
from services.demo.core import Fact, Simulation
from services.demo.population import generate_population
from services.demo.registration import MODULE
from services.demo.timeline import Window
from services.registration.domain.working_age import statutory_retirement_date

TODAY = date(2026, 12, 3)
URBAN = {r.code for r in demo_county() if r.urban_rural_class and is_urban(r.urban_rural_class)}
_AFTER = {
    "EmploymentRegistered": "employed",
    "EmploymentEnded": "not_in_labour_force",
    "UnemploymentRegistered": "registered_unemployed",
    "UnemploymentDeregistered": "not_in_labour_force",
    "PersonRetired": "retired",
    "PersonDied": "deceased",
}


def planned(persons: int, seed: int = 430527, today: date = TODAY) -> Simulation:
    sim = Simulation(seed, Window.ending(today), generate_population(persons, seed=seed, as_of=POPULATION_DAY))
    MODULE.plan(sim)
    return sim


@pytest.fixture(scope="module")
def county() -> Simulation:
    """The default size: 20,000 residents."""
    return planned(20_000)


def standing(sim: Simulation, day: date) -> Counter[str]:
    """Stocks at the end of ``day`` as reporting counts them: labour force, statuses, urban statuses."""
    out: Counter[str] = Counter()
    for subject in sim.history.subjects("person"):
        status, region, entered = "not_in_labour_force", "", False
        for fact in sim.history.of(subject):
            if fact.day > day:
                break
            if fact.type in ("PersonRegistered", "PersonMoved"):
                entered, region = entered or fact.type == "PersonRegistered", str(fact.data["region_code"])
            status = _AFTER.get(fact.type, status)
        if entered:
            out[status] += 1
            out["labour_force"] += status in ("employed", "registered_unemployed", "not_in_labour_force")
            if region in URBAN:
                out["urban " + status] += 1
    return out


def test_the_registered_urban_unemployment_rate_stays_in_two_to_five_percent_and_moves(county):
    rates = []
    for _, _, last in county.window.quarters[:-1]:
        stocks = standing(county, last)
        unemployed = stocks["urban registered_unemployed"]
        rates.append(100 * unemployed / (stocks["urban employed"] + unemployed))
    assert all(2.0 <= rate <= 5.0 for rate in rates), rates
    assert max(rates) - min(rates) > 0.3, rates


def test_most_people_are_surveyed_each_quarter_and_some_villages_fall_behind(county):
    by_village: Counter[tuple[str, str]] = Counter()
    surveyed = Counter(f.data["quarter"] for f in county.history.of_type("StatusSurveyed"))
    for quarter, _, last in county.window.quarters[:-1]:
        share = surveyed[quarter] / standing(county, last)["labour_force"]
        assert 0.8 <= share <= 0.97, (quarter, share)
    quarter, _, _ = county.window.quarters[-2]
    people = Counter(str(f.data["region_code"]) for f in county.history.of_type("PersonRegistered"))
    for fact in county.history.of_type("StatusSurveyed"):
        if fact.data["quarter"] == quarter:
            by_village[(quarter, _village_of(county, fact))] += 1
    behind = [v for v, n in people.items() if n >= 40 and by_village[(quarter, v)] < 0.7 * n]
    assert behind and len(behind) < 0.3 * len(people)


def _village_of(sim: Simulation, survey: Fact) -> str:
    region = ""
    for fact in sim.history.of(survey.subject):
        if fact.day > survey.day:
            break
        if fact.type in ("PersonRegistered", "PersonMoved"):
            region = str(fact.data["region_code"])
    return region


def test_the_county_is_larger_today_than_a_year_ago_and_school_leavers_enter_each_summer(county):
    a_year_ago = date(TODAY.year - 1, TODAY.month, TODAY.day)
    assert standing(county, a_year_ago)["labour_force"] < standing(county, TODAY)["labour_force"]
    entries = Counter(f.day.month for f in county.history.of_type("PersonRegistered") if f.day >= county.window.start)
    summer = entries[7] + entries[8]
    assert summer > 2 * (entries[4] + entries[5])


def test_hiring_follows_the_seasons_and_every_kind_of_change_happens(county):
    hires = Counter(f.day.month for f in county.history.of_type("EmploymentRegistered") if f.day >= county.window.start)
    assert hires[3] > 1.5 * hires[12]
    kinds = Counter(f.type for f in county.history if f.day >= county.window.start)
    for kind in (
        "EmploymentEnded",
        "UnemploymentRegistered",
        "PersonMoved",
        "PersonDied",
        "PersonRetired",
        "VacancyOpened",
        "VacancyFilled",
        "VacancyClosed",
        "EmployerRegistered",
        "ServicePointEstablished",
    ):
        assert kinds[kind] > 0, kind
    reasons = Counter(f.data["reason"] for f in county.history.of_type("EmploymentEnded"))
    assert {"dismissed", "contract_expired", "resigned"} <= set(reasons)


def test_retirement_comes_on_the_statutory_day_and_nothing_is_dated_after_today(county):
    persons = county.population.persons
    for fact in county.history.of_type("PersonRetired"):
        person = persons[int(fact.subject.split(":")[1])]
        assert fact.day >= statutory_retirement_date(person.birth_date, person.sex)  # type: ignore[arg-type]
    assert max(f.day for f in county.history) <= TODAY
    for subject in county.history.subjects("person")[:2_000]:
        changes = [f for f in county.history.of(subject) if f.type not in ("StatusSurveyed", "PersonRegistered")]
        # The job held on entering the ledger may have started before it; every later change is a new day.
        days = [f.day for f in changes if not (f.type == "EmploymentRegistered" and f is changes[0])]
        assert days == sorted(days) and len(set(days)) == len(days)


def test_the_same_seed_and_day_give_the_same_county_and_another_seed_another():
    first, again, other = planned(1_500), planned(1_500), planned(1_500, seed=7)
    assert list(first.history) == list(again.history)
    assert list(first.history) != list(other.history)
