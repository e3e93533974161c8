"""Grid inspections, disputes and petitions over real HTTP and Postgres: limits shown, steps in order,
roles, the worker referring a lapsed mediation to arbitration once, and the petitioner kept out of events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from services.runtime.db import open_pool
from services.supervision.commands.deadlines import DeadlineCheck
from tests.integration.supervision_client import TOWNSHIP, VILLAGE, employer, events, rows, supervision_client, token

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 3)


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with supervision_client(infra, today=TODAY) as http:
        yield http


async def test_a_grid_inspection_with_findings_is_followed_up_and_escalated_to_a_case(client):
    township = token("township", TOWNSHIP, "grid-3")
    created = await client.post(
        "/grid-inspections",
        json={
            "grid": "长铺镇第3网格",
            "employer": employer(5),
            "inspected_on": "2026-11-02",
            "findings": [{"scope": "labour_contracts", "description": "5人未签书面合同", "workers": 5}],
        },
        headers=township,
    )
    assert created.status_code == 201, created.text
    inspection = created.json()
    assert inspection["follow_up"]["due"] == "2026-11-16" and inspection["follow_up"]["overdue"] is True
    url = f"/grid-inspections/{inspection['inspection_id']}/follow-up"
    # Escalating to a case is for inspectors and the county, not the township's grid inspector.
    body = {"resolved": False, "notes": "仍未签订", "open_case": True, "followed_up_on": "2026-11-17"}
    assert (await client.post(url, json=body, headers=township)).status_code == 403
    followed = await client.post(url, json=body, headers={**token(), "If-Match": '"1"'})
    assert followed.status_code == 200, followed.text
    case_id = followed.json()["case_id"]
    case = (await client.get(f"/cases/{case_id}", headers=token())).json()
    assert (case["source"], case["scope"]) == ("grid_inspection", "labour_contracts")
    [data] = [d for k, d in events(client.database_url) if k == "GridFollowUpRecorded"]
    assert data["on_time"] is False


async def test_mediation_lapses_to_arbitration_once_and_arbitration_is_tracked(client):
    township = token("township", TOWNSHIP, "mediator-1")
    applied = await client.post(
        "/disputes",
        json={
            "employer": employer(6),
            "claim": "追索加班费",
            "amount_claimed_fen": 300_000,
            "received_on": "2026-11-02",
        },
        headers=township,
    )
    assert applied.status_code == 201, applied.text
    dispute = applied.json()
    assert dispute["mediation"]["due"] == "2026-11-17" and dispute["mediation"]["overdue"] is True
    url = f"/disputes/{dispute['dispute_id']}"
    late = await client.post(url + "/agreement", json={"agreed_on": "2026-11-18"}, headers=township)
    assert (late.status_code, late.json()["rule"]) == (422, "AgreementWithinFifteenDays")
    pool = open_pool(client.database_url, "supervision", min_size=1, max_size=2)
    await pool.open(wait=True)
    service = client.app.state.supervision
    check = DeadlineCheck(pool, service.complaints, service.cases, service.disputes, kept=service.kept_limits())
    try:
        assert await check.run_once(TODAY) == 1
        assert await check.run_once(TODAY) == 0
    finally:
        await pool.close()
    [referral] = [
        d for k, d in events(client.database_url, dispute["dispute_id"]) if k == "DisputeReferredToArbitration"
    ]
    assert referral["reason"] == "no_agreement_in_15_days"
    # Arbitration belongs to the county's committee.
    assert (await client.post(url + "/arbitration", json={"on": "2026-11-20"}, headers=township)).status_code == 403
    county = token("county", "430527", "arbitrator-1")
    applied_for = (await client.post(url + "/arbitration", json={"on": "2026-11-20"}, headers=county)).json()
    assert applied_for["arbitration_acceptance"]["due"] == "2026-11-25"
    accepted = (await client.post(url + "/arbitration/acceptance", json={"on": "2026-11-24"}, headers=county)).json()
    assert accepted["arbitration_acceptance"]["met"] is True and accepted["award"]["due"] == "2027-01-08"
    too_long = await client.post(url + "/arbitration/extension", json={"days": 16}, headers=county)
    assert (too_long.status_code, too_long.json()["field"]) == (422, "days")


async def test_a_petition_is_registered_assigned_and_answered_with_the_petitioner_encrypted(client):
    village = token("village", VILLAGE, "coordinator-1")
    created = await client.post(
        "/petitions",
        json={"petitioner": {"name": "李四", "phone": "13900000002"}, "channel": "visit", "subject": "反映拖欠工资",
              "received_on": "2026-11-02"},
        headers=village,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    petition = created.json()
    # 60 days: Friday 2027-01-01, a working day on weekends alone: 2027 is not in the library, so provisional.
    assert petition["answer"]["due"] == "2027-01-01" and petition["answer"]["provisional"] is True
    assert "李四" not in str(events(client.database_url)) and "13900000002" not in str(events(client.database_url))
    assert rows(client.database_url, "SELECT count(*) FROM petitioners") == [(1,)]
    url = f"/petitions/{petition['petition_id']}"
    early = await client.post(url + "/answer", json={"summary": "已督促发放"}, headers=token("township", TOWNSHIP))
    assert (early.status_code, early.json()["rule"]) == (422, "PetitionAssignedBeforeAnswer")
    await client.post(url + "/assignment", json={"assignee": "inspector-1"}, headers=token("township", TOWNSHIP))
    answered = (await client.post(url + "/answer", json={"summary": "已督促发放"}, headers=token())).json()
    assert answered["answer"]["met"] is True and answered["version"] == 3
    assert (await client.get(url, headers=token("analyst"))).status_code == 403


async def test_the_deadlines_list_shows_every_open_limit_of_a_region(client):
    township = token("township", TOWNSHIP)
    await client.post(
        "/petitions",
        json={"petitioner": {"name": "王五"}, "channel": "letter", "subject": "欠薪", "region_code": TOWNSHIP,
              "received_on": "2026-09-01"},
        headers=township,
    )  # fmt: skip
    await client.post(
        "/disputes", json={"employer": employer(8), "claim": "加班费", "received_on": "2026-12-01"}, headers=township
    )
    listed = (await client.get(f"/deadlines?region={TOWNSHIP}", headers=township)).json()["limits"]
    assert [(x["stream_type"], x["limit"], x["deadline"]["overdue"]) for x in listed] == [
        ("petition", "answer", True),
        ("dispute", "mediation", False),
    ]
    overdue = (await client.get("/deadlines?overdue=true", headers=token())).json()["limits"]
    assert [x["limit"] for x in overdue] == ["answer"]
