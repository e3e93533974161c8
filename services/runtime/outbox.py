"""What a relay tells its readers: the position header on every message and the status it reports.

Kept apart from the relay itself so that a reader (a rebuild's reading processes) can import it without
the relay's HTTP stack: FastAPI alone took a third of such a process's 0.5 s start-up.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

#: The Kafka header carrying an event's global position in its service's store (decimal ASCII).
POSITION_HEADER = "store_position"


class OutboxStatus(BaseModel):
    """Where a relay stands: what it has published of its store."""

    topic: str
    leading: bool = Field(description="This process holds the relay lock and publishes")
    position: int = Field(description="Every event up to this store position was acknowledged by the broker")
    last_position: int = Field(description="The newest position in the store")
    events_through_position: int = Field(description="How many events the store holds up to ``position``")
    replay_pending: bool = Field(description="A replay was asked for and has not started yet")
