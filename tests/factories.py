"""Test data every test layer shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.envelope import EventEnvelope


def envelope(
    type_: str = "PersonRegistered",
    *,
    stream_id: str = "s1",
    version: int = 1,
    region: str | None = "430527100201",
    stream_type: str = "person",
    actor: str | None = None,
    occurred_at: datetime | None = None,
    **data: Any,
) -> EventEnvelope:
    """An envelope as a relay would publish it, stamped now (or at ``occurred_at``), caused by ``actor``."""
    now = occurred_at or datetime.now(UTC)
    return EventEnvelope(
        event_id=uuid.uuid4(),
        type=type_,
        schema_version=1,
        stream_type=stream_type,
        stream_id=stream_id,
        version=version,
        region_code=region,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        data=data,
    )
