"""The staff roster over real HTTP, Postgres and event store: appointments, leaving, the rules that refuse,
and the service point's staffing counted from the roster (issue 19)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import psycopg
import pytest

from tests.integration.registration_client import count, registration_client, token

pytestmark = pytest.mark.integration

TOWNSHIP, VILLAGE = "430527100000", "430527100201"
COUNTY = token("county", "430527", "c-zhou")


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with registration_client(infra) as http:
        yield http


async def point(client: httpx.AsyncClient, level: str, region: str, staff: int = 0) -> dict:
    body = {
        "level": level,
        "region_code": region,
        "name": f"{region} 服务站",
        "staff": staff,
        "floor_area_m2": 200,
        "has_archive_room": True,
        "population_served": 1_700,
    }
    response = await client.post("/service-points", json=body, headers=COUNTY)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def appoint(client: httpx.AsyncClient, subject: str, role: str, service_point_id: str, **extra) -> httpx.Response:
    body = {"subject": subject, "role": role, "service_point_id": service_point_id, **extra}
    return await client.post("/staff", json=body, headers=COUNTY)


def staff_events(client: httpx.AsyncClient) -> list[tuple[str, dict]]:
    with psycopg.connect(client.database_url) as conn:
        rows = conn.execute(
            "SELECT type, data FROM registration.events WHERE stream_type IN ('staff', 'service_point')"
            " ORDER BY position"
        ).fetchall()
    return [(str(r[0]), dict(r[1])) for r in rows]


async def test_appointing_and_leaving_re_staff_the_point_from_the_roster(client):
    village = await point(client, "village", VILLAGE, staff=5)  # 1,700 people: the standard asks for 3
    first = await appoint(client, "b-yang", "broker", village["service_point_id"], started_on="2026-01-05")
    assert first.status_code == 201, first.text
    assert first.json()["region_code"] == VILLAGE and first.headers["etag"] == '"1"'
    second = await appoint(client, "c-long", "coordinator", village["service_point_id"])
    assert second.status_code == 201, second.text
    now = (await client.get(f"/service-points/{village['service_point_id']}", headers=COUNTY)).json()
    assert now["staff"] == 2 and not now["compliance"]["staffing_ok"], now  # counted, not the 5 typed in
    left = await client.post(
        f"/staff/{first.json()['staff_id']}/leave",
        json={"ended_on": "2026-11-30", "reason": "bottom_ranked"},
        headers={**COUNTY, "If-Match": '"1"'},
    )
    assert left.status_code == 200, left.text
    assert left.json()["ended_on"] == "2026-11-30"
    now = (await client.get(f"/service-points/{village['service_point_id']}", headers=COUNTY)).json()
    assert now["staff"] == 1
    types = [t for t, _ in staff_events(client)]
    assert types == [
        "ServicePointEstablished",
        "StaffAppointed",
        "ServicePointUpdated",
        "StaffAppointed",
        "ServicePointUpdated",
        "StaffLeft",
        "ServicePointUpdated",
    ]
    # The roster of the region, and of one day
    roster = (await client.get(f"/staff?region={TOWNSHIP}", headers=COUNTY)).json()
    assert [s["subject"] for s in roster["staff"]] == ["b-yang", "c-long"]
    today = (await client.get(f"/staff?region={TOWNSHIP}&in_post_on={date.today()}", headers=COUNTY)).json()
    assert [s["subject"] for s in today["staff"]] == ["c-long"]
    # A subject may take a new post once they left the last one
    again = await appoint(client, "b-yang", "broker", village["service_point_id"])
    assert again.status_code == 201, again.text


async def test_a_typed_staff_count_is_refused_once_the_point_has_a_roster(client):
    village = await point(client, "village", VILLAGE)
    assert (await appoint(client, "b-yang", "broker", village["service_point_id"])).status_code == 201
    current = await client.get(f"/service-points/{village['service_point_id']}", headers=COUNTY)
    typed = await client.patch(
        f"/service-points/{village['service_point_id']}",
        json={"staff": 4},
        headers={**COUNTY, "If-Match": current.headers["etag"]},
    )
    assert typed.status_code == 422 and typed.json()["rule"] == "StaffFromRoster", typed.text
    assert typed.json()["field"] == "staff"
    area = await client.patch(
        f"/service-points/{village['service_point_id']}",
        json={"floor_area_m2": 80},
        headers={**COUNTY, "If-Match": current.headers["etag"]},
    )
    assert area.status_code == 200 and area.json()["staff"] == 1


async def test_bad_appointments_are_refused_naming_the_field_and_write_nothing(client):
    village = await point(client, "village", VILLAGE)
    township = await point(client, "township", TOWNSHIP)
    before = count(client.database_url, "SELECT count(*) FROM registration.events")
    cases = [
        ({"role": "guidance_officer", "service_point_id": village["service_point_id"]}, 422, "role"),
        ({"role": "broker", "service_point_id": township["service_point_id"]}, 422, "role"),
        (
            {
                "role": "broker",
                "service_point_id": village["service_point_id"],
                "started_on": str(date.today() + timedelta(days=1)),
            },
            422,
            "started_on",
        ),
        ({"role": "chief", "service_point_id": village["service_point_id"]}, 422, "role"),
        ({"role": "broker", "service_point_id": "not-a-point"}, 404, "service_point_id"),
    ]
    for extra, status, field in cases:
        response = await client.post("/staff", json={"subject": "x-1", **extra}, headers=COUNTY)
        assert response.status_code == status, (extra, response.text)
        assert field in response.text, response.text
    spaced = await client.post(
        "/staff",
        json={"subject": "two words", "role": "broker", "service_point_id": village["service_point_id"]},
        headers=COUNTY,
    )
    assert spaced.status_code == 422 and "subject" in spaced.text
    township_clerk = token("township", TOWNSHIP, "t-li")
    forbidden = await client.post(
        "/staff",
        json={"subject": "x-2", "role": "broker", "service_point_id": village["service_point_id"]},
        headers=township_clerk,
    )
    assert forbidden.status_code == 403
    assert count(client.database_url, "SELECT count(*) FROM registration.events") == before
    assert count(client.database_url, "SELECT count(*) FROM registration.staff") == 0


async def test_one_post_per_subject_and_leaving_once(client):
    village = await point(client, "village", VILLAGE)
    first = await appoint(client, "b-yang", "broker", village["service_point_id"])
    taken = await appoint(client, "b-yang", "clerk", village["service_point_id"])
    assert taken.status_code == 409 and taken.json()["staff_id"] == first.json()["staff_id"], taken.text
    staff_id = first.json()["staff_id"]
    early = await client.post(
        f"/staff/{staff_id}/leave",
        json={"ended_on": "2000-01-01", "reason": "resigned"},
        headers={**COUNTY, "If-Match": '"1"'},
    )
    assert early.status_code == 422 and early.json()["rule"] == "LeaveAfterStart"
    done = await client.post(
        f"/staff/{staff_id}/leave", json={"reason": "resigned"}, headers={**COUNTY, "If-Match": '"1"'}
    )
    assert done.status_code == 200
    twice = await client.post(
        f"/staff/{staff_id}/leave", json={"reason": "resigned"}, headers={**COUNTY, "If-Match": '"2"'}
    )
    assert twice.status_code == 422 and twice.json()["rule"] == "StaffInPost"
    stale = await client.post(
        f"/staff/{staff_id}/leave", json={"reason": "resigned"}, headers={**COUNTY, "If-Match": '"1"'}
    )
    assert stale.status_code == 409


async def test_analysts_read_no_roster(client):
    analyst = token("analyst", "430527", "a-chen")
    assert (await client.get(f"/staff?region={TOWNSHIP}", headers=analyst)).status_code == 403
