"""End to end over HTTP only, every service a process: a household of two unemployed is detected, one member
is certified hard to employ through all three levels, referred to a vacancy and hired; registration records
the employment, the household clears, and reporting's figures change at village, township and county."""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from contracts.identifiers import citizen_id_check_character
from tests.e2e.conftest import RENSHE, RunningStack

pytestmark = pytest.mark.e2e

VILLAGE, TOWNSHIP, COUNTY = "430527100201", "430527100000", "430527"


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {timeout}s")
        await asyncio.sleep(0.3)
    return found


def id_number(sequence: int, birth: str = "19780412") -> str:
    body = f"430527{birth}{sequence:03d}"
    return body + citizen_id_check_character(body)


def staff(stack: RunningStack, role: str, region: str, subject: str) -> dict[str, str]:
    """A token for one staff member, minted by ``renshe token`` with the stack's secret."""
    token = subprocess.run(
        [RENSHE, "token", "--role", role, "--region", region, "--subject", subject, "--data-dir", str(stack.data_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


async def figures(reporting: httpx.AsyncClient, region: str) -> dict[str, Any]:
    response = await reporting.get(f"/regions/{region}/stats")
    assert response.status_code == 200, response.text
    return dict(response.json()["metrics"])


async def test_household_detected_member_certified_referred_placed_and_cleared(stack) -> None:
    env = stack.env
    # Three people at three levels: maker-checker needs the reviewer and the decider to differ.
    village = staff(stack, "village", VILLAGE, "v-yang")
    township = staff(stack, "township", TOWNSHIP, "t-li")
    county = staff(stack, "county", COUNTY, "c-wang")
    today = date.today()
    async with (
        httpx.AsyncClient(base_url=env["REGISTRATION_URL"], headers=stack.headers, timeout=30) as registration,
        httpx.AsyncClient(base_url=env["ASSISTANCE_URL"], headers=village, timeout=30) as assistance,
        httpx.AsyncClient(base_url=env["REPORTING_URL"], headers=stack.headers, timeout=30) as reporting,
    ):
        before = {region: await figures(reporting, region) for region in (VILLAGE, TOWNSHIP, COUNTY)}

        # Registration: a household of two registered unemployed, and a vacancy in the township.
        members = []
        # A man of 56 (4050) and his wife of 36, both urban; fresh ID numbers, so that a rerun on the same
        # stack registers new people.
        base = 2 * random.randrange(50, 490)
        for sequence, birth in ((base + 1, "19700412"), (base + 2, "19900305")):
            created = await registration.post(
                "/persons",
                json={
                    "id_number": id_number(sequence, birth),
                    "name": "龙秀英",
                    "region_code": VILLAGE,
                    "hukou": "urban",
                },
            )
            assert created.status_code == 201, created.text
            person_id = created.json()["person_id"]
            unemployed = await registration.post(f"/persons/{person_id}/unemployment", json={})
            assert unemployed.status_code in (200, 201), unemployed.text
            members.append(person_id)
        household = await registration.post(
            "/households",
            json={
                "region_code": VILLAGE,
                "members": [
                    {"person_id": members[0], "relation": "head"},
                    {"person_id": members[1], "relation": "spouse"},
                ],
            },
        )
        assert household.status_code == 201, household.text
        household_id = household.json()["household_id"]
        employer = await registration.post(
            "/employers",
            json={"credit_code": "91350100M000100Y43", "name": "绥宁县竹木加工厂", "region_code": TOWNSHIP},
        )
        assert employer.status_code in (201, 409), employer.text
        vacancy = await registration.post(
            "/vacancies",
            json={
                "employer_id": employer.json()["employer_id"],
                "occupation": "竹木加工操作工",
                "positions": 3,
                "wage_min_fen": 300_000,
                "wage_max_fen": 450_000,
            },
        )
        assert vacancy.status_code == 201, vacancy.text
        vacancy_id = vacancy.json()["vacancy_id"]

        # Assistance reacts: cases open, the household is detected; the township confirms it.
        async def detected() -> bool:
            answer = await assistance.get(f"/households/{household_id}/zero-employment")
            return answer.status_code == 200 and answer.json()["stage"] == "detected"

        await until(detected, "the zero-employment household")
        confirmed = await assistance.post(
            f"/households/{household_id}/zero-employment/confirmation", json={}, headers=township
        )
        assert confirmed.status_code == 200, confirmed.text

        # Certification through all three levels (the notice of 5 working days already ran: paper records).
        certified_person = members[0]
        applied = await assistance.post(
            "/hard-to-employ/applications",
            json={"person_id": certified_person, "applied_on": str(today - timedelta(days=30))},
        )
        assert applied.status_code == 201, applied.text
        assert applied.json()["events"][0]["data"]["categories"] == ["aged_4050", "zero_employment_household"]
        application = f"/hard-to-employ/applications/{applied.json()['id']}"
        reviewed = await assistance.post(
            f"{application}/review",
            json={"passed": True, "reviewed_on": str(today - timedelta(days=25))},
            headers=township,
        )
        assert reviewed.status_code == 200, reviewed.text
        denied = await assistance.post(f"{application}/decision", json={"certify": True})
        assert denied.status_code == 403  # a village token cannot certify
        decided = await assistance.post(f"{application}/decision", json={"certify": True}, headers=county)
        assert decided.status_code == 200, decided.text

        # Referred to the vacancy, matched first, and hired: the placement.
        case = await until(lambda: _json_if_ok(assistance.get(f"/persons/{certified_person}/case")), "the case")

        # The vacancy reaches assistance on registration's vacancy topic, the household on another: matching may
        # answer before the vacancy has arrived, so wait for the vacancy itself, not for any answer.
        async def vacancy_matched() -> dict[str, Any] | None:
            matches = await _json_if_ok(assistance.get(f"/persons/{certified_person}/matches"))
            return matches if matches and vacancy_id in [m["vacancy_id"] for m in matches["matches"]] else None

        await until(vacancy_matched, "the vacancy in matching")
        referred = await assistance.post(f"/cases/{case['case_id']}/referrals", json={"vacancy_id": vacancy_id})
        assert referred.status_code == 200, referred.text
        referral_id = referred.json()["events"][0]["data"]["referral_id"]
        hired = await assistance.post(
            f"/cases/{case['case_id']}/referrals/{referral_id}/outcome", json={"outcome": "hired"}
        )
        assert hired.status_code == 200, hired.text
        assert [e["type"] for e in hired.json()["events"]] == ["ReferralOutcomeRecorded", "PlacedInJob"]

        # Registration's worker records the employment; the household is cleared.
        async def employed() -> bool:
            return (await registration.get(f"/persons/{certified_person}")).json()["status"] == "employed"

        await until(employed, "the employment in registration")
        status = (await assistance.get(f"/households/{household_id}/zero-employment")).json()
        assert status["stage"] == "none"
        cleared = (
            await assistance.get(f"/regions/{TOWNSHIP}/zero-employment-households?stage=cleared", headers=township)
        ).json()
        assert [h["household_id"] for h in cleared["households"]] == [household_id]

        # Reporting: the figures moved at village, township and county alike.
        async def reported() -> dict[str, dict[str, Any]] | None:
            now = {region: await figures(reporting, region) for region in (VILLAGE, TOWNSHIP, COUNTY)}
            moved = all(now[r].get("assisted_placed", 0) == before[r].get("assisted_placed", 0) + 1 for r in now)
            return now if moved else None

        after = await until(reported, "reporting's figures")
        for region in (VILLAGE, TOWNSHIP, COUNTY):
            then, now = before[region], after[region]
            # The certification counts as a flow; the certified stock goes back once the placement's employment
            # ends the status (a re-employment ends it), which may reach reporting before or after this read.
            assert now["hard_to_employ_newly_certified"] == then.get("hard_to_employ_newly_certified", 0) + 1, region
            assert now["zero_employment_households_cleared"] == then.get("zero_employment_households_cleared", 0) + 1
            assert now["zero_employment_households_outstanding"] == then.get(
                "zero_employment_households_outstanding", 0
            )
            assert now["job_referrals"] == then.get("job_referrals", 0) + 1
            assert now["employed"] == then.get("employed", 0) + 1


async def _json_if_ok(request: Awaitable[httpx.Response]) -> dict[str, Any] | None:
    response = await request
    return dict(response.json()) if response.status_code == 200 else None
