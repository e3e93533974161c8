"""Insurance over real HTTP, Postgres and event store: enrolment, scope and versions, bad input that writes
nothing. Registration's facts arrive through the worker's own handler (the broker path is
``test_insurance_reactions.py``). The helpers here are shared by the other ``test_insurance_*`` modules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from contracts import registration as reg
from contracts.envelope import Event
from services.insurance.app import InsuranceSettings
from services.insurance.app import create_app as insurance_app
from services.insurance.reactions import InsuranceReactions
from tests.factories import envelope
from tests.integration.helpers import fresh_database
from tests.integration.registration_client import SECRET, token

pytestmark = pytest.mark.integration

TODAY = date.today()
VILLAGE = "430527100201"
OTHER_VILLAGE = "430527101201"
TOWNSHIP = "430527100000"


def month(offset: int) -> str:
    """The month ``offset`` months from this one (negative: earlier)."""
    index = TODAY.year * 12 + TODAY.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class Insurance:
    """A client of a fresh insurance API, and a way to hand it registration's and assistance's events."""

    def __init__(self, http: httpx.AsyncClient, app: Any, database_url: str) -> None:
        self.http = http
        self.app = app
        self.database_url = database_url
        self.reactions = InsuranceReactions(app.state.insured)

    async def feed(self, *events: Event, stream_id: str | None = None) -> None:
        """Apply other services' events as the worker would, in one transaction."""
        envelopes = [
            envelope(
                e.event_type,
                stream_id=stream_id or str(getattr(e, "person_id", None) or getattr(e, "employer_id", "s")),
                stream_type=e.stream_type,
                region=getattr(e, "region_code", None) or VILLAGE,
                **e.model_dump(mode="json"),
            )
            for e in events
        ]
        async with self.app.state.renshe.pool.connection() as conn, conn.transaction():
            await self.reactions.apply(conn, envelopes)

    def events(self, type_: str) -> list[dict[str, Any]]:
        """The data of every stored event of a type, in order."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT data FROM insurance.events WHERE type = %s ORDER BY position", (type_,)
            ).fetchall()
        return [row[0] for row in rows]

    def count(self, sql: str) -> int:
        """One number from the service's schema."""
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute(sql).fetchone()
        assert row is not None
        return int(row[0])

    async def person(self, region: str = VILLAGE, status: reg.EmploymentStatus = "not_in_labour_force") -> str:
        """A person registration reported."""
        person_id = str(uuid.uuid4())
        await self.feed(
            reg.PersonRegistered(
                person_id=person_id, sex="male", birth_date=date(1980, 5, 1), region_code=region, status=status
            )
        )
        return person_id

    async def employer(self, region: str = TOWNSHIP) -> str:
        """An employer registration reported."""
        employer_id = str(uuid.uuid4())
        await self.feed(
            reg.EmployerRegistered(
                employer_id=employer_id, credit_code="91350100M000100Y43", name="绥宁县竹木加工厂", region_code=region
            )
        )
        return employer_id

    async def unemployed(self, registered_on: date, *, involuntary: bool = True, region: str = VILLAGE) -> str:
        """A person whose job ended and who registered as unemployed."""
        person_id = await self.person(region, "employed")
        await self.feed(
            reg.UnemploymentRegistered(
                person_id=person_id,
                previous_status="employed",
                registered_on=registered_on,
                involuntary=involuntary,
                last_employment_end_reason="dismissed" if involuntary else "resigned",
            )
        )
        return person_id

    async def enrol(self, person_id: str, insurance_type: str, employer_id: str | None = None, **extra: Any) -> dict:
        body = {
            "insurance_type": insurance_type,
            "basis": "employer" if employer_id else "flexible",
            "employer_id": employer_id,
            "enrolled_on": str(extra.pop("enrolled_on", TODAY - timedelta(days=800))),
        }
        response = await self.http.post(f"/persons/{person_id}/enrolments", json=body, headers=token(), **extra)
        assert response.status_code == 201, response.text
        return response.json()

    async def post_file(self, rows: Sequence[Sequence[Any]], for_month: str, **headers: str) -> httpx.Response:
        """Post a contribution file (CSV) of ``rows`` for a month."""
        lines = ["person_id,insurance_type,employer_id,base,employer_part,personal_part"]
        lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
        data = ("\n".join(lines) + "\n").encode()
        return await self.http.post(
            "/contributions/files",
            files={"file": ("contributions.csv", data, "text/csv")},
            data={"month": for_month},
            headers={**token(), **headers},
        )

    async def contributions(self, person_id: str, months: int, employer_id: str | None = None) -> None:
        """``months`` months of unemployment-insurance contributions ending last month."""
        for offset in range(-months, 0):
            row = (person_id, "unemployment", employer_id, "5000.00", "25.00", "25.00")
            response = await self.post_file([row], month(offset))
            assert response.status_code == 201 and response.json()["posted"] == 1, response.text


@asynccontextmanager
async def insurance(infra: Any, **settings: Any) -> AsyncIterator[Insurance]:
    """A fresh insurance API on its own database of the test Postgres."""
    url = fresh_database(infra, "ins")
    app = insurance_app(
        InsuranceSettings(
            database_url=url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(SECRET), **settings
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as http:
            yield Insurance(http, app, url)


@pytest.fixture
async def ins(infra) -> AsyncIterator[Insurance]:
    async with insurance(infra) as client:
        yield client


# --- enrolment ------------------------------------------------------------------------------------------


async def test_enrolment_answers_with_its_version_and_a_second_one_of_the_type_is_refused(ins):
    person_id = await ins.person()
    employer_id = await ins.employer()
    created = await ins.enrol(person_id, "enterprise_pension", employer_id)
    assert created["version"] == 1 and created["events"][0]["type"] == "InsuranceEnrolled"
    read = await ins.http.get(f"/persons/{person_id}/insurance", headers=token())
    assert read.headers["etag"] == '"1"'
    assert read.json()["enrolments"][0]["employer_id"] == employer_id
    twice = await ins.http.post(
        f"/persons/{person_id}/enrolments",
        json={"insurance_type": "enterprise_pension", "basis": "flexible", "enrolled_on": str(TODAY)},
        headers=token(),
    )
    assert twice.status_code == 422
    assert (twice.json()["rule"], twice.json()["field"]) == ("OneOpenEnrolmentPerType", "insurance_type")
    assert len(ins.events("InsuranceEnrolled")) == 1


async def test_suspension_needs_a_reason_and_a_stale_version_is_a_conflict(ins):
    person_id = await ins.person()
    await ins.enrol(person_id, "medical")
    url = f"/persons/{person_id}/enrolments/medical/suspension"
    no_reason = await ins.http.post(url, json={"on": str(TODAY)}, headers=token())
    assert (no_reason.status_code, no_reason.json()["rule"]) == (422, "ReasonGiven")
    stale = await ins.http.post(
        url, json={"on": str(TODAY), "reason": "外出务工"}, headers={**token(), "If-Match": '"7"'}
    )
    assert stale.status_code == 409
    suspended = await ins.http.post(
        url, json={"on": str(TODAY), "reason": "外出务工"}, headers={**token(), "If-Match": '"1"'}
    )
    assert suspended.status_code == 200 and suspended.headers["etag"] == '"2"'
    ended = await ins.http.post(
        f"/persons/{person_id}/enrolments/medical/termination",
        json={"on": str(TODAY), "reason": "迁出"},
        headers=token(),
    )
    assert ended.json()["insurance"]["enrolments"] == []
    assert ins.count("SELECT count(*) FROM insurance.enrolments") == 0


async def test_unknown_person_or_employer_and_scope_are_refused_and_write_nothing(ins):
    person_id = await ins.person()
    unknown = await ins.http.post(
        f"/persons/{uuid.uuid4()}/enrolments",
        json={"insurance_type": "medical", "basis": "flexible", "enrolled_on": str(TODAY)},
        headers=token(),
    )
    assert (unknown.status_code, unknown.json()["field"]) == (404, "person_id")
    no_employer = await ins.http.post(
        f"/persons/{person_id}/enrolments",
        json={"insurance_type": "unemployment", "basis": "employer", "employer_id": "x", "enrolled_on": str(TODAY)},
        headers=token(),
    )
    assert (no_employer.status_code, no_employer.json()["field"]) == (422, "employer_id")
    future = await ins.http.post(
        f"/persons/{person_id}/enrolments",
        json={"insurance_type": "medical", "basis": "flexible", "enrolled_on": str(TODAY + timedelta(days=1))},
        headers=token(),
    )
    assert (future.status_code, future.json()["field"]) == (422, "enrolled_on")
    body = {"insurance_type": "medical", "basis": "flexible", "enrolled_on": str(TODAY)}
    elsewhere = await ins.http.post(
        f"/persons/{person_id}/enrolments", json=body, headers=token("township", OTHER_VILLAGE[:9] + "000")
    )
    assert elsewhere.status_code == 403
    analyst = await ins.http.get(f"/persons/{person_id}/insurance", headers=token("analyst"))
    assert analyst.status_code == 403
    assert ins.count("SELECT count(*) FROM insurance.events") == 0


async def test_an_idempotency_key_replays_the_first_answer(ins):
    person_id = await ins.person()
    body = {"insurance_type": "medical", "basis": "flexible", "enrolled_on": str(TODAY)}
    headers = {**token(), "Idempotency-Key": "k-1"}
    first = await ins.http.post(f"/persons/{person_id}/enrolments", json=body, headers=headers)
    again = await ins.http.post(f"/persons/{person_id}/enrolments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert len(ins.events("InsuranceEnrolled")) == 1


async def test_lists_name_a_bad_region_and_keep_to_the_callers_scope(ins):
    bad = await ins.http.get("/regions/43x527/enrolment-expectations/overdue", headers=token())
    assert (bad.status_code, bad.json()["field"]) == (422, "region_code")
    outside = await ins.http.get(
        "/regions/430527101000/retirees/certification-due", headers=token("township", TOWNSHIP)
    )
    assert outside.status_code == 403
    analyst = await ins.http.get("/regions/430527/retirees/certification-due", headers=token("analyst"))
    assert analyst.status_code == 403
