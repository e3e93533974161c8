"""The reporting projection behind the consumer runtime, on embedded Postgres and the embedded broker."""

from __future__ import annotations

import asyncio
import gc
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from prometheus_client import REGISTRY

from bench import limits
from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, size
from bench.cpu import children_of, process_seconds
from bench.data import COUNTY, history_envelopes, person_envelopes
from bench.infra import Embedded
from contracts.envelope import EventEnvelope
from contracts.reference import demo_county
from services.reporting import app as reporting_app
from services.reporting.projection import RegionMetricsProjection
from services.runtime import kafka
from services.runtime.applying import ConsumerCore
from services.runtime.consumer import EventConsumer
from services.runtime.db import Connection
from services.runtime.inbox import Progress
from services.runtime.regions import load_regions

PROJECTION_EVENTS = size(100_000)
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

    # Both drivers' paths: ``run`` decodes and applies each batch itself, without ``process``.
    async def decode(
        self, records: Sequence[ConsumerRecord], *, also: Sequence[ConsumerCore] = ()
    ) -> list[tuple[ConsumerRecord, EventEnvelope]]:
        if self.first_batch_at is None:
            self.first_batch_at = time.perf_counter()
        return await super().decode(records, also=also)

    async def apply_decoded(
        self, decoded: Sequence[tuple[ConsumerRecord, EventEnvelope]], progress: Sequence[Progress] = ()
    ) -> None:
        await super().apply_decoded(decoded, progress)
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


#: projection: at least this share of a raw consume + decode of the same topic.
PROJECTION_BAR = Bar(">=", 0.06, of=limits.RAW_CONSUME, also=(limits.COPY,))


@benchmark("projection", needs="embedded", rows={"projection": PROJECTION_BAR})
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
    return {
        "projection": Measurement(PROJECTION_EVENTS / elapsed, "events/s"),
        limits.RAW_CONSUME: await limits.raw_consume_decode(infra.bootstrap_servers, topic, PROJECTION_EVENTS),
        limits.COPY: await limits.copy_rows(infra.database_url, PROJECTION_EVENTS),
    }


#: projection-apply: events of a year in the demo county, applied in batches of these sizes (at random).
APPLY_EVENTS = size(300_000)
APPLY_BATCH_SIZES = (5_000, 10_000, 20_000)
_HISTORY: list[EventEnvelope] = []


@dataclass
class Replay:
    """What replaying a history through ``apply`` cost: wall time and CPU of this process and of Postgres."""

    events: int
    seconds: float
    client_cpu: float
    server_cpu: float

    @property
    def rate(self) -> float:
        """Events applied per wall-clock second."""
        return self.events / self.seconds

    def cpu_per(self, events: int = 100_000) -> tuple[float, float]:
        """(this process, Postgres) CPU seconds per ``events`` events."""
        return self.client_cpu * events / self.events, self.server_cpu * events / self.events


def postgres_seconds(postmaster: int) -> float:
    """CPU seconds used so far by the postmaster and every process under it (backends, WAL writer ...)."""
    return sum(process_seconds(pid) for pid in (postmaster, *children_of(postmaster)))


async def replay(
    conn: Connection,
    projection: RegionMetricsProjection,
    events: Sequence[EventEnvelope],
    batch_sizes: Sequence[int],
    *,
    postmaster: int | None = None,
    rng: random.Random | None = None,
    rebuild: bool = False,
) -> Replay:
    """Apply ``events`` in order, each batch in its own transaction as the consumer does, timing it all;
    with ``rebuild``, between ``begin_rebuild`` and ``finish_rebuild`` (the final write is timed too)."""
    rng = rng or random.Random(7)
    server_before = postgres_seconds(postmaster) if postmaster else 0.0
    client_before = time.process_time()
    started = time.perf_counter()
    if rebuild:
        projection.begin_rebuild()
    at = 0
    while at < len(events):
        size = rng.choice(batch_sizes)
        async with conn.transaction():
            await projection.apply(conn, events[at : at + size])
        at += size
    if rebuild:
        async with conn.transaction():
            await projection.finish_rebuild(conn)
    seconds = time.perf_counter() - started
    client = time.process_time() - client_before
    server = postgres_seconds(postmaster) - server_before if postmaster else 0.0
    return Replay(len(events), seconds, client, server)


def _postmaster(infra: Embedded) -> int | None:
    pid_file = infra.postgres.data_dir / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


@benchmark(
    "projection-apply",
    needs="embedded",
    rows={
        # No broker here: what bounds the fold is writing rows, so the limit is a COPY of as many.
        "projection-apply-rebuild": Bar(">=", 0.05, of=limits.COPY),
        "projection-apply-batches": None,
        "projection-apply-live": Bar(">=", 0.05, of=limits.COPY),
    },
)
async def projection_apply(ctx: Context) -> RunResult:
    """RegionMetricsProjection.apply alone (no broker) over 300,000 events of a year in the demo county:
    registrations, moves, employment, unemployment, surveys, corrections, deaths, employers, vacancies and
    service points, dated over the year, in batches of 5,000-20,000. Into empty tables batch by batch
    (-batches), then again after reset in rebuild mode (begin_rebuild .. finish_rebuild, the final write
    timed: -rebuild), then 300,000 more batch by batch on top (states to read and update: -live). The county
    total must agree between the first two. CPU seconds per 100,000 events of this process and of Postgres
    are in the notes."""
    infra = await ctx.resources.embedded()
    if not _HISTORY:
        made = time.perf_counter()
        _HISTORY.extend(history_envelopes(random.Random(2026), 2 * APPLY_EVENTS))
        # A consumer holds one batch, not the whole history: keep the collector from walking it each time.
        gc.collect()
        gc.freeze()
        ctx.note(f"history of {len(_HISTORY):,} envelopes made in {time.perf_counter() - made:.1f} s (untimed)")
    first, second = _HISTORY[:APPLY_EVENTS], _HISTORY[APPLY_EVENTS:]
    postmaster = _postmaster(infra)
    rows: RunResult = {}
    county: list[int] = []
    async with infra.schema(reporting_app.DDL) as pool, pool.connection() as conn:
        await load_regions(conn, demo_county())
        projection = RegionMetricsProjection()
        for row, events, rebuild in (
            ("projection-apply-batches", first, False),
            ("projection-apply-rebuild", first, True),
            ("projection-apply-live", second, False),
        ):
            if rebuild:
                await projection.reset(conn)
            result = await replay(conn, projection, events, APPLY_BATCH_SIZES, postmaster=postmaster, rebuild=rebuild)
            client, server = result.cpu_per()
            ctx.note(
                f"{row}: {result.events:,} events in {result.seconds:.2f} s; CPU s per 100,000 events: "
                f"this process {client:.2f}, Postgres {server:.2f}"
            )
            rows[row] = Measurement(result.rate, "events/s")
            cursor = await conn.execute(
                "SELECT value FROM region_metrics WHERE region_code = %s AND metric = 'labour_force'", (COUNTY,)
            )
            found = await cursor.fetchone()
            county.append(int(found[0]) if found else 0)
    if county[0] <= 0 or county[0] != county[1]:
        raise BenchmarkFailed(f"county labour_force batch by batch {county[0]}, rebuilt {county[1]}")
    rows[limits.COPY] = await limits.copy_rows(infra.database_url, APPLY_EVENTS)
    return rows
