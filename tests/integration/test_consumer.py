"""The aiokafka driver's own behaviour: the inbox's answer by place, deduplication in memory, dead letters
over HTTP. What both drivers promise (order, redelivery, poison, restart) is in test_consumer_drivers.py."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import ConsumerRecord

from services.runtime import kafka
from services.runtime.consumer import EventConsumer, dead_letter_count
from tests.integration.helpers import envelope, eventually

pytestmark = pytest.mark.integration


class Recorder:
    """A handler that counts each event it applies and refuses events marked poison."""

    name = "test.recorder"

    async def apply(self, conn, events):
        for event in events:
            if event.data.get("poison"):
                raise ValueError("poison pill: cannot apply")
        await conn.execute(
            "INSERT INTO applied (event_id, n) SELECT * FROM unnest(%s::uuid[], %s::int[])",
            ([e.event_id for e in events], [e.data["n"] for e in events]),
        )


@pytest.fixture
async def applied_table(pool):
    async with pool.connection() as conn:
        await conn.execute("CREATE TABLE applied (event_id uuid, n int)")


async def produce(infra, topic: str, envelopes, times: int = 1) -> None:
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic, 3)])
    producer = kafka.producer(infra.bootstrap_servers)
    await producer.start()
    try:
        for _ in range(times):
            for env in envelopes:
                await producer.send_and_wait(topic, key=env.stream_id.encode(), value=env.model_dump_json().encode())
    finally:
        await producer.stop()


async def count(pool, sql: str) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(sql)).fetchone()
    return int(row[0])


async def run_until(consumer: EventConsumer, check) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(check, timeout=60)
    finally:
        stop.set()
        await task


async def test_dead_letters_are_listable_over_http(infra, pool, topic_name):
    import httpx
    from pydantic import SecretStr

    from services.reporting.app import ReportingSettings
    from services.reporting.app import create_app as reporting_app
    from services.runtime.auth import issue_token

    secret = "dlq-secret-0123456789abcdef0123456789"
    settings = ReportingSettings(
        database_url=infra.database_url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(secret)
    )
    app = reporting_app(settings)
    transport = httpx.ASGITransport(app=app)

    def bearer(role: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + issue_token(secret, subject=role, role=role, region="430527")}

    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO reporting.dead_letters (consumer, topic, partition, log_offset, error, payload)"
                " VALUES ('reporting.projection', %s, 0, 7, 'ValueError: boom', '{}')",
                (topic_name,),
            )
        try:
            listed = (await http.get("/dead-letters", headers=bearer("admin"))).json()
            assert any(d["topic"] == topic_name and d["error"] == "ValueError: boom" for d in listed["dead_letters"])
            assert (await http.get("/dead-letters", headers=bearer("analyst"))).status_code == 403
        finally:
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM reporting.dead_letters WHERE topic = %s", (topic_name,))


def _records(topic: str, envelopes) -> list[ConsumerRecord]:
    return [
        ConsumerRecord(topic, 0, offset, 0, 0, e.stream_id.encode(), e.model_dump_json().encode(), None, 0, 0, [])
        for offset, e in enumerate(envelopes)
    ]


async def test_a_batch_mixing_applied_and_new_events_applies_exactly_the_new_ones(pool, infra, applied_table):
    """The inbox names the places of the events it already holds; the handler gets the others, in order."""
    envelopes = [envelope(stream_id=f"s{i}", n=i) for i in range(10)]
    consumer = EventConsumer(pool, Recorder(), ["t.mixed"], infra.bootstrap_servers, pausable=False)
    await consumer.process(_records("t.mixed", envelopes[2:7:2]))  # n = 2, 4, 6
    await consumer.process(_records("t.mixed", [*envelopes, envelopes[3]]))  # all ten, one twice
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT n FROM applied ORDER BY ctid")).fetchall()
    assert [r[0] for r in rows] == [2, 4, 6, 0, 1, 3, 5, 7, 8, 9]
    assert consumer.applied_total == 10


async def test_deduping_in_memory_skips_redeliveries_and_adds_every_id_to_the_inbox_once(pool, infra, applied_table):
    """As in a rebuild: redeliveries are told from memory, and each batch's ids reach the inbox by COPY, in
    the batch's transaction: every applied or dead-lettered id exactly once (a second copy would fail COPY)."""
    envelopes = [envelope(stream_id=f"s{i}", n=i) for i in range(10)]
    poison = envelope(stream_id="bad", n=99, poison=True)
    consumer = EventConsumer(
        pool, Recorder(), ["t.memory"], infra.bootstrap_servers, pausable=False, retry_backoff=0.01
    )
    consumer.dedupe_in_memory()
    await consumer.process(_records("t.memory", envelopes[:4]))
    assert await count(pool, "SELECT count(*) FROM inbox") == 4
    await consumer.process(_records("t.memory", [*envelopes, envelopes[5], poison]))
    await consumer.process(_records("t.memory", [envelopes[9], poison, envelopes[2]]))
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT n FROM applied ORDER BY ctid")).fetchall()
        inbox = await (await conn.execute("SELECT consumer, event_id FROM inbox")).fetchall()
        dead = await dead_letter_count(conn, "test.recorder")
    assert [r[0] for r in rows] == list(range(10))
    assert sorted(str(event_id) for _, event_id in inbox) == sorted(str(e.event_id) for e in [*envelopes, poison])
    assert {name for name, _ in inbox} == {"test.recorder"}
    assert dead == 1
    assert consumer.applied_total == 10
