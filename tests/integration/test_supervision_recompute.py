"""Every provisional limit the service keeps is recomputed once its year's official calendar arrives.

Issue 14: a deadline computed without official data for its year says so (``provisional``) and is
recomputed when the data arrives. Each kind of limit is set through the API on 2026-12-28, when 2027 is
beyond the calendar library (weekends alone); then an override file publishes 2027 with New Year's Day and
12 January off, and the worker's deadline check (real Postgres) must move each limit and mark it official,
once. One test per kind, so a kind left out of the recompute fails on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.runtime.db import open_pool
from services.runtime.workdays import WorkdayCalendar
from services.supervision.commands.deadlines import DeadlineCheck
from tests.integration.supervision_client import (
    TOWNSHIP,
    VILLAGE,
    complaint_body,
    employer,
    events,
    rows,
    supervision_client,
    token,
)

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 28)
#: The 2027 notice as an override file: New Year's Day, and 12 January so that a 15-day limit moves.
NOTICE_2027 = '2027:\n  holidays: ["2027-01-01", "2027-01-12"]\n  workdays: []\n'


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with supervision_client(infra, today=TODAY) as http:
        yield http


async def notice_arrives(client: httpx.AsyncClient, tmp_path: Path) -> int:
    """Publish 2027 to the running service and run the worker's deadline check twice; events recorded by
    the first run (the second must record nothing)."""
    overrides = tmp_path / "workdays.yaml"
    overrides.write_text(NOTICE_2027, encoding="utf-8")
    service = client.app.state.supervision  # type: ignore[attr-defined]
    service.context.calendar = WorkdayCalendar.official(overrides)
    pool = open_pool(client.database_url, "supervision", min_size=1, max_size=2)  # type: ignore[attr-defined]
    await pool.open(wait=True)
    check = DeadlineCheck(pool, service.complaints, service.cases, service.disputes, kept=service.kept_limits())
    try:
        first = await check.run_once(TODAY)
        assert await check.run_once(TODAY) == 0, "a recomputed limit is recomputed once"
    finally:
        await pool.close()
    return first


def recomputed(client: httpx.AsyncClient, stream_id: str, kind: str) -> list[dict[str, Any]]:
    return [d for k, d in events(client.database_url, stream_id) if k == kind]  # type: ignore[attr-defined]


def provisional_rows(client: httpx.AsyncClient) -> list[tuple[Any, ...]]:
    sql = "SELECT limit_name, due_on FROM deadlines WHERE provisional ORDER BY limit_name"
    return rows(client.database_url, sql)  # type: ignore[attr-defined]


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_a_complaints_decision_limit(client, tmp_path):
    filed = await ok(
        await client.post("/complaints", json=complaint_body(received_on=str(TODAY)), headers=token()), 201
    )
    # 5 working days on weekends alone: 29, 30, 31 December, Friday 1 January, Monday 4 January.
    assert (filed["decision"]["due"], filed["decision"]["provisional"]) == ("2027-01-04", True)
    assert await notice_arrives(client, tmp_path) == 1
    again = await ok(await client.get(f"/complaints/{filed['complaint_id']}", headers=token()))
    assert (again["decision"]["due"], again["decision"]["provisional"]) == ("2027-01-05", False)
    assert rows(client.database_url, "SELECT decision_due, provisional FROM complaints") == [(date(2027, 1, 5), False)]
    [event] = recomputed(client, filed["complaint_id"], "ComplaintDeadlineRecomputed")
    assert (event["previous_due_on"], event["due_on"]) == ("2027-01-04", "2027-01-05")
    assert provisional_rows(client) == []


async def case(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {"employer": employer(3), "scope": "wages_minimum_wage", "opened_on": str(TODAY), "workers_concerned": 2}
    return await ok(await client.post("/cases", json=body, headers=token()), 201)


async def test_a_cases_investigation_limit(client, tmp_path):
    opened = await case(client)
    assert opened["investigation"]["provisional"] is True
    assert await notice_arrives(client, tmp_path) == 1
    again = await ok(await client.get(f"/cases/{opened['case_id']}", headers=token()))
    official = WorkdayCalendar.official(tmp_path / "workdays.yaml").add_workdays(TODAY, 60)
    assert (again["investigation"]["due"], again["investigation"]["provisional"]) == (str(official.due), False)
    assert again["investigation"]["due"] > opened["investigation"]["due"]  # two more days off in 2027
    # The overdue and due-soon lists read the cases' rows: they moved with the stream.
    assert rows(client.database_url, "SELECT due_on, provisional FROM cases") == [(official.due, False)]


async def test_a_rectification_orders_limit(client, tmp_path):
    case_id = (await case(client))["case_id"]
    inspected = {"findings": "工资表缺三个月", "violation_found": True, "inspected_on": str(TODAY)}
    await ok(await client.post(f"/cases/{case_id}/inspections", json=inspected, headers=token()))
    order = {"requirements": "补发工资", "ordered_on": str(TODAY), "workdays": 5}
    ordered = await ok(await client.post(f"/cases/{case_id}/rectification-orders", json=order, headers=token()))
    assert (ordered["rectification"]["due"], ordered["rectification"]["provisional"]) == ("2027-01-04", True)
    assert await notice_arrives(client, tmp_path) == 2  # the order's limit and the investigation's
    again = await ok(await client.get(f"/cases/{case_id}", headers=token()))
    assert (again["rectification"]["due"], again["rectification"]["provisional"]) == ("2027-01-05", False)
    limits = {e["limit"] for e in recomputed(client, case_id, "CaseDeadlineRecomputed")}
    assert limits == {"investigation", "rectification"}


async def test_a_grid_inspections_follow_up_limit(client, tmp_path):
    body = {
        "grid": "长铺镇第3网格",
        "employer": employer(5),
        "inspected_on": str(TODAY),
        "findings": [{"scope": "labour_contracts", "description": "5人未签书面合同", "workers": 5}],
    }
    created = await ok(await client.post("/grid-inspections", json=body, headers=token("township", TOWNSHIP)), 201)
    assert (created["follow_up"]["due"], created["follow_up"]["provisional"]) == ("2027-01-11", True)
    assert await notice_arrives(client, tmp_path) == 1
    again = await ok(await client.get(f"/grid-inspections/{created['inspection_id']}", headers=token()))
    assert (again["follow_up"]["due"], again["follow_up"]["provisional"]) == ("2027-01-13", False)


async def dispute(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {"employer": employer(6), "claim": "追索加班费", "received_on": str(TODAY)}
    return await ok(await client.post("/disputes", json=body, headers=token("township", TOWNSHIP)), 201)


async def test_mediations_fifteen_days(client, tmp_path):
    applied = await dispute(client)
    # 15 days end on Tuesday 12 January, a holiday once the notice is out: the next working day.
    assert (applied["mediation"]["due"], applied["mediation"]["provisional"]) == ("2027-01-12", True)
    assert await notice_arrives(client, tmp_path) == 1
    again = await ok(await client.get(f"/disputes/{applied['dispute_id']}", headers=token()))
    assert (again["mediation"]["due"], again["mediation"]["provisional"]) == ("2027-01-13", False)


async def test_arbitrations_acceptance_and_award_limits(client, tmp_path):
    url = f"/disputes/{(await dispute(client))['dispute_id']}"
    township, county = token("township", TOWNSHIP), token("county", "430527", "arbitrator-1")
    await ok(
        await client.post(url + "/failure", json={"reason": "双方分歧较大", "failed_on": str(TODAY)}, headers=township)
    )
    applied = await ok(await client.post(url + "/arbitration", json={"on": str(TODAY)}, headers=county))
    # 5 days end on Saturday 2 January: Monday 4 January, on weekends alone and officially alike.
    acceptance = applied["arbitration_acceptance"]
    assert (acceptance["due"], acceptance["provisional"]) == ("2027-01-04", True)
    assert await notice_arrives(client, tmp_path) == 1
    again = await ok(await client.get(url, headers=token()))
    assert (again["arbitration_acceptance"]["due"], again["arbitration_acceptance"]["provisional"]) == (
        "2027-01-04",
        False,
    )
    accepted = await ok(await client.post(url + "/arbitration/acceptance", json={"on": str(TODAY)}, headers=county))
    # Accepted on a calendar that knows 2027 now: the award's 45 days are official from the start.
    assert accepted["award"]["provisional"] is False


async def test_an_awards_limit(client, tmp_path):
    url = f"/disputes/{(await dispute(client))['dispute_id']}"
    township, county = token("township", TOWNSHIP), token("county", "430527", "arbitrator-1")
    await ok(
        await client.post(url + "/failure", json={"reason": "双方分歧较大", "failed_on": str(TODAY)}, headers=township)
    )
    await ok(await client.post(url + "/arbitration", json={"on": str(TODAY)}, headers=county))
    accepted = await ok(await client.post(url + "/arbitration/acceptance", json={"on": str(TODAY)}, headers=county))
    extended = await ok(await client.post(url + "/arbitration/extension", json={"days": 15}, headers=county))
    # 45 + 15 days from 28 December: Friday 26 February.
    assert (extended["award"]["due"], extended["award"]["provisional"]) == ("2027-02-26", True)
    assert accepted["award"]["provisional"] is True
    assert await notice_arrives(client, tmp_path) == 1
    again = await ok(await client.get(url, headers=token()))
    assert (again["award"]["due"], again["award"]["provisional"]) == (extended["award"]["due"], False)
    [event] = recomputed(client, url.rsplit("/", 1)[1], "DisputeDeadlineRecomputed")
    assert event["limit"] == "award"


async def test_a_petitions_answer_limit(client, tmp_path):
    body = {"petitioner": {"name": "李四"}, "channel": "visit", "subject": "反映拖欠工资", "region_code": VILLAGE}
    created = await ok(await client.post("/petitions", json=body, headers=token("village", VILLAGE)), 201)
    # 60 days: Friday 26 February.
    assert (created["answer"]["due"], created["answer"]["provisional"]) == ("2027-02-26", True)
    assert await notice_arrives(client, tmp_path) == 1
    again = await ok(await client.get(f"/petitions/{created['petition_id']}", headers=token()))
    assert (again["answer"]["due"], again["answer"]["provisional"]) == ("2027-02-26", False)
    [event] = recomputed(client, created["petition_id"], "PetitionDeadlineRecomputed")
    assert event["provisional"] is False
