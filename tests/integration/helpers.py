"""Helpers for integration tests: envelopes, waiting, reading a topic from the start, committing stale offsets."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient

from tests.factories import envelope as envelope


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout}s {message}")
        await asyncio.sleep(0.1)


async def read_topic(bootstrap: str, topic: str, *, idle_ms: int = 1500) -> list[tuple[int, int, bytes, bytes]]:
    """Every message of a topic from offset 0: (partition, offset, key, value)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out = []
        while True:
            batch = await consumer.getmany(timeout_ms=idle_ms)
            if not batch:
                return out
            for tp, messages in batch.items():
                out.extend((tp.partition, m.offset, m.key, m.value) for m in messages)
    finally:
        await consumer.stop()


async def stale_commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit offsets of the old log into the restarted broker, as a worker mid-batch at the restart does."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in offsets])
        await consumer.commit({TopicPartition(topic, p): o for p, o in offsets.items()})
    finally:
        await consumer.stop()


def fresh_database(infra: Any, prefix: str) -> str:
    """A new, empty database on the test Postgres (named ``prefix_<random>``); its URL."""
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.database_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    return str(infra.database_url).rsplit("/", 1)[0] + "/" + database


async def kafka_clients_left_after(calls: Callable[[], Awaitable[None]]) -> int:
    """Broker clients that ``calls`` left as uncollected garbage: with automatic collection off, nothing but the
    code's own collection frees them (the services collect young objects rarely: services/runtime/gctuning.py).
    The consumer object goes by reference counting; its client, and all it holds, is in cycles. Only garbage
    counts, so a client alive elsewhere in the test process (another test's worker) does not."""
    gc.collect()
    gc.disable()
    try:
        await calls()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what the next collection finds unreachable goes to gc.garbage
        gc.collect()
        return sum(isinstance(o, AIOKafkaClient) for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
