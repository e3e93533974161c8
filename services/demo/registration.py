"""Registration's part of the demo: the ledger's two years (实名制台账), sent through registration's API.

Plans, from the population: when each employer registered and which vacancies (岗位) it opened, closed and
filled; each resident's life (``people.py``) with every unit hire given an employer of the county, and
the hire taken from one of that employer's open vacancies when it has one; the quarterly survey; the
service points (平台), most built before the window and some villages' stations during it.

Households (户): every resident lives in one, entered with its head and members (``POST /households``,
which takes no date: they are entered on the day of the run). They are entered after the persons and
before the persons' histories, so that each change of a member's status publishes the household's
snapshot (``HouseholdEmploymentChanged``) from which assistance detects and clears zero-employment
households (零就业家庭).

Loads side by side the service points, the employers (then their vacancies, then, once the persons are
in, each vacancy's fills naming the person hired and its closure, in order) and the people. The people
go a slice of households at a time, slices side by side: the slice's persons (``POST /persons/batch``),
its households, then its persons' changes, one item of ``POST /persons/changes/batch`` per person (so a
person's history is written whole or not at all). A slice's households wait only for its own persons,
and its changes only for its own households, so the single household requests overlap the batches.

Idempotent: the ledger itself says what is there. A credit code, ID number or region already registered
answers 409 with the existing id; a person's changes carry ``expected_version: 1`` (the entry as
registered), so a second run, or a run after an interrupted one, writes the history of exactly the people
who have none yet; vacancies are opened (and filled) only for employers this run registered.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

from contracts.reference import demo_county
from contracts.regions import Region, RegionLevel
from services.demo.client import Call, DemoFailed, Reply, ServiceClient, tally
from services.demo.core import Fact, Simulation
from services.demo.people import Life, simulate_life, surveys, village_completion, villages_by_township
from services.demo.population import vacancy_for
from services.demo.timeline import add_months, quarter_name

#: Persons per ``POST /persons/batch`` (its limit) and per ``POST /persons/changes/batch``.
PERSONS_PER_BATCH = 1_000
CHANGE_ITEMS_PER_BATCH = 200
#: Batches in flight at once: the service appends one batch at a time, so more only queue.
BATCHES_IN_FLIGHT = 3
#: Monthly chance that an employer opens a vacancy, by size.
OPENS_VACANCY = {"micro": 0.03, "small": 0.1, "medium": 0.25, "large": 0.5}
_SIZE_WEIGHT = {"micro": 1, "small": 5, "medium": 20, "large": 60}


class Registration:
    """The ledger's history: see the module docstring."""

    service = "registration"

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
        facts += _households(sim)
        for fact in sorted(facts, key=_order):
            sim.history.add(fact)
        return len(facts)

    async def load(self, sim: Simulation, api: ServiceClient) -> Counter[str]:
        """Send the history (see the module docstring); returns what was created and what was already there."""
        counts: Counter[str] = Counter()

        async def employers_and_vacancies() -> set[str]:
            return await _load_vacancies(sim, api, counts, await _load_employers(sim, api, counts))

        async def vacancies_and_their_fills() -> None:
            await people  # a fill names the person hired
            await _load_vacancy_changes(sim, api, counts, await employers)

        # What does not need the others' ids goes side by side: the service's single commands fill the
        # time its batches wait on Postgres.
        employers = asyncio.ensure_future(employers_and_vacancies())
        people = asyncio.ensure_future(_load_people(sim, api, counts, employers))
        await asyncio.gather(_load_service_points(sim, api, counts), vacancies_and_their_fills(), people)
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


def _households(sim: Simulation) -> list[Fact]:
    """Every household as it is entered today: its members with their relation to the head."""
    persons = sim.population.persons
    return [
        Fact(
            sim.window.today,
            "HouseholdCreated",
            f"household:{index}",
            {
                "region_code": household.region_code,
                "members": [(f"person:{m}", persons[m].relation) for m in household.members],
            },
        )
        for index, household in enumerate(sim.population.households)
    ]


# --- loading -------------------------------------------------------------------------------------------------


def _index(subject: str) -> int:
    return int(subject.partition(":")[2])


async def _load_service_points(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    points = sim.population.service_points
    facts = sim.history.of_type("ServicePointEstablished")
    calls = [
        Call(
            "POST",
            "/service-points",
            {**points[_index(f.subject)].body(), "established_on": f.day.isoformat()},
            ok=(201, 409),
        )
        for f in facts
    ]
    for fact, reply in zip(facts, await api.send_all(calls), strict=True):
        counts["service points recorded" if reply.status == 201 else "service points already there"] += 1
        sim.ids[fact.subject] = str(reply.json()["service_point_id"])


async def _load_employers(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> set[str]:
    """Register the employers; returns those this run registered (only they get vacancies)."""
    employers = sim.population.employers
    facts = sim.history.of_type("EmployerRegistered")
    calls = [
        Call(
            "POST",
            "/employers",
            {**employers[_index(f.subject)].body(), "registered_on": f.day.isoformat()},
            ok=(201, 409),
        )
        for f in facts
    ]
    new = set()
    for fact, reply in zip(facts, await api.send_all(calls), strict=True):
        sim.ids[fact.subject] = str(reply.json()["employer_id"])
        if reply.status == 201:
            new.add(fact.subject)
    counts["employers registered"] += len(new)
    counts["employers already registered"] += len(facts) - len(new)
    return new


async def _load_vacancies(sim: Simulation, api: ServiceClient, counts: Counter[str], employers: set[str]) -> set[str]:
    facts = [f for f in sim.history.of_type("VacancyOpened") if f.data["employer"] in employers]
    calls = []
    for fact in facts:
        body = fact.data["vacancy"].body(sim.ids[fact.data["employer"]])
        calls.append(Call("POST", "/vacancies", {**body, "opened_on": fact.day.isoformat()}, ok=(201,)))
    for fact, reply in zip(facts, await api.send_all(calls), strict=True):
        sim.ids[fact.subject] = str(reply.json()["vacancy_id"])
    counts["vacancies opened"] += len(facts)
    return {f.subject for f in facts}


async def _load_people(
    sim: Simulation, api: ServiceClient, counts: Counter[str], employers: asyncio.Future[set[str]]
) -> None:
    """Persons, households and histories, a slice of whole households at a time (see the module docstring).

    The histories name employers and vacancies by their ids: they are written once ``employers`` (and their
    vacancies) are in."""

    async def after_employers() -> dict[str, list[dict[str, Any]]]:
        await employers
        return _histories(sim)

    all_histories = asyncio.ensure_future(after_employers())
    slots = asyncio.Semaphore(BATCHES_IN_FLIGHT)
    slices: list[list[Fact]] = [[]]
    for household in sim.history.of_type("HouseholdCreated"):
        if sum(len(h.data["members"]) for h in slices[-1]) + len(household.data["members"]) > PERSONS_PER_BATCH:
            slices.append([])
        slices[-1].append(household)

    async def load(households: list[Fact]) -> None:
        members = [m for h in households for m, _ in h.data["members"]]
        async with slots:
            await _load_persons(sim, api, counts, members)
        await _load_households(sim, api, counts, households)
        histories = await all_histories
        items = [
            [
                {"person_id": sim.ids[m], "expected_version": 1, "changes": histories[m]}
                for m, _ in h.data["members"]
                if histories.get(m)
            ]
            for h in households
        ]
        await _load_changes(api, counts, [i for i in items if i], slots)

    await asyncio.gather(*(load(households) for households in slices if households))


async def _load_persons(sim: Simulation, api: ServiceClient, counts: Counter[str], subjects: list[str]) -> None:
    persons = sim.population.persons
    facts = {f.subject: f for f in sim.history.of_type("PersonRegistered")}
    items = [{**persons[_index(s)].body(), "registered_on": facts[s].day.isoformat()} for s in subjects]
    reply = await api.send(Call("POST", "/persons/batch", {"items": items}, ok=(200,), weight=len(items)))
    body = reply.json()
    counts["persons registered"] += body["created"]
    counts["persons already registered"] += body["already_registered"]
    for subject, result in zip(subjects, body["results"], strict=True):
        if result["status"] == 201:
            sim.ids[subject] = result["person"]["person_id"]
        elif result["status"] == 409 and result["problem"].get("person_id"):
            sim.ids[subject] = result["problem"]["person_id"]
        else:
            raise DemoFailed(f"{subject} was refused: {result}")


async def _load_households(sim: Simulation, api: ServiceClient, counts: Counter[str], facts: list[Fact]) -> None:
    calls = [
        Call(
            "POST",
            "/households",
            {
                "region_code": f.data["region_code"],
                "members": [{"person_id": sim.ids[m], "relation": r} for m, r in f.data["members"]],
            },
            ok=(201,),
            key=f"demo-{sim.seed}-{f.subject}",
        )
        for f in facts
    ]
    replies = await api.send_all(calls)
    for fact, reply in zip(facts, replies, strict=True):
        sim.ids[fact.subject] = str(reply.json()["household_id"])
    tally(counts, "households entered", replies)


def _histories(sim: Simulation) -> dict[str, list[dict[str, Any]]]:
    """Each person's changes as the API takes them (the random stream drawn person by person, in order)."""
    rng = sim.rng("registration", "reporting")
    out = {}
    for subject in sim.history.subjects("person"):
        changes = _changes(sim, [f for f in sim.history.of(subject) if f.type != "PersonRegistered"], rng)
        if changes:
            out[subject] = changes
    return out


async def _load_changes(
    api: ServiceClient, counts: Counter[str], households: list[list[dict[str, Any]]], slots: asyncio.Semaphore
) -> None:
    """Each person's changes as one item of ``POST /persons/changes/batch``, guarded by version 1."""
    calls = [
        Call(
            "POST", "/persons/changes/batch", {"items": chunk}, ok=(200,), weight=sum(len(i["changes"]) for i in chunk)
        )
        for chunk in _whole_households(households, CHANGE_ITEMS_PER_BATCH)
    ]
    for reply in await _in_flight(api, calls, slots):
        body = reply.json()
        counts["persons' histories written"] += body["changed"]
        counts["persons' histories already there"] += body["conflicts"]
        if body["rejected"]:
            bad = next(r for r in body["results"] if r["status"] not in (200, 409))
            raise DemoFailed(f"registration refused {body['rejected']} persons' histories, e.g. {bad}")
        counts["person changes"] += sum(r.get("changes", 0) for r in body["results"])


def _whole_households(households: list[list[dict[str, Any]]], size: int) -> list[list[dict[str, Any]]]:
    """Items in batches of about ``size`` that never split a household: each member's change appends to the
    household's stream too, and two batches in flight changing one household would conflict (409)."""
    out: list[list[dict[str, Any]]] = [[]]
    for members in households:
        if len(out[-1]) + len(members) > size and out[-1]:
            out.append([])
        out[-1].extend(members)
    return [chunk for chunk in out if chunk]


def _changes(sim: Simulation, facts: list[Fact], rng: random.Random) -> list[dict[str, Any]]:
    """The API's change bodies for one person's facts, in order. Some flexible and self-employed work is
    not reported when it starts but found by the next survey in the same quarter, which then records it."""
    out: list[dict[str, Any]] = []
    today = sim.window.today
    found: Fact | None = None  # a start of work the next survey records
    for position, fact in enumerate(facts):
        day, data = fact.day, fact.data
        match fact.type:
            case "EmploymentRegistered":
                following = facts[position + 1] if position + 1 < len(facts) else None
                if (
                    data["kind"] in ("flexible", "self_employed")
                    and day >= sim.window.start
                    and following is not None
                    and following.type == "StatusSurveyed"
                    and quarter_name(following.day) == quarter_name(day)
                    and rng.random() < 0.5
                ):
                    found = fact
                    continue
                change = {
                    "action": "employment",
                    "kind": data["kind"],
                    "started_on": day,
                    "reported_on": data["reported_on"],
                }
                if data.get("employer"):
                    change["employer_id"] = sim.ids[data["employer"]]
                if data.get("vacancy") and data["vacancy"] in sim.ids:
                    change["vacancy_id"] = sim.ids[data["vacancy"]]
                out.append(change)
            case "EmploymentEnded":
                reported = min(today, day + timedelta(days=rng.randint(0, 12) if rng.random() < 0.92 else 20))
                out.append(
                    {"action": "employment/end", "ended_on": day, "reason": data["reason"], "reported_on": reported}
                )
            case "UnemploymentRegistered":
                out.append({"action": "unemployment", "registered_on": day})
            case "UnemploymentDeregistered":
                out.append({"action": "unemployment/deregistration", "deregistered_on": day, "reason": data["reason"]})
            case "PersonMoved":
                out.append({"action": "moves", "region_code": data["region_code"], "moved_on": day})
            case "PersonRetired":
                out.append({"action": "retirement", "retired_on": day})
            case "PersonDied":
                out.append({"action": "death", "died_on": day})
            case "StatusSurveyed":
                survey: dict[str, Any] = {
                    "action": "surveys",
                    "quarter": data["quarter"],
                    "status": data["status"],
                    "surveyed_on": day,
                }
                if found is not None:
                    survey["employment"] = {"kind": found.data["kind"], "started_on": found.day}
                    found = None
                out.append(survey)
    return [{k: v.isoformat() if isinstance(v, date) else v for k, v in change.items()} for change in out]


async def _load_vacancy_changes(sim: Simulation, api: ServiceClient, counts: Counter[str], vacancies: set[str]) -> None:
    """Each vacancy's fills (naming the person hired) and closure, in order; vacancies side by side."""
    chains: dict[str, list[Call]] = {}
    for fact in sim.history.of_type("VacancyFilled", "VacancyClosed"):
        if fact.subject not in vacancies:
            continue
        path = f"/vacancies/{sim.ids[fact.subject]}"
        if fact.type == "VacancyFilled":
            body = {"count": 1, "person_id": sim.ids[fact.data["person"]], "filled_on": fact.day.isoformat()}
            chains.setdefault(fact.subject, []).append(Call("POST", path + "/fills", body))
            counts["vacancy positions filled"] += 1
        else:
            chains.setdefault(fact.subject, []).append(
                Call("POST", path + "/closure", {"closed_on": fact.day.isoformat()})
            )
            counts["vacancies closed"] += 1
    await api.send_chains(list(chains.values()))


async def _in_flight(api: ServiceClient, calls: list[Call], slots: asyncio.Semaphore) -> list[Reply]:
    """Batches, as many at a time as ``slots`` lets (``BATCHES_IN_FLIGHT``, shared by every batch the
    module sends): the next one goes as soon as one is answered."""

    async def send(call: Call) -> Reply:
        async with slots:
            return await api.send(call)

    return list(await asyncio.gather(*(send(call) for call in calls)))
