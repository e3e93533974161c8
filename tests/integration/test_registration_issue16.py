"""Issue 16 through the registration API (real Postgres, in-process ASGI): identity documents, credit code
segments, the women's retirement group and holiday-aware report deadlines (docs/rules.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest

from contracts.identifiers import citizen_id_check_character, credit_code_check_character
from services.runtime.workdays import WorkdayCalendar
from tests.integration.registration_client import registration_client as fresh_registration
from tests.integration.registration_client import token

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"


def with_check(body17: str) -> str:
    return body17 + citizen_id_check_character(body17)


def rows(client, query: str, *params) -> list[tuple]:
    with psycopg.connect(client.database_url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with fresh_registration(infra, headers=token()) as http:
        yield http


async def register(client, number: str, **extra) -> httpx.Response:
    return await client.post("/persons", json={"id_number": number, "name": "测试", "region_code": VILLAGE, **extra})


# --- item 5: identity documents --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "document"),
    [
        ("43052719900307001", "resident_id"),
        ("81000019900307003", "hk_macao_residence_permit"),
        ("83000019900307005", "taiwan_residence_permit"),
        ("91184019900307007", "foreign_permanent_residence_id"),
    ],
)
async def test_every_accepted_document_is_registered_with_its_type(client, body, document):
    created = await register(client, with_check(body))
    assert created.status_code == 201, created.text
    assert created.json()["id_document_type"] == document
    read = await client.get(f"/persons/{created.json()['person_id']}")
    assert read.json()["id_document_type"] == document
    [(data,)] = rows(client, "SELECT data FROM registration.events WHERE type = 'PersonRegistered'")
    assert data["id_document_type"] == document


@pytest.mark.parametrize("body", ["83052719900307005", "82010019900307005", "99184019900307007"])
async def test_a_number_no_document_uses_is_422_naming_the_field_and_rule_and_writes_nothing(client, body):
    refused = await register(client, with_check(body))
    assert refused.status_code == 422
    assert (refused.json()["field"], refused.json()["rule"]) == ("id_number", "CitizenIdValid")
    assert rows(client, "SELECT count(*) FROM registration.events") == [(0,)]


# --- item 4: credit code segments ------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["9143052AMA4L00001", "94430527MA4L00001", "B1430527MA4L00001"])
async def test_a_credit_code_with_impossible_segments_is_422_even_with_a_legacy_check(client, body):
    for code in (body + credit_code_check_character(body), body + "0"):
        refused = await client.post(
            "/employers", json={"credit_code": code, "name": "厂", "region_code": "430527100000"}
        )
        assert refused.status_code == 422, refused.text
        assert (refused.json()["field"], refused.json()["rule"]) == ("credit_code", "CreditCodeValid")
    assert rows(client, "SELECT count(*) FROM registration.events") == [(0,)]


# --- item 1: the retirement group ------------------------------------------------------------------------

#: A woman born 1975-01-05: as a worker she retired on 2025-02-05; as a cadre she works until 2031-05-05.
WOMAN_1975 = "43052719750105002"


async def test_a_woman_worker_past_her_retirement_date_is_refused_unemployment_registration(client):
    worker = await register(client, with_check(WOMAN_1975), retirement_group="worker")
    assert worker.status_code == 201 and worker.json()["retirement_group"] == "worker"
    refused = await client.post(f"/persons/{worker.json()['person_id']}/unemployment", json={})
    assert refused.status_code == 422
    assert refused.json()["rule"] == "RegistrationIsForWorkingAge" and "2025-02-05" in refused.json()["detail"]

    cadre = await register(client, with_check("43052719750105004"), retirement_group="cadre")
    accepted = await client.post(f"/persons/{cadre.json()['person_id']}/unemployment", json={})
    assert accepted.status_code == 200 and accepted.json()["status"] == "registered_unemployed"


async def test_a_correction_records_the_group_and_working_age_follows_it(client):
    created = (await register(client, with_check(WOMAN_1975))).json()
    assert created["retirement_group"] is None
    corrected = await client.post(
        f"/persons/{created['person_id']}/corrections",
        json={"retirement_group": "worker", "reason": "原为工人身份"},
        headers={"If-Match": '"1"'},
    )
    assert corrected.status_code == 200, corrected.text
    assert (await client.get(f"/persons/{created['person_id']}")).json()["retirement_group"] == "worker"
    refused = await client.post(f"/persons/{created['person_id']}/unemployment", json={})
    assert refused.status_code == 422 and refused.json()["rule"] == "RegistrationIsForWorkingAge"


async def test_a_retirement_group_for_a_man_is_422_and_writes_nothing(client):
    refused = await register(client, with_check("43052719900307001"), retirement_group="worker")
    assert refused.status_code == 422
    assert (refused.json()["field"], refused.json()["rule"]) == ("retirement_group", "RetirementGroupIsForWomen")
    assert rows(client, "SELECT count(*) FROM registration.persons") == [(0,)]


# --- item 2: report deadlines on the official calendar ----------------------------------------------------


async def test_a_hire_due_on_national_day_is_on_time_on_the_first_working_day_after(client):
    pid = (await register(client, with_check("43052719900307001"))).json()["person_id"]
    hired = await client.post(
        f"/persons/{pid}/employment", json={"kind": "flexible", "started_on": "2025-09-01", "reported_on": "2025-10-09"}
    )
    assert hired.status_code == 200, hired.text
    [event] = hired.json()["events"]
    assert (event["data"]["report_deadline"], event["data"]["reported_late"]) == ("2025-10-09", False)
    assert event["data"]["report_deadline_provisional"] is False


async def test_the_override_file_setting_decides_a_deadline_in_a_year_the_library_does_not_know(infra, tmp_path: Path):
    # Started 2026-12-02: the 30th day is 2027-01-01.
    hire = {"kind": "flexible", "started_on": "2026-12-02"}
    async with fresh_registration(infra, headers=token()) as plain:
        pid = (await register(plain, with_check("43052719900307001"))).json()["person_id"]
        [event] = (await plain.post(f"/persons/{pid}/employment", json=hire)).json()["events"]
    known = 2027 in WorkdayCalendar.official().official_years
    assert event["data"]["report_deadline_provisional"] is (not known)

    overrides = tmp_path / "workdays.yaml"
    overrides.write_text('2027:\n  holidays: ["2027-01-01"]\n  workdays: []\n', encoding="utf-8")
    async with fresh_registration(infra, headers=token(), workday_overrides=overrides) as configured:
        pid = (await register(configured, with_check("43052719900307001"))).json()["person_id"]
        [event] = (await configured.post(f"/persons/{pid}/employment", json=hire)).json()["events"]
    assert (event["data"]["report_deadline"], event["data"]["report_deadline_provisional"]) == ("2027-01-04", False)
    assert date.fromisoformat(event["data"]["report_deadline"]).weekday() == 0


async def test_a_household_snapshot_counts_a_woman_worker_past_her_date_out_of_working_age(client):
    # The snapshot is built from the persons table, so the group must be stored there too.
    worker = (await register(client, with_check(WOMAN_1975), retirement_group="worker")).json()["person_id"]
    cadre = (await register(client, with_check("43052719750105004"), retirement_group="cadre")).json()["person_id"]
    created = await client.post(
        "/households",
        json={
            "region_code": VILLAGE,
            "members": [{"person_id": cadre, "relation": "head"}, {"person_id": worker, "relation": "sibling"}],
        },
    )
    assert created.status_code == 201, created.text
    assert {m["person_id"]: m["working_age"] for m in created.json()["members"]} == {cadre: True, worker: False}
    assert rows(client, "SELECT retirement_group FROM registration.persons ORDER BY retirement_group") == [
        ("cadre",),
        ("worker",),
    ]
