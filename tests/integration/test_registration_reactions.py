"""Registration's reactions on the real broker and Postgres: a placement (assistance ``PlacedInJob``)
records employment once however often it is delivered; a death report (insurance ``DeathReported``)
closes the entry; an unknown person is dead-lettered and the rest still applied."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from contracts.assistance import PlacedInJob
from contracts.insurance import DeathReported
from services.registration.commands.context import Ledger
from services.registration.reactions import RegistrationReactions
from services.runtime import kafka
from services.runtime.consumer import EventConsumer, dead_letter_count
from services.runtime.db import open_pool
from services.runtime.eventstore import EventStore
from services.runtime.pii import PiiVault
from tests.integration.helpers import envelope, eventually
from tests.integration.registration_client import SECRET
from tests.integration.test_registration_persons import (
    TODAY,
    VILLAGE,
    events_of,
    id_number,
    register,
    registration_client,
)

pytestmark = pytest.mark.integration

client = registration_client


def placement(person_id: str, **overrides):
    event = PlacedInJob(
        case_id="case-1",
        person_id=person_id,
        region_code=VILLAGE,
        kind="public_welfare_post",
        started_on=TODAY - timedelta(days=2),
        placed_on=TODAY,
        **overrides,
    )
    return envelope(
        event.event_type,
        stream_id="case-1",
        stream_type="assistance_case",
        region=VILLAGE,
        **event.model_dump(mode="json"),
    )


def death_report(person_id: str):
    event = DeathReported(person_id=person_id, region_code=VILLAGE, died_on=TODAY, reported_on=TODAY)
    return envelope(
        event.event_type,
        stream_id=person_id,
        stream_type="insured_person",
        region=VILLAGE,
        **event.model_dump(mode="json"),
    )


async def publish(bootstrap: str, topic: str, envelopes) -> None:
    await kafka.ensure_topics(bootstrap, [(topic, 3)])
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(topic, key=env.stream_id.encode(), value=env.model_dump_json().encode())
    finally:
        await producer.stop()


async def test_placements_and_death_reports_reach_the_ledger_once(client, infra, topic_name):
    placed = (await register(client, id_number(sequence=1)))["person_id"]
    dying = (await register(client, id_number(sequence=3)))["person_id"]
    already_dead = (await register(client, id_number(sequence=5)))["person_id"]
    await client.post(f"/persons/{already_dead}/death", json={"died_on": str(TODAY)})
    job = placement(placed)
    unknown = placement("00000000-0000-4000-8000-000000000000")
    # A relay crash can publish the same event twice; the inbox must keep the second out.
    await publish(
        infra.bootstrap_servers,
        topic_name,
        [job, death_report(dying), unknown, job, death_report(already_dead)],
    )

    pool = open_pool(client.database_url, "registration", min_size=1, max_size=4)
    await pool.open(wait=True)
    ledger = Ledger(EventStore(), PiiVault("pii-" + SECRET))
    consumer = EventConsumer(
        pool,
        RegistrationReactions(ledger),
        [topic_name],
        infra.bootstrap_servers,
        group_id=topic_name,
        retry_backoff=0.01,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def settled() -> bool:
        async with pool.connection() as conn:
            dead = await dead_letter_count(conn, "registration.reactions")
        statuses = [(await client.get(f"/persons/{p}")).json()["status"] for p in (placed, dying)]
        return dead == 1 and statuses == ["employed", "deceased"]

    try:
        await eventually(settled, timeout=60)
        await asyncio.sleep(0.5)  # let the redelivered placement arrive, if it were to change anything
    finally:
        stop.set()
        await task
        await pool.close()

    hires = [data for kind, data in events_of(client, placed) if kind == "EmploymentRegistered"]
    assert len(hires) == 1
    assert (hires[0]["source"], hires[0]["kind"], hires[0]["reported_late"]) == (
        "assistance",
        "public_welfare_post",
        False,
    )
    history = (await client.get(f"/persons/{placed}/history")).json()["entries"]
    assert (history[-1]["actor"], history[-1]["causation_id"]) == ("assistance", str(job.event_id))
    [died] = [data for kind, data in events_of(client, dying) if kind == "PersonDied"]
    assert died["source"] == "insurance"
    # A death registration already knew of is not recorded twice, nor dead-lettered.
    assert [kind for kind, _ in events_of(client, already_dead)] == ["PersonRegistered", "PersonDied"]
