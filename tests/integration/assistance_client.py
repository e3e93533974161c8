"""Registration and assistance in-process on one fresh database of the test Postgres (each in its own schema).

``Stack.sync()`` hands assistance's reaction handler what registration appended since the last call, in
position order, inside one transaction of assistance's pool: the relay and the broker in between are
tested on the real broker in ``test_assistance_reactions.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from contracts.envelope import EventEnvelope
from contracts.identifiers import citizen_id_check_character
from services.assistance.app import AssistanceSettings, streams_for
from services.assistance.app import create_app as assistance_app
from services.assistance.reactions import AssistanceReactions
from services.registration.app import RegistrationSettings
from services.registration.app import create_app as registration_app
from services.runtime.db import open_pool
from services.runtime.eventstore import EventStore
from tests.integration.helpers import fresh_database
from tests.integration.registration_client import SECRET, token

VILLAGE = "430527100201"
OTHER_VILLAGE = "430527101201"
TOWNSHIP = "430527100000"
COUNTY = "430527"

#: One token per level, each a different staff subject (maker-checker needs two people at least).
VILLAGE_CLERK = token("village", VILLAGE, "village-clerk")
TOWNSHIP_CLERK = token("township", TOWNSHIP, "township-clerk")
COUNTY_OFFICER = token("county", COUNTY, "county-officer")
ANALYST = token("analyst", COUNTY, "analyst")


def id_number(birth: date = date(1990, 3, 7), sequence: int = 1) -> str:
    """A valid resident ID number of Suining County."""
    body = f"430527{birth:%Y%m%d}{sequence:03d}"
    return body + citizen_id_check_character(body)


@dataclass
class Stack:
    """Both APIs and the hand-off between them."""

    registration: httpx.AsyncClient
    assistance: httpx.AsyncClient
    database_url: str
    pool: AsyncConnectionPool
    registration_pool: AsyncConnectionPool
    reactions: AssistanceReactions
    position: int = 0
    sequence: int = field(default=1)
    employer_id: str | None = None

    async def sync(self) -> int:
        """Apply registration's new events to assistance; how many there were."""
        async with self.registration_pool.connection() as conn:
            rows = await EventStore().read_envelopes(conn, self.position, limit=100_000)
        async with self.pool.connection() as conn, conn.transaction():
            await self.reactions.apply(conn, [EventEnvelope.model_validate_json(j) for _, _, j in rows])
        if rows:
            self.position = rows[-1][0]
        return len(rows)

    async def person(
        self, *, birth: date = date(1990, 3, 7), sex: str = "male", unemployed: bool = True, **body: Any
    ) -> str:
        """Register a resident (and their unemployment) in registration; their person id."""
        self.sequence += 2
        # The 17th character of the ID number gives the sex: odd male, even female.
        sequence = self.sequence if sex == "male" else self.sequence + 1
        payload = {"id_number": id_number(birth, sequence), "name": "杨秀成", "region_code": VILLAGE, **body}
        response = await self.registration.post("/persons", json=payload)
        assert response.status_code == 201, response.text
        person_id = str(response.json()["person_id"])
        if unemployed:
            response = await self.registration.post(f"/persons/{person_id}/unemployment", json={})
            assert response.status_code in (200, 201), response.text
        return person_id

    async def household(self, *members: str) -> str:
        """A household of these persons, the first its head."""
        relations = [{"person_id": m, "relation": "head" if i == 0 else "spouse"} for i, m in enumerate(members)]
        response = await self.registration.post("/households", json={"region_code": VILLAGE, "members": relations})
        assert response.status_code == 201, response.text
        return str(response.json()["household_id"])

    async def vacancy(self, occupation: str = "保洁员", positions: int = 2, **body: Any) -> tuple[str, str]:
        """An employer of the township and a vacancy of it: (employer id, vacancy id)."""
        if self.employer_id is None:
            response = await self.registration.post(
                "/employers",
                json={"credit_code": "91350100M000100Y43", "name": "绥宁县竹木加工厂", "region_code": TOWNSHIP},
            )
            assert response.status_code == 201, response.text
            self.employer_id = str(response.json()["employer_id"])
        employer_id = self.employer_id
        payload = {
            "employer_id": employer_id,
            "occupation": occupation,
            "positions": positions,
            "wage_min_fen": 200_000,
            "wage_max_fen": 300_000,
            **body,
        }
        response = await self.registration.post("/vacancies", json=payload)
        assert response.status_code == 201, response.text
        return str(employer_id), str(response.json()["vacancy_id"])

    async def case_of(self, person_id: str) -> dict[str, Any]:
        """The person's case as assistance answers it."""
        response = await self.assistance.get(f"/persons/{person_id}/case")
        assert response.status_code == 200, response.text
        return dict(response.json())


@asynccontextmanager
async def assistance_stack(infra: Any, **settings: Any) -> AsyncIterator[Stack]:
    """Registration and assistance on a fresh database; both clients send a county officer's token."""
    url = fresh_database(infra, "asst")
    common = dict(database_url=url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(SECRET))
    reg = registration_app(RegistrationSettings(**common, pii_secret=SecretStr("pii-" + SECRET)))  # type: ignore[arg-type]
    asst_settings = AssistanceSettings(**common, **settings)  # type: ignore[arg-type]
    asst = assistance_app(asst_settings)
    async with reg.router.lifespan_context(reg), asst.router.lifespan_context(asst):
        pool = open_pool(url, "assistance", min_size=1, max_size=4)
        registration_pool = open_pool(url, "registration", min_size=1, max_size=2)
        await pool.open(wait=True)
        await registration_pool.open(wait=True)
        try:
            async with (
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=reg), base_url="http://reg", headers=COUNTY_OFFICER, timeout=60
                ) as r,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=asst), base_url="http://asst", headers=COUNTY_OFFICER, timeout=60
                ) as a,
            ):
                yield Stack(r, a, url, pool, registration_pool, AssistanceReactions(streams_for(asst_settings)))
        finally:
            await pool.close()
            await registration_pool.close()


async def certify(stack: Stack, person_id: str, **application: Any) -> tuple[str, str]:
    """Take a person through all three levels; (application id, certification id).

    Applied 30 days ago, reviewed 25 days ago, decided today: the notice of 5 working days has ended
    even across the National Day holiday.
    """
    today = date.today()
    body = {"person_id": person_id, "applied_on": str(today - timedelta(days=30)), **application}
    applied = await stack.assistance.post("/hard-to-employ/applications", json=body, headers=VILLAGE_CLERK)
    assert applied.status_code == 201, applied.text
    application_id = str(applied.json()["id"])
    reviewed = await stack.assistance.post(
        f"/hard-to-employ/applications/{application_id}/review",
        json={"passed": True, "reviewed_on": str(today - timedelta(days=25))},
        headers=TOWNSHIP_CLERK,
    )
    assert reviewed.status_code == 200, reviewed.text
    decided = await stack.assistance.post(
        f"/hard-to-employ/applications/{application_id}/decision", json={"certify": True}, headers=COUNTY_OFFICER
    )
    assert decided.status_code == 200, decided.text
    return application_id, str(decided.json()["events"][0]["data"]["certification_id"])
