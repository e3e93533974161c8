"""What a consumer keeps in Postgres beside its handler's tables: the inbox, dead letters, progress, the pause.

The ``inbox`` holds the id of every event a consumer applied or dead-lettered, written in the handler's
transaction, so that a redelivered event changes nothing; ``dead_letters`` the events it gave up on;
``consumer_progress`` how far it got per partition (what ``GET /status`` compares with the broker) and the
newest log epoch it read there (``services.runtime.log_epochs``). The
pause is an advisory lock named after the consumer: its workers share it per batch, a rebuild takes it
alone (docs/adr/0002-consumer-runtime.md, docs/adr/0003-rebuild.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import ConsumerRecord, TopicPartition
from psycopg_pool import AsyncConnectionPool

from contracts.envelope import EventEnvelope
from services.runtime.db import Connection
from services.runtime.log_epochs import FIRST_EPOCH, LogEpoch

DDL = [
    """
    CREATE TABLE IF NOT EXISTS inbox (
        consumer   text        NOT NULL,
        event_id   uuid        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dead_letters (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        consumer    text        NOT NULL,
        topic       text        NOT NULL,
        partition   int         NOT NULL,
        log_offset  bigint      NOT NULL,
        event_id    uuid,
        event_type  text,
        error       text        NOT NULL,
        payload     text        NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS consumer_progress (
        consumer      text        NOT NULL,
        topic         text        NOT NULL,
        partition     int         NOT NULL,
        committed     bigint      NOT NULL,
        end_offset    bigint      NOT NULL,
        last_event_at timestamptz,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, topic, partition)
    )
    """,
    # The newest log epoch read on the partition (services.runtime.log_epochs), so that a restarted worker still
    # tells a log the broker replaced while it was down, or just before.
    "ALTER TABLE consumer_progress ADD COLUMN IF NOT EXISTS log_epoch int NOT NULL DEFAULT 0",
    "ALTER TABLE consumer_progress ADD COLUMN IF NOT EXISTS republished_after bigint NOT NULL DEFAULT 0",
]


#: Advisory-lock key of a consumer in the current schema; workers share it per batch, a rebuild takes it alone.
PAUSE_KEY = "hashtext(current_schema() || '/consumer/' || %s)"

_RECORD_PROGRESS = """
    INSERT INTO consumer_progress
        (consumer, topic, partition, committed, end_offset, last_event_at, log_epoch, republished_after)
    SELECT %s, * FROM unnest(
        %s::text[], %s::int[], %s::bigint[], %s::bigint[], %s::timestamptz[], %s::int[], %s::bigint[]
    )
    ON CONFLICT (consumer, topic, partition) DO UPDATE SET committed = excluded.committed,
        end_offset = excluded.end_offset, last_event_at = excluded.last_event_at, updated_at = now(),
        -- epochs only grow: a worker of the same group that has not met the newest one yet keeps it
        log_epoch = greatest(consumer_progress.log_epoch, excluded.log_epoch),
        republished_after = CASE WHEN excluded.log_epoch >= consumer_progress.log_epoch
            THEN excluded.republished_after ELSE consumer_progress.republished_after END
"""

_KNOWN_EPOCHS = """
    SELECT topic, partition, log_epoch, republished_after FROM consumer_progress
    WHERE consumer = %s AND topic = ANY(%s)
"""


#: Note a batch's event ids in the inbox; answers the (1-based) places in the list of those already there,
#: NULL when every one is new. Ids travel as one string of 32-hex-digit ids (which Postgres reads as
#: uuids): psycopg dumping a list of UUIDs, and loading ids back as UUIDs, cost more than the insert.
RECORD_IN_INBOX = """
    WITH ids AS (SELECT id, n FROM unnest(string_to_array(%s, ',')::uuid[]) WITH ORDINALITY AS t(id, n)),
    added AS (
        INSERT INTO inbox (consumer, event_id) SELECT %s, id FROM ids ON CONFLICT DO NOTHING RETURNING event_id
    )
    SELECT string_agg(n::text, ',') FROM ids WHERE id NOT IN (SELECT event_id FROM added)
"""


def copy_escaped(text: str) -> str:
    """``text`` as a field of COPY's text format."""
    for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(raw, escaped)
    return text


@dataclass(frozen=True)
class Progress:
    """How far a batch took one partition: every message below ``committed`` is applied."""

    topic: str
    partition: int
    committed: int
    end_offset: int
    last_event_at: datetime | None
    #: The newest log epoch read on the partition (``services.runtime.log_epochs``).
    epoch: LogEpoch = FIRST_EPOCH


def progress_of(
    records: Sequence[ConsumerRecord],
    ends: dict[TopicPartition, int | None],
    epochs: Mapping[tuple[str, int], LogEpoch] | None = None,
) -> list[Progress]:
    """The progress a batch of records makes, per partition; ``ends`` are the partitions' end offsets, ``epochs``
    the newest log epoch read on each (``EpochGuard.known``; epoch 0 where it is not given).

    Only each partition's last record counts: a caller that knows them may pass those alone."""
    last: dict[tuple[str, int], ConsumerRecord] = {}
    for record in records:
        key = (record.topic, record.partition)
        found = last.get(key)
        if found is None or record.offset > found.offset:
            last[key] = record
    return [
        Progress(
            topic,
            partition,
            record.offset + 1,
            max(record.offset + 1, ends.get(TopicPartition(topic, partition)) or 0),
            datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp is not None else None,
            (epochs or {}).get((topic, partition), FIRST_EPOCH),
        )
        for (topic, partition), record in sorted(last.items())
    ]


async def record_progress(conn: Connection, consumer: str, progress: Sequence[Progress]) -> None:
    """Upsert how far ``consumer`` got on each partition (one statement)."""
    if not progress:
        return
    await conn.execute(
        _RECORD_PROGRESS,
        (
            consumer,
            [p.topic for p in progress],
            [p.partition for p in progress],
            [p.committed for p in progress],
            [p.end_offset for p in progress],
            [p.last_event_at for p in progress],
            [p.epoch.epoch for p in progress],
            [p.epoch.republished_after for p in progress],
        ),
    )


async def known_epochs(conn: Connection, consumer: str, topics: Sequence[str]) -> dict[tuple[str, int], LogEpoch]:
    """The newest log epoch ``consumer`` has recorded reading on each partition of ``topics``."""
    cursor = await conn.execute(_KNOWN_EPOCHS, (consumer, list(topics)))
    return {(str(t), int(p)): LogEpoch(int(e), int(a)) for t, p, e, a in await cursor.fetchall()}


@contextlib.asynccontextmanager
async def consumer_paused(pool: AsyncConnectionPool, consumer: str) -> AsyncIterator[None]:
    """Hold every worker of ``consumer`` (in this pool's schema, in any process) before its next batch.

    Waits for a batch in flight to commit. The workers keep polling and heartbeating; their next batch
    waits on the lock and goes on when the block exits (the inbox then skips what was applied meanwhile).
    """
    async with pool.connection() as conn:
        await conn.execute(f"SELECT pg_advisory_lock({PAUSE_KEY})", (consumer,))
        try:
            yield
        finally:
            await conn.execute(f"SELECT pg_advisory_unlock({PAUSE_KEY})", (consumer,))


class Handler(Protocol):
    """What a projection or reaction provides: apply new events inside the consumer's transaction."""

    name: str

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Apply events that were never applied before; raise to refuse the batch."""
        ...


async def dead_letter_count(conn: Connection, consumer: str) -> int:
    """How many events a consumer has dead-lettered."""
    cursor = await conn.execute("SELECT count(*) FROM dead_letters WHERE consumer = %s", (consumer,))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0
