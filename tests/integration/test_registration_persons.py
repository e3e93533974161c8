"""Person lifecycle, employment status, history and search through the registration API (real Postgres,
in-process ASGI): corrections, moves, deaths, categories, optimistic concurrency, 就业/失业登记."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import psycopg
import pytest

from contracts.identifiers import citizen_id_check_character
from services.runtime.workdays import WorkdayCalendar
from tests.integration.registration_client import registration_client as fresh_registration
from tests.integration.registration_client import token

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"
OTHER_VILLAGE = "430527101201"
TODAY = date.today()


def id_number(birth: date = date(1990, 3, 7), sequence: int = 1) -> str:
    body = f"430527{birth:%Y%m%d}{sequence:03d}"
    return body + citizen_id_check_character(body)


@pytest.fixture
async def registration_client(infra) -> AsyncIterator[httpx.AsyncClient]:
    """The registration API on a fresh database, with a county clerk's token."""
    async with fresh_registration(infra, headers=token()) as http:
        yield http


client = registration_client


async def register(client, number: str | None = None, **overrides) -> dict:
    body = {"id_number": number or id_number(), "name": "杨秀成", "region_code": VILLAGE, **overrides}
    response = await client.post("/persons", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def sql(client, query: str, *params):
    with psycopg.connect(client.database_url) as conn:
        return conn.execute(query, params).fetchall()


def events_of(client, stream_id: str) -> list[tuple[str, dict]]:
    return [
        (t, d)
        for t, d in sql(
            client, "SELECT type, data FROM registration.events WHERE stream_id = %s ORDER BY version", stream_id
        )
    ]


# --- corrections -------------------------------------------------------------------------------------


async def test_a_correction_records_old_and_new_values_and_redacts_personal_data(client):
    person = await register(client, phone="13800000000")
    pid = person["person_id"]
    response = await client.post(
        f"/persons/{pid}/corrections",
        json={"name": "杨秀诚", "education": "大专", "phone": "13900000000", "reason": "依身份证更正"},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    [(_, registered), (kind, corrected)] = events_of(client, pid)
    assert kind == "PersonCorrected" and corrected["reason"] == "依身份证更正"
    changes = {c["field"]: c for c in corrected["changes"]}
    assert (changes["education"]["old"], changes["education"]["new"]) == (None, "大专")
    assert changes["name"] == {"field": "name", "old": None, "new": None, "redacted": True}
    assert changes["phone"]["redacted"] is True
    raw = str(corrected) + str(registered)
    assert "杨秀" not in raw and "139" not in raw  # no PII on the wire
    shown = (await client.get(f"/persons/{pid}")).json()
    assert (shown["name"], shown["phone"], shown["education"], shown["version"]) == ("杨秀诚", "13900000000", "大专", 2)
    # The name's lookup hash moved with it.
    assert [p["person_id"] for p in (await client.get("/persons", params={"name": "杨秀诚"})).json()["persons"]] == [
        pid
    ]
    assert (await client.get("/persons", params={"name": "杨秀成"})).json()["persons"] == []


async def test_an_id_number_correction_rederives_sex_and_birth_date_and_moves_the_lookup(client):
    pid = (await register(client))["person_id"]
    new_number = id_number(date(1988, 5, 12), 2)
    response = await client.post(f"/persons/{pid}/corrections", json={"id_number": new_number, "reason": "号码录错"})
    assert response.status_code == 200, response.text
    shown = (await client.get(f"/persons/{pid}")).json()
    assert (shown["sex"], shown["birth_date"], shown["id_number"]) == ("female", "1988-05-12", new_number)
    found = (await client.get("/persons", params={"id_number": new_number})).json()["persons"]
    assert [p["person_id"] for p in found] == [pid]
    assert (await client.get("/persons", params={"id_number": id_number()})).json()["persons"] == []


async def test_an_id_number_correction_to_a_number_someone_holds_is_409_and_changes_nothing(client):
    first = (await register(client))["person_id"]
    second = (await register(client, id_number(sequence=3)))["person_id"]
    response = await client.post(f"/persons/{second}/corrections", json={"id_number": id_number(), "reason": "x"})
    assert response.status_code == 409
    assert response.json()["field"] == "id_number" and response.json()["person_id"] == first
    assert [t for t, _ in events_of(client, second)] == ["PersonRegistered"]
    assert (await client.get(f"/persons/{second}")).json()["id_number"] == id_number(sequence=3)


async def test_a_stale_version_is_409(client):
    pid = (await register(client))["person_id"]
    ok = await client.put(f"/persons/{pid}/categories", json={"categories": ["laid_off"], "expected_version": 1})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = await client.post(
        f"/persons/{pid}/corrections", json={"education": "高中", "reason": "x"}, headers={"If-Match": "1"}
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.json()["field"] == "If-Match"


async def test_concurrent_edits_of_one_person_one_wins_the_other_is_409(client):
    pid = (await register(client))["person_id"]
    for use_if_match in (True, True, False):  # without If-Match the store's version check still decides
        version = (await client.get(f"/persons/{pid}")).json()["version"]
        headers = {"If-Match": f'"{version}"'} if use_if_match else {}
        responses = await asyncio.gather(
            *[
                client.post(
                    f"/persons/{pid}/corrections",
                    json={"education": f"edit {version}-{n}", "reason": "x"},
                    headers=headers,
                )
                for n in range(4)
            ]
        )
        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200 and set(codes) <= {200, 409} and 409 in codes, codes
        if use_if_match:
            assert codes.count(200) == 1  # everyone read the same version: exactly one wins
    versions = [v for (v,) in sql(client, "SELECT version FROM registration.events WHERE stream_id = %s", pid)]
    assert versions == list(range(1, len(versions) + 1))
    [(row_version,)] = sql(client, "SELECT version FROM registration.persons WHERE person_id = %s", pid)
    assert row_version == len(versions)


async def test_the_same_id_numbers_sent_at_once_in_opposite_orders_register_each_person_once(client):
    """Registrations run two batches at once (group commit); batches sharing ID numbers must neither
    deadlock nor register anyone twice, and every refusal names who holds the number."""
    numbers = [id_number(sequence=n) for n in range(1, 41)]
    bodies = [{"id_number": n, "name": "杨秀成", "region_code": VILLAGE} for n in numbers + numbers[::-1]]
    responses = await asyncio.gather(*[client.post("/persons", json=body) for body in bodies])
    created: dict[str, str] = {}
    refused: dict[str, list[str]] = {}
    for body, response in zip(bodies, responses, strict=True):
        if response.status_code == 201:
            assert body["id_number"] not in created, "registered twice"
            created[body["id_number"]] = response.json()["person_id"]
        else:
            assert response.status_code == 409, response.text
            refused.setdefault(body["id_number"], []).append(response.json()["person_id"])
    assert set(created) == set(refused) == set(numbers)
    assert all(holders == [created[number]] for number, holders in refused.items())
    assert sql(client, "SELECT count(*) FROM registration.persons") == [(40,)]
    assert sql(client, "SELECT count(*) FROM registration.events") == [(40,)]


# --- moves, categories, death ----------------------------------------------------------------------------


async def test_a_move_changes_the_region_and_the_scope_that_sees_the_person(client):
    pid = (await register(client))["person_id"]
    response = await client.post(f"/persons/{pid}/moves", json={"region_code": OTHER_VILLAGE})
    assert response.status_code == 200 and response.json()["region_code"] == OTHER_VILLAGE
    [(_, moved)] = [e for e in events_of(client, pid) if e[0] == "PersonMoved"]
    assert (moved["from_region_code"], moved["region_code"]) == (VILLAGE, OTHER_VILLAGE)
    old_township = token("township", "430527100000")
    assert (await client.get(f"/persons/{pid}", headers=old_township)).status_code == 403
    new_township = token("township", "430527101000")
    assert (await client.get(f"/persons/{pid}", headers=new_township)).status_code == 200


async def test_categories_are_replaced_as_a_set(client):
    pid = (await register(client, categories=["rural_surplus_labour"]))["person_id"]
    response = await client.put(f"/persons/{pid}/categories", json={"categories": ["migrant_worker", "laid_off"]})
    assert response.json()["categories"] == ["laid_off", "migrant_worker"]
    [event] = response.json()["events"]
    assert (event["data"]["added"], event["data"]["removed"]) == (
        ["laid_off", "migrant_worker"],
        ["rural_surplus_labour"],
    )
    same = await client.put(f"/persons/{pid}/categories", json={"categories": ["laid_off", "migrant_worker"]})
    assert same.json()["events"] == [] and same.json()["version"] == 2
    bad = await client.put(f"/persons/{pid}/categories", json={"categories": ["astronaut"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("categories")


async def test_death_closes_the_entry(client):
    pid = (await register(client))["person_id"]
    died = await client.post(f"/persons/{pid}/death", json={"died_on": str(TODAY - timedelta(days=3))})
    assert died.status_code == 200 and died.json()["status"] == "deceased"
    again = await client.post(f"/persons/{pid}/employment", json={"kind": "flexible", "started_on": str(TODAY)})
    assert again.status_code == 422 and again.json()["rule"] == "DeceasedIsFinal"


async def test_an_unknown_or_malformed_person_is_404(client):
    for pid in (str(uuid.uuid4()), "not-a-uuid"):
        response = await client.post(f"/persons/{pid}/death", json={"died_on": str(TODAY)})
        assert response.status_code == 404


# --- employment status ---------------------------------------------------------------------------------


async def test_employment_then_unemployment_then_deregistration_then_retirement(client):
    pid = (await register(client))["person_id"]
    employer = await client.post(
        "/employers", json={"credit_code": "91350100M000100Y43", "name": "竹木厂", "region_code": "430527100000"}
    )
    started = TODAY - timedelta(days=40)
    hired = await client.post(
        f"/persons/{pid}/employment",
        json={"kind": "unit", "employer_id": employer.json()["employer_id"], "started_on": str(started)},
    )
    assert hired.status_code == 200, hired.text
    [event] = hired.json()["events"]
    assert event["type"] == "EmploymentRegistered" and event["data"]["reported_late"] is True
    # 30 days, moved past a rest day or holiday (民法典 Art 203).
    assert event["data"]["report_deadline"] == str(WorkdayCalendar.official().add_days(started, 30).due)

    ended = await client.post(
        f"/persons/{pid}/employment/end", json={"ended_on": str(TODAY - timedelta(days=5)), "reason": "dismissed"}
    )
    data = ended.json()["events"][0]["data"]
    assert (data["involuntary"], data["reported_late"], ended.json()["status"]) == (True, False, "not_in_labour_force")

    unemployed = await client.post(f"/persons/{pid}/unemployment", json={})
    assert unemployed.json()["status"] == "registered_unemployed"
    assert unemployed.json()["events"][0]["data"]["involuntary"] is True

    dereg = await client.post(f"/persons/{pid}/unemployment/deregistration", json={"reason": "enlisted"})
    assert dereg.json()["status"] == "not_in_labour_force"
    retired = await client.post(f"/persons/{pid}/retirement", json={})
    assert retired.json()["status"] == "retired" and retired.json()["version"] == 6
    assert [t for t, _ in events_of(client, pid)] == [
        "PersonRegistered",
        "EmploymentRegistered",
        "EmploymentEnded",
        "UnemploymentRegistered",
        "UnemploymentDeregistered",
        "PersonRetired",
    ]


async def test_an_unknown_employer_is_422_naming_the_field(client):
    pid = (await register(client))["person_id"]
    response = await client.post(
        f"/persons/{pid}/employment", json={"kind": "unit", "employer_id": str(uuid.uuid4()), "started_on": str(TODAY)}
    )
    assert response.status_code == 422
    assert (response.json()["rule"], response.json()["field"]) == ("EmployerMustBeRegistered", "employer_id")


# --- history ---------------------------------------------------------------------------------------


async def test_history_lists_who_when_why_and_what(client):
    pid = (await register(client))["person_id"]
    await client.post(
        f"/persons/{pid}/corrections",
        json={"education": "中专", "reason": "学历核实"},
        headers={**token(subject="clerk-7"), "X-Correlation-ID": "visit-42"},
    )
    history = (await client.get(f"/persons/{pid}/history")).json()
    assert [e["type"] for e in history["entries"]] == ["PersonRegistered", "PersonCorrected"]
    entry = history["entries"][1]
    assert (entry["actor"], entry["correlation_id"], entry["reason"], entry["version"]) == (
        "clerk-7",
        "visit-42",
        "学历核实",
        2,
    )
    assert entry["data"]["changes"][0]["new"] == "中专" and entry["recorded_at"] and entry["occurred_at"]
    assert (await client.get(f"/persons/{pid}/history", headers=token("analyst"))).status_code == 403
    assert (await client.get(f"/persons/{pid}/history", headers=token("village", "430527101201"))).status_code == 403
