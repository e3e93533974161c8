"""``POST /employers/batch``, ``/service-points/batch``, ``/vacancies/batch`` and ``/vacancies/changes/batch`` over
real HTTP and Postgres: each item answered as its single route answers it, a refused item rolled back alone,
the accepted ones committed together."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.registration_client import count, token
from tests.integration.test_registration_employers import (
    OTHER_TOWNSHIP,
    SERVICE_POINT,
    TOWNSHIP,
    client,
    credit_code,
    employer,
    events,
)
from tests.integration.test_registration_persons import id_number

pytestmark = pytest.mark.integration

__all__ = ["client"]
TODAY = date.today()


async def _batch(client, path: str, items: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    response = await client.post(path, json={"items": items}, headers={**token(), **headers})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _employer(serial: int, **overrides: Any) -> dict[str, Any]:
    return {
        "credit_code": credit_code(serial),
        "name": f"绥宁县第{serial}竹木加工厂",
        "region_code": TOWNSHIP,
        **overrides,
    }


async def test_employers_are_registered_as_the_single_route_does_and_a_refused_one_writes_nothing(client):
    existing = await employer(client, 1)
    past = str(TODAY - timedelta(days=500))
    body = await _batch(
        client,
        "/employers/batch",
        [
            _employer(2, registered_on=past),
            _employer(1),  # already registered: 409 naming who holds the code
            _employer(3, industry="Z"),
            _employer(4, registered_on=str(TODAY + timedelta(days=1))),
            {"name": "无代码"},
            _employer(5),
            _employer(5),  # the same code twice in one batch: the second is 409
        ],
    )
    assert [r["status"] for r in body["results"]] == [201, 409, 422, 422, 422, 201, 409]
    assert (body["accepted"], body["conflicts"], body["rejected"]) == (2, 2, 3)
    assert events(client, "EmployerRegistered")[1]["registered_on"] == past
    assert body["results"][1]["problem"]["employer_id"] == existing["employer_id"]
    assert body["results"][6]["problem"]["employer_id"] == body["results"][5]["answer"]["employer_id"]
    assert [body["results"][n]["problem"]["field"] for n in (2, 3)] == ["industry", "registered_on"]
    assert body["results"][3]["problem"]["rule"] == "RegistrationNotInFuture"
    assert {e["field"] for e in body["results"][4]["problem"]["errors"]} >= {"credit_code", "region_code"}
    assert len(events(client, "EmployerRegistered")) == 3
    assert count(client.database_url, "SELECT count(*) FROM registration.employers") == 3
    outside = await _batch(
        client, "/employers/batch", [_employer(6, region_code=OTHER_TOWNSHIP)], **token("township", TOWNSHIP)
    )
    assert outside["results"][0]["status"] == 403
    analyst = await client.post("/employers/batch", json={"items": [_employer(7)]}, headers=token("analyst"))
    assert analyst.status_code == 403
    assert count(client.database_url, "SELECT count(*) FROM registration.employers") == 3


async def test_service_points_are_recorded_and_assessed_with_their_past_day(client):
    village = {**SERVICE_POINT, "level": "village", "region_code": "430527100201", "name": "长铺子村服务站"}
    body = await _batch(
        client,
        "/service-points/batch",
        [
            {**SERVICE_POINT, "established_on": "2023-05-01"},
            SERVICE_POINT,  # a second point of the same township: refused as the single route refuses it
            {**village, "level": "township"},
            village,
        ],
    )
    statuses = [r["status"] for r in body["results"]]
    assert statuses[0] == 201 and statuses[3] == 201 and statuses[1] in (409, 422) and statuses[2] == 422
    assert events(client, "ServicePointEstablished")[0]["established_on"] == "2023-05-01"
    assert body["results"][2]["problem"]["field"] == "region_code"
    assert len(events(client, "ServicePointEstablished")) == 2
    single = await client.post("/service-points", json=SERVICE_POINT, headers=token())
    assert (single.status_code, single.json().get("rule")) == (
        body["results"][1]["status"],
        body["results"][1]["problem"].get("rule"),
    )


async def _vacancy(employer_id: str, positions: int = 3, **overrides: Any) -> dict[str, Any]:
    return {
        "employer_id": employer_id,
        "occupation": "操作工",
        "positions": positions,
        "wage_min_fen": 300_000,
        "wage_max_fen": 450_000,
        **overrides,
    }


async def test_vacancies_open_fill_and_close_in_batches_each_vacancy_all_or_nothing(client):
    owner = (await employer(client, 1))["employer_id"]
    person = (
        await client.post(
            "/persons",
            json={"id_number": id_number(), "name": "杨秀成", "region_code": "430527100201"},
            headers=token(),
        )
    ).json()["person_id"]
    opened = await _batch(
        client,
        "/vacancies/batch",
        [
            await _vacancy(owner, opened_on=str(TODAY - timedelta(days=90))),
            await _vacancy(owner, 2),
            await _vacancy(str(uuid.uuid4())),
            await _vacancy(owner, wage_min_fen=500_000),
        ],
    )
    assert [r["status"] for r in opened["results"]] == [201, 201, 422, 422]
    assert opened["results"][2]["problem"]["field"] == "employer_id"
    first, second = (r["answer"]["vacancy_id"] for r in opened["results"][:2])
    day = str(TODAY - timedelta(days=30))
    changed = await _batch(
        client,
        "/vacancies/changes/batch",
        [
            {
                "vacancy_id": first,
                "changes": [
                    {"action": "fills", "count": 1, "person_id": person, "filled_on": day},
                    {"action": "closure", "closed_on": day},
                ],
            },
            # the third fill asks more than remains: the whole item is refused, its first fill too
            {
                "vacancy_id": second,
                "changes": [{"action": "fills", "count": 1}, {"action": "fills", "count": 2}],
            },
            {"vacancy_id": second, "changes": [{"action": "hire", "count": 1}]},
            {"vacancy_id": second, "changes": [{"action": "fills", "count": 0}]},
            {"vacancy_id": str(uuid.uuid4()), "changes": [{"action": "closure"}]},
        ],
    )
    assert [r["status"] for r in changed["results"]] == [200, 422, 422, 422, 404]
    after = changed["results"][0]["answer"]
    assert (after["filled"], after["withdrawn"], after["status"]) == (1, 2, "closed")
    fields = [r["problem"]["field"] for r in changed["results"][1:4]]
    assert fields == ["changes.1.count", "changes.0.action", "changes.0.count"]
    assert changed["results"][2]["problem"]["rule"] == "KnownAction"
    assert len(events(client, "VacancyFilled")) == 1 and len(events(client, "VacancyClosed")) == 1
    untouched = await client.get(f"/vacancies/{second}", headers=token())
    assert untouched.json()["filled"] == 0 and untouched.json()["version"] == 1
