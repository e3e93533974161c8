"""Assistance's reactions on the real broker: registration's relay publishes its store to a topic,
assistance's consumer opens cases and detects the household once however often events are delivered,
and assistance's own relay publishes ``PlacedInJob`` and the household's clearing to its topic."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import pytest

from contracts.topics import Topic
from services.runtime import kafka
from services.runtime.consumer import EventConsumer
from services.runtime.relay import OutboxRelay
from tests.integration.assistance_client import TOWNSHIP_CLERK, assistance_stack
from tests.integration.helpers import eventually, read_topic

pytestmark = pytest.mark.integration


async def test_registration_events_reach_assistance_through_the_broker_once(infra) -> None:
    registration_topic = Topic(f"test.reg.{uuid.uuid4().hex[:8]}", "registration", "registration events under test")
    assistance_topic = Topic(f"test.asst.{uuid.uuid4().hex[:8]}", "assistance", "assistance events under test")
    async with assistance_stack(infra) as stack:
        first, second = await stack.person(), await stack.person(sex="female")
        household = await stack.household(first, second)
        relay = OutboxRelay(stack.registration_pool, registration_topic, infra.bootstrap_servers, idle_sleep=0.01)
        outbox = OutboxRelay(stack.pool, assistance_topic, infra.bootstrap_servers, idle_sleep=0.01)
        consumer = EventConsumer(
            stack.pool,
            stack.reactions,
            [registration_topic.name],
            infra.bootstrap_servers,
            group_id=registration_topic.name,
            retry_backoff=0.01,
        )
        stop = asyncio.Event()
        tasks = [asyncio.create_task(loop.run(stop)) for loop in (relay, outbox, consumer)]

        async def household_detected() -> bool:
            response = await stack.assistance.get(f"/households/{household}/zero-employment")
            return response.status_code == 200 and response.json()["stage"] == "detected"

        try:
            await eventually(household_detected, timeout=60)
            case = await stack.case_of(first)
            await stack.assistance.post(
                f"/households/{household}/zero-employment/confirmation", json={}, headers=TOWNSHIP_CLERK
            )
            placed = await stack.assistance.post(
                f"/cases/{case['case_id']}/placement", json={"kind": "flexible", "started_on": str(date.today())}
            )
            assert placed.status_code == 200, placed.text

            async def published() -> bool:
                types = [
                    json.loads(v)["type"]
                    for *_, v in await read_topic(infra.bootstrap_servers, assistance_topic.name, idle_ms=300)
                ]
                return "PlacedInJob" in types and "ZeroEmploymentHouseholdCleared" in types

            await eventually(published, timeout=60)
            # A relay that crashed before recording its progress publishes everything again.
            producer = kafka.producer(infra.bootstrap_servers)
            await producer.start()
            try:
                for _, _, key, value in await read_topic(infra.bootstrap_servers, registration_topic.name):
                    await producer.send_and_wait(registration_topic.name, key=key, value=value)
            finally:
                await producer.stop()
            await asyncio.sleep(3)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    messages = await read_topic(infra.bootstrap_servers, assistance_topic.name)
    types = [json.loads(v)["type"] for *_, v in messages]
    assert types.count("CaseOpened") == 2
    assert types.count("ZeroEmploymentHouseholdDetected") == 1
    placed_event = next(json.loads(v) for *_, v in messages if json.loads(v)["type"] == "PlacedInJob")
    assert (placed_event["data"]["person_id"], placed_event["stream_type"]) == (first, "assistance_case")
