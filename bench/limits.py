"""The physical limits a benchmark's figure is bounded by, measured in the same run on the same servers.

An absolute figure on a shared 2-core machine says as much about the hour as about the code: the same
rebuild measured 65,854 and 52,586 events/s an hour apart. What the code controls is how close it comes
to what the machine could do at that moment, so a benchmark measures, right after its figure, the
cheapest thing that does the same physical work, and the bar is on the ratio (``Bar(..., of=LIMIT)``).

Each function here is one such limit, bounded in count and in time, and returns a ``Measurement``:

- ``single_row_commits``: one connection, autocommit, one-row INSERTs (the fsync rate of the server);
- ``copy_rows`` / ``batched_inserts``: the same number of event-shaped rows by COPY, or by INSERTs of
  1,000 rows a statement and a transaction (``unnest`` of binary arrays, as the event store writes);
- ``raw_produce``: aiokafka, ``acks=all``, the same number and size of messages to a fresh topic;
- ``raw_consume_decode``: aiokafka reading a topic from offset 0 to its end, ``orjson.loads`` on each value;
- ``broker_hop``: the p99 from sending a message (``acks=all``, no linger) to a consumer receiving it,
  paced as the visibility benchmark paces its commands: the one hop every event takes to a read model;
- ``BareApp``: a FastAPI app under uvicorn configured as the services are, answering ``POST /persons``
  with no work (``bare_posts``, and ``bench.http_api.bare_commands`` from the load generator's process) and
  ``GET /select1`` with one ``SELECT 1`` (``select1_over_http``);
- ``bisect_lookups``: the least a deadline on a calendar of day ordinals costs in Python (one bisect, one
  ``date.fromordinal``): what a deadline benchmark's CPU is bounded by.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import orjson
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.core import BenchmarkFailed, Measurement, percentile, quick
from bench.loadgen import StdlibClient
from services.runtime import kafka
from services.runtime.devstack import free_port, wait_for_port

# The names benchmarks use for their limits, so the same limit reads the same in every table.
SINGLE_ROW_COMMITS = "single-row commits"
COPY = "COPY"
BATCHED_INSERTS = "1,000-row INSERTs"
RAW_PRODUCE = "raw produce acks=all"
RAW_CONSUME = "raw consume+decode"
BARE_APP = "bare FastAPI app"
SELECT1_HTTP = "SELECT 1 over HTTP p99"
BROKER_HOP = "produce-to-consume p99"
CALENDAR_LOOKUPS = "bisect lookups"

#: Every limit stops after this many seconds even if it has not done all its work (then the rate is
#: over what it did), so a stalled server cannot hold a run for ever.
LIMIT_TIMEOUT = 120.0
#: The most seconds a latency benchmark's broker hop is paced for: a thousand messages make a p99 in a quick run.
HOP_SECONDS = 2.0 if quick() else 5.0
_REPO = Path(__file__).resolve().parents[1]

_TABLE = "limit_rows (position bigint, stream_id uuid, type text, region_code text, data jsonb)"
_DATA = orjson.dumps(
    {
        "person_id": "00000000-0000-0000-0000-000000000000",
        "sex": "female",
        "birth_date": "1985-03-14",
        "hukou": "rural",
        "region_code": "430527100201",
        "education": None,
        "categories": ["rural_surplus_labour"],
    }
).decode()


@contextlib.asynccontextmanager
async def scratch_table(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
    """A connection whose search path is a fresh schema holding an empty ``limit_rows``; dropped after."""
    schema = f"bench_limit_{uuid.uuid4().hex[:10]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            await conn.execute(f'SET search_path TO "{schema}"')
            await conn.execute(f"CREATE TABLE {_TABLE}")
            yield conn
        finally:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _row(position: int) -> tuple[int, str, str, str, str]:
    return (position, str(uuid.UUID(int=position)), "PersonRegistered", "430527100201", _DATA)


async def single_row_commits(database_url: str, seconds: float | None = None, max_count: int = 50_000) -> Measurement:
    """Commits per second of one-row INSERTs on one autocommit connection, for ``seconds`` (3, or 1 in a ``--quick``
    run) or ``max_count``."""
    seconds = seconds if seconds is not None else (1.0 if quick() else 3.0)
    async with scratch_table(database_url) as conn:
        insert = "INSERT INTO limit_rows VALUES (%s, %s, %s, %s, %s)"
        for position in range(20):  # warm-up: the statement is prepared after a few executions
            await conn.execute(insert, _row(position))
        done, started = 0, time.perf_counter()
        deadline = started + seconds
        while done < max_count and time.perf_counter() < deadline:
            await conn.execute(insert, _row(done))
            done += 1
        elapsed = time.perf_counter() - started
    return Measurement(done / elapsed, "commits/s")


async def copy_rows(database_url: str, rows: int) -> Measurement:
    """Rows per second of one COPY of ``rows`` event-shaped rows, text prepared beforehand, in one transaction."""
    lines = "".join("\t".join(map(str, _row(i))) + "\n" for i in range(rows)).encode()
    chunk = 1 << 20
    async with scratch_table(database_url) as conn:
        started = time.perf_counter()
        async with conn.transaction(), conn.cursor().copy("COPY limit_rows FROM STDIN") as copy:
            for at in range(0, len(lines), chunk):
                await copy.write(lines[at : at + chunk])
        elapsed = time.perf_counter() - started
    return Measurement(rows / elapsed, "rows/s")


async def batched_inserts(database_url: str, rows: int, batch: int = 1_000) -> Measurement:
    """Rows per second of INSERTs of ``batch`` rows a statement (``unnest`` of binary arrays, the event
    store's own form), each its own transaction, one connection."""
    statement = (
        "INSERT INTO limit_rows SELECT * FROM unnest(%b::bigint[], %b::uuid[], %b::text[], %b::text[],"
        " %b::text[]::jsonb[])"
    )
    columns = list(zip(*(_row(i) for i in range(batch)), strict=True))
    params = [list(columns[0]), [uuid.UUID(v) for v in columns[1]], *(list(c) for c in columns[2:])]
    async with scratch_table(database_url) as conn:
        await conn.execute(statement, params)  # warm-up, untimed
        done, started = 0, time.perf_counter()
        while done < rows and time.perf_counter() - started < LIMIT_TIMEOUT:
            await conn.execute(statement, params)
            done += batch
        elapsed = time.perf_counter() - started
    return Measurement(done / elapsed, "rows/s")


async def raw_produce(bootstrap_servers: str, values: Sequence[bytes], partitions: int = 6) -> Measurement:
    """Messages per second of ``values`` produced by aiokafka (``acks=all``, the runtime's producer
    settings) to a fresh topic, waiting for every acknowledgement; keys spread them over the partitions."""
    topic = f"bench.limit.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(bootstrap_servers, [(topic, partitions)])
    producer = kafka.producer(bootstrap_servers, acks="all")
    await producer.start()
    try:
        await (await producer.send(topic, key=b"warm-up", value=values[0]))
        started = time.perf_counter()
        pending = []
        for i, value in enumerate(values):
            pending.append(await producer.send(topic, key=str(i).encode(), value=value))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
                if time.perf_counter() - started > LIMIT_TIMEOUT:
                    raise BenchmarkFailed(f"raw produce did {i:,} of {len(values):,} in {LIMIT_TIMEOUT:.0f} s")
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return Measurement(len(values) / elapsed, "msgs/s")


async def raw_consume_decode(bootstrap_servers: str, topic: str | Sequence[str], expected: int) -> Measurement:
    """Messages per second of reading ``expected`` messages of ``topic`` (or of several topics together)
    from offset 0 with one aiokafka consumer, ``orjson.loads`` on each value; partition assignment is untimed.

    It reads a count, not up to the end offsets: the embedded broker's end offsets can trail the last
    acknowledged messages by a few dozen, which would end the read early.
    """
    # The runtime's probe refreshes metadata first: a new consumer's view of the topic can miss partitions.
    topics = [topic] if isinstance(topic, str) else list(topic)
    partitions = []
    for name in topics:
        ends = await kafka.end_offsets(bootstrap_servers, name) or {}
        partitions += [TopicPartition(name, p) for p in sorted(ends)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_bytes=50 * 1024 * 1024
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        read, started = 0, time.perf_counter()
        while read < expected:
            if time.perf_counter() - started > LIMIT_TIMEOUT:
                raise BenchmarkFailed(f"raw consume read {read:,} of {expected:,} in {LIMIT_TIMEOUT:.0f} s")
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batches.values():
                for record in records:
                    orjson.loads(record.value)
                read += len(records)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return Measurement(read / elapsed, "msgs/s")


async def broker_hop(bootstrap_servers: str, rate: float, seconds: float) -> tuple[Measurement, float]:
    """p99 (and p50) in ms from ``send`` to a consumer's receipt of messages paced at ``rate`` for ``seconds``."""
    topic = f"bench.hop.{uuid.uuid4().hex[:8]}"
    await kafka.ensure_topics(bootstrap_servers, [(topic, 6)])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=5)
    producer = kafka.producer(bootstrap_servers, acks="all", linger_ms=0)
    await consumer.start()
    await producer.start()
    count = int(rate * seconds)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    try:
        partitions = [TopicPartition(topic, p) for p in range(6)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)

        async def receive() -> None:
            while len(latencies) < count:
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    now = time.perf_counter()
                    latencies.extend(now - sent[int(r.key)] for r in records if r.key and r.key != b"warm-up")

        receiving = asyncio.create_task(receive())
        await (await producer.send(topic, key=b"warm-up", value=b"{}"))  # connections and metadata, uncounted
        started = time.perf_counter()
        pending = []
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            sent[i] = time.perf_counter()
            pending.append(await producer.send(topic, key=str(i).encode(), value=b'{"bench": true}'))
        await asyncio.gather(*pending)
        try:
            await asyncio.wait_for(receiving, LIMIT_TIMEOUT)
        except TimeoutError:
            raise BenchmarkFailed(f"the broker hop received {len(latencies):,} of {count:,}") from None
    finally:
        await producer.stop()
        await consumer.stop()
    return Measurement(1000 * percentile(latencies, 0.99), "ms"), 1000 * percentile(latencies, 0.5)


@dataclass
class BareApp:
    """``bench.bare_app`` running as its own process: the HTTP floor of a service on this machine.

    The benchmarks take it from ``bench.infra.Resources.bare_app``, which starts one per database and keeps it
    until that database stops: a start is a Python process importing FastAPI, a second or two a time."""

    url: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, database_url: str) -> BareApp:
        """Start the bare app on a free port against ``database_url`` and wait until it listens (blocking)."""
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "HTTP_PORT": str(port)}
        process = subprocess.Popen([sys.executable, "-m", "bench.bare_app"], env=env, cwd=_REPO)
        try:
            wait_for_port(port, timeout=60)
        except BaseException:
            process.kill()
            process.wait(30)
            raise
        return cls(f"http://127.0.0.1:{port}", process)

    def stop(self) -> None:
        """Stop the process (blocking)."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)


async def select1_over_http(app: BareApp, requests: int) -> tuple[Measurement, float]:
    """p99 in ms of ``GET /select1`` one at a time with httpx, as the query benchmarks send theirs; and p50."""
    times = []
    async with httpx.AsyncClient(base_url=app.url, timeout=10.0) as client:
        for i in range(requests + 100):  # the first 100 warm the connection and the pool, untimed
            started = time.perf_counter()
            response = await client.get("/select1")
            if i >= 100:
                times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise BenchmarkFailed(f"the bare app answered {response.status_code} to GET /select1")
    return Measurement(1000 * percentile(times, 0.99), "ms"), 1000 * percentile(times, 0.5)


async def bare_posts(app: BareApp, count: int, in_flight: int) -> Measurement:
    """Commands per second of ``count`` ``POST /persons`` answered by the bare app, ``in_flight`` at a time,
    sent from this process with ``bench.loadgen.StdlibClient``: the HTTP floor of a command benchmark that
    sends its own requests the same way (the service benchmarks do)."""
    client = StdlibClient(app.url, {"content-type": "application/json"}, in_flight)
    semaphore = asyncio.Semaphore(in_flight)
    answered = 0

    async def one() -> None:
        nonlocal answered
        async with semaphore:
            status, _ = await client.post("/persons", b"{}")
        answered += status == 201

    try:
        await asyncio.gather(*(one() for _ in range(min(100, count))))  # connections opened, untimed
        answered = 0
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(count))), LIMIT_TIMEOUT)
        elapsed = time.perf_counter() - started
    finally:
        await client.aclose()
    if answered != count:
        raise BenchmarkFailed(f"the bare app answered {answered:,} of {count:,} with 201")
    return Measurement(count / elapsed, "commands/s")


def bisect_lookups(count: int, seed: int = 0) -> Measurement:
    """Lookups per second of one ``bisect`` of a day's ordinal in a sorted list of about 36,500 ordinals
    (a century of working days) and one ``date.fromordinal`` of the day found: the least a deadline on the
    official calendar can cost in Python, measured on the same interpreter and CPU as the deadlines."""
    first = date(2000, 1, 1).toordinal()
    days = list(range(first, first + 36_500))
    rng = random.Random(seed)
    starts = [first + rng.randrange(30_000) for _ in range(count)]
    bisect_right, fromordinal = bisect.bisect_right, date.fromordinal
    started = time.perf_counter()
    for start in starts:
        fromordinal(days[bisect_right(days, start) + 5])
    return Measurement(count / (time.perf_counter() - started), "lookups/s")
