"""Event store and outbox relay benchmarks, on embedded Postgres and the embedded broker."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool

from bench import limits
from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, quick, size
from bench.data import pending_person, person_batch, person_envelopes
from bench.infra import Embedded
from contracts.topics import Topic
from services.runtime import eventstore, kafka, relay
from services.runtime.eventstore import Append, EventStore
from services.runtime.relay import OutboxRelay

#: eventstore-single: concurrent clients, each appending one event per transaction to a new stream.
SINGLE_CLIENTS = 16
#: How long each variant (serialised, unserialised) appends per run.
SINGLE_SECONDS = 1.0 if quick() else 5.0

#: eventstore-batched: each ``append_batch`` call writes this many streams of this many events.
BATCH_STREAMS = 100
BATCH_EVENTS_PER_STREAM = 10
#: Batches per run (100 x 1,000 = 100,000 events) and how many connections append concurrently.
BATCHES = size(100)
BATCH_WRITERS = 2

#: relay: events in the store before the relay starts from position 0.
RELAY_EVENTS = size(100_000)
RELAY_TIMEOUT = 240.0


async def _single_appends(infra: Embedded, store: EventStore) -> float:
    """Commands per second of one-event appends to new streams, ``SINGLE_CLIENTS`` at a time."""
    rng = random.Random()
    async with infra.schema(eventstore.DDL, min_size=SINGLE_CLIENTS, max_size=SINGLE_CLIENTS) as pool:

        async def client(deadline: float) -> int:
            done = 0
            while time.perf_counter() < deadline:
                stream_id, event = pending_person(rng)
                async with pool.connection() as conn:
                    await store.append(conn, "person", stream_id, 0, [event])
                done += 1
            return done

        # Warm up every connection (prepared statements, catalog caches) before timing.
        await asyncio.gather(*(client(time.perf_counter() + 0.3) for _ in range(SINGLE_CLIENTS)))
        started = time.perf_counter()
        counts = await asyncio.gather(*(client(started + SINGLE_SECONDS) for _ in range(SINGLE_CLIENTS)))
        elapsed = time.perf_counter() - started
    return sum(counts) / elapsed


@benchmark(
    "eventstore-single",
    needs="embedded",
    rows={
        "eventstore-single": None,
        "eventstore-single-unserialised": None,
        "eventstore-single serialised/unserialised": None,
    },
)
async def eventstore_single(ctx: Context) -> RunResult:
    """One EventStore.append per transaction, each to a new stream, 16 concurrent clients; with and
    without the LOCK TABLE that keeps positions in commit order."""
    infra = await ctx.resources.embedded()
    variants = [("serialised", EventStore()), ("unserialised", EventStore(serialise_appends=False))]
    if ctx.run_index % 2 == 0:  # alternate which variant goes first, so neither always gets a cold start
        variants.reverse()
    rates = {name: await _single_appends(infra, store) for name, store in variants}
    return {
        "eventstore-single": Measurement(rates["serialised"], "commands/s"),
        "eventstore-single-unserialised": Measurement(rates["unserialised"], "commands/s"),
        "eventstore-single serialised/unserialised": Measurement(rates["serialised"] / rates["unserialised"], "ratio"),
    }


#: eventstore-batched: at least this share of 1,000-row INSERTs (see README, "Reading the ratios").
BATCHED_BAR = Bar(">=", 0.25, of=limits.BATCHED_INSERTS, also=(limits.COPY,))
#: relay: at least this share of a raw produce of the same envelopes.
RELAY_BAR = Bar(">=", 0.15, of=limits.RAW_PRODUCE, also=(limits.COPY, limits.BATCHED_INSERTS))


@benchmark("eventstore-batched", needs="embedded", rows={"eventstore-batched": BATCHED_BAR})
async def eventstore_batched(ctx: Context) -> RunResult:
    """EventStore.append_batch of 1,000-event batches (100 streams x 10 events), 2 writers."""
    infra = await ctx.resources.embedded()
    rng = random.Random()
    batches = [person_batch(rng, BATCH_STREAMS, BATCH_EVENTS_PER_STREAM) for _ in range(BATCHES)]
    store = EventStore()
    async with infra.schema(eventstore.DDL, min_size=BATCH_WRITERS, max_size=BATCH_WRITERS) as pool:
        await _append_all(pool, store, [person_batch(rng, 10, 10) for _ in range(BATCH_WRITERS)])  # warm-up
        started = time.perf_counter()
        await _append_all(pool, store, batches)
        elapsed = time.perf_counter() - started
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT count(*) FROM events")
            row = await cursor.fetchone()
    expected = BATCHES * BATCH_STREAMS * BATCH_EVENTS_PER_STREAM + BATCH_WRITERS * 100
    if row is None or row[0] != expected:
        raise BenchmarkFailed(f"the store holds {row[0] if row else 0} events, expected {expected}")
    events = BATCHES * BATCH_STREAMS * BATCH_EVENTS_PER_STREAM
    ctx.note(f"{BATCHES} batches of {BATCH_STREAMS * BATCH_EVENTS_PER_STREAM} events in {elapsed:.2f} s")
    return {
        "eventstore-batched": Measurement(events / elapsed, "events/s"),
        limits.BATCHED_INSERTS: await limits.batched_inserts(infra.database_url, events),
        limits.COPY: await limits.copy_rows(infra.database_url, events),
    }


async def _append_all(
    pool: AsyncConnectionPool, store: EventStore, batches: list[list[Append]], writers: int = BATCH_WRITERS
) -> None:
    """Append every batch, one ``append_batch`` transaction each, ``writers`` connections at a time."""
    queue = iter(batches)

    async def writer() -> None:
        async with pool.connection() as conn:
            for batch in queue:
                await store.append_batch(conn, batch)

    await asyncio.gather(*(writer() for _ in range(writers)))


@benchmark("relay", needs="embedded", rows={"relay": RELAY_BAR})
async def relay_throughput(ctx: Context) -> RunResult:
    """OutboxRelay from position 0 over a store pre-filled with 100,000 events, until all are acked."""
    infra = await ctx.resources.embedded()
    rng = random.Random()
    store = EventStore()
    async with infra.schema([*eventstore.DDL, *relay.DDL], max_size=BATCH_WRITERS + 2) as pool:
        per_batch = BATCH_STREAMS * BATCH_EVENTS_PER_STREAM
        prefill = [person_batch(rng, BATCH_STREAMS, BATCH_EVENTS_PER_STREAM) for _ in range(RELAY_EVENTS // per_batch)]
        await _append_all(pool, store, prefill)
        async with pool.connection() as conn:
            last = await store.last_position(conn)
        topic = Topic(f"bench.relay.{uuid.uuid4().hex[:8]}", "bench", "relay benchmark")
        await kafka.ensure_topics(infra.bootstrap_servers, [(topic.name, topic.partitions)])
        outbox = OutboxRelay(pool, topic, infra.bootstrap_servers)
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(outbox.run(stop))
        try:
            while outbox.position < last:
                if task.done():
                    task.result()
                    raise BenchmarkFailed(f"the relay stopped at position {outbox.position} of {last}")
                if time.perf_counter() - started > RELAY_TIMEOUT:
                    raise BenchmarkFailed(f"the relay reached only {outbox.position} of {last} in {RELAY_TIMEOUT} s")
                await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - started
        finally:
            stop.set()
            await task
    published = REGISTRY.get_sample_value("renshe_relay_published_events_total", {"topic": topic.name}) or 0
    if published != RELAY_EVENTS:
        raise BenchmarkFailed(f"the relay published {published:.0f} events, expected {RELAY_EVENTS}")
    ctx.note(f"{RELAY_EVENTS:,} events relayed in {elapsed:.2f} s")
    values = [value for _, value in person_envelopes(rng, RELAY_EVENTS)]
    return {
        "relay": Measurement(RELAY_EVENTS / elapsed, "events/s"),
        limits.RAW_PRODUCE: await limits.raw_produce(infra.bootstrap_servers, values, topic.partitions),
        limits.COPY: await limits.copy_rows(infra.database_url, RELAY_EVENTS),
        limits.BATCHED_INSERTS: await limits.batched_inserts(infra.database_url, RELAY_EVENTS),
    }
