"""End to end: other services' events reach the ledger through the registration worker process.

An assistance placement published on ``assistance.events`` becomes an employment registration; an
insurance death report on ``insurance.events`` closes the entry. Both are visible over HTTP, in the
person's status and history."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import httpx
import pytest

from contracts.assistance import PlacedInJob
from contracts.identifiers import citizen_id_check_character
from contracts.insurance import DeathReported
from contracts.topics import ASSISTANCE_EVENTS, INSURANCE_EVENTS
from services.runtime import kafka
from tests.factories import envelope

pytestmark = pytest.mark.e2e

VILLAGE = "430527100201"


async def publish(bootstrap: str, topic: str, event, stream_type: str, stream_id: str) -> str:
    env = envelope(
        event.event_type, stream_id=stream_id, stream_type=stream_type, region=VILLAGE, **event.model_dump(mode="json")
    )
    await kafka.ensure_topics(bootstrap, [(topic, 6)])
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=stream_id.encode(), value=env.model_dump_json().encode())
    finally:
        await producer.stop()
    return str(env.event_id)


async def status_becomes(client: httpx.AsyncClient, person_id: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (current := (await client.get(f"/persons/{person_id}")).json()["status"]) != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"status is {current}, not {status}, after {timeout}s")
        await asyncio.sleep(0.3)


async def test_a_placement_and_a_death_report_reach_the_ledger(stack):
    body = "43052719920415003"
    number = body + citizen_id_check_character(body)
    bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    async with httpx.AsyncClient(base_url=stack.env["REGISTRATION_URL"], headers=stack.headers, timeout=30) as client:
        created = await client.post("/persons", json={"id_number": number, "name": "陈静", "region_code": VILLAGE})
        assert created.status_code == 201, created.text
        pid = created.json()["person_id"]

        today = date.today()
        placed = PlacedInJob(
            case_id="case-e2e",
            person_id=pid,
            region_code=VILLAGE,
            kind="public_welfare_post",
            started_on=today - timedelta(days=1),
            placed_on=today,
        )
        placement_id = await publish(bootstrap, ASSISTANCE_EVENTS.name, placed, "assistance_case", "case-e2e")
        await status_becomes(client, pid, "employed")

        report = DeathReported(person_id=pid, region_code=VILLAGE, died_on=today, reported_on=today)
        await publish(bootstrap, INSURANCE_EVENTS.name, report, "insured_person", pid)
        await status_becomes(client, pid, "deceased")

        history = (await client.get(f"/persons/{pid}/history")).json()["entries"]
        assert [e["type"] for e in history] == ["PersonRegistered", "EmploymentRegistered", "PersonDied"]
        assert history[1]["data"]["source"] == "assistance" and history[1]["causation_id"] == placement_id
        assert history[2]["data"]["source"] == "insurance" and history[2]["actor"] == "insurance"
