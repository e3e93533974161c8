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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
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
    progress_of,
    record_progress,
)

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
                *self.topics,
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
            try:
                await kafka.ensure_topics(
                    self.bootstrap_servers, [(t, 6) for t in self.topics], replication_factor=self.replication_factor
                )
                await consumer.start()
                await self._consume(consumer, positions, stop)
            except (KafkaError, OSError) as exc:
                log.warning("%s: broker unavailable (%s); reconnecting", self.handler.name, exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(KafkaError, OSError):
                    await consumer.stop()
        await self.close()

    async def _consume(
        self, consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=self.max_batch)
            if consumer.assignment():
                self.ready.set()
            if not batches:
                self._update_lag(consumer, positions, {})
                continue
            records = [record for partition in batches.values() for record in partition]
            self.ends = {tp: consumer.highwater(tp) for tp in batches}
            await self.process(records)
            self._update_lag(consumer, positions, batches)
            try:
                await consumer.commit({tp: msgs[-1].offset + 1 for tp, msgs in batches.items()})
            except KafkaError as exc:
                # A rebalance or a restarted broker: the events come again and the inbox skips them.
                log.info("%s: offset commit failed (%s)", self.handler.name, exc)

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
