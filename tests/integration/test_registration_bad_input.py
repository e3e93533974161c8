"""Bad input to registration, one test per case: a 4xx naming the field (and, for business rules, the
rule), and nothing half-written: the events, the ledger rows and the household tables are unchanged."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from contracts.identifiers import citizen_id_check_character
from tests.integration.test_registration_persons import (
    TODAY,
    VILLAGE,
    id_number,
    register,
    registration_client,
    sql,
)

pytestmark = pytest.mark.integration

client = registration_client


def store(client) -> tuple:
    """Everything registration has written."""
    return (
        sql(client, "SELECT stream_id, version, type FROM registration.events ORDER BY position"),
        sql(
            client,
            "SELECT person_id, id_hash, name_cipher, status, categories, region_code, version FROM registration.persons"
            " ORDER BY person_id",
        ),
        sql(client, "SELECT * FROM registration.household_members ORDER BY person_id"),
        sql(client, "SELECT * FROM registration.person_surveys ORDER BY person_id"),
    )


async def refused(client, method: str, path: str, body: dict, status: int, field: str, rule: str | None) -> dict:
    before = store(client)
    response = await client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    named = [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
    assert field in named, problem
    if rule is not None:
        assert problem["rule"] == rule, problem
    assert store(client) == before, "a refused command wrote something"
    return problem


def person_body(number: str, **overrides) -> dict:
    return {"id_number": number, "name": "赵六", "region_code": VILLAGE, **overrides}


async def test_invalid_id_check_character(client):
    good = id_number()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    problem = await refused(client, "POST", "/persons", person_body(wrong), 422, "id_number", "CitizenIdValid")
    assert "check character" in problem["detail"]


async def test_invalid_id_check_character_in_a_correction(client):
    pid = (await register(client))["person_id"]
    wrong = id_number(sequence=9)[:17] + "0"
    await refused(
        client,
        "POST",
        f"/persons/{pid}/corrections",
        {"id_number": wrong, "reason": "x"},
        422,
        "id_number",
        "CitizenIdValid",
    )


async def test_impossible_birth_date(client):
    body = "43052719900230001"  # 30 February
    problem = await refused(
        client,
        "POST",
        "/persons",
        person_body(body + citizen_id_check_character(body)),
        422,
        "id_number",
        "CitizenIdValid",
    )
    assert "not a real date" in problem["detail"]


async def test_person_under_16_registering_employment(client):
    birthday = TODAY - timedelta(days=10)  # the 16th birthday was ten days ago
    born = date(birthday.year - 16, birthday.month, min(birthday.day, 28))
    pid = (await register(client, id_number(born, 7)))["person_id"]
    await refused(
        client,
        "POST",
        f"/persons/{pid}/employment",
        {"kind": "flexible", "started_on": str(TODAY - timedelta(days=40))},  # aged 15 then
        422,
        "started_on",
        "NoEmploymentUnder16",
    )


async def test_unknown_region(client):
    await refused(
        client,
        "POST",
        "/persons",
        person_body(id_number(), region_code="430527999201"),
        422,
        "region_code",
        "RegionMustExist",
    )
    pid = (await register(client))["person_id"]
    await refused(
        client, "POST", f"/persons/{pid}/moves", {"region_code": "430527100399"}, 422, "region_code", "RegionMustExist"
    )


async def test_region_at_the_wrong_level(client):
    await refused(
        client,
        "POST",
        "/persons",
        person_body(id_number(), region_code="430527"),
        422,
        "region_code",
        "PersonLivesInVillageOrCommunity",
    )
    pid = (await register(client))["person_id"]
    await refused(
        client,
        "POST",
        f"/persons/{pid}/moves",
        {"region_code": "430527100000"},
        422,
        "region_code",
        "PersonLivesInVillageOrCommunity",
    )


async def test_employment_start_in_the_future(client):
    pid = (await register(client))["person_id"]
    await refused(
        client,
        "POST",
        f"/persons/{pid}/employment",
        {"kind": "unit", "started_on": str(TODAY + timedelta(days=1))},
        422,
        "started_on",
        "EmploymentStartNotInFuture",
    )


async def test_employment_ending_before_it_started(client):
    pid = (await register(client))["person_id"]
    await client.post(f"/persons/{pid}/employment", json={"kind": "unit", "started_on": str(TODAY)})
    await refused(
        client,
        "POST",
        f"/persons/{pid}/employment/end",
        {"ended_on": str(TODAY - timedelta(days=1)), "reason": "resigned"},
        422,
        "ended_on",
        "EmploymentEndsAfterStart",
    )


async def test_transition_not_allowed_from_the_current_status(client):
    pid = (await register(client))["person_id"]
    await client.post(f"/persons/{pid}/employment", json={"kind": "unit", "started_on": str(TODAY)})
    await refused(client, "POST", f"/persons/{pid}/unemployment", {}, 422, "status", "EndEmploymentBeforeUnemployment")
    await refused(
        client,
        "POST",
        f"/persons/{pid}/employment",
        {"kind": "flexible", "started_on": str(TODAY)},
        422,
        "status",
        "OneEmploymentAtATime",
    )


async def test_duplicate_id_number(client):
    first = (await register(client))["person_id"]
    problem = await refused(client, "POST", "/persons", person_body(id_number(), name="另一人"), 409, "id_number", None)
    assert problem["person_id"] == first


async def test_concurrent_edits_of_one_person(client):
    pid = (await register(client))["person_id"]
    before = store(client)
    responses = await asyncio.gather(
        *[
            client.post(f"/persons/{pid}/death", json={"died_on": str(TODAY)}, headers={"If-Match": "1"}),
            client.post(f"/persons/{pid}/retirement", json={}, headers={"If-Match": "1"}),
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["field"] == "If-Match"
    after = store(client)
    assert len(after[0]) == len(before[0]) + 1  # exactly the winner's event
    assert after[1][0][-1] == 2  # the row's version follows the winner


async def test_a_stale_if_match_changes_nothing(client):
    pid = (await register(client))["person_id"]
    problem = await refused(
        client,
        "PUT",
        f"/persons/{pid}/categories",
        {"categories": ["laid_off"], "expected_version": 5},
        409,
        "If-Match",
        None,
    )
    assert problem["current_version"] == 1


async def test_a_future_birth_year_is_refused_at_registration(client):
    future = date(TODAY.year + 1, 1, 1)
    body = f"430527{future:%Y%m%d}001"
    await refused(
        client, "POST", "/persons", person_body(body + citizen_id_check_character(body)), 422, "id_number", None
    )
