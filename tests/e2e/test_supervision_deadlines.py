"""End to end over HTTP, with the stack's processes: a wage-arrears complaint is accepted, its case gets a
rectification order and is closed in time; another, left open, passes its 60 working days, shows overdue at
township and county, and the worker's scheduled check publishes its breach on ``supervision.events`` once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest

from contracts.identifiers import credit_code_check_character
from contracts.topics import SUPERVISION_EVENTS
from services.stack import down, read_env, up
from tests.e2e.conftest import RunningStack, _port_base
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The stack as the shared fixture starts it, given longer to get ready: nine processes starting on a
    busy 2-core machine took more than the CLI's 60 s."""
    data_dir = tmp_path_factory.mktemp("stack")
    try:
        up(data_dir, _port_base(), timeout=240)
        yield RunningStack(data_dir, read_env(data_dir))
    finally:
        down(data_dir)


TOWNSHIP = "430527100000"
VILLAGE = "430527100201"


def complaint(serial: int, received_on: date) -> dict:
    body = f"91430527MA{serial:07d}"
    return {
        "region_code": VILLAGE,
        "complainant": {"name": "杨秀成", "phone": "13800000001"},
        "employer": {
            "credit_code": body + credit_code_check_character(body),
            "name": f"绥宁县第{serial}竹木加工厂",
            "region_code": TOWNSHIP,
        },
        "complaint_type": "wage_arrears",
        "facts": "拖欠三名工人两个月工资",
        "violation_from": str(received_on - timedelta(days=60)),
        "received_on": str(received_on),
        "workers_concerned": 3,
        "amount_claimed_fen": 1_800_000,
    }


async def ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_a_complaint_closes_in_time_and_another_case_shows_overdue_at_township_and_county(stack):
    url = stack.env["SUPERVISION_URL"]
    village = stack.headers_for("village", VILLAGE)
    inspector = stack.headers_for("inspector", "430527")
    township = stack.headers_for("township", TOWNSHIP)
    today = date.today()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        filed = await ok(await client.post("/complaints", json=complaint(101, today), headers=village))
        accepted = await ok(
            await client.post(f"/complaints/{filed['complaint_id']}/acceptance", json={}, headers=inspector)
        )
        case_url = f"/cases/{accepted['case_id']}"
        await ok(
            await client.post(
                case_url + "/inspections",
                json={"findings": "工资表缺两个月", "violation_found": True},
                headers=inspector,
            )
        )
        order = await ok(
            await client.post(
                case_url + "/rectification-orders",
                json={"requirements": "十日内补发工资", "workdays": 10},
                headers=inspector,
            )
        )
        assert order["rectification"]["overdue"] is False
        await ok(
            await client.post(
                case_url + "/rectification-verification",
                json={"complied": True, "wages_paid_fen": 1_800_000},
                headers=inspector,
            )
        )
        closed = await ok(await client.post(case_url + "/closure", json={"outcome": "corrected"}, headers=inspector))
        assert closed["status"] == "closed" and closed["investigation"]["met"] is True
        assert closed["wages_paid_fen"] == 1_800_000

        received = today - timedelta(days=150)
        old = await ok(await client.post("/complaints", json=complaint(102, received), headers=village))
        late = await ok(
            await client.post(
                f"/complaints/{old['complaint_id']}/acceptance",
                json={"accepted_on": str(received + timedelta(days=1))},
                headers=inspector,
            )
        )
        late_case = late["case_id"]
        for headers, region in ((township, TOWNSHIP), (stack.headers_for("county", "430527"), "430527")):
            listed = await ok(await client.get(f"/cases?overdue=true&region={region}", headers=headers))
            ids = [c["case_id"] for c in listed["cases"]]
            assert late_case in ids and accepted["case_id"] not in ids
            [row] = [c for c in listed["cases"] if c["case_id"] == late_case]
            assert row["investigation"]["overdue"] is True and row["investigation"]["workdays_left"] < 0

    bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    deadline = time.monotonic() + 90
    while True:
        messages = await read_topic(bootstrap, SUPERVISION_EVENTS.name, idle_ms=1000)
        envelopes = [json.loads(value) for *_, value in messages]
        breaches = [e for e in envelopes if e["type"] == "CaseDeadlineBreached" and e["stream_id"] == late_case]
        if breaches or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    assert len(breaches) == 1, "the worker's deadline check publishes the breach once"
    assert breaches[0]["data"]["limit"] == "investigation" and breaches[0]["actor"] == "supervision:deadline-check"
    assert not [e for e in envelopes if e["type"] == "CaseDeadlineBreached" and e["stream_id"] == accepted["case_id"]]
