"""Insurance's worker and relay on the real broker and Postgres: a hire published twice stops the benefit once;
a death report reaches ``insurance.events`` for registration; an event the rules refuse is dead-lettered and
the rest still applied."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from contracts import registration as reg
from contracts.topics import Topic
from services.insurance.reactions import InsuranceReactions
from services.runtime import kafka
from services.runtime.consumer import EventConsumer, dead_letter_count
from services.runtime.relay import OutboxRelay
from tests.factories import envelope
from tests.integration import test_insurance_api as support
from tests.integration.helpers import eventually, read_topic
from tests.integration.registration_client import token
from tests.integration.test_insurance_api import TODAY, VILLAGE
from tests.integration.test_insurance_benefits import hired

pytestmark = pytest.mark.integration

ins = support.ins


async def publish(bootstrap: str, topic: str, envelopes) -> None:
    await kafka.ensure_topics(bootstrap, [(topic, 3)])
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(topic, key=env.stream_id.encode(), value=env.model_dump_json().encode())
    finally:
        await producer.stop()


def wrapped(event, stream_id: str):
    return envelope(
        event.event_type, stream_id=stream_id, stream_type="person", region=VILLAGE, **event.model_dump(mode="json")
    )


async def test_a_hire_delivered_twice_stops_the_benefit_once_and_a_refused_event_is_dead_lettered(
    ins, infra, topic_name
):
    person = await ins.unemployed(TODAY - timedelta(days=20))
    employer = await ins.employer()
    await ins.enrol(person, "unemployment", employer)
    await ins.contributions(person, 12, employer)
    granted = await ins.http.post(f"/persons/{person}/unemployment-benefit", json={}, headers=token())
    assert granted.status_code == 201, granted.text
    hire = wrapped(hired(person, TODAY, employer), person)
    # A death of someone insurance never heard of, reported with no region: the rules cannot place it.
    unknown = envelope(
        reg.PersonDied.event_type,
        stream_id="nobody",
        region=None,
        person_id="00000000-0000-4000-8000-000000000000",
        previous_status="employed",
        died_on=str(TODAY),
    )
    await publish(infra.bootstrap_servers, topic_name, [hire, unknown, hire])
    pool = ins.app.state.renshe.pool
    consumer = EventConsumer(
        pool,
        InsuranceReactions(ins.app.state.insured),
        [topic_name],
        infra.bootstrap_servers,
        group_id=topic_name,
        retry_backoff=0.01,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def settled() -> bool:
        async with pool.connection() as conn:
            dead = await dead_letter_count(conn, "insurance.reactions")
        return dead == 1 and len(ins.events("UnemploymentBenefitStopped")) == 1

    try:
        await eventually(settled, timeout=60)
        await asyncio.sleep(0.5)  # let the redelivered hire arrive, if it were to change anything
    finally:
        stop.set()
        await task
    [stopped] = ins.events("UnemploymentBenefitStopped")
    assert (stopped["reason"], stopped["months_left"]) == ("reemployed", 12)
    # the employer enrolled the person in unemployment insurance already: no expectation opens
    assert ins.events("EnrolmentExpected") == []
    caused = f"SELECT count(*) FROM insurance.events WHERE metadata->>'causation_id' = '{hire.event_id}'"
    assert ins.count(caused) == 1


async def test_the_relay_publishes_a_death_report_for_registration(ins, infra, topic_name):
    person = await ins.person()
    report = await ins.http.post(f"/persons/{person}/death", json={"died_on": str(TODAY)}, headers=token())
    assert report.status_code == 201, report.text
    relay = OutboxRelay(ins.app.state.renshe.pool, Topic(topic_name, "insurance", "test"), infra.bootstrap_servers)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:

        async def published() -> bool:
            return any(
                json.loads(v)["type"] == "DeathReported"
                for _, _, _, v in await read_topic(infra.bootstrap_servers, topic_name, idle_ms=300)
            )

        await eventually(published, timeout=60)
    finally:
        stop.set()
        await task
    messages = [json.loads(v) for _, _, _, v in await read_topic(infra.bootstrap_servers, topic_name)]
    [death] = [m for m in messages if m["type"] == "DeathReported"]
    assert (death["stream_id"], death["stream_type"], death["data"]["person_id"]) == (person, "insured_person", person)
