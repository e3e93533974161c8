"""Bad messages on a topic the reporting worker reads, under steady load: a poison message (a valid envelope
whose handler raises) and an undecodable one. Both are dead-lettered (``<topic>.dlq`` and ``dead_letters``),
listed by ``GET /dead-letters``, counted in the worker's metrics, and the worker goes on: every stored event
still reaches the figures exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.envelope import EventEnvelope
from contracts.topics import DEAD_LETTER_SUFFIX, REGISTRATION_EVENTS
from services.platform import SERVICES
from tests.e2e.conftest import RunningStack
from tests.faults.conftest import dead_letters, verify, with_load

#: In make test; slow_fault lets a developer skip it locally (test_consumer_drivers.py dead-letters per driver too).
pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.slow_fault]

REPORTING = next(s for s in SERVICES if s.name == "reporting")


def worker_metrics_url(stack: RunningStack) -> str:
    """The reporting worker's ops port: the stack's base port (Postgres's) plus the worker's offset."""
    base = int(stack.env["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    return f"http://127.0.0.1:{base + REPORTING.port('worker')}/metrics"


def metric(text: str, name: str, **labels: str) -> float:
    """A sample's value from Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}}") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def poison_envelope() -> EventEnvelope:
    """A PersonRegistered that decodes as an envelope but that the projection cannot fold."""
    now = datetime.now(UTC)
    return EventEnvelope(
        event_id=uuid.uuid4(),
        type="PersonRegistered",
        schema_version=1,
        stream_type="person",
        stream_id=str(uuid.uuid4()),
        version=1,
        region_code="430527100201",
        occurred_at=now,
        recorded_at=now,
        data={"categories": 5},  # the fold sorts a person's categories: TypeError
    )


async def test_poison_and_undecodable_messages_are_dead_lettered_and_the_worker_goes_on(fault_stack: RunningStack):
    poison = poison_envelope()
    undecodable = b"\xff not json {"
    bootstrap = fault_stack.env["KAFKA_BOOTSTRAP_SERVERS"]

    async def fault() -> AsyncIterator[None]:
        await asyncio.sleep(5)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                REGISTRATION_EVENTS.name, poison.model_dump_json().encode(), key=poison.stream_id.encode()
            )
            await producer.send_and_wait(REGISTRATION_EVENTS.name, undecodable, key=b"undecodable")
        finally:
            await producer.stop()
        yield None

    load = await with_load(fault_stack, fault)
    # Both are in the inbox (so never retried), the poison by its event id; verify waits for them.
    report = await verify(
        fault_stack, load, "a poison and an undecodable message", poison=frozenset({str(poison.event_id)}), dead=2
    )
    assert report.dead_letters == 2

    listed = dead_letters(fault_stack)
    assert len(listed) == 2, listed
    by_id = {row["event_id"]: row for row in listed}
    assert by_id[str(poison.event_id)]["event_type"] == "PersonRegistered"
    assert by_id[str(poison.event_id)]["topic"] == REGISTRATION_EVENTS.name
    assert any("undecodable" in str(row["error"]) for row in listed), listed

    async with httpx.AsyncClient(timeout=30) as http:
        text = (await http.get(worker_metrics_url(fault_stack))).text
    assert metric(text, "renshe_consumer_dead_letters_total", consumer="reporting.projection") == 2

    # Parked on the dead-letter topic, as they came.
    consumer = AIOKafkaConsumer(
        REGISTRATION_EVENTS.name + DEAD_LETTER_SUFFIX, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    values: set[bytes | None] = set()
    try:
        async with asyncio.timeout(120):
            while undecodable not in values or len(values) < 2:
                batches = await consumer.getmany(timeout_ms=2_000, max_records=10)
                values |= {record.value for records in batches.values() for record in records}
    finally:
        await consumer.stop()
    assert undecodable in values
    assert len(values) == 2
