"""How far a consumer is behind on each partition: what it recorded in Postgres against the broker's ends now.

``GET /status`` of a service with a worker shows it (docs/adr/0003-rebuild.md): Postgres is the truth of
what was applied (``consumer_progress``, written with the effects), the broker of what there is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.errors import KafkaError

from services.runtime import kafka
from services.runtime.db import Connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionStatus:
    """How far a consumer is behind on one partition.

    ``committed``: every message below it is applied (Postgres, recorded with the effects). ``end``: the
    partition's end offset. ``seconds_behind``: how much older the first unapplied message is than the
    newest (0 when caught up). ``live``: whether ``end`` came from the broker now rather than from the
    consumer's last batch (the broker did not answer).
    """

    topic: str
    partition: int
    committed: int
    end: int
    behind: int
    seconds_behind: float
    last_event_at: datetime | None
    updated_at: datetime | None
    live: bool


async def consumer_status(
    conn: Connection, consumer: str, topics: Sequence[str], bootstrap_servers: str
) -> list[PartitionStatus]:
    """Every partition of ``topics``: what ``consumer`` applied (Postgres) against the broker's ends now."""
    cursor = await conn.execute(
        "SELECT topic, partition, committed, end_offset, last_event_at, updated_at FROM consumer_progress"
        " WHERE consumer = %s AND topic = ANY(%s)",
        (consumer, list(topics)),
    )
    recorded = {(str(r[0]), int(r[1])): r for r in await cursor.fetchall()}
    try:
        tails, first_unread_at = await kafka.partition_tails(
            bootstrap_servers,
            topics,
            first_unread={key: int(row[2]) for key, row in recorded.items()},
        )
    except (KafkaError, OSError) as exc:
        log.warning("status of %s: broker unavailable (%s); showing the recorded end offsets", consumer, exc)
        tails, first_unread_at = {}, {}
    keys = sorted(tails) if tails else sorted(recorded)
    statuses = []
    now = datetime.now(UTC)
    for key in keys:
        row = recorded.get(key)
        committed = int(row[2]) if row else 0
        last_event_at = row[4] if row else None
        tail = tails.get(key)
        end = tail.end if tail else int(row[3]) if row else 0
        behind = max(0, end - committed)
        seconds = 0.0
        if behind:
            newest = tail.newest_at if tail and tail.newest_at else now
            oldest_unapplied = first_unread_at.get(key) or last_event_at
            seconds = max(0.0, (newest - oldest_unapplied).total_seconds()) if oldest_unapplied else 0.0
        statuses.append(
            PartitionStatus(
                key[0], key[1], committed, end, behind, seconds, last_event_at, row[5] if row else None, bool(tail)
            )
        )
    return statuses
