"""Employers, vacancies, service points and the batch endpoint over real HTTP, Postgres and event store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import psycopg
import pytest

from contracts.identifiers import credit_code_check_character
from tests.integration.registration_client import count, registration_client, token

pytestmark = pytest.mark.integration

TOWNSHIP = "430527100000"
OTHER_TOWNSHIP = "430527101000"
VILLAGE = "430527100201"


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with registration_client(infra) as http:
        yield http


def credit_code(serial: int) -> str:
    body = f"91430527MA{serial:07d}"
    return body + credit_code_check_character(body)


async def employer(client, serial: int = 1, **overrides) -> dict:
    body = {"credit_code": credit_code(serial), "name": f"绥宁县第{serial}竹木加工厂", "region_code": TOWNSHIP}
    response = await client.post("/employers", json={**body, **overrides}, headers=token())
    assert response.status_code == 201, response.text
    return response.json()


def events(client, type_: str) -> list[dict]:
    with psycopg.connect(client.database_url) as conn:
        rows = conn.execute(
            "SELECT data FROM registration.events WHERE type = %s ORDER BY position", (type_,)
        ).fetchall()
    return [row[0] for row in rows]


async def test_a_legacy_credit_code_is_accepted_with_a_warning_in_the_response_and_the_event(client):
    body = "91430527MA0000001"
    wrong = next(c for c in "0123456789" if c != credit_code_check_character(body))
    created = await employer(client, credit_code=body + wrong)
    assert created["credit_code_check_ok"] is False and "legacy" in created["warnings"][0]
    assert events(client, "EmployerRegistered")[0]["credit_code_check_ok"] is False


async def test_industry_must_be_a_gbt_4754_section_letter(client):
    response = await client.post(
        "/employers",
        json={"credit_code": credit_code(2), "name": "某公司", "region_code": TOWNSHIP, "industry": "Z"},
        headers=token(),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "industry"
    assert "A-T" in response.json()["detail"]


async def test_patch_with_if_match_changes_the_employer_and_publishes_each_change(client):
    created = await employer(client, industry="C", size="small")
    url = f"/employers/{created['employer_id']}"
    read = await client.get(url, headers=token())
    assert read.headers["etag"] == '"1"'
    changed = await client.patch(
        url,
        json={"name": "绥宁县竹木制品有限公司", "size": "medium", "region_code": OTHER_TOWNSHIP},
        headers={**token(), "If-Match": read.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert (changed.json()["size"], changed.json()["region_code"], changed.json()["version"]) == (
        "medium",
        OTHER_TOWNSHIP,
        2,
    )
    [event] = events(client, "EmployerChanged")
    assert {c["field"]: (c["old"], c["new"]) for c in event["changes"]} == {
        "name": ("绥宁县第1竹木加工厂", "绥宁县竹木制品有限公司"),
        "size": ("small", "medium"),
        "region_code": (TOWNSHIP, OTHER_TOWNSHIP),
    }
    assert (event["from_region_code"], event["region_code"]) == (TOWNSHIP, OTHER_TOWNSHIP)
    assert count(client.database_url, "SELECT count(*) FROM registration.employers WHERE size = 'medium'") == 1


async def test_a_stale_if_match_is_409_and_a_missing_one_428(client):
    created = await employer(client)
    url = f"/employers/{created['employer_id']}"
    first = await client.patch(url, json={"size": "micro"}, headers={**token(), "If-Match": '"1"'})
    assert first.status_code == 200
    stale = await client.patch(url, json={"size": "large"}, headers={**token(), "If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    missing = await client.patch(url, json={"size": "large"}, headers=token())
    assert missing.status_code == 428 and missing.json()["field"] == "If-Match"
    assert len(events(client, "EmployerChanged")) == 1


async def test_moving_an_employer_outside_the_callers_township_is_403(client):
    created = await employer(client)
    response = await client.patch(
        f"/employers/{created['employer_id']}",
        json={"region_code": OTHER_TOWNSHIP},
        headers={**token("township", TOWNSHIP), "If-Match": "1"},
    )
    assert response.status_code == 403
    assert events(client, "EmployerChanged") == []


async def test_an_unknown_employer_is_404(client):
    response = await client.patch(
        "/employers/6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10", json={"size": "small"}, headers={**token(), "If-Match": "1"}
    )
    assert response.status_code == 404


async def test_vacancy_lifecycle_open_fill_partly_close(client):
    created = await employer(client)
    opened = await client.post(
        "/vacancies",
        json={
            "employer_id": created["employer_id"],
            "occupation": "操作工",
            "positions": 5,
            "wage_min_fen": 300_000,
            "wage_max_fen": 450_000,
            "requirements": "初中以上",
        },
        headers=token(),
    )
    assert opened.status_code == 201, opened.text
    vacancy = opened.json()
    assert (vacancy["status"], vacancy["remaining"], vacancy["region_code"]) == ("open", 5, TOWNSHIP)
    url = f"/vacancies/{vacancy['vacancy_id']}"
    filled = await client.post(f"{url}/fills", json={"count": 2}, headers=token())
    assert filled.status_code == 200 and filled.json()["remaining"] == 3
    too_many = await client.post(f"{url}/fills", json={"count": 4}, headers=token())
    assert too_many.status_code == 422
    assert (too_many.json()["rule"], too_many.json()["field"], too_many.json()["remaining"]) == (
        "FillCannotExceedRemainingPositions",
        "count",
        3,
    )
    closed = await client.post(f"{url}/closure", json={"reason": "停招"}, headers=token())
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["withdrawn"]) == ("closed", 3)
    listed = await client.get("/vacancies", params={"region": "430527", "status": "closed"}, headers=token())
    assert [v["vacancy_id"] for v in listed.json()["vacancies"]] == [vacancy["vacancy_id"]]
    assert [e["filled"] for e in events(client, "VacancyFilled")] == [2]
    assert events(client, "VacancyClosed")[0]["withdrawn"] == 3


async def test_a_fill_naming_a_person_not_in_the_ledger_is_refused(client):
    created = await employer(client)
    vacancy = (
        await client.post(
            "/vacancies",
            json={
                "employer_id": created["employer_id"],
                "occupation": "司机",
                "positions": 1,
                "wage_min_fen": 1,
                "wage_max_fen": 2,
            },
            headers=token(),
        )
    ).json()
    response = await client.post(
        f"/vacancies/{vacancy['vacancy_id']}/fills",
        json={"person_id": "0d6f3c1a-8e2b-4f7a-9c5d-1b2a3c4d5e6f"},
        headers=token(),
    )
    assert response.status_code == 422 and response.json()["rule"] == "PersonMustBeInLedger"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"wage_min_fen": 500_000}, "wage_min_fen"),
        ({"wage_min_fen": 3000.5}, "wage_min_fen"),
        ({"positions": 0}, "positions"),
        ({"employer_id": "6f1c2a9e-4b7d-4c1e-9a53-2d0b8e7f6a10"}, "employer_id"),
    ],
)
async def test_a_bad_vacancy_is_422_naming_the_field_and_writes_nothing(client, overrides, field):
    created = await employer(client)
    body = {
        "employer_id": created["employer_id"],
        "occupation": "普工",
        "positions": 2,
        "wage_min_fen": 200_000,
        "wage_max_fen": 300_000,
    }
    response = await client.post("/vacancies", json={**body, **overrides}, headers=token())
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
    assert count(client.database_url, "SELECT count(*) FROM registration.vacancies") == 0


async def test_deregistration_waits_for_open_vacancies_then_stops_changes(client):
    created = await employer(client)
    vacancy = (
        await client.post(
            "/vacancies",
            json={
                "employer_id": created["employer_id"],
                "occupation": "保安",
                "positions": 1,
                "wage_min_fen": 1,
                "wage_max_fen": 1,
            },
            headers=token(),
        )
    ).json()
    url = f"/employers/{created['employer_id']}/deregistration"
    today = date.today().isoformat()
    refused = await client.post(url, json={"deregistered_on": today, "reason": "歇业"}, headers=token())
    assert refused.status_code == 422 and refused.json()["rule"] == "CloseVacanciesBeforeDeregistration"
    await client.post(f"/vacancies/{vacancy['vacancy_id']}/closure", json={}, headers=token())
    future = (date.today() + timedelta(days=3)).isoformat()
    early = await client.post(url, json={"deregistered_on": future, "reason": "歇业"}, headers=token())
    assert early.status_code == 422 and early.json()["rule"] == "DeregistrationNotInFuture"
    done = await client.post(url, json={"deregistered_on": today, "reason": "歇业"}, headers=token())
    assert done.status_code == 200 and done.json()["deregistered_on"] == today
    change = await client.patch(
        f"/employers/{created['employer_id']}", json={"size": "small"}, headers={**token(), "If-Match": "*"}
    )
    assert change.status_code == 422 and change.json()["rule"] == "DeregisteredEmployerCannotChange"


SERVICE_POINT = {
    "level": "township",
    "region_code": OTHER_TOWNSHIP,
    "name": "武阳镇人力资源和社会保障所",
    "staff": 4,
    "floor_area_m2": 160,
    "has_archive_room": True,
    "equipment": ["电脑", "打印机"],
    "population_served": 28_000,
}


async def test_a_service_point_publishes_its_compliance_and_is_reassessed_on_update(client):
    created = await client.post("/service-points", json=SERVICE_POINT, headers=token())
    assert created.status_code == 201, created.text
    point = created.json()
    assert point["compliance"]["staff_required"] == 5 and not point["compliance"]["compliant"]
    assert point["compliance"]["reasons"] == ["4 staff for 28,000 people served; the standard asks for 5"]
    assert events(client, "ServicePointEstablished")[0]["compliance"]["staffing_ok"] is False
    updated = await client.patch(
        f"/service-points/{point['service_point_id']}", json={"staff": 5}, headers={**token(), "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["compliance"]["compliant"] and updated.headers["etag"] == '"2"'
    assert events(client, "ServicePointUpdated")[0]["compliance"]["compliant"] is True
    village = await client.post(
        "/service-points",
        json={
            **SERVICE_POINT,
            "level": "village",
            "region_code": VILLAGE,
            "staff": 1,
            "floor_area_m2": 30,
            "population_served": 900,
        },
        headers=token(),
    )
    assert village.status_code == 201
    listed = await client.get("/service-points", params={"region": "430527"}, headers=token())
    assert (listed.json()["count"], listed.json()["compliant"]) == (2, 1)
    failing = await client.get("/service-points", params={"region": "430527", "compliant": "false"}, headers=token())
    assert [p["region_code"] for p in failing.json()["service_points"]] == [VILLAGE]
    township_only = await client.get("/service-points", params={"region": OTHER_TOWNSHIP}, headers=token())
    assert township_only.json()["count"] == 1


async def test_a_service_point_in_a_region_of_the_wrong_level_or_twice_in_one_region_is_refused(client):
    wrong = await client.post("/service-points", json={**SERVICE_POINT, "level": "village"}, headers=token())
    assert wrong.status_code == 422 and wrong.json()["rule"] == "ServicePointRegionMatchesLevel"
    first = await client.post("/service-points", json=SERVICE_POINT, headers=token())
    second = await client.post("/service-points", json=SERVICE_POINT, headers=token())
    assert second.status_code == 409 and second.json()["service_point_id"] == first.json()["service_point_id"]
    assert len(events(client, "ServicePointEstablished")) == 1


async def test_the_batch_endpoint_answers_every_item_and_registers_the_good_ones(client):
    good = {"id_number": "11010519491231002X", "name": "王芳", "region_code": VILLAGE}
    items = [
        good,
        {"id_number": "110105194912310021", "name": "错号", "region_code": VILLAGE},
        {**good, "name": "同号"},
        {"id_number": "440524188001010014", "name": "乡镇", "region_code": TOWNSHIP},
        {"id_number": "34052419800101001X", "name": "李四", "region_code": "430527100202", "phone": "13800000000"},
    ]
    response = await client.post("/persons/batch", json={"items": items}, headers=token())
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["already_registered"], result["rejected"]) == (2, 1, 2)
    statuses = [r["status"] for r in result["results"]]
    assert statuses == [201, 422, 409, 422, 201]
    assert result["results"][1]["problem"]["field"] == "id_number"
    assert result["results"][2]["problem"]["person_id"] == result["results"][0]["person"]["person_id"]
    assert result["results"][3]["problem"]["rule"] == "PersonLivesInVillageOrCommunity"
    assert count(client.database_url, "SELECT count(*) FROM registration.persons") == 2
    assert len(events(client, "PersonRegistered")) == 2
    again = (await client.post("/persons/batch", json={"items": items[:1]}, headers=token())).json()
    assert again["results"][0]["status"] == 409


async def test_the_batch_endpoint_takes_at_most_1000_items(client):
    items = [{"id_number": "11010519491231002X", "name": "王芳", "region_code": VILLAGE}] * 1001
    response = await client.post("/persons/batch", json={"items": items}, headers=token())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "items"
