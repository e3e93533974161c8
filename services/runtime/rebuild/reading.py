"""Reading topics into a consumer's apply core for a rebuild: assigned partitions, large batches, positions noted.

The reader is a plain assigned consumer (no group, so the workers' group and offsets stay as they are)
reading each partition from where this rebuild left it up to a given end offset, in batches of
``REBUILD_BATCH``. Batches go through the runtime's own path (inbox, handler, dead letters), one
transaction each, and decoding the next batch overlaps with applying the previous one. Several read models
of the same topics are rebuilt from one reading: each batch is decoded once and applied to each model's
consumer in its own transaction, at the same time (the database works on one while Python folds the next). Each record's
store position (``outbox.POSITION_HEADER``) is noted per topic, so the rebuild can tell what a topic lost
(docs/adr/0003-rebuild.md). The rebuilding process and each shard process read through one of these.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts.envelope import EventEnvelope
from services.runtime.applying import ConsumerCore
from services.runtime.inbox import Progress, progress_of
from services.runtime.log_epochs import FIRST_EPOCH, LogEpoch, epoch_of, left_for_republication
from services.runtime.outbox import POSITION_HEADER
from services.runtime.rebuild.positions import PositionSet

log = logging.getLogger(__name__)

#: Messages a rebuild applies per batch (and transaction). Larger batches fold a little cheaper (each
#: pays again for the states and (region, day) rows it touches) but are held twice (one decoded while the
#: last is applied): over 1,000,000 events 50,000 saved the shards about 1 of 26 core-seconds against
#: 20,000, for a peak of 660-730 MB per reading process against 500-510 MB.
REBUILD_BATCH = 20_000


class RebuildFailed(RuntimeError):
    """The rebuild could not read every event: the read models are incomplete and say so."""


@dataclass
class TopicRebuild:
    """What the rebuild found in one topic."""

    topic: str
    relay_url: str | None
    messages: int = 0
    positions: PositionSet = field(default_factory=PositionSet)
    #: None: not checked (no relay to ask); True: the topic held every event the store had published.
    complete: bool | None = None
    replayed_after: int | None = None
    store_events: int | None = None


@dataclass
class RebuildProgress:
    """Counts shown while a rebuild runs."""

    phase: str
    read: int
    applied: int
    total: int


ProgressCallback = Callable[[RebuildProgress], None]


class TopicReader:
    """Reads the appliers' topics from the start into each of them, counting what it read and noting positions
    per topic. Every applier consumes the same topics; the first one's counts are the progress shown.

    ``phase`` and ``total`` are the rebuild's to set; ``on_progress`` hears of every batch.
    """

    def __init__(
        self,
        appliers: Sequence[ConsumerCore],
        *,
        relays: Mapping[str, str],
        batch_size: int,
        stall_timeout: float,
        on_progress: ProgressCallback | None,
    ) -> None:
        if not appliers:
            raise ValueError("a TopicReader needs at least one consumer to apply to")
        self.appliers = list(appliers)
        self.batch_size = batch_size
        self.stall_timeout = stall_timeout
        self.on_progress = on_progress
        self.found = {t: TopicRebuild(t, relays.get(t)) for t in self.appliers[0].topics}
        #: The next offset to read of each partition read so far.
        self.next: dict[TopicPartition, int] = {}
        #: The newest log epoch of each partition: its newest message's when the ends were taken, or a newer one
        #: read since. A record an epoch republishes is left for the republication (``log_epochs.superseded``).
        self.newest: dict[TopicPartition, LogEpoch] = {}
        #: Messages read so far, and how many the partitions held up to the ends asked for (progress's total).
        self.read = 0
        self.total = 0
        self.phase = "reading"
        self._inflight: asyncio.Task[None] | None = None

    async def read_until(self, reader: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]) -> None:
        """Read the partitions of ``ends`` from where this rebuild left them up to those offsets, applying."""
        tps = sorted(ends)
        log.debug("reading %s up to %s from %s", list(self.found), ends, self.next)
        if not tps:
            return
        reader.assign(tps)
        for tp in tps:
            reader.seek(tp, self.next.get(tp, 0))
        pending = {tp for tp in tps if self.next.get(tp, 0) < ends[tp]}
        self.total += sum(max(0, ends[tp] - self.next.get(tp, 0)) for tp in pending)
        for tp in set(tps) - pending:
            reader.pause(tp)
        batch: list[ConsumerRecord] = []
        #: The batch's last record of each partition: all its progress needs.
        last: dict[TopicPartition, ConsumerRecord] = {}
        last_data = time.monotonic()
        while pending:
            fetched = await reader.getmany(timeout_ms=500, max_records=self.batch_size)
            if not fetched:
                if time.monotonic() - last_data > self.stall_timeout:
                    raise RebuildFailed(
                        f"no messages for {self.stall_timeout:.0f} s with {len(pending)} partitions unfinished"
                    )
                continue
            last_data = time.monotonic()
            for tp, records in fetched.items():
                # What a relay wrote into a replaced log before it noticed, and what a newer epoch republishes,
                # comes again in order later in the log (services.runtime.log_epochs): applied where it stands
                # it would overtake older events of its stream that the republication brings.
                # A partition's epoch grows along its log (but for what a relay wrote before it noticed a loss).
                self.saw_epoch(tp, epoch_of(records[-1]))
                newest = self.newest.get(tp, FIRST_EPOCH)
                kept = [r for r in records if not left_for_republication(r, newest)]
                batch.extend(kept)
                self.note_positions(tp.topic, kept)
                last[tp] = records[-1]
                self.next[tp] = records[-1].offset + 1
                if self.next[tp] >= ends[tp]:
                    pending.discard(tp)
                    reader.pause(tp)
            if len(batch) >= self.batch_size or not pending:
                await self.submit(batch, progress_of(list(last.values()), dict(ends)))
                batch, last = [], {}
        await self.settled()
        self.report()

    async def settled(self) -> None:
        """Wait until the batch being applied, if any, is committed."""
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await inflight

    async def submit(self, records: list[ConsumerRecord], progress: list[Progress]) -> None:
        """Decode a batch while the previous one is applied, then start applying it to every applier."""
        first, *others = self.appliers
        decoded: list[tuple[ConsumerRecord, EventEnvelope]] = await first.decode(records, also=others)
        if self._inflight is not None:
            await self._inflight
        self.read += len(records)
        self.report()
        self._inflight = asyncio.create_task(self._apply(decoded, progress))

    async def _apply(self, decoded: list[tuple[ConsumerRecord, EventEnvelope]], progress: list[Progress]) -> None:
        if len(self.appliers) == 1:
            await self.appliers[0].apply_decoded(decoded, progress)
            return
        # One transaction per model, all at once; the first failure fails the rebuild (after the others end,
        # so none is left writing).
        outcomes = await asyncio.gather(
            *(applier.apply_decoded(decoded, progress) for applier in self.appliers), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    def saw_epoch(self, tp: TopicPartition, epoch: LogEpoch) -> None:
        """Note a log epoch of a partition; the newest one counts."""
        known = self.newest.get(tp)
        if known is None or epoch.epoch > known.epoch:
            self.newest[tp] = epoch

    def note_positions(self, topic: str, records: Sequence[ConsumerRecord]) -> None:
        """Count a topic's records and note the store positions their headers carry."""
        found = self.found[topic]
        found.messages += len(records)
        found.positions.add_all(
            [int(value) for record in records for key, value in record.headers or () if key == POSITION_HEADER]
        )

    def report(self) -> None:
        """Tell ``on_progress`` how far the rebuild got."""
        if self.on_progress is not None:
            self.on_progress(RebuildProgress(self.phase, self.read, self.appliers[0].applied_total, self.total))


def reader_settings(bootstrap_servers: str) -> dict[str, Any]:
    """The rebuild's consumer: no group, big fetches (it is throughput-bound, and Tansu answers a waiting
    fetch only at its end)."""
    return {
        "bootstrap_servers": bootstrap_servers,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_bytes": 64 * 1024 * 1024,
        "max_partition_fetch_bytes": 16 * 1024 * 1024,
        "fetch_max_wait_ms": 50,
        "request_timeout_ms": 30_000,
    }
