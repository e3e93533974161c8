"""Registration's part of the demo: the ledger's two years (实名制台账), sent through registration's API.

Plans, from the population: when each employer registered and which vacancies (岗位) it opened, closed and
filled; each resident's life (``people.py``) with every unit hire given an employer of the county, and
the hire taken from one of that employer's open vacancies when it has one; the quarterly survey; the
service points (平台), most built before the window and some villages' stations during it.

Households (户): every resident lives in one, entered with its head and members (``POST /households/batch``)
on the day its first member entered the ledger (``entered_on``). They are entered after the persons and
before the persons' histories, so that each change of a member's status publishes the household's
snapshot (``HouseholdEmploymentChanged``) from which assistance detects and clears zero-employment
households (零就业家庭).

Loads side by side the service points, the employers (then their vacancies, then, once the persons are
in, each vacancy's fills naming the person hired and its closure, in order) and the people. The people
go a slice of households at a time, slices side by side: the slice's persons (``POST /persons/batch``),
its households (one ``POST /households/batch``), then its persons' changes, one item of
``POST /persons/changes/batch`` per person (so a person's history is written whole or not at all). A slice's
households wait only for its own persons, and its changes only for its own households.

Idempotent: the ledger itself says what is there. A credit code, ID number or region already registered
answers 409 with the existing id, and so does a household's member already in one (naming the household); a
person's changes carry ``expected_version: 1`` (the entry as registered), so a second run, or a run after an
interrupted one, writes the history of exactly the people who have none yet; vacancies are opened (and
filled) only for employers this run registered.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from contracts.reference import demo_county
from contracts.regions import Region, RegionLevel
from services.demo.client import ServiceClient
from services.demo.core import Fact, Simulation
from services.demo.organisations import vacancy_for
from services.demo.people import Life, simulate_life, surveys, village_completion, villages_by_township
from services.demo.registration_load import (
    load_employers,
    load_people,
    load_service_points,
    load_vacancies,
    load_vacancy_changes,
)
from services.demo.timeline import add_months

#: Monthly chance that an employer opens a vacancy, by size.
OPENS_VACANCY = {"micro": 0.03, "small": 0.1, "medium": 0.25, "large": 0.5}
_SIZE_WEIGHT = {"micro": 1, "small": 5, "medium": 20, "large": 60}


class Registration:
    """The ledger's history: see the module docstring."""

    service = "registration"
    reacts_to: tuple[str, ...] = ()

    def plan(self, sim: Simulation) -> int:
        """Add the ledger's facts to the history; returns how many facts the load sends (its work)."""
        regions = {r.code: r for r in demo_county()}
        by_township = villages_by_township(list(regions.values()))
        facts = _employers_and_vacancies(sim)
        lives, rngs = [], []
        for index, person in enumerate(sim.population.persons):
            rngs.append(sim.rng(self.service, "person", index))
            lives.append(simulate_life(index, person, sim.window, rngs[-1], regions, by_township))
        facts += _assign_unit_hires(sim, lives, facts, regions)
        completion = {
            (village, quarter): village_completion(sim.rng("registration", "survey", village, quarter))
            for village in (code for vs in by_township.values() for code in vs)
            for quarter, _, _ in sim.window.quarters
        }
        for life, rng in zip(lives, rngs, strict=True):  # the survey draws go on from the life's stream
            facts += life.facts
            facts += surveys(life, sim.window, rng, completion)
        facts += _service_points(sim)
        registered = {f.subject: f.day for f in facts if f.type == "PersonRegistered"}
        facts += _households(sim, registered)
        for fact in sorted(facts, key=_order):
            sim.history.add(fact)
        return len(facts)

    async def load(self, sim: Simulation, api: ServiceClient) -> Counter[str]:
        """Send the history (see the module docstring); returns what was created and what was already there."""
        counts: Counter[str] = Counter()

        async def employers_and_vacancies() -> set[str]:
            return await load_vacancies(sim, api, counts, await load_employers(sim, api, counts))

        async def vacancies_and_their_fills() -> None:
            await people  # a fill names the person hired
            await load_vacancy_changes(sim, api, counts, await employers)

        # What does not need the others' ids goes side by side: the service's single commands fill the
        # time its batches wait on Postgres.
        employers = asyncio.ensure_future(employers_and_vacancies())
        people = asyncio.ensure_future(load_people(sim, api, counts, employers))
        await asyncio.gather(load_service_points(sim, api, counts), vacancies_and_their_fills(), people)
        return counts


MODULE = Registration()


def _order(fact: Fact) -> tuple[date, int]:
    """By day; a survey after the changes of its day, because it confirms what they left."""
    return fact.day, 1 if fact.type == "StatusSurveyed" else 0


# --- planning ------------------------------------------------------------------------------------------------


def _employers_and_vacancies(sim: Simulation) -> list[Fact]:
    """Employers registered over the past years (a fifth of them during the window) and their vacancies."""
    window, facts = sim.window, []
    vacancies = 0
    for index, employer in enumerate(sim.population.employers):
        rng = sim.rng("registration", "employer", index)
        if rng.random() < 0.2:
            registered = window.day_in(rng, window.start, window.today - timedelta(days=30))
        else:
            registered = window.start - timedelta(days=rng.randint(30, 8 * 365))
        subject = f"employer:{index}"
        facts.append(Fact(registered, "EmployerRegistered", subject, {"region_code": employer.region_code}))
        # From a few months before the window, so that vacancies are open when it begins.
        for month in (add_months(window.start, k) for k in range(-6, len(window.months))):
            if month <= registered or rng.random() >= OPENS_VACANCY[employer.size]:
                continue
            opened = window.day_in(rng, month, month + timedelta(days=27))
            if opened <= registered:
                continue
            vacancy = vacancy_for(rng, employer, index)
            data = {
                "employer": subject,
                "positions": vacancy.positions,
                "closes": opened + timedelta(days=rng.randint(30, 180)),
                "vacancy": vacancy,
            }
            facts.append(Fact(opened, "VacancyOpened", f"vacancy:{vacancies}", data))
            vacancies += 1
    return facts


def _assign_unit_hires(sim: Simulation, lives: list[Life], facts: list[Fact], regions: dict[str, Region]) -> list[Fact]:
    """Give every unit hire inside the county an employer, in day order, filling open vacancies first.

    A hire takes a position of an open vacancy in the person's township when there is one (most of the
    time), else of any open vacancy in the county (sometimes), else joins an employer directly. Returns
    the vacancies' fills and closures.
    """
    rng = sim.rng("registration", "hires")
    township_of = {code: _township(regions, code) for code in regions}
    employers = [
        (f.day, f.subject, township_of.get(str(f.data["region_code"]), ""))
        for f in facts
        if f.type == "EmployerRegistered"
    ]
    township_of_employer = {subject: township for _, subject, township in employers}
    sizes = {f"employer:{i}": e.size for i, e in enumerate(sim.population.employers)}
    vacancies = [f for f in facts if f.type == "VacancyOpened"]
    remaining = {v.subject: int(v.data["positions"]) for v in vacancies}
    out: list[Fact] = []
    hires = sorted(
        ((day, village, life.subject, data) for life in lives for day, village, data in life.unit_hires),
        key=lambda h: h[0],
    )
    for day, village, person, data in hires:
        township = township_of.get(village, "")
        open_now = [v for v in vacancies if v.day < day < v.data["closes"] and remaining[v.subject] > 0]
        nearby = [v for v in open_now if township_of_employer[v.data["employer"]] == township]
        pool = nearby if nearby and rng.random() < 0.6 else (open_now if rng.random() < 0.3 else [])
        if pool:
            vacancy = rng.choice(pool)
            remaining[vacancy.subject] -= 1
            data["employer"], data["vacancy"] = vacancy.data["employer"], vacancy.subject
            out.append(Fact(day, "VacancyFilled", vacancy.subject, {"person": person}))
            continue
        active = [(s, t) for registered, s, t in employers if registered < day]
        if active:
            local = [(s, t) for s, t in active if t == township]
            choices = local if local and rng.random() < 0.6 else active
            data["employer"] = rng.choices([s for s, _ in choices], [_SIZE_WEIGHT[sizes[s]] for s, _ in choices])[0]
    for vacancy in vacancies:
        closes = vacancy.data["closes"]
        if remaining[vacancy.subject] > 0 and closes <= sim.window.today:
            out.append(Fact(closes, "VacancyClosed", vacancy.subject, {}))
    return out


def _township(regions: dict[str, Region], code: str) -> str:
    region = regions.get(code)
    if region is None:
        return ""
    return code if region.level is RegionLevel.TOWNSHIP else (region.parent or "")


def _service_points(sim: Simulation) -> list[Fact]:
    """The county's and townships' points before the window; most village stations too, the rest during it."""
    window, facts = sim.window, []
    for index, point in enumerate(sim.population.service_points):
        rng = sim.rng("registration", "service_point", index)
        if point.level == "village" and rng.random() < 0.15:
            day = window.day_in(rng, window.start, window.today)
        else:
            day = window.start - timedelta(days=rng.randint(60, 5 * 365))
        facts.append(Fact(day, "ServicePointEstablished", f"service_point:{index}", {"region_code": point.region_code}))
    return facts


def _households(sim: Simulation, registered: dict[str, date]) -> list[Fact]:
    """Every household, entered the day its first member entered the ledger: its members with their relation
    to the head (``registered``: each person's day)."""
    persons = sim.population.persons
    facts = []
    for index, household in enumerate(sim.population.households):
        members = [(f"person:{m}", persons[m].relation) for m in household.members]
        entered = min(registered[m] for m, _ in members)
        data = {"region_code": household.region_code, "members": members}
        facts.append(Fact(entered, "HouseholdCreated", f"household:{index}", data))
    return facts


# --- loading -------------------------------------------------------------------------------------------------
