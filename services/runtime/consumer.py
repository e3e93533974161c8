"""The aiokafka driver of the consumer runtime: topics -> handler -> Postgres, exactly once in effect.

Each poll returns a batch, which the apply core (``services.runtime.applying.ConsumerCore``) applies
through the inbox in the handler's transaction, retrying one by one and dead-lettering what keeps failing.
Offsets are committed to Kafka only after Postgres has committed, and they are only a hint: Postgres is
the truth, so a broker that forgets offsets costs a re-read, not a double count
(docs/adr/0002-consumer-runtime.md).

Each batch's transaction also records how far the consumer got per partition in ``consumer_progress``
(what ``GET /status`` compares with the broker), and first takes a shared advisory lock named after the
consumer: a rebuild holds that lock exclusively (``consumer_paused``), which holds every worker of the
consumer before its next batch, across processes (docs/adr/0003-rebuild.md). The tables and the lock are
in ``services.runtime.inbox``, the status read in ``services.runtime.consumer_status``.

Every record's log epoch is screened first (``services.runtime.log_epochs``): when the broker replaced a log
(the embedded broker restarted empty) the consumer reads that partition again from its beginning rather than
from a position of the old log, which the restarted broker even lets it commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Gauge

from services.runtime import kafka
from services.runtime.applying import (
    APPLIED,
    BATCH_SECONDS,
    CONSUMED,
    DEAD,
    DUPLICATES,
    ConsumerCore,
    PartitionLag,
)
from services.runtime.consumer_status import PartitionStatus, consumer_status
from services.runtime.inbox import (
    DDL,
    Handler,
    Progress,
    consumer_paused,
    dead_letter_count,
    known_epochs,
    progress_of,
    record_progress,
)
from services.runtime.log_epochs import EpochGuard, first_offset_to_check, screen_batch

# What the services, the rebuild and the tests import from here.
__all__ = [
    "APPLIED",
    "BATCH_SECONDS",
    "CONSUMED",
    "DDL",
    "DEAD",
    "DUPLICATES",
    "ConsumerCore",
    "EventConsumer",
    "Handler",
    "PartitionLag",
    "PartitionStatus",
    "Progress",
    "consumer_paused",
    "consumer_status",
    "dead_letter_count",
    "progress_of",
    "record_progress",
]

log = logging.getLogger(__name__)

LAG_EVENTS = Gauge("renshe_consumer_lag_events", "Events behind the partition end", ["consumer", "topic", "partition"])
LAG_SECONDS = Gauge(
    "renshe_consumer_lag_seconds", "Age of the last applied event when behind", ["consumer", "topic", "partition"]
)


class EventConsumer(ConsumerCore):
    """Runs one handler over some topics as a Kafka consumer group named after the handler (aiokafka batches)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; reconnects after broker outages."""
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=4 * 1024 * 1024,
                fetch_max_bytes=16 * 1024 * 1024,
                metadata_max_age_ms=5_000,
                # Tansu answers a waiting fetch only when the wait runs out, even when data has arrived.
                fetch_max_wait_ms=50,
                # Tansu answers JoinGroup after half the session timeout; 6 s (Kafka's minimum) joins in 3 s.
                session_timeout_ms=6_000,
                heartbeat_interval_ms=1_000,
            )
            # Where this connection has read each partition to, for the lag.
            positions: dict[TopicPartition, int] = {}
            # Partitions assigned whose starting offset has not been checked against the log epoch yet.
            unchecked = _Assigned()
            consumer.subscribe(self.topics, listener=unchecked)
            try:
                async with self.pool.connection() as conn:
                    guard = EpochGuard(await known_epochs(conn, self.handler.name, self.topics))
                await kafka.ensure_topics(
                    self.bootstrap_servers, [(t, 6) for t in self.topics], replication_factor=self.replication_factor
                )
                await consumer.start()
                await self._consume(consumer, positions, guard, unchecked, stop)
            except (KafkaError, OSError) as exc:
                log.warning("%s: broker unavailable (%s); reconnecting", self.handler.name, exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(KafkaError, OSError):
                    await consumer.stop()
        await self.close()

    async def _consume(
        self,
        consumer: AIOKafkaConsumer,
        positions: dict[TopicPartition, int],
        guard: EpochGuard,
        unchecked: _Assigned,
        stop: asyncio.Event,
    ) -> None:
        while not stop.is_set():
            await self._check_starts(consumer, unchecked, positions)
            batches = await consumer.getmany(timeout_ms=200, max_records=self.max_batch)
            if consumer.assignment():
                self.ready.set()
            batches, to_apply = await self._screen(consumer, guard, batches, positions)
            if not batches:
                self._update_lag(consumer, positions, {})
                continue
            applied = [record for records in to_apply.values() for record in records]
            self.ends = {tp: consumer.highwater(tp) for tp in batches}
            progress = progress_of([msgs[-1] for msgs in batches.values()], self.ends, guard.known)
            await self.apply_decoded(await self.decode(applied), progress)
            self._update_lag(consumer, positions, batches)
            try:
                await consumer.commit({tp: msgs[-1].offset + 1 for tp, msgs in batches.items()})
            except KafkaError as exc:
                # A rebalance or a restarted broker: the events come again and the inbox skips them.
                log.info("%s: offset commit failed (%s)", self.handler.name, exc)

    @staticmethod
    async def _check_starts(
        consumer: AIOKafkaConsumer, unchecked: _Assigned, positions: dict[TopicPartition, int]
    ) -> None:
        """Start each newly assigned partition where its log epoch can be checked (``first_offset_to_check``)."""
        for tp in list(unchecked.partitions):
            if tp not in consumer.assignment():
                unchecked.partitions.discard(tp)
                continue
            try:
                # The group's committed offset, fetched in the background: wait briefly, try again next poll.
                position = await asyncio.wait_for(consumer.position(tp), 1.0)
            except TimeoutError:
                continue
            unchecked.partitions.discard(tp)
            positions[tp] = position
            start = first_offset_to_check(position)
            if start is not None:
                consumer.seek(tp, start)

    async def _screen(
        self,
        consumer: AIOKafkaConsumer,
        guard: EpochGuard,
        batches: dict[TopicPartition, list[ConsumerRecord]],
        positions: dict[TopicPartition, int],
    ) -> tuple[dict[TopicPartition, list[ConsumerRecord]], dict[TopicPartition, list[ConsumerRecord]]]:
        """The batch's partitions that were read on, and of each the records to apply; a partition whose log the
        broker replaced is left out and read again from its beginning (``services.runtime.log_epochs``)."""
        screened = screen_batch(self.handler.name, guard, batches, consumer.assignment(), consumer.highwater, positions)
        for tp in screened.again:
            _read_again(consumer, tp)
        return screened.read, screened.apply

    def _update_lag(
        self,
        consumer: AIOKafkaConsumer,
        positions: dict[TopicPartition, int],
        batches: dict[TopicPartition, list[ConsumerRecord]],
    ) -> None:
        now = time.time()
        for tp, msgs in batches.items():
            if msgs:
                positions[tp] = msgs[-1].offset + 1
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            position = positions.get(tp)
            if end is None or position is None:
                continue
            behind = max(0, end - position)
            previous = self.lag.get((tp.topic, tp.partition))
            if batches.get(tp):
                age = max(0.0, now - batches[tp][-1].timestamp / 1000) if behind else 0.0
            else:
                age = previous.seconds_behind if previous and behind else 0.0
            self.lag[(tp.topic, tp.partition)] = PartitionLag(tp.topic, tp.partition, behind, age)
            LAG_EVENTS.labels(self.handler.name, tp.topic, tp.partition).set(behind)
            LAG_SECONDS.labels(self.handler.name, tp.topic, tp.partition).set(age)


def _read_again(consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
    """Read ``tp`` again from its beginning. Offset 0, or the log's start if retention removed it: the fetch is then
    out of range and the reset policy (earliest) moves it. Not ``seek_to_beginning``: that waits for the reset, up to
    the request timeout per partition; with it (and a blocking ``position``) a worker stalled for minutes under the
    broker-loss fault."""
    consumer.seek(tp, 0)


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    """Collects the partitions each rebalance assigns, for ``EventConsumer._check_starts``."""

    def __init__(self) -> None:
        self.partitions: set[TopicPartition] = set()

    async def on_partitions_revoked(self, revoked: object) -> None:
        """Nothing to do: offsets are committed after every batch."""

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Note the partitions; their positions are only known once the group's committed offsets are read."""
        self.partitions = set(assigned)
