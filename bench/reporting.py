"""Reporting benchmarks: rebuild, live projection, queries and the quarterly export, on embedded infrastructure.

Sizes are module constants: the issue's by default, about a tenth with ``--quick`` (the query and export
benchmarks' fills are smaller still, so a quick run stays short), and overridable one by one
with environment variables (``RENSHE_BENCH_REBUILD_EVENTS=20000 python -m bench rebuild --runs 1``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import httpx
import psycopg
from aiokafka import ConsumerRecord
from psycopg_pool import AsyncConnectionPool

from bench import limits
from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile, size
from bench.data import COUNTY
from bench.history import TOWNSHIPS, VILLAGES, StreamEvent, county_history, synthetic_history
from bench.infra import Embedded
from contracts import assistance as a
from contracts import insurance as ins
from contracts import supervision as sup
from contracts.envelope import EventEnvelope
from contracts.registration import PersonRegistered
from contracts.topics import REGISTRATION_EVENTS
from services.reporting import app as reporting_app
from services.reporting.app import source_topics
from services.reporting.projection import RegionMetricsProjection
from services.reporting.staff.projection import SCHEMA as STAFF_SCHEMA
from services.reporting.staff.projection import StaffPerformanceProjection
from services.reporting.staff.worker import STAFF_DDL
from services.runtime import kafka, regions
from services.runtime.applying import ConsumerCore
from services.runtime.auth import Role, issue_token
from services.runtime.consumer import EventConsumer
from services.runtime.db import migrate, open_pool
from services.runtime.devstack import free_port, wait_for_port
from services.runtime.inbox import Progress
from services.runtime.outbox import POSITION_HEADER
from services.runtime.rebuild import Rebuild, default_shards


def _size(name: str, full: int, quick_size: int | None = None) -> int:
    return size(full, quick_size=quick_size, env=f"RENSHE_BENCH_{name}")


#: rebuild: events on the topic, read back from offset 0.
REBUILD_EVENTS = _size("REBUILD_EVENTS", 1_000_000)
#: projection-live: the backlog for the catch-up rate, and the paced rate and duration for the lag.
LIVE_BACKLOG = _size("LIVE_BACKLOG", 200_000)
LIVE_RATE = _size("LIVE_RATE", 1_000, quick_size=1_000)
LIVE_SECONDS = _size("LIVE_SECONDS", 30)
#: reporting-queries: events projected before querying, and requests per query.
QUERY_EVENTS = _size("QUERY_EVENTS", 10_000_000, quick_size=50_000)
QUERY_REQUESTS = _size("QUERY_REQUESTS", 2_000, quick_size=500)
#: quarterly-xlsx: events projected before exporting, and exports timed.
EXPORT_EVENTS = _size("EXPORT_EVENTS", 1_000_000, quick_size=50_000)
EXPORT_REPEATS = _size("EXPORT_REPEATS", 5, quick_size=5)

_PRODUCE_CHUNK = 5_000
_SECRET = "bench-secret-0123456789abcdef0123456789"


async def _load_regions(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn, conn.transaction():
        await regions.load_regions(conn, regions.reference_regions(""))


def _envelopes(count: int, seed: int) -> Iterator[tuple[bytes, bytes]]:
    """``count`` (key, value) messages of a synthetic county history, valid contract envelopes."""
    for i, item in enumerate(synthetic_history(random.Random(seed), count)):
        if i >= count:
            return
        yield item.stream_id.encode(), item.envelope().model_dump_json().encode()


async def _fill_topic(infra: Embedded, topic: str, count: int, seed: int) -> dict[str, int]:
    """Produce ``count`` registration envelopes with store positions 1..count; returns the count per event type."""
    history = itertools.islice(synthetic_history(random.Random(seed), count), count)
    return (await _produce(infra, {REGISTRATION_EVENTS.name: topic}, history)).get(REGISTRATION_EVENTS.name, {})


async def _produce(
    infra: Embedded, topics: Mapping[str, str], history: Iterable[StreamEvent]
) -> dict[str, dict[str, int]]:
    """Produce ``history``, each event to ``topics[its topic]`` keyed by its stream and with its store
    position (1, 2, ... per topic, as each service's relay numbers its own store); returns the count per
    event type per source topic."""
    await kafka.ensure_topics(infra.bootstrap_servers, [(topic, 6) for topic in topics.values()])
    producer = kafka.producer(infra.bootstrap_servers)
    await producer.start()
    mix: dict[str, dict[str, int]] = {}
    positions: dict[str, int] = {}
    try:
        pending = []
        for item in history:
            types = mix.setdefault(item.topic, {})
            types[item.event.event_type] = types.get(item.event.event_type, 0) + 1
            positions[item.topic] = position = positions.get(item.topic, 0) + 1
            value = item.envelope().model_dump_json().encode()
            headers = [(POSITION_HEADER, str(position).encode())]
            send = producer.send(topics[item.topic], key=item.stream_id.encode(), value=value, headers=headers)
            pending.append(await send)
            if len(pending) >= _PRODUCE_CHUNK:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return mix


async def _county_figure(pool: AsyncConnectionPool, metric: str) -> int | None:
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT value FROM region_metrics WHERE region_code = %s AND metric = %s", (COUNTY, metric)
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else None


#: rebuild: at least this share of one raw consumer reading and decoding the same topics once.
# Its start-up (two shard processes, pause, reset, end-offset probe, twice: once per model) is a third of a
# quick run: a lower quick bar.
REBUILD_BAR = Bar(">=", 0.15, of=limits.RAW_CONSUME, also=(limits.COPY,), quick_threshold=0.04)
#: projection_live: its catch-up rate against the same limits.
LIVE_BAR = Bar(">=", 0.04, of=limits.RAW_CONSUME, also=(limits.COPY,))
#: Query p99s: at most this many times a SELECT 1 answered over HTTP by a bare app on the same Postgres.
QUERY_BAR = Bar("<=", 8.0, of=limits.SELECT1_HTTP)
#: The export is one request too: its slowest of EXPORT_REPEATS against the same SELECT 1 p99.
EXPORT_BAR = Bar("<=", 20.0, of=limits.SELECT1_HTTP)

#: County figures the rebuild must make equal to a count of generated events, one or more per source:
#: (metric, event types whose count it must equal).
_COUNTY_CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("labour_force", (PersonRegistered.event_type,)),
    ("job_referrals", (a.JobReferred.event_type,)),
    ("assisted_placed", (a.PlacedInJob.event_type,)),
    ("benefits_granted", (ins.UnemploymentBenefitGranted.event_type,)),
    ("complaints_filed", (sup.ComplaintFiled.event_type,)),
    ("cases_opened", (sup.CaseOpened.event_type,)),
)
#: Staff-performance credits the rebuild must count: (kind, event type whose count it must equal); the
#: synthetic events' actor is a staff subject (``bench``), so every such event credits it.
_STAFF_CHECKS: tuple[tuple[str, str], ...] = (
    ("person_registered", PersonRegistered.event_type),
    ("complaint_received", sup.ComplaintFiled.event_type),
    ("placement", a.PlacedInJob.event_type),
)


@benchmark("rebuild", needs="embedded", rows={"rebuild": REBUILD_BAR})
async def rebuild(ctx: Context) -> RunResult:
    """`renshe reporting rebuild` over 1,000,000 synthetic events of every service, each on its own topic
    (registration about 60 %, then insurance, assistance and supervision): the region figures and the
    staff-performance model reset and rebuilt together, in shards, from one reading of all four topics."""
    infra = await ctx.resources.embedded()
    run = uuid.uuid4().hex[:8]
    topics = {source: f"bench.rebuild.{run}.{source}" for source in source_topics()}
    filled = time.perf_counter()
    history = itertools.islice(county_history(random.Random(ctx.run_index), REBUILD_EVENTS), REBUILD_EVENTS)
    mix = await _produce(infra, topics, history)
    ctx.note(
        f"{REBUILD_EVENTS:,} envelopes produced in {time.perf_counter() - filled:.1f} s (untimed): "
        + ", ".join(f"{source} {sum(types.values()):,}" for source, types in mix.items())
    )
    counts = {event_type: n for types in mix.values() for event_type, n in types.items()}
    async with infra.schema(reporting_app.DDL, max_size=6) as pool, _staff_pool(infra) as staff_pool:
        await _load_regions(pool)
        # As rebuild_read_models does: both models from one reading.
        region = await Rebuild(
            pool,
            RegionMetricsProjection(),
            list(topics.values()),
            infra.bootstrap_servers,
            also=[(staff_pool, StaffPerformanceProjection())],
            shards=default_shards(),
        ).run()
        [staff] = region.also
        county = {metric: await _county_figure(pool, metric) for metric, _ in _COUNTY_CHECKS}
        credits = await _staff_credits(staff_pool)
    seconds = region.seconds
    ctx.note(
        f"{region.read:,} messages read once; region figures {region.applied:,} and staff model {staff.applied:,}"
        f" applied in {seconds:.2f} s (pause, reset and the end-offset probe included)"
    )
    ctx.note("county " + ", ".join(f"{metric} {value}" for metric, value in county.items()))
    for report, model in ((region, "region figures"), (staff, "staff model")):
        if report.applied != REBUILD_EVENTS or report.dead_letters:
            raise BenchmarkFailed(
                f"{model}: applied {report.applied:,} of {REBUILD_EVENTS:,}, {report.dead_letters} dead letters"
            )
    for metric, event_types in _COUNTY_CHECKS:
        expected = sum(counts.get(t, 0) for t in event_types)
        if (county[metric] or 0) != expected:
            raise BenchmarkFailed(f"county {metric} {county[metric]}, expected {expected}")
    for kind, event_type in _STAFF_CHECKS:
        if credits.get(kind, 0) != counts.get(event_type, 0):
            raise BenchmarkFailed(f"{credits.get(kind, 0)} {kind} credits, expected {counts.get(event_type, 0)}")
    return {
        "rebuild": Measurement(REBUILD_EVENTS / seconds, "events/s"),
        limits.RAW_CONSUME: await limits.raw_consume_decode(
            infra.bootstrap_servers, list(topics.values()), REBUILD_EVENTS
        ),
        limits.COPY: await limits.copy_rows(infra.database_url, REBUILD_EVENTS),
    }


@contextlib.asynccontextmanager
async def _staff_pool(infra: Embedded) -> AsyncIterator[AsyncConnectionPool]:
    """A pool on the staff-performance schema (its fixed name, as ``prepare_staff_pool`` opens it), migrated."""
    pool = open_pool(infra.database_url, STAFF_SCHEMA, min_size=1, max_size=4)
    await pool.open(wait=True, timeout=30)
    try:
        async with pool.connection() as conn:
            await migrate(conn, STAFF_SCHEMA, STAFF_DDL)
        yield pool
    finally:
        await pool.close()


async def _staff_credits(pool: AsyncConnectionPool) -> dict[str, int]:
    async with pool.connection() as conn:
        cursor = await conn.execute(f"SELECT kind, count(*) FROM {STAFF_SCHEMA}.staff_credits GROUP BY kind")
        return {str(kind): int(n) for kind, n in await cursor.fetchall()}


class _LagRecorder(EventConsumer):
    """An EventConsumer that notes, for each record, the time from its broker timestamp to its commit."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lags: list[float] = []
        self.recording = False
        self.first_batch_at: float | None = None

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
        if self.recording:
            now = time.time()
            self.lags.extend(now - record.timestamp / 1000 for record, _ in decoded)


@benchmark(
    "projection_live",
    needs="embedded",
    rows={"projection_live_max": LIVE_BAR, "projection_live_lag_p99": None, "projection_live_lag_p50": None},
)
async def projection_live(ctx: Context) -> RunResult:
    """The reporting worker on mixed synthetic events: the rate it catches up from a 200,000-event backlog,
    then the lag (broker timestamp to commit) of each event while events arrive at 1,000 per second."""
    infra = await ctx.resources.embedded()
    topic = f"bench.live.{uuid.uuid4().hex[:8]}"
    await _fill_topic(infra, topic, LIVE_BACKLOG, seed=100 + ctx.run_index)
    async with infra.schema(reporting_app.DDL, max_size=6) as pool:
        await _load_regions(pool)
        worker = _LagRecorder(
            pool, RegionMetricsProjection(), [topic], infra.bootstrap_servers, group_id=f"bench-{uuid.uuid4().hex[:8]}"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await _until(lambda: worker.applied_total >= LIVE_BACKLOG, 600, "the backlog was not applied")
            assert worker.first_batch_at is not None
            catch_up = time.perf_counter() - worker.first_batch_at
            ctx.note(f"backlog of {LIVE_BACKLOG:,} applied {catch_up:.1f} s after the first batch (group join untimed)")
            worker.recording = True
            sent = await _paced(infra, topic, LIVE_RATE, LIVE_SECONDS, seed=200 + ctx.run_index)
            await _until(lambda: worker.applied_total >= LIVE_BACKLOG + sent, 120, "the paced events were not applied")
        finally:
            stop.set()
            await task
    lags = worker.lags
    ctx.note(f"{sent:,} events at {LIVE_RATE:,}/s for {LIVE_SECONDS} s; max lag {max(lags) * 1000:.0f} ms")
    return {
        "projection_live_max": Measurement(LIVE_BACKLOG / catch_up, "events/s"),
        "projection_live_lag_p99": Measurement(percentile(lags, 0.99) * 1000, "ms"),
        "projection_live_lag_p50": Measurement(percentile(lags, 0.50) * 1000, "ms"),
        limits.RAW_CONSUME: await limits.raw_consume_decode(infra.bootstrap_servers, topic, LIVE_BACKLOG),
        limits.COPY: await limits.copy_rows(infra.database_url, LIVE_BACKLOG),
    }


async def _until(check: Callable[[], bool], timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"{failure} in {timeout:.0f} s")
        await asyncio.sleep(0.01)


async def _paced(infra: Embedded, topic: str, rate: int, seconds: int, seed: int) -> int:
    """Send ``rate`` events per second for ``seconds`` in 10 ms ticks; returns how many were sent."""
    messages = list(_envelopes(rate * seconds, seed))
    producer = kafka.producer(infra.bootstrap_servers, linger_ms=0)
    await producer.start()
    try:
        per_tick = max(1, rate // 100)
        started = time.perf_counter()
        pending = []
        for tick, i in enumerate(range(0, len(messages), per_tick)):
            await asyncio.sleep(max(0.0, started + tick / 100 - time.perf_counter()))
            for key, value in messages[i : i + per_tick]:
                pending.append(await producer.send(topic, key=key, value=value))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(messages)


@dataclass
class _ApiProcess:
    """``renshe reporting api`` as a separate process on a database of its own."""

    url: str
    token: str


#: Databases already filled, by number of events: every run of a benchmark folds the same seeded history, so
#: the first run fills one and the later runs query it again (the fill is untimed; at 10,000,000 events it
#: took two thirds of a full run's time when each run made its own). The embedded server goes with the run.
_FILLED: dict[tuple[str, int], str] = {}


async def _filled_database(infra: Embedded, events: int, ctx: Context) -> str:
    """The URL of a database whose reporting schema holds ``events`` synthetic events (made once per size)."""
    if (infra.database_url, events) in _FILLED:
        ctx.note(f"the {events:,} synthetic events projected by an earlier run are queried again (untimed)")
        return _FILLED[infra.database_url, events]
    database = f"bench_q_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(infra.database_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {database}")
    url = infra.database_url.rsplit("/", 1)[0] + "/" + database
    pool = open_pool(url, "reporting", min_size=1, max_size=2)
    await pool.open(wait=True)
    try:
        async with pool.connection() as conn:
            await migrate(conn, "reporting", reporting_app.DDL)
        await _load_regions(pool)
        started = time.perf_counter()
        await _project_directly(pool, events)
        ctx.note(
            f"{events:,} synthetic events projected straight through RegionMetricsProjection.apply"
            f" (no broker) in {time.perf_counter() - started:.0f} s (untimed)"
        )
    except BaseException:
        await pool.close()
        async with await psycopg.AsyncConnection.connect(infra.database_url, autocommit=True) as conn:
            await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        raise
    await pool.close()
    _FILLED[infra.database_url, events] = url
    return url


@contextlib.asynccontextmanager
async def _filled_reporting_api(infra: Embedded, events: int, ctx: Context) -> AsyncIterator[_ApiProcess]:
    """The reporting API as its own process on a database holding ``events`` synthetic events."""
    url = await _filled_database(infra, events, ctx)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
        "JWT_SECRET": _SECRET,
        "HTTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    renshe = os.path.join(os.path.dirname(sys.executable), "renshe")
    process = await asyncio.create_subprocess_exec(renshe, "reporting", "api", env=env)
    try:
        await asyncio.to_thread(wait_for_port, port, timeout=60)
        token = issue_token(_SECRET, subject="bench", role=Role.COUNTY, region=COUNTY)
        yield _ApiProcess(f"http://127.0.0.1:{port}", token)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def _project_directly(pool: AsyncConnectionPool, events: int, batch: int = 50_000) -> None:
    """Fold ``events`` synthetic envelopes into the read models in large transactions, without the broker."""
    projection = RegionMetricsProjection()
    chunk = []
    for item in synthetic_history(random.Random(42), events):
        chunk.append(item.envelope())
        if len(chunk) >= batch:
            async with pool.connection() as conn, conn.transaction():
                await projection.apply(conn, chunk)
            chunk = []
    if chunk:
        async with pool.connection() as conn, conn.transaction():
            await projection.apply(conn, chunk)


async def _latencies(client: httpx.AsyncClient, paths: Sequence[str], requests: int) -> list[float]:
    """Sequential GETs cycling through ``paths``: one request in flight, so each time is the query's own."""
    times = []
    for i in range(requests):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        response = await client.get(path)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise BenchmarkFailed(f"GET {path}: {response.status_code} {response.text[:200]}")
    return times


@benchmark(
    "reporting_queries",
    needs="embedded",
    rows={"stats_p99": QUERY_BAR, "children_p99": QUERY_BAR},
)
async def reporting_queries(ctx: Context) -> RunResult:
    """GET /regions/{code}/stats and /children over HTTP against `renshe reporting api`, p99 of one request
    at a time, after 10,000,000 synthetic events were projected (folded straight, without the broker)."""
    infra = await ctx.resources.embedded()
    async with _filled_reporting_api(infra, QUERY_EVENTS, ctx) as api:
        headers = {"Authorization": f"Bearer {api.token}"}
        rng = random.Random(ctx.run_index)
        stats_paths = [f"/regions/{code}/stats" for code in (COUNTY, *TOWNSHIPS, *rng.sample(VILLAGES, 50))]
        children_paths = [f"/regions/{code}/children" for code in (COUNTY, *TOWNSHIPS)]
        async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=10.0) as client:
            await _latencies(client, stats_paths + children_paths, 200)  # warm-up, untimed
            stats = await _latencies(client, stats_paths, QUERY_REQUESTS)
            children = await _latencies(client, children_paths, QUERY_REQUESTS)
    ctx.note(f"{QUERY_REQUESTS:,} requests each; stats p50 {percentile(stats, 0.5) * 1000:.2f} ms")
    select1 = await _select1_p99(infra, ctx)
    return {
        "stats_p99": Measurement(percentile(stats, 0.99) * 1000, "ms"),
        "children_p99": Measurement(percentile(children, 0.99) * 1000, "ms"),
        limits.SELECT1_HTTP: select1,
    }


async def _select1_p99(infra: Embedded, ctx: Context) -> Measurement:
    """The query limit on the same Postgres: ``SELECT 1`` over HTTP from a bare app, one at a time."""
    app = await ctx.resources.bare_app(infra.database_url)
    p99, p50 = await limits.select1_over_http(app, QUERY_REQUESTS)
    ctx.note(f"{limits.SELECT1_HTTP}: p50 {p50:.2f} ms, p99 {p99.value:.2f} ms over {QUERY_REQUESTS:,} requests")
    return p99


@benchmark("quarterly_xlsx", needs="embedded", rows={"quarterly_xlsx": EXPORT_BAR})
async def quarterly_xlsx(ctx: Context) -> RunResult:
    """GET /reports/quarterly?region=430527&period=2026Q3&format=xlsx for the demo county (232 village-level
    rows under 25 townships and communities), after 1,000,000 synthetic events were projected."""
    infra = await ctx.resources.embedded()
    async with _filled_reporting_api(infra, EXPORT_EVENTS, ctx) as api:
        headers = {"Authorization": f"Bearer {api.token}"}
        path = "/reports/quarterly"
        params = {"region": COUNTY[:6], "period": "2026Q3", "format": "xlsx"}
        async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=60.0) as client:
            times = []
            for _ in range(EXPORT_REPEATS):
                started = time.perf_counter()
                response = await client.get(path, params=params)
                times.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise BenchmarkFailed(f"GET {path}: {response.status_code} {response.text[:200]}")
    ctx.note(f"{len(response.content):,} bytes; runs {', '.join(f'{t:.3f}' for t in times)} s")
    select1 = await _select1_p99(infra, ctx)
    # In ms, as the limit is: the ratio is the export's slowest time in SELECT-1 round trips.
    return {"quarterly_xlsx": Measurement(1000 * max(times), "ms"), limits.SELECT1_HTTP: select1}
