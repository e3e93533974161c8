"""End to end over HTTP, every service a process: a dismissed worker registers as unemployed, claims the
unemployment benefit, is paid two months, is re-employed, and the benefit stops; reporting shows it at every
level (village, township, county, city, province)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import httpx
import pytest

from contracts.identifiers import citizen_id_check_character, credit_code_check_character
from contracts.regions import ancestor_codes

pytestmark = pytest.mark.e2e

VILLAGE = "430527100201"
TOWNSHIP = "430527100000"
TODAY = date.today()


def month(offset: int) -> str:
    index = TODAY.year * 12 + TODAY.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.3)


async def test_a_dismissed_worker_is_paid_two_months_and_the_benefit_stops_on_reemployment(stack):
    headers = stack.headers
    async with (
        httpx.AsyncClient(base_url=stack.env["REGISTRATION_URL"], headers=headers, timeout=30) as registration,
        httpx.AsyncClient(base_url=stack.env["INSURANCE_URL"], headers=headers, timeout=30) as insurance,
        # A provincial analyst reads every level from the province down, as aggregates.
        httpx.AsyncClient(
            base_url=stack.env["REPORTING_URL"], headers=stack.headers_for("analyst", "43"), timeout=30
        ) as reporting,
    ):
        code = "91430527MA1E2E001"
        employer = await registration.post(
            "/employers",
            json={
                "credit_code": code + credit_code_check_character(code),
                "name": "绥宁县竹木厂",
                "region_code": TOWNSHIP,
            },
        )
        assert employer.status_code == 201, employer.text
        employer_id = employer.json()["employer_id"]
        body = "430527198507150031"[:17]
        person = await registration.post(
            "/persons",
            json={"id_number": body + citizen_id_check_character(body), "name": "杨秀成", "region_code": VILLAGE},
        )
        assert person.status_code == 201, person.text
        person_id = person.json()["person_id"]
        started = TODAY - timedelta(days=800)
        hired = await registration.post(
            f"/persons/{person_id}/employment",
            json={"kind": "unit", "employer_id": employer_id, "started_on": str(started)},
        )
        assert hired.status_code in (200, 201), hired.text

        # Insurance learns of the person and the employer from registration.events.
        async def enrolled() -> bool:
            response = await insurance.post(
                f"/persons/{person_id}/enrolments",
                json={
                    "insurance_type": "unemployment",
                    "basis": "employer",
                    "employer_id": employer_id,
                    "enrolled_on": str(started),
                },
            )
            return response.status_code == 201

        await until(enrolled, "insurance knows the person and the employer")
        for offset in range(-14, -2):
            rows = (
                f"person_id,insurance_type,employer_id,base,employer_part,personal_part\n"
                f"{person_id},unemployment,{employer_id},5000.00,25.00,25.00\n"
            )
            posted = await insurance.post(
                "/contributions/files", files={"file": ("c.csv", rows.encode())}, data={"month": month(offset)}
            )
            assert posted.status_code == 201 and posted.json()["posted"] == 1, posted.text

        dismissed = TODAY - timedelta(days=40)
        ended = await registration.post(
            f"/persons/{person_id}/employment/end", json={"ended_on": str(dismissed), "reason": "dismissed"}
        )
        assert ended.status_code == 200, ended.text
        registered_on = dismissed + timedelta(days=1)  # 40 days back is always an earlier month
        unemployed = await registration.post(
            f"/persons/{person_id}/unemployment", json={"registered_on": str(registered_on)}
        )
        assert unemployed.status_code in (200, 201), unemployed.text

        granted: dict = {}

        async def claimed() -> bool:
            response = await insurance.post(f"/persons/{person_id}/unemployment-benefit", json={})
            if response.status_code == 201:
                granted.update(response.json()["events"][0]["data"])
                return True
            assert response.json()["rule"] == "BenefitNeedsUnemploymentRegistration", response.text
            return False

        await until(claimed, "insurance sees the unemployment registration")
        assert granted["months"] == 12 and granted["starts_on"] == str(registered_on)
        first = registered_on.year * 12 + registered_on.month - 1
        for index in (first, first + 1):
            paid = await insurance.post(
                f"/persons/{person_id}/unemployment-benefit/payments",
                json={"month": f"{index // 12:04d}-{index % 12 + 1:02d}"},
            )
            assert paid.status_code == 200, paid.text

        rehired = await registration.post(
            f"/persons/{person_id}/employment",
            json={"kind": "unit", "employer_id": employer_id, "started_on": str(TODAY)},
        )
        assert rehired.status_code in (200, 201), rehired.text

        async def stopped() -> bool:
            record = (await insurance.get(f"/persons/{person_id}/insurance")).json()
            return record["benefit"] is not None and not record["benefit"]["active"]

        await until(stopped, "the benefit stops on re-employment")
        record = (await insurance.get(f"/persons/{person_id}/insurance")).json()
        assert len(record["benefit"]["paid_months"]) == 2 and record["unused_benefit_months"] == 10
        paid_fen = 2 * 170_000

        async def reported_everywhere() -> bool:
            for code in ancestor_codes(VILLAGE):
                metrics = (await reporting.get(f"/regions/{code}/stats")).json()["metrics"]
                wanted = (
                    metrics.get("benefits_granted"),
                    metrics.get("benefit_paid_fen"),
                    metrics.get("benefits_stopped"),
                )
                if wanted != (1, paid_fen, 1) or metrics.get("benefit_recipients") != 0:
                    return False
            return True

        await until(reported_everywhere, "reporting shows the benefit at every level")
