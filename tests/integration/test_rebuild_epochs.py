"""A rebuild reads a log the relay republished into after a loss, and applies each stream's events in order.

After a broker loss a partition can hold, ahead of the relay's republication, what the relay wrote there under
the old epoch before it noticed (the fault suite's live figures and its rebuild then disagreed on a few
villages' ``employed``: one of them applied a hire before its person's registration). The live workers leave
those records to the republication (``EpochGuard``); the rebuild must too, from the partition's newest epoch.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.envelope import EventEnvelope
from services.runtime import kafka
from services.runtime.outbox import EPOCH_HEADER, POSITION_HEADER
from services.runtime.rebuild import Rebuild

pytestmark = pytest.mark.integration


class Recorder:
    """A rebuildable handler that records each event it applies, in order."""

    name = "test.rebuild_epochs"

    async def apply(self, conn, events):
        await conn.execute(
            "INSERT INTO applied (stream_id, version) SELECT * FROM unnest(%s::text[], %s::int[])",
            ([e.stream_id for e in events], [e.version for e in events]),
        )

    async def reset(self, conn):
        await conn.execute("TRUNCATE applied")


def envelope(event_id: uuid.UUID, stream: str, version: int) -> bytes:
    now = datetime.now(UTC)
    return (
        EventEnvelope(
            event_id=event_id,
            type="PersonRegistered" if version == 1 else "EmploymentRegistered",
            schema_version=1,
            stream_type="person",
            stream_id=stream,
            version=version,
            occurred_at=now,
            recorded_at=now,
            data={},
        )
        .model_dump_json()
        .encode()
    )


async def test_a_rebuild_leaves_what_a_newer_epoch_republishes_to_the_republication(pool, infra, topic_name):
    async with pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE applied (seq bigint GENERATED ALWAYS AS IDENTITY, stream_id text, version int)"
        )
    registered, hired = uuid.uuid4(), uuid.uuid4()
    # One partition, in log order: the hire (position 2) the relay wrote under epoch 0 before it noticed the loss,
    # then its republication of everything after position 0 as epoch 1: the registration, then the hire again.
    log = [(hired, 2, 2, b"0:0"), (registered, 1, 1, b"1:0"), (hired, 2, 2, b"1:0")]
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic_name, 1)])
    producer = kafka.producer(infra.bootstrap_servers)
    await producer.start()
    try:
        for event_id, version, position, epoch in log:
            headers = [(POSITION_HEADER, str(position).encode()), (EPOCH_HEADER, epoch)]
            await (await producer.send(topic_name, envelope(event_id, "p1", version), key=b"p1", headers=headers))
    finally:
        await producer.stop()

    report = await Rebuild(pool, Recorder(), [topic_name], infra.bootstrap_servers).run()

    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT stream_id, version FROM applied ORDER BY seq")
        rows = [(str(s), int(v)) for s, v in await cursor.fetchall()]
    assert rows == [("p1", 1), ("p1", 2)], "the hire applied before the registration it follows"
    assert report.applied == 2
