"""What a relay tells its readers: the position header on every message and the status it reports.

Kept apart from the relay itself so that a reader (a rebuild's reading processes) can import it without
the relay's HTTP stack: FastAPI alone took a third of such a process's 0.5 s start-up.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

#: The Kafka header carrying an event's global position in its service's store (decimal ASCII).
POSITION_HEADER = "store_position"

#: The Kafka header naming the log incarnation a message was published into, as ``<epoch>:<after>`` (decimal
#: ASCII): the relay counts every loss of its topic it has rewound for (``epoch``) and republished, with that
#: epoch, every event after store position ``after``. A reader that meets a higher epoch than it has read knows
#: the broker replaced the log under it, so that its position (in memory, or an offset the restarted broker let
#: it commit) may lie past what the relay republished (``services.runtime.log_epochs``). Messages without it
#: are epoch 0.
EPOCH_HEADER = "log_epoch"

#: The Kafka header carrying the log offset the relay expects the message to land at (decimal ASCII), when it
#: knows where its partition's log ends. A message that lands below it was written into a log that replaced the
#: one the relay wrote before, ahead of the events the relay will republish there: its acknowledgement tells the
#: relay so, and the relay republishes it, in order, under a new epoch. Readers leave such a message unapplied
#: (``services.runtime.log_epochs``): applied where it stands it would overtake older events of its stream.
OFFSET_HEADER = "log_offset"


class OutboxStatus(BaseModel):
    """Where a relay stands: what it has published of its store."""

    topic: str
    leading: bool = Field(description="This process holds the relay lock and publishes")
    position: int = Field(description="Every event up to this store position was acknowledged by the broker")
    last_position: int = Field(description="The newest position in the store")
    events_through_position: int = Field(description="How many events the store holds up to ``position``")
    replay_pending: bool = Field(description="A replay was asked for and has not started yet")
