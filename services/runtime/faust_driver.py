"""A faust-streaming driver for the consumer runtime: the same handlers, inbox and dead letters, faust agents.

Cross-service reactions are low volume and are what faust agents are for; projections stay on the aiokafka
batches of :class:`~services.runtime.consumer.EventConsumer`, whose throughput ADR 0002 measured. Both
drivers are a :class:`~services.runtime.applying.ConsumerCore`: the same handler, the same apply core (the inbox
in the handler's transaction, retries one by one, ``<topic>.dlq``), so a redelivered event changes nothing
whichever driver delivered it; ``tests/integration/test_consumer_drivers.py`` runs one contract suite
against both. A worker picks its driver with the ``CONSUMER_DRIVER`` setting (``aiokafka`` or ``faust``).

Every batch is screened by the relay's log epoch as the aiokafka driver screens it
(``services.runtime.log_epochs.screen_batch``): a partition whose log the broker replaced is read again from its
beginning. So this driver commits offsets itself, each partition's after the batch's Postgres transaction
committed, as the aiokafka driver does, rather than leaving it to faust's acks: faust never commits an offset below
one it committed, and it would commit past records the screen set aside to read again. Offsets stay a hint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError
from faust.streams import Stream
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from psycopg_pool import AsyncConnectionPool

from services.runtime import kafka
from services.runtime.applying import ConsumerCore
from services.runtime.consumer import EventConsumer
from services.runtime.inbox import Handler, known_epochs, progress_of
from services.runtime.log_epochs import EpochGuard, first_offset_to_check, screen_batch

log = logging.getLogger(__name__)

#: How long a fetch may wait for data. faust fixes 1,500 ms, and the embedded broker answers a waiting fetch
#: only when the wait runs out, so every reaction would wait 1.5 s; the aiokafka driver uses the same 50 ms.
FETCH_MAX_WAIT_MS = 50


class _PromptConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka hands this to its fetcher when the consumer starts, which is after this returns.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _PromptConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer, prompt, starting each partition where its log epoch can be checked, and able to
    read a partition again from its beginning."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The group's committed offsets the last rebalance resumed from, for the screen's positions.
        self.resumed_from: dict[TopicPartition, int] = {}
        #: Partitions sought to their beginning, each with the offset their replaced log was seen at: what the
        #: fetcher yields above it before anything at or below it was fetched before the seek.
        self._fetched_before: dict[TopicPartition, int] = {}

    def _new_consumer_thread(self) -> _PromptConsumerThread:
        return _PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def seek_to_committed(self) -> Mapping[TP, int]:
        """Seek every assigned partition to the message before its committed offset (``first_offset_to_check``).

        faust calls this after every rebalance, before it lets the flow resume, and reads only from the offsets it
        returns: seeking later would race the fetcher (faust drops what it fetched below a seek)."""
        committed = await super().seek_to_committed()
        self._fetched_before.clear()
        starts: dict[TP, int] = {}
        resumed_from: dict[TopicPartition, int] = {}
        for tp, offset in committed.items():
            start = first_offset_to_check(offset) if offset is not None and offset > 0 else None
            if start is None:
                starts[tp] = offset
                continue
            await self._seek(tp, start)
            starts[tp] = start
            resumed_from[TopicPartition(tp.topic, tp.partition)] = offset
        self.resumed_from = resumed_from
        return starts

    async def read_again(self, tp: TopicPartition, seen_at: int) -> None:
        """Read ``tp`` again from its beginning (offset 0: the reset policy, earliest, moves a fetch below the log's
        start), its log found replaced at offset ``seen_at``."""
        self._fetched_before[tp] = seen_at
        await self.seek(tp, 0)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        """faust's fetch loop, without what was fetched before a partition was sought to its beginning.

        faust drops a message below the offset it last handed on, so one fetched before the seek but handed on
        after it would have the read again dropped."""
        async for tp, message in super().getmany(timeout):
            key = TopicPartition(tp.topic, tp.partition)
            seen_at = self._fetched_before.get(key)
            if seen_at is not None:
                if message.offset > seen_at:
                    continue
                del self._fetched_before[key]
                self._read_offset[tp] = None  # the read again starts here, below what faust handed on
            yield tp, message

    async def commit_offsets(self, offsets: Mapping[TopicPartition, int]) -> bool:
        """Commit these offsets as they are, below what was committed before too (faust's ``commit`` commits
        acked messages only, and never backwards)."""
        return bool(await self._commit(offsets))


class PromptTransport(faust_aiokafka.Transport):
    """faust's aiokafka transport with fetches that wait :data:`FETCH_MAX_WAIT_MS` at most."""

    Consumer = _PromptConsumer


#: The broker URL scheme of :class:`PromptTransport`.
TRANSPORT_SCHEME = "renshe-kafka"
TRANSPORTS.data[TRANSPORT_SCHEME] = f"{__name__}:PromptTransport"


def _headers(raw: Any) -> list[tuple[str, bytes]]:
    """A faust message's headers as aiokafka's records carry them: (name, value) pairs, in order.

    faust hands on what the transport read (a list of pairs) but its type allows a mapping too; a header without a
    value reads as empty."""
    if not raw:
        return []
    pairs = raw.items() if isinstance(raw, Mapping) else raw
    return [
        (key.decode() if isinstance(key, bytes) else str(key), b"" if value is None else bytes(value))
        for key, value in pairs
    ]


def _record(event: Any) -> ConsumerRecord:
    """The aiokafka record the apply core and the log-epoch screen read, from a faust event's message."""
    message = event.message
    return ConsumerRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp=int(message.timestamp * 1000),
        timestamp_type=0,
        key=message.key,
        value=message.value,
        checksum=None,
        serialized_key_size=len(message.key or b""),
        serialized_value_size=len(message.value or b""),
        headers=_headers(message.headers),
    )


@dataclass
class _Reading:
    """What one faust app has read, for the log-epoch screen; a new app (after a broker outage) starts afresh."""

    guard: EpochGuard
    #: Where the app has read each partition to, or the offset it resumed from (``screen_batch``'s positions).
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    #: The consumer generation ``positions`` started in: each rebalance resumes from the committed offsets.
    generation: int = -1
    #: Partitions being read again from their beginning, each with the offset the replacement was seen at
    #: (``ScreenedBatch.again``): what arrives above it before anything at or below it was fetched before the seek.
    fetched_before: dict[TopicPartition, int] = field(default_factory=dict)


class FaustConsumer(ConsumerCore):
    """Runs one handler over some topics as a faust agent in a consumer group named after the handler.

    The constructor, ``ready``, ``lag`` and ``applied_total`` are the apply core's, as for
    :class:`EventConsumer`; only the polling differs.
    """

    #: Events an agent takes at most per batch (``stream.take_events``), and how long it waits for them.
    default_max_batch = 500
    within = 0.05

    def _app(self, reading: _Reading) -> faust.App:
        app = faust.App(
            self.group_id,
            broker=[f"{TRANSPORT_SCHEME}://{server}" for server in self.bootstrap_servers.split(",")],
            store="memory://",
            autodiscover=False,
            web_enabled=False,
            topic_replication_factor=self.replication_factor,
            consumer_auto_offset_reset="earliest",
            # The embedded broker answers JoinGroup after half the session timeout: 6 s joins in about 3 s.
            broker_session_timeout=6.0,
            broker_heartbeat_interval=1.0,
            broker_rebalance_timeout=6.0,
            stream_wait_empty=False,
            producer_acks=-1,
        )
        # No acks: ``_deliver`` commits (module doc).
        topic = app.topic(*self.topics, key_serializer="raw", value_serializer="raw", acks=False)

        async def deliver(stream: faust.StreamT[Any]) -> None:
            assert isinstance(stream, Stream)  # the concrete stream, which has take_events
            async for events in stream.take_events(self.max_batch, within=self.within):
                await self._deliver(app, reading, [_record(event) for event in events])

        app.agent(topic, name=f"{self.group_id}.agent")(deliver)
        return app

    async def _deliver(self, app: faust.App, reading: _Reading, records: Sequence[ConsumerRecord]) -> None:
        """Screen one batch by the log epoch, apply it, record the progress with the epochs, commit."""
        batches: dict[TopicPartition, list[ConsumerRecord]] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            seen_at = reading.fetched_before.get(tp)
            if seen_at is not None:
                if record.offset > seen_at:
                    continue  # fetched before the partition was sought to its beginning: it comes again
                del reading.fetched_before[tp]
            batches.setdefault(tp, []).append(record)
        if not batches:
            return
        guard = reading.guard
        screened = screen_batch(
            self.handler.name, guard, batches, _assignment(app), lambda tp: _highwater(app, tp), reading.positions
        )
        await _read_again(app, reading, screened.again)
        if not screened.read:
            return
        self.ends = {tp: _highwater(app, tp) for tp in screened.read}
        progress = progress_of([msgs[-1] for msgs in screened.read.values()], self.ends, guard.known)
        applied = [record for msgs in screened.apply.values() for record in msgs]
        await self.apply_decoded(await self.decode(applied), progress)
        offsets = {tp: msgs[-1].offset + 1 for tp, msgs in screened.read.items()}
        reading.positions.update(offsets)
        if not await _consumer(app).commit_offsets(offsets):
            # A rebalance: the events come again and the inbox skips them.
            log.info("%s: offset commit failed", self.handler.name)

    async def _check(self, app: faust.App, reading: _Reading) -> None:
        """Between batches: read again from its beginning a partition whose log ends below where it is read, which
        no record shows (``screen_batch``)."""
        consumer = _consumer(app)
        if app.rebalancing or not consumer.flow_active:
            return  # the partitions are being sought to their committed offsets (``seek_to_committed``)
        if app.consumer_generation_id != reading.generation:
            reading.generation = app.consumer_generation_id
            # A rebalance dropped what the agent had buffered and resumed every partition from its commit.
            reading.fetched_before.clear()
            reading.positions.clear()
            reading.positions.update(consumer.resumed_from)
        screened = screen_batch(
            self.handler.name, reading.guard, {}, _assignment(app), lambda tp: _highwater(app, tp), reading.positions
        )
        await _read_again(app, reading, screened.again)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; a broker outage restarts the faust app."""
        while not stop.is_set():
            app: faust.App | None = None
            try:
                await kafka.ensure_topics(
                    self.bootstrap_servers, [(t, 6) for t in self.topics], replication_factor=self.replication_factor
                )
                async with self.pool.connection() as conn:
                    reading = _Reading(EpochGuard(await known_epochs(conn, self.handler.name, self.topics)))
                app = self._app(reading)
                await app.start()
                while not app.should_stop:
                    if app.consumer.assignment():  # ready once the group gave this member its partitions
                        self.ready.set()
                    await self._check(app, reading)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.2)
                    if stop.is_set():
                        break
            except Exception as exc:  # faust reports broker trouble as many types; restart it either way
                log.warning("%s: faust app failed (%s); restarting", self.handler.name, exc)
                await asyncio.sleep(0.5)
            finally:
                if app is not None:
                    with contextlib.suppress(Exception):
                        await app.stop()
        await self.close()


def _consumer(app: faust.App) -> _PromptConsumer:
    consumer = app.consumer
    assert isinstance(consumer, _PromptConsumer)  # PromptTransport's, by the broker URL's scheme
    return consumer


def _assignment(app: faust.App) -> set[TopicPartition]:
    return {TopicPartition(tp.topic, tp.partition) for tp in app.consumer.assignment()}


def _highwater(app: faust.App, tp: TopicPartition) -> int | None:
    """The partition's end offset as the last fetch saw it; ``None`` unless it is assigned (aiokafka asserts it)."""
    if tp not in _assignment(app):
        return None
    end = app.consumer.highwater(tp)
    return int(end) if end is not None else None


async def _read_again(app: faust.App, reading: _Reading, again: Mapping[TopicPartition, int]) -> None:
    """Read these partitions again from their beginning, and set aside what the agent was handed from before the
    seek (``_Reading.fetched_before``)."""
    for tp, seen_at in again.items():
        reading.fetched_before[tp] = seen_at
        with contextlib.suppress(IllegalStateError):  # revoked meanwhile: its next owner reads it again
            await _consumer(app).read_again(tp, seen_at)


#: The consumer drivers a worker can run its handler on (the ``CONSUMER_DRIVER`` setting).
DRIVERS = ("aiokafka", "faust")


def consumer_for(
    driver: str,
    pool: AsyncConnectionPool,
    handler: Handler,
    topics: Sequence[str],
    bootstrap_servers: str,
    *,
    replication_factor: int = 1,
) -> EventConsumer | FaustConsumer:
    """The consumer of ``handler`` on the named driver."""
    if driver == "faust":
        return FaustConsumer(pool, handler, topics, bootstrap_servers, replication_factor=replication_factor)
    if driver == "aiokafka":
        return EventConsumer(pool, handler, topics, bootstrap_servers, replication_factor=replication_factor)
    raise ValueError(f"unknown consumer driver {driver!r}: choose one of {', '.join(DRIVERS)}")
