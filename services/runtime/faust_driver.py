"""A faust-streaming driver for the consumer runtime: the same handlers, inbox and dead letters, faust agents.

Cross-service reactions are low volume and are what faust agents are for; projections stay on the aiokafka
batches of :class:`~services.runtime.consumer.EventConsumer`, whose throughput ADR 0002 measured. Both
drivers are a :class:`~services.runtime.applying.ConsumerCore`: the same handler, the same apply core (the inbox
in the handler's transaction, retries one by one, ``<topic>.dlq``), so a redelivered event changes nothing
whichever driver delivered it; ``tests/integration/test_consumer_drivers.py`` runs one contract suite
against both. A worker picks its driver with the ``CONSUMER_DRIVER`` setting (``aiokafka`` or ``faust``).

faust commits an event's offset once the agent has moved past it, which is after the batch's Postgres
transaction committed: offsets stay a hint, as with the aiokafka driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import faust
from aiokafka import ConsumerRecord
from faust.streams import Stream
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka
from psycopg_pool import AsyncConnectionPool

from services.runtime import kafka
from services.runtime.applying import ConsumerCore
from services.runtime.consumer import EventConsumer
from services.runtime.inbox import Handler

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
    def _new_consumer_thread(self) -> _PromptConsumerThread:
        return _PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)


class PromptTransport(faust_aiokafka.Transport):
    """faust's aiokafka transport with fetches that wait :data:`FETCH_MAX_WAIT_MS` at most."""

    Consumer = _PromptConsumer


#: The broker URL scheme of :class:`PromptTransport`.
TRANSPORT_SCHEME = "renshe-kafka"
TRANSPORTS.data[TRANSPORT_SCHEME] = f"{__name__}:PromptTransport"


def _record(event: Any) -> ConsumerRecord:
    """The aiokafka record the apply core reads, from a faust event's message."""
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
        headers=(),
    )


class FaustConsumer(ConsumerCore):
    """Runs one handler over some topics as a faust agent in a consumer group named after the handler.

    The constructor, ``ready``, ``lag`` and ``applied_total`` are the apply core's, as for
    :class:`EventConsumer`; only the polling differs.
    """

    #: Events an agent takes at most per batch (``stream.take_events``), and how long it waits for them.
    default_max_batch = 500
    within = 0.05

    def _app(self) -> faust.App:
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
        topic = app.topic(*self.topics, key_serializer="raw", value_serializer="raw")

        async def deliver(stream: faust.StreamT[Any]) -> None:
            assert isinstance(stream, Stream)  # the concrete stream, which has take_events
            async for events in stream.take_events(self.max_batch, within=self.within):
                self.ends = {}
                await self.process([_record(event) for event in events])

        app.agent(topic, name=f"{self.group_id}.agent")(deliver)
        return app

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; a broker outage restarts the faust app."""
        while not stop.is_set():
            await kafka.ensure_topics(
                self.bootstrap_servers, [(t, 6) for t in self.topics], replication_factor=self.replication_factor
            )
            app = self._app()
            try:
                await app.start()
                while not app.should_stop:
                    if app.consumer.assignment():  # ready once the group gave this member its partitions
                        self.ready.set()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.2)
                    if stop.is_set():
                        break
            except Exception as exc:  # faust reports broker trouble as many types; restart it either way
                log.warning("%s: faust app failed (%s); restarting", self.handler.name, exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await app.stop()
        await self.close()


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
