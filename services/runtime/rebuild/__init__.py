"""Rebuild a consumer's state from its topics: reset, read every topic from the earliest offset, apply.

The rebuild pauses the consumer's workers (``consumer_paused``: they wait before their next batch, in any
process), empties the handler's tables, its inbox rows, dead letters and progress in one transaction,
then reads each topic from the start with a plain assigned consumer (no group, so the workers' group and
offsets stay as they are) in large batches. Batches go through the runtime's own path (inbox, handler,
dead letters), one transaction each, and decoding the next batch overlaps with applying the previous one.
With a handler that folds in memory (``BuffersDuringRebuild``), the consumer also tells redeliveries
from memory and adds each batch's ids to the inbox with COPY (``ConsumerCore.dedupe_in_memory``).

A topic may no longer hold its producer's whole history: Kafka's retention deletes old segments, and an
embedded broker comes back empty. Every message the relay publishes carries its store position
(``outbox.POSITION_HEADER``); the rebuild notes the positions it saw and asks the producer's relay
(``GET /outbox``) how many events its store holds up to what it has published. When the topic holds
fewer, it asks the relay to republish from the first missing position (``POST /replay``), waits until
the relay is done, and reads on. Duplicates are harmless: the inbox skips them.

When the rebuild ends, the workers go on from their own offsets; the inbox skips what the rebuild applied
(docs/adr/0003-rebuild.md). Nothing here knows a domain: the handler brings ``reset``.

The package: ``run`` (``Rebuild``: pause, reset, read, check against the relays, republish), ``reading``
(the reader every process reads through), ``shards`` (the rebuild split across processes), ``positions``
(which store positions a topic showed) and ``handlers`` (what a handler offers a rebuild).
"""

from services.runtime.rebuild.handlers import BuffersDuringRebuild, RebuildsInShards, ResettableHandler
from services.runtime.rebuild.positions import PositionSet
from services.runtime.rebuild.reading import (
    REBUILD_BATCH,
    ProgressCallback,
    RebuildFailed,
    RebuildProgress,
    TopicRebuild,
)
from services.runtime.rebuild.run import Rebuild, RebuildReport, default_shards

__all__ = [
    "REBUILD_BATCH",
    "BuffersDuringRebuild",
    "PositionSet",
    "ProgressCallback",
    "Rebuild",
    "RebuildFailed",
    "RebuildProgress",
    "RebuildReport",
    "RebuildsInShards",
    "ResettableHandler",
    "TopicRebuild",
    "default_shards",
]
