"""Entries dated in the past (registered_on, established_on) and many persons' changes in one request
(POST /persons/changes/batch), through the registration API on real Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import psycopg
import pytest

from contracts.identifiers import citizen_id_check_character
from tests.integration.registration_client import registration_client as fresh_registration
from tests.integration.registration_client import token

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"
OTHER_VILLAGE = "430527101201"
TODAY = date.today()
LAST_YEAR = TODAY - timedelta(days=365)


def id_number(birth: date = date(1990, 3, 7), sequence: int = 1) -> str:
    body = f"430527{birth:%Y%m%d}{sequence:03d}"
    return body + citizen_id_check_character(body)


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with fresh_registration(infra, headers=token()) as http:
        yield http


def events(client, stream_id: str) -> list[tuple[str, dict]]:
    with psycopg.connect(client.database_url) as conn:
        rows = conn.execute(
            "SELECT type, data FROM registration.events WHERE stream_id = %s ORDER BY version", (stream_id,)
        ).fetchall()
    return [(t, d) for t, d in rows]


async def person(client, sequence: int = 1, **body) -> str:
    response = await client.post(
        "/persons",
        json={"id_number": id_number(sequence=sequence), "name": "杨秀成", "region_code": VILLAGE, **body},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


async def test_a_person_entered_on_a_past_day_carries_it_and_a_future_day_is_refused(client):
    entered = await person(client, registered_on=f"{LAST_YEAR}")
    [(kind, data)] = events(client, entered)
    assert kind == "PersonRegistered" and data["registered_on"] == f"{LAST_YEAR}"
    today = await person(client, sequence=3)
    assert events(client, today)[0][1]["registered_on"] is None

    future = await client.post(
        "/persons",
        json={
            "id_number": id_number(sequence=5),
            "name": "李桂英",
            "region_code": VILLAGE,
            "registered_on": f"{TODAY + timedelta(days=1)}",
        },
    )
    assert future.status_code == 422
    assert (future.json()["field"], future.json()["rule"]) == ("registered_on", "RegistrationNotInFuture")
    # Sixteen today but not on the day given: the ledger held no one under 16 then.
    sixteen = TODAY.replace(year=TODAY.year - 16) - timedelta(days=10)
    young = await client.post(
        "/persons",
        json={
            "id_number": id_number(sixteen, 7),
            "name": "李桂英",
            "region_code": VILLAGE,
            "registered_on": f"{LAST_YEAR}",
        },
    )
    assert young.status_code == 422 and young.json()["field"] == "registered_on"
    batch = await client.post(
        "/persons/batch",
        json={
            "items": [
                {
                    "id_number": id_number(sequence=9),
                    "name": "王芳",
                    "region_code": VILLAGE,
                    "registered_on": f"{TODAY + timedelta(days=3)}",
                }
            ]
        },
    )
    assert batch.json()["results"][0]["problem"]["field"] == "registered_on"


async def test_employers_and_service_points_take_their_past_day_and_refuse_a_future_one(client):
    employer = {"credit_code": "91350100M000100Y43", "name": "绥宁县竹木加工厂", "region_code": "430527100000"}
    late = await client.post("/employers", json={**employer, "registered_on": f"{TODAY + timedelta(days=1)}"})
    assert late.status_code == 422 and late.json()["field"] == "registered_on"
    made = await client.post("/employers", json={**employer, "registered_on": "2020-05-01"})
    assert made.status_code == 201, made.text
    assert events(client, made.json()["employer_id"])[0][1]["registered_on"] == "2020-05-01"

    point = {
        "level": "village",
        "region_code": VILLAGE,
        "name": "服务站",
        "staff": 1,
        "floor_area_m2": 60,
        "has_archive_room": True,
        "population_served": 900,
    }
    future = await client.post("/service-points", json={**point, "established_on": f"{TODAY + timedelta(days=2)}"})
    assert future.status_code == 422 and future.json()["field"] == "established_on"
    built = await client.post("/service-points", json={**point, "established_on": "2019-09-01"})
    assert built.status_code == 201, built.text
    assert events(client, built.json()["service_point_id"])[0][1]["established_on"] == "2019-09-01"


async def test_a_batch_applies_each_persons_changes_in_order_and_refuses_an_item_whole(client):
    first, second = await person(client, 1), await person(client, 3)
    start = TODAY - timedelta(days=200)
    quarter = f"{start.year}Q{(start.month - 1) // 3 + 1}"
    good = {
        "person_id": first,
        "expected_version": 1,
        "changes": [
            {"action": "employment", "kind": "flexible", "started_on": f"{start}", "reported_on": f"{start}"},
            {"action": "surveys", "quarter": quarter, "status": "employed", "surveyed_on": f"{start}"},
            {
                "action": "employment/end",
                "ended_on": f"{start + timedelta(days=60)}",
                "reason": "dismissed",
                "reported_on": f"{start + timedelta(days=61)}",
            },
            {"action": "unemployment", "registered_on": f"{start + timedelta(days=62)}"},
            {"action": "moves", "region_code": OTHER_VILLAGE, "moved_on": f"{start + timedelta(days=70)}"},
        ],
    }
    # The end of employment comes before the start: the whole item is refused, nothing of it written.
    bad = {
        "person_id": second,
        "changes": [
            {"action": "employment", "kind": "unit", "started_on": f"{start}"},
            {"action": "employment/end", "ended_on": f"{start - timedelta(days=5)}", "reason": "resigned"},
        ],
    }
    missing = {
        "person_id": "00000000-0000-4000-8000-000000000000",
        "changes": [{"action": "death", "died_on": f"{TODAY}"}],
    }
    unknown = {"person_id": second, "changes": [{"action": "promotion"}]}
    response = await client.post("/persons/changes/batch", json={"items": [good, bad, missing, unknown]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["changed"], body["conflicts"], body["rejected"]) == (1, 0, 3)
    ok, refused, not_found, no_action = body["results"]
    assert (ok["status"], ok["version"], ok["employment_status"], ok["changes"]) == (200, 6, "registered_unemployed", 5)
    assert [t for t, _ in events(client, first)] == [
        "PersonRegistered",
        "EmploymentRegistered",
        "StatusSurveyed",
        "EmploymentEnded",
        "UnemploymentRegistered",
        "PersonMoved",
    ]
    assert events(client, first)[4][1]["involuntary"] is True
    assert (refused["status"], refused["problem"]["field"]) == (422, "changes.1.ended_on")
    assert [t for t, _ in events(client, second)] == ["PersonRegistered"]
    assert not_found["status"] == 404
    assert (no_action["status"], no_action["problem"]["field"]) == (422, "changes.0.action")

    person_row = (await client.get(f"/persons/{first}")).json()
    assert (person_row["status"], person_row["region_code"], person_row["version"]) == (
        "registered_unemployed",
        OTHER_VILLAGE,
        6,
    )
    pending = await client.get(f"/regions/{VILLAGE}/survey-pending", params={"quarter": quarter})
    assert first not in {p["person_id"] for p in pending.json()["persons"]}

    # Sent again, the same item meets its own version: 409, and nothing is written twice.
    again = (await client.post("/persons/changes/batch", json={"items": [good]})).json()
    assert (again["conflicts"], again["results"][0]["status"]) == (1, 409)
    assert len(events(client, first)) == 6


async def test_a_batch_stays_inside_the_callers_region(infra):
    async with fresh_registration(infra, headers=token()) as county:
        someone = await person(county)
        item = {"person_id": someone, "changes": [{"action": "death", "died_on": f"{TODAY}"}]}
        other = token(role="township", region="430527101000")
        response = await county.post("/persons/changes/batch", json={"items": [item]}, headers=other)
        assert response.json()["results"][0]["status"] == 403
        analyst = token(role="analyst", region="430527")
        response = await county.post("/persons/changes/batch", json={"items": [item]}, headers=analyst)
        assert response.status_code == 403  # an analyst changes no one: the whole request is refused
        assert [t for t, _ in events(county, someone)] == ["PersonRegistered"]
