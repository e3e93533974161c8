"""Registration's part of the demo, sent: the service points, employers, vacancies, persons, households and
the persons' histories through registration's API, in the order ``registration.py``'s docstring gives."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

from services.demo.client import Call, DemoFailed, Reply, ServiceClient, batches
from services.demo.core import Fact, Simulation
from services.demo.timeline import quarter_name

#: Persons per ``POST /persons/batch`` (its limit) and per ``POST /persons/changes/batch``.
PERSONS_PER_BATCH = 1_000
CHANGE_ITEMS_PER_BATCH = 200
#: Employers, service points, vacancies or vacancies' changes per request of their batch routes.
ITEMS_PER_BATCH = 250
#: Batches in flight at once: the service appends one batch at a time, so more only queue.
BATCHES_IN_FLIGHT = 3


def _index(subject: str) -> int:
    return int(subject.partition(":")[2])


async def load_service_points(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    points = sim.population.service_points
    facts = sim.history.of_type("ServicePointEstablished")
    items = [{**points[_index(f.subject)].body(), "established_on": f.day.isoformat()} for f in facts]
    for fact, result in zip(facts, await _each(api, "/service-points/batch", items), strict=True):
        found = result.get("answer") or result.get("problem") or {}
        if result["status"] not in (201, 409) or not found.get("service_point_id"):
            raise DemoFailed(f"registration refused {fact.subject}: {result}")
        counts["service points recorded" if result["status"] == 201 else "service points already there"] += 1
        sim.ids[fact.subject] = str(found["service_point_id"])


async def load_employers(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> set[str]:
    """Register the employers; returns those this run registered (only they get vacancies)."""
    employers = sim.population.employers
    facts = sim.history.of_type("EmployerRegistered")
    items = [{**employers[_index(f.subject)].body(), "registered_on": f.day.isoformat()} for f in facts]
    new = set()
    for fact, result in zip(facts, await _each(api, "/employers/batch", items), strict=True):
        found = result.get("answer") or result.get("problem") or {}
        if result["status"] not in (201, 409) or not found.get("employer_id"):
            raise DemoFailed(f"registration refused {fact.subject}: {result}")
        sim.ids[fact.subject] = str(found["employer_id"])
        if result["status"] == 201:
            new.add(fact.subject)
    counts["employers registered"] += len(new)
    counts["employers already registered"] += len(facts) - len(new)
    return new


async def load_vacancies(sim: Simulation, api: ServiceClient, counts: Counter[str], employers: set[str]) -> set[str]:
    facts = [f for f in sim.history.of_type("VacancyOpened") if f.data["employer"] in employers]
    items = [{**f.data["vacancy"].body(sim.ids[f.data["employer"]]), "opened_on": f.day.isoformat()} for f in facts]
    for fact, result in zip(facts, await _each(api, "/vacancies/batch", items), strict=True):
        if result["status"] != 201:
            raise DemoFailed(f"registration refused {fact.subject}: {result}")
        sim.ids[fact.subject] = str(result["answer"]["vacancy_id"])
    counts["vacancies opened"] += len(facts)
    return {f.subject for f in facts}


async def _each(api: ServiceClient, path: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per item of a batch of single commands (``ITEMS_PER_BATCH`` to a request), in order."""
    calls = [
        Call("POST", path, {"items": list(chunk)}, ok=(200,), weight=len(chunk))
        for chunk in batches(items, ITEMS_PER_BATCH)
    ]
    return [result for reply in await api.send_all(calls) for result in reply.json()["results"]]


async def load_people(
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
    """The slice's households in one ``POST /households/batch``, each dated by its fact; a household whose
    members are in one already (a second run) answers 409 naming it."""
    items = [
        {
            "region_code": f.data["region_code"],
            "entered_on": f.day.isoformat(),
            "members": [{"person_id": sim.ids[m], "relation": r} for m, r in f.data["members"]],
        }
        for f in facts
    ]
    reply = await api.send(Call("POST", "/households/batch", {"items": items}, ok=(200,), weight=len(items)))
    for fact, result in zip(facts, reply.json()["results"], strict=True):
        if result["status"] == 201:
            sim.ids[fact.subject] = str(result["household"]["household_id"])
            counts["households entered"] += 1
        elif result["status"] == 409 and (result.get("problem") or {}).get("household_id"):
            sim.ids[fact.subject] = str(result["problem"]["household_id"])
            counts["households entered, already there"] += 1
        else:
            raise DemoFailed(f"registration refused {fact.subject}: {result}")


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


async def load_vacancy_changes(sim: Simulation, api: ServiceClient, counts: Counter[str], vacancies: set[str]) -> None:
    """Each vacancy's fills (naming the person hired) and closure, in order: one item per vacancy."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for fact in sim.history.of_type("VacancyFilled", "VacancyClosed"):
        if fact.subject not in vacancies:
            continue
        if fact.type == "VacancyFilled":
            change = {"action": "fills", "count": 1, "person_id": sim.ids[fact.data["person"]]}
            changes.setdefault(fact.subject, []).append({**change, "filled_on": fact.day.isoformat()})
            counts["vacancy positions filled"] += 1
        else:
            changes.setdefault(fact.subject, []).append({"action": "closure", "closed_on": fact.day.isoformat()})
            counts["vacancies closed"] += 1
    items = [{"vacancy_id": sim.ids[v], "changes": c} for v, c in changes.items()]
    for item, result in zip(items, await _each(api, "/vacancies/changes/batch", items), strict=True):
        if result["status"] != 200:
            raise DemoFailed(f"registration refused vacancy {item['vacancy_id']}'s changes: {result}")


async def _in_flight(api: ServiceClient, calls: list[Call], slots: asyncio.Semaphore) -> list[Reply]:
    """Batches, as many at a time as ``slots`` lets (``BATCHES_IN_FLIGHT``, shared by every batch the
    module sends): the next one goes as soon as one is answered."""

    async def send(call: Call) -> Reply:
        async with slots:
            return await api.send(call)

    return list(await asyncio.gather(*(send(call) for call in calls)))
