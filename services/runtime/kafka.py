"""Kafka clients as every renshe process configures them: plain producers with acks=all.

The embedded broker (Tansu) supports neither idempotent producers nor transactions, so producers are
plain and consumers deduplicate (docs/design.md "Events and the store"); the same code runs against real Kafka.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.protocol.metadata import MetadataRequest

log = logging.getLogger(__name__)


def forbid_topic_auto_creation() -> None:
    """Make every metadata request of this process's Kafka clients ask the broker not to create the topic it names
    (``allow_auto_topic_creation`` false: Kafka's ``allow.auto.create.topics=false``, KIP-361).

    aiokafka has no setting for it and always asks for creation. A broker that creates topics on request (the
    embedded broker always does; Kafka when ``auto.create.topics.enable`` is on) then makes a topic with its own
    default partition count whenever a client asks for metadata before the topic exists: after the embedded
    broker restarted empty, a worker's metadata refresh made ``supervision.events`` with 4 partitions where the
    contract has 6. The relay's producer and the consumers then disagreed on the partitions a stream's key maps
    to: the 19 events whose keys hash to partitions 4 and 5 of 6 sat where no consumer was assigned (issue 15, the
    broker-loss fault). So only ``ensure_topics``
    (the relays, the workers, the stack) and the KafkaTopic manifests create topics, each with its contract's
    partitions; a client asking about a topic that is not there yet is told so and asks again.
    """
    if getattr(MetadataRequest.__init__, "asks_for_no_creation", False):
        return
    original = MetadataRequest.__init__

    def without_creation(
        self: MetadataRequest, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = None
    ) -> None:
        original(self, topics, False if allow_auto_topic_creation is None else allow_auto_topic_creation)

    without_creation.asks_for_no_creation = True  # type: ignore[attr-defined]
    MetadataRequest.__init__ = without_creation


forbid_topic_auto_creation()

#: Bytes a status read fetches at most per partition (``partition_tails``): it needs one message of each.
STATUS_FETCH_BYTES = 16 * 1024

P = ParamSpec("P")
T = TypeVar("T")


def collects_its_consumer(read: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """For a read that starts and stops a consumer of its own: collect the young generations once it returns.

    A stopped consumer is a graph of reference cycles (client, coordinator, fetcher) holding what it
    fetched. The services collect young objects rarely (``gctuning``), so one such graph per call reached
    the old generation and stayed there until a full collection: the reporting API, whose ``GET /status``
    reads ``partition_tails``, grew 23 % in the 30-minute soak, and in-process, asked 1,350 times while its
    topic grew by 270,000 messages, 97 -> 230 MB (97 -> 116 MB with this). The collection runs after
    ``read``'s frame is gone; inside it, the frame would still hold the consumer and the collection would
    only promote the graph.
    """

    @functools.wraps(read)
    async def reading(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await read(*args, **kwargs)
        finally:
            gc.collect(1)

    return reading


def producer(bootstrap_servers: str, **overrides: object) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica and never claims idempotence."""
    options: dict[str, object] = {
        "bootstrap_servers": bootstrap_servers,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 10_000,
        "compression_type": None,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


async def ensure_topics(
    bootstrap_servers: str, topics: Iterable[tuple[str, int]], *, replication_factor: int = 1
) -> None:
    """Create the topics that do not exist yet, with their partition counts.

    In production the topics come from the KafkaTopic manifests before any process starts; this only
    fills in what is missing, with ``replication_factor`` copies.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, replication_factor) for name, partitions in topics if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
                log.info("created topics %s", [t.name for t in missing])
            except TopicAlreadyExistsError:
                # Another process made them between the listing and now (a relay and a worker starting together).
                log.info("topics %s were created meanwhile", [t.name for t in missing])
    finally:
        await admin.close()


@collects_its_consumer
async def end_offsets(bootstrap_servers: str, topic: str) -> dict[int, int] | None:
    """The end offset of every partition of ``topic``; None when the broker does not know the topic (the
    relays ask every ``check_interval`` whether the broker lost what they wrote)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return None
        offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in offsets.items()}
    finally:
        await consumer.stop()


async def wait_for_broker(bootstrap_servers: str, *, timeout: float = 30.0) -> None:
    """Return once the broker answers metadata requests."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3_000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)
        finally:
            await admin.close()


@dataclass(frozen=True)
class PartitionTail:
    """The end of one partition: its end offset, the broker timestamp of its newest message and that message's
    headers (empty when the partition is empty)."""

    topic: str
    partition: int
    end: int
    newest_at: datetime | None
    newest_headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class FetchedSpan:
    """The first and last message of one fetch from a partition: offsets and broker timestamps."""

    first_offset: int
    first_at: datetime | None
    last_offset: int
    last_at: datetime | None
    last_headers: tuple[tuple[str, bytes], ...] = ()


def _timestamp(record: ConsumerRecord) -> datetime | None:
    return datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp is not None else None


async def _fetch_spans(
    consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int], timeout: float
) -> dict[TopicPartition, FetchedSpan]:
    """One fetch from each partition starting at the given offset (or the log start, if it is gone)."""
    consumer.assign(list(offsets))
    for tp, offset in offsets.items():
        consumer.seek(tp, offset)
    spans: dict[TopicPartition, FetchedSpan] = {}
    deadline = asyncio.get_running_loop().time() + timeout
    while len(spans) < len(offsets) and asyncio.get_running_loop().time() < deadline:
        batch = await consumer.getmany(*[tp for tp in offsets if tp not in spans], timeout_ms=200)
        for tp, messages in batch.items():
            if messages:
                first, last = messages[0], messages[-1]
                headers = tuple((str(k), bytes(v)) for k, v in last.headers or ())
                spans[tp] = FetchedSpan(first.offset, _timestamp(first), last.offset, _timestamp(last), headers)
    return spans


#: What ``partition_tails`` answers: each partition's tail, and the time of its first message not read yet.
Tails = tuple[dict[tuple[str, int], PartitionTail], dict[tuple[str, int], datetime | None]]


@collects_its_consumer
async def partition_tails(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    timeout: float = 3.0,
    first_unread: dict[tuple[str, int], int] | None = None,
) -> Tails:
    """End offset and newest message time of every partition of ``topics`` (unknown topics are left out).

    With ``first_unread``, also the time of the first message not read yet of each partition behind: at
    the given offset, at 0 for a partition not in it, or the oldest message kept when that one is gone.

    Tansu answers ListOffsets with the base offset of the last record batch plus one; the fetch returns
    that whole batch, so the true end is taken from it.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        request_timeout_ms=int(timeout * 1000) + 1000,
        # One message per partition is wanted, and the broker returns at least one record batch whatever the limit.
        # With the defaults (1 MiB per partition) a status request of a lagging consumer fetched megabytes per
        # partition and threw them away: in the 30-minute soak reporting's API grew 29% on GET /status once a second.
        max_partition_fetch_bytes=STATUS_FETCH_BYTES,
        fetch_max_bytes=STATUS_FETCH_BYTES * 8,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not tps:
            return {}, {}
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        newest = await _fetch_spans(consumer, {tp: ends[tp] - 1 for tp in tps if ends[tp] > 0}, timeout)
        tails = {}
        for tp in tps:
            span = newest.get(tp)
            end = max(ends[tp], span.last_offset + 1) if span else ends[tp]
            tails[(tp.topic, tp.partition)] = PartitionTail(
                tp.topic, tp.partition, end, span.last_at if span else None, span.last_headers if span else ()
            )
        wanted = {}
        if first_unread is not None:
            for key, tail in tails.items():
                offset = first_unread.get(key, 0)
                if offset < tail.end:
                    wanted[TopicPartition(*key)] = offset
        unread = await _fetch_spans(consumer, wanted, timeout) if wanted else {}
        return tails, {(tp.topic, tp.partition): span.first_at for tp, span in unread.items()}
    finally:
        await consumer.stop()
