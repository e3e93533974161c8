"""The reporting projection behind the consumer runtime, on embedded Postgres and the embedded broker."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from prometheus_client import REGISTRY

from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark
from bench.data import COUNTY, person_envelopes
from bench.infra import Embedded
from services.reporting import app as reporting_app
from services.reporting.projection import RegionMetricsProjection
from services.runtime import kafka
from services.runtime.consumer import EventConsumer

PROJECTION_EVENTS = 100_000
PROJECTION_TIMEOUT = 240.0
#: Envelopes sent before waiting for acknowledgements while filling the topic.
_PRODUCE_CHUNK = 5_000


class TimedConsumer(EventConsumer):
    """An EventConsumer that notes when its first batch arrives and when ``target`` events are applied.

    "Applied" is the runtime's own ``renshe_consumer_applied_total`` counter, which moves only after the
    batch's transaction has committed.
    """

    def __init__(self, *args: object, target: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.target = target
        self.first_batch_at: float | None = None
        self.done_at: float | None = None
        self.done = asyncio.Event()
        self._applied_before = _applied(self.handler.name)

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        if self.first_batch_at is None:
            self.first_batch_at = time.perf_counter()
        await super().process(records)
        if _applied(self.handler.name) - self._applied_before >= self.target and self.done_at is None:
            self.done_at = time.perf_counter()
            self.done.set()


def _applied(consumer: str) -> float:
    return REGISTRY.get_sample_value("renshe_consumer_applied_total", {"consumer": consumer}) or 0.0


async def _fill_topic(infra: Embedded, topic: str, count: int) -> None:
    """Produce ``count`` PersonRegistered envelopes to ``topic`` (6 partitions, keyed by person)."""
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic, 6)])
    producer = kafka.producer(infra.bootstrap_servers)
    await producer.start()
    try:
        pending = []
        for key, value in person_envelopes(random.Random(), count):
            pending.append(await producer.send(topic, key=key, value=value))
            if len(pending) >= _PRODUCE_CHUNK:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


@benchmark("projection", needs="embedded", rows={"projection": Bar(">=", 10_000)})
async def projection(ctx: Context) -> RunResult:
    """EventConsumer + RegionMetricsProjection over 100,000 PersonRegistered envelopes, first event to
    all applied; the county total must come out at 100,000."""
    infra = await ctx.resources.embedded()
    topic = f"bench.projection.{uuid.uuid4().hex[:8]}"
    filled = time.perf_counter()
    await _fill_topic(infra, topic, PROJECTION_EVENTS)
    ctx.note(f"topic filled with {PROJECTION_EVENTS:,} envelopes in {time.perf_counter() - filled:.1f} s (untimed)")
    handler = RegionMetricsProjection()
    async with infra.schema(reporting_app.DDL) as pool:
        worker = TimedConsumer(
            pool,
            handler,
            [topic],
            infra.bootstrap_servers,
            group_id=f"bench-{uuid.uuid4().hex[:8]}",  # a fresh group: no offsets committed by earlier runs
            max_batch=reporting_app.ReportingSettings.model_fields["consumer_batch"].default,
            target=PROJECTION_EVENTS,
        )
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.wait_for(worker.done.wait(), PROJECTION_TIMEOUT)
        except TimeoutError:
            raise BenchmarkFailed(
                f"not all {PROJECTION_EVENTS:,} events applied in {PROJECTION_TIMEOUT:.0f} s"
            ) from None
        finally:
            stop.set()
            await task
        assert worker.first_batch_at is not None and worker.done_at is not None
        elapsed = worker.done_at - worker.first_batch_at
        ctx.note(
            f"first batch {worker.first_batch_at - started:.2f} s after start (group join, untimed); "
            f"{PROJECTION_EVENTS:,} applied {elapsed:.2f} s after it"
        )
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT (SELECT value FROM region_metrics WHERE region_code = %s AND metric = 'labour_force'),"
                " (SELECT count(*) FROM inbox WHERE consumer = %s), (SELECT count(*) FROM dead_letters)",
                (COUNTY, handler.name),
            )
            row = await cursor.fetchone()
    county, inbox, dead = row if row else (None, None, None)
    if county != PROJECTION_EVENTS or inbox != PROJECTION_EVENTS or dead:
        raise BenchmarkFailed(
            f"county labour_force {county}, inbox {inbox}, dead letters {dead}; expected {PROJECTION_EVENTS}, "
            f"{PROJECTION_EVENTS}, 0"
        )
    return {"projection": Measurement(PROJECTION_EVENTS / elapsed, "events/s")}
