"""Complaints over real HTTP and Postgres: receipt with the complainant encrypted, completion pausing the
clock, acceptance opening a case in the same statement, refusal, roles and bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from services.runtime.workdays import WorkdayCalendar
from tests.integration.supervision_client import (
    VILLAGE,
    complaint_body,
    employer,
    events,
    rows,
    supervision_client,
    token,
)

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 3)


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with supervision_client(infra, today=TODAY) as http:
        yield http


async def file(client, role: str = "village", region: str = VILLAGE, **overrides) -> dict:
    response = await client.post("/complaints", json=complaint_body(**overrides), headers=token(role, region))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_village_station_files_on_a_residents_behalf_and_the_identity_stays_encrypted(client):
    filed = await file(client)
    assert filed["status"] == "received" and filed["complainant"] is None
    behind = -WorkdayCalendar.official().workdays_between(date(2026, 7, 8), TODAY)
    assert filed["decision"] == {
        "due": "2026-07-08", "provisional": False, "overdue": True, "workdays_left": behind, "met": None
    }  # fmt: skip
    [(kind, data)] = events(client.database_url, filed["complaint_id"])
    assert kind == "ComplaintFiled" and data["on_behalf"] is True
    assert "杨秀成" not in str(data) and "430527199003070011" not in str(data) and "13800000001" not in str(data)
    [(name_cipher,)] = rows(client.database_url, "SELECT name_cipher FROM complainants")
    assert "杨秀成".encode() not in bytes(name_cipher)
    # The inspector handling it sees who complained, the ID number masked.
    read = await client.get(f"/complaints/{filed['complaint_id']}", headers=token())
    assert read.headers["etag"] == '"1"'
    assert read.json()["complainant"] == {"name": "杨秀成", "id_number": "430527********0011", "phone": "13800000001"}
    # An analyst never sees a complaint.
    assert (await client.get(f"/complaints/{filed['complaint_id']}", headers=token("analyst"))).status_code == 403


async def test_acceptance_opens_the_case_in_the_same_statement(client):
    filed = await file(client)
    accepted = await client.post(
        f"/complaints/{filed['complaint_id']}/acceptance",
        json={"accepted_on": "2026-07-03"},
        headers={**token(), "If-Match": '"1"'},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers["etag"] == '"2"'
    body = accepted.json()
    assert body["status"] == "accepted" and body["decision"]["met"] is True
    case = (await client.get(f"/cases/{body['case_id']}", headers=token())).json()
    assert case["source"] == "complaint" and case["complaint_id"] == filed["complaint_id"]
    assert case["investigation"]["due"] == "2026-09-24" and case["investigation"]["overdue"] is True
    [(position_a, position_b)] = rows(
        client.database_url,
        "SELECT min(position), max(position) FROM events WHERE type IN ('ComplaintAccepted', 'InspectionCaseOpened')",
    )
    assert position_b == position_a + 1


async def test_a_village_cannot_decide_and_a_stale_version_is_409(client):
    filed = await file(client)
    url = f"/complaints/{filed['complaint_id']}/acceptance"
    assert (await client.post(url, json={}, headers=token("village", VILLAGE))).status_code == 403
    stale = await client.post(url, json={}, headers={**token(), "If-Match": '"7"'})
    assert stale.status_code == 409
    assert [kind for kind, _ in events(client.database_url)] == ["ComplaintFiled"]


async def test_completion_pauses_the_clock_and_acceptance_waits_for_it(client):
    filed = await file(client, received_on="2026-09-28")
    url = f"/complaints/{filed['complaint_id']}"
    paused = await client.post(
        url + "/completion-request", json={"missing": ["工资条"], "requested_on": "2026-09-30"}, headers=token()
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["decision"] is None and paused.json()["workdays_left_when_paused"] == 3
    refused = await client.post(url + "/acceptance", json={"accepted_on": "2026-10-09"}, headers=token())
    assert refused.status_code == 422
    assert (refused.json()["rule"], refused.json()["field"]) == ("MaterialCompleteBeforeDecision", "status")
    resumed = await client.post(
        url + "/completion", json={"completed_on": "2026-10-12"}, headers=token("village", VILLAGE)
    )
    assert resumed.json()["decision"]["due"] == "2026-10-15"
    [(limit, due)] = rows(client.database_url, "SELECT limit_name, due_on FROM deadlines")
    assert (limit, due) == ("decision", date(2026, 10, 15))


async def test_an_old_violation_is_refused_in_writing_not_accepted(client):
    filed = await file(client, violation_from="2023-01-01", violation_until="2024-06-30", received_on="2026-07-01")
    url = f"/complaints/{filed['complaint_id']}"
    accepted = await client.post(url + "/acceptance", json={"accepted_on": "2026-07-02"}, headers=token())
    assert (accepted.status_code, accepted.json()["rule"]) == (422, "ViolationWithinTwoYears")
    refused = await client.post(
        url + "/refusal",
        json={"reason": "older_than_two_years", "explanation": "违法行为已超过两年", "refused_on": "2026-07-02"},
        headers=token(),
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"


async def test_an_employer_in_another_county_is_refused_as_outside_jurisdiction(client):
    filed = await file(client, employer=employer(9, region_code="330503100000"))
    url = f"/complaints/{filed['complaint_id']}"
    accepted = await client.post(url + "/acceptance", json={}, headers=token())
    assert (accepted.status_code, accepted.json()["rule"]) == (422, "ComplaintWithinJurisdiction")


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"complaint_type": "other"}, "scope", "ComplaintWithinInspectionScope"),
        ({"violation_from": "2026-08-01"}, "violation_from", "ViolationBeforeComplaint"),
        ({"received_on": "2026-12-04"}, "received_on", "StepNotInTheFuture"),
        ({"employer": {"credit_code": "91430527MA0000001X", "name": "x", "region_code": "430527100000"}},
         "employer.credit_code", "CreditCodeValid"),
        ({"employer": {"name": "无代码"}}, "employer.credit_code", "ComplaintNamesAClearEmployer"),
        ({"employer": {"employer_id": "00000000-0000-4000-8000-000000000000"}}, "employer_id", "EmployerKnown"),
        ({"complainant": {"name": "杨秀成", "id_number": "430527199003070012"}}, "complainant.id_number",
         "CitizenIdValid"),
    ],
)  # fmt: skip
async def test_bad_input_names_field_and_rule_and_writes_nothing(client, overrides, field, rule):
    response = await client.post("/complaints", json=complaint_body(**overrides), headers=token("village", VILLAGE))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["field"], response.json()["rule"]) == (field, rule)
    assert events(client.database_url) == []
    assert rows(client.database_url, "SELECT count(*) FROM complainants") == [(0,)]


async def test_a_complaint_outside_the_callers_region_is_403(client):
    response = await client.post(
        "/complaints", json=complaint_body(region_code="430527101201"), headers=token("village", VILLAGE)
    )
    assert response.status_code == 403


async def test_the_complaint_list_flags_undecided_ones_past_five_working_days(client):
    late = await file(client, received_on="2026-07-01")
    recent = await file(client, received_on="2026-12-02", employer=employer(2))
    listed = (await client.get("/complaints?region=430527100000", headers=token())).json()["complaints"]
    assert [c["complaint_id"] for c in listed] == [late["complaint_id"], recent["complaint_id"]]
    overdue = (await client.get("/complaints?overdue=true", headers=token())).json()["complaints"]
    assert [c["complaint_id"] for c in overdue] == [late["complaint_id"]] and overdue[0]["decision"]["overdue"]
    assert (await client.get("/complaints", headers=token("analyst"))).status_code == 403
