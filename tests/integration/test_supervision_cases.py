"""Cases over real HTTP and Postgres: steps in order by inspectors and the county, the overdue and due-soon
lists by region, the rating following penalties, and the worker's deadline check flagging each limit once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from services.runtime.db import open_pool
from services.supervision.commands.deadlines import DeadlineCheck
from tests.integration.supervision_client import (
    OTHER_TOWNSHIP,
    TOWNSHIP,
    employer,
    events,
    supervision_client,
    token,
)

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 3)


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with supervision_client(infra, today=TODAY) as http:
        yield http


async def open_case(client, opened_on: str, serial: int = 1, region: str = TOWNSHIP, scope: str = "wages_minimum_wage"):
    response = await client.post(
        "/cases",
        json={"employer": employer(serial, region), "scope": scope, "opened_on": opened_on, "workers_concerned": 2},
        headers=token(),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def post(client, case_id: str, step: str, body: dict, role: str = "inspector", expect: int = 200) -> dict:
    response = await client.post(f"/cases/{case_id}/{step}", json=body, headers=token(role))
    assert response.status_code == expect, response.text
    return response.json()


async def test_a_case_runs_inspection_order_verification_penalty_closure_and_the_rating_follows(client):
    case = await open_case(client, "2026-11-02")
    case_id = case["case_id"]
    assert case["investigation"]["due"] == "2027-01-25" and case["investigation"]["provisional"] is True
    refused = await post(
        client, case_id, "penalties", {"amount_fen": 500_000, "legal_basis": "条例 Art 26"}, expect=422
    )
    assert refused["rule"] == "PenaltyFollowsAFoundViolation"
    await post(
        client,
        case_id,
        "inspections",
        {"findings": "工资表缺三个月", "violation_found": True, "inspected_on": "2026-11-03"},
    )
    ordered = await post(
        client,
        case_id,
        "rectification-orders",
        {"requirements": "补发工资", "ordered_on": "2026-11-04", "workdays": 10},
    )
    assert ordered["rectification"]["due"] == "2026-11-18"
    closing = await post(client, case_id, "closure", {"outcome": "corrected"}, expect=422)
    assert closing["rule"] == "RectificationVerifiedBeforeClosure"
    await post(
        client,
        case_id,
        "rectification-verification",
        {"complied": True, "wages_paid_fen": 1_200_000, "verified_on": "2026-11-17"},
    )
    await post(
        client, case_id, "penalties", {"amount_fen": 500_000, "legal_basis": "条例 Art 26", "decided_on": "2026-11-18"}
    )
    closed = await post(client, case_id, "closure", {"outcome": "penalised", "closed_on": "2026-11-20"})
    assert closed["status"] == "closed" and closed["investigation"]["met"] is True
    after = await post(client, case_id, "inspections", {"findings": "再查", "violation_found": True}, expect=422)
    assert (after["rule"], after["field"]) == ("CaseIsOpen", "status")
    trail = (await client.get(f"/cases/{case_id}/history", headers=token())).json()["entries"]
    assert [e["type"] for e in trail] == [
        "InspectionCaseOpened",
        "CaseInspected",
        "RectificationOrdered",
        "RectificationVerified",
        "PenaltyImposed",
        "InspectionCaseClosed",
    ]
    assert {e["actor"] for e in trail} == {"inspector-1"}
    [closure] = [data for kind, data in events(client.database_url, case_id) if kind == "InspectionCaseClosed"]
    assert (closure["within_limit"], closure["wages_recovered_fen"]) == (True, 1_200_000)
    rating = (await client.get(f"/employers/{case['employer']['employer_id']}/rating", headers=token())).json()
    assert rating["grade"] == "B" and rating["penalty_fen"] == 500_000
    assert any("5,000.00 yuan" in reason for reason in rating["reasons"])
    [data] = [d for k, d in events(client.database_url) if k == "EmployerRatingChanged"]
    assert (data["grade"], data["previous_grade"]) == ("B", "A")


async def test_only_the_county_extends_and_only_once(client):
    case_id = (await open_case(client, "2026-11-02"))["case_id"]
    body = {"workdays": 30, "reason": "涉及人数多"}
    assert (await post(client, case_id, "extension", body, role="inspector", expect=403))["field"] == "role"
    extended = await post(client, case_id, "extension", body, role="county")
    assert extended["extended"] is True and extended["investigation"]["due"] > "2027-01-25"
    again = await post(client, case_id, "extension", {"workdays": 5, "reason": "再延"}, role="county", expect=422)
    assert again["rule"] == "OneExtension"
    too_long = await post(
        client,
        (await open_case(client, "2026-11-02", 2))["case_id"],
        "extension",
        {"workdays": 31, "reason": "x"},
        role="county",
        expect=422,
    )
    assert too_long["rule"] == "ExtensionAtMostThirtyWorkdays"


async def test_a_township_clerk_cannot_act_on_cases(client):
    case_id = (await open_case(client, "2026-11-02"))["case_id"]
    response = await client.post(
        f"/cases/{case_id}/inspections",
        json={"findings": "x", "violation_found": False},
        headers=token("township", TOWNSHIP),
    )
    assert response.status_code == 403


async def test_overdue_and_due_soon_lists_per_township_and_county(client):
    late_here = await open_case(client, "2026-07-01", 1, TOWNSHIP)
    late_there = await open_case(client, "2026-07-02", 2, OTHER_TOWNSHIP)
    soon = await open_case(client, "2026-09-09", 3, TOWNSHIP)  # 60 working days later: 2026-12-08
    await open_case(client, "2026-11-02", 4, TOWNSHIP)
    county = (await client.get("/cases?overdue=true", headers=token())).json()
    assert [c["case_id"] for c in county["cases"]] == [late_here["case_id"], late_there["case_id"]]
    assert all(c["investigation"]["overdue"] for c in county["cases"])
    township = (await client.get(f"/cases?overdue=true&region={TOWNSHIP}", headers=token("township", TOWNSHIP))).json()
    assert [c["case_id"] for c in township["cases"]] == [late_here["case_id"]]
    due_soon = (await client.get(f"/cases/due-soon?region={TOWNSHIP}", headers=token("township", TOWNSHIP))).json()
    assert [c["case_id"] for c in due_soon["cases"]] == [soon["case_id"]]
    assert due_soon["cases"][0]["investigation"]["workdays_left"] == 3
    # Pages follow each other in due order.
    first = (await client.get("/cases?overdue=true&limit=1", headers=token())).json()
    second = (await client.get(f"/cases?overdue=true&limit=1&cursor={first['next_cursor']}", headers=token())).json()
    assert [c["case_id"] for c in first["cases"] + second["cases"]] == [late_here["case_id"], late_there["case_id"]]
    # Another township's clerk sees none of it.
    other = await client.get(f"/cases?overdue=true&region={TOWNSHIP}", headers=token("township", OTHER_TOWNSHIP))
    assert other.status_code == 403


async def test_the_deadline_check_flags_each_passed_limit_once(client):
    late = await open_case(client, "2026-07-01")
    current = await open_case(client, "2026-11-02", 2)
    pool = open_pool(client.database_url, "supervision", min_size=1, max_size=2)
    await pool.open(wait=True)
    service = client.app.state.supervision
    check = DeadlineCheck(pool, service.complaints, service.cases, service.disputes, kept=service.kept_limits())
    try:
        assert await check.run_once(TODAY) == 1
        assert await check.run_once(TODAY) == 0
    finally:
        await pool.close()
    [breach] = [data for kind, data in events(client.database_url, late["case_id"]) if kind == "CaseDeadlineBreached"]
    assert (breach["limit"], breach["due_on"], breach["detected_on"]) == ("investigation", "2026-09-22", "2026-12-03")
    assert [kind for kind, _ in events(client.database_url, current["case_id"])] == ["InspectionCaseOpened"]
