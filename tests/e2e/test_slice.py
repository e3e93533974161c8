"""End to end: register persons over HTTP, and reporting's counts at every level equal the truth, through a
worker crash and a broker restart (nothing lost, nothing counted twice)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import httpx
import pytest

from contracts.identifiers import citizen_id_check_character
from contracts.reference import SUINING_COUNTY, demo_county
from contracts.regions import RegionLevel, ancestor_codes

pytestmark = pytest.mark.e2e

VILLAGES = [r.code for r in demo_county() if r.level is RegionLevel.VILLAGE]
TOWNSHIPS = [r.code for r in demo_county() if r.level is RegionLevel.TOWNSHIP]


def people(count: int, seed: int) -> list[dict[str, str]]:
    rnd = random.Random(seed)
    out, seen = [], set()
    while len(out) < count:
        born = f"{rnd.randrange(1960, 2005)}{rnd.randrange(1, 13):02d}{rnd.randrange(1, 29):02d}"
        body = f"430527{born}{rnd.randrange(1000):03d}"
        if body in seen:
            continue
        seen.add(body)
        out.append(
            {
                "id_number": body + citizen_id_check_character(body),
                "name": f"居民{len(out)}",
                "region_code": rnd.choice(VILLAGES),
                "hukou": rnd.choice(["urban", "rural"]),
            }
        )
    return out


async def register(stack, persons, *, concurrency: int = 24, on_half=None) -> None:
    sem = asyncio.Semaphore(concurrency)
    done = 0
    async with httpx.AsyncClient(base_url=stack.env["REGISTRATION_URL"], headers=stack.headers, timeout=30) as client:

        async def one(person):
            nonlocal done
            async with sem:
                response = await client.post("/persons", json=person)
                assert response.status_code == 201, response.text
                done += 1
                if done == len(persons) // 2 and on_half is not None:
                    on_half()

        await asyncio.gather(*[one(p) for p in persons])


def truth(persons) -> Counter[str]:
    counts: Counter[str] = Counter()
    for person in persons:
        counts.update(ancestor_codes(person["region_code"]))
    return counts


async def reported(stack) -> Counter[str]:
    """labour_force for the province, city, county, every township and every village, over HTTP."""
    figures: Counter[str] = Counter()
    # A provincial analyst sees every level from the province down, as aggregates.
    headers = stack.headers_for("analyst", "43")
    async with httpx.AsyncClient(base_url=stack.env["REPORTING_URL"], headers=headers, timeout=30) as client:
        for code in ("430000000000", "430500000000"):
            body = (await client.get(f"/regions/{code}/stats")).json()
            figures[code] = body["metrics"]["labour_force"]
        county = (await client.get(f"/regions/{SUINING_COUNTY[:6]}/children")).json()
        figures[SUINING_COUNTY] = (await client.get(f"/regions/{SUINING_COUNTY}/stats")).json()["metrics"][
            "labour_force"
        ]
        for township in county["children"]:
            figures[township["code"]] = township["metrics"]["labour_force"]
            villages = (await client.get(f"/regions/{township['code']}/children")).json()["children"]
            for village in villages:
                figures[village["code"]] = village["metrics"]["labour_force"]
    return figures


async def wait_for_exact_counts(stack, expected: Counter[str], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        figures = await reported(stack)
        wrong = {
            code: (figures[code], expected[code])
            for code in set(figures) | set(expected)
            if figures[code] != expected[code]
        }
        if not wrong:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(wrong)} regions off after {timeout}s, e.g. {list(wrong.items())[:5]}")
        await asyncio.sleep(0.5)


async def test_counts_stay_exact_through_a_worker_crash_and_a_broker_restart(stack):
    first = people(1000, seed=1)
    # Kill -9 the reporting worker halfway through; supervisord restarts it, the inbox skips what it had.
    await register(stack, first, on_half=lambda: stack.ctl("signal", "KILL", "reporting-worker"))
    expected = truth(first)
    await wait_for_exact_counts(stack, expected)
    assert expected[SUINING_COUNTY] == 1000
    assert set(expected) >= {"430000000000", "430500000000", SUINING_COUNTY}

    # The embedded broker forgets every topic and offset; the relay republishes from Postgres.
    assert "broker: started" in stack.ctl("restart", "broker")
    second = people(200, seed=2)
    await register(stack, second)
    await wait_for_exact_counts(stack, expected + truth(second))

    # A level's figure is the sum of its children, at every level.
    figures = await reported(stack)
    assert figures[SUINING_COUNTY] == sum(figures[t] for t in TOWNSHIPS) == 1200
    for township in TOWNSHIPS:
        assert figures[township] == sum(figures[v] for v in VILLAGES if v.startswith(township[:9]))


async def test_duplicate_id_number_gets_409_naming_the_existing_person(stack):
    person = people(1, seed=3)[0]
    async with httpx.AsyncClient(base_url=stack.env["REGISTRATION_URL"], headers=stack.headers) as client:
        first = await client.post("/persons", json=person)
        again = await client.post("/persons", json=person)
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["person_id"] == first.json()["person_id"]
