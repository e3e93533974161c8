"""Benchmarks against the whole local stack over HTTP: command throughput and read-model visibility."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import orjson
import psycopg

from bench import limits
from bench.activity import ActivitySampler
from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile, quick, size
from bench.cpu import CpuMeter
from bench.data import COUNTY
from bench.infra import LocalStack
from bench.loadgen import LoadSpec

#: http-post-persons: requests per run and how many are in flight.
HTTP_REQUESTS = size(10_000)
#: The httpx row measures the client (no bar): a fifth as many requests give its rate, and on a busy machine
#: (66 requests/s at a load average of 10) 10,000 of them took minutes a run.
HTTPX_REQUESTS = HTTP_REQUESTS // 5
HTTP_CONCURRENCY = 64
#: Requests sent once per stack, untimed, so the first run does not pay for cold caches.
WARM_UP_REQUESTS = size(500, quick_size=200)

#: visibility-latency: the paced command rate and how long it lasts.
PACED_RATE = 500.0
PACED_SECONDS = 2.0 if quick() else 10.0
#: Connections the paced generator may open (open loop: it never waits for a free one if it can help it).
PACED_CONNECTIONS = 256
POLL_INTERVAL = 0.010
#: How long after the last 201 the county figure may take to show every registration.
VISIBILITY_TIMEOUT = 60.0
#: How long the projection may take to catch up with everything registered before a run starts.
CATCH_UP_TIMEOUT = 300.0

_REPO = Path(__file__).resolve().parents[1]
_seeds = itertools.count(1)


async def run_loadgen(spec: LoadSpec) -> dict[str, Any]:
    """Run ``bench.loadgen`` as a separate process and return its result."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=_REPO,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(spec.to_json()), spec.max_seconds + 120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise BenchmarkFailed("the load generator did not finish in time") from None
    if process.returncode != 0:
        raise BenchmarkFailed(f"the load generator failed: {err.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = orjson.loads(out)
    return result


async def projection_state(stack: LocalStack) -> tuple[int, int]:
    """(persons registered that the county's labour force should count, county labour_force as projected), read
    straight from Postgres (``LocalStack.outside_labour_force`` is taken off the first)."""
    async with await psycopg.AsyncConnection.connect(stack.database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT (SELECT count(*) FROM registration.persons),"
            " (SELECT coalesce(max(value), 0) FROM reporting.region_metrics"
            "  WHERE region_code = %s AND metric = 'labour_force')",
            (COUNTY,),
        )
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0]) - stack.outside_labour_force, int(row[1])


async def wait_until_projected(stack: LocalStack, timeout: float = CATCH_UP_TIMEOUT) -> tuple[int, float]:
    """Wait until reporting counts every registered person; returns the count and the seconds waited."""
    started = time.monotonic()
    while True:
        persons, projected = await projection_state(stack)
        if projected == persons:
            return projected, time.monotonic() - started
        if projected > persons:
            raise BenchmarkFailed(f"reporting counts {projected} people but only {persons} are registered")
        if time.monotonic() - started > timeout:
            raise BenchmarkFailed(f"reporting still counts {projected} of {persons} people after {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def ready_stack(ctx: Context) -> tuple[LocalStack, int]:
    """The stack, warmed up once, with the projection caught up so no backlog competes with the run.

    Returns the stack and the number of people registered (and projected) so far.
    """
    stack = await ctx.resources.stack()
    if stack.next_person == 0:
        first = stack.take_person_indexes(WARM_UP_REQUESTS)
        spec = LoadSpec("closed", "stdlib", stack.registration_url, stack.token, first, WARM_UP_REQUESTS)
        result = await run_loadgen(spec)
        ctx.note(f"warm-up: {WARM_UP_REQUESTS} requests (untimed), statuses {result['statuses']}")
    registered, _ = await wait_until_projected(stack)
    return stack, registered


def _describe(result: dict[str, Any]) -> str:
    statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(result["statuses"].items()))
    text = f"statuses {statuses}; generator CPU {100 * result['cpu_seconds'] / result['elapsed']:.0f}% of one core"
    for code, body in result["samples"].items():
        text += f"; first {code}: {body}"
    return text


async def _post_persons(ctx: Context, stack: LocalStack, client: Literal["httpx", "stdlib"]) -> float:
    """One closed-loop load (``HTTP_REQUESTS``, or ``HTTPX_REQUESTS`` with httpx) with ``client``; 201s per second."""
    count = HTTPX_REQUESTS if client == "httpx" else HTTP_REQUESTS
    spec = LoadSpec(
        "closed",
        client,
        stack.registration_url,
        stack.token,
        stack.take_person_indexes(count),
        count,
        concurrency=HTTP_CONCURRENCY,
        seed=next(_seeds),
    )
    meter = CpuMeter(stack.program_pids())
    async with ActivitySampler(stack.database_url).running() as activity:
        meter.start(time.monotonic())
        result = await run_loadgen(spec)
        ctx.note(f"{client}: {meter.stop(time.monotonic())}")
    ctx.note(f"{client}: {activity.summary()}")
    created = result["statuses"].get("201", 0)
    ctx.note(f"{client}: {created:,} created in {result['elapsed']:.2f} s; {_describe(result)}")
    _, caught_up = await wait_until_projected(stack)
    ctx.note(f"{client}: reporting caught up {caught_up:.1f} s after the last response")
    if not created:
        raise BenchmarkFailed(f"no request sent with {client} was answered 201")
    return float(created / result["elapsed"])


#: Commands: at least this share of a bare FastAPI app answering the same load with no work. Not of one
#: connection's single-row commits (shown): that rate is two round trips per commit and fell from 4,028 to
#: 119/s as the machine got busy while the API, group-committing 64 requests, fell from 2,643 to 256/s;
#: the ratio to it moved 0.66-2.16, to the bare app 0.23-0.36.
COMMANDS_BAR = Bar(">=", 0.15, of=limits.BARE_APP, also=(limits.SINGLE_ROW_COMMITS,))
#: Visibility: at most this many times the broker hop every event takes to the read model.
VISIBILITY_BAR = Bar("<=", 16.0, of=limits.BROKER_HOP)


@benchmark(
    "http-post-persons",
    needs="stack",
    rows={"http-post-persons": COMMANDS_BAR, "http-post-persons-httpx-client": None},
)
async def http_post_persons(ctx: Context) -> RunResult:
    """POST /persons through the whole stack, 64 in flight from one separate process; 201s per second.
    Generated with a lean asyncio client (the bar's row), and again with httpx.AsyncClient, whose own CPU
    (about 1.8 ms a request) caps what one process can send on this 2-core machine near 550/s: that row
    measures the client, so it has no bar and sends a fifth as many."""
    stack, _ = await ready_stack(ctx)
    clients: list[Literal["httpx", "stdlib"]] = ["httpx", "stdlib"]
    if ctx.run_index % 2 == 0:
        clients.reverse()
    rates = {client: await _post_persons(ctx, stack, client) for client in clients}
    return {
        "http-post-persons": Measurement(rates["stdlib"], "commands/s"),
        "http-post-persons-httpx-client": Measurement(rates["httpx"], "commands/s"),
        limits.SINGLE_ROW_COMMITS: await limits.single_row_commits(stack.database_url),
        limits.BARE_APP: await bare_commands(ctx, stack),
    }


async def bare_commands(ctx: Context, stack: LocalStack) -> Measurement:
    """The HTTP floor of a command: the same load (client, count, in flight) against ``bench.bare_app``,
    which answers ``POST /persons`` with 201 and does nothing; on the stack's machine, beside its idle
    services."""
    app = await ctx.resources.bare_app(stack.database_url)
    spec = LoadSpec("closed", "stdlib", app.url, stack.token, 0, HTTP_REQUESTS, concurrency=HTTP_CONCURRENCY)
    result = await run_loadgen(spec)
    created = result["statuses"].get("201", 0)
    ctx.note(f"{limits.BARE_APP}: {created:,} answered 201 in {result['elapsed']:.2f} s")
    if not created:
        raise BenchmarkFailed("the bare app answered no request with 201")
    return Measurement(created / result["elapsed"], "commands/s")


@dataclass
class CountPoller:
    """Watches the county's labour_force through the reporting API and timestamps every reading."""

    stack: LocalStack
    times: list[float] = field(default_factory=list)
    values: list[int] = field(default_factory=list)
    failures: int = 0
    target: int | None = None
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every ``POLL_INTERVAL`` until ``stop``; a reading is stamped when its response arrives."""
        headers = {"authorization": f"Bearer {self.stack.token}"}
        async with httpx.AsyncClient(base_url=self.stack.reporting_url, headers=headers, timeout=10.0) as client:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    response = await client.get(f"/regions/{COUNTY[:6]}/stats")
                    received = time.monotonic()
                    if response.status_code == 200:
                        self.times.append(received)
                        self.values.append(int(response.json()["metrics"]["labour_force"]))
                        if self.target is not None and self.values[-1] >= self.target:
                            self.reached.set()
                    else:
                        self.failures += 1
                except httpx.HTTPError:
                    self.failures += 1
                await asyncio.sleep(max(0.0, sent + POLL_INTERVAL - time.monotonic()))

    async def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until a reading shows at least ``count``; False after ``timeout`` seconds."""
        self.target = count
        if self.values and self.values[-1] >= count:
            return True
        try:
            await asyncio.wait_for(self.reached.wait(), timeout)
        except TimeoutError:
            return False
        return True


def visibility_latencies(created_at: list[float], base: int, times: list[float], values: list[int]) -> list[float]:
    """Seconds from the k-th 201 until the county count first reads ``base + k`` (inf if it never did).

    The count is an aggregate, so the k-th response is matched with the k-th increment: whichever event
    it was, ``base + k`` visible means k of the run's registrations are visible.
    """
    highest = list(itertools.accumulate(values, max))
    latencies = []
    for k, done in enumerate(sorted(created_at), start=1):
        index = bisect.bisect_left(highest, base + k)
        latencies.append(max(0.0, times[index] - done) if index < len(highest) else math.inf)
    return latencies


@benchmark(
    "visibility-latency",
    needs="stack",
    rows={"visibility-latency p50": None, "visibility-latency p99": VISIBILITY_BAR},
)
async def visibility_latency(ctx: Context) -> RunResult:
    """POST /persons paced at 500/s for 10 s (open loop, lean asyncio client); time from each 201 until the county's
    labour_force count includes it, read through the reporting API every 10 ms."""
    stack, base = await ready_stack(ctx)
    count = int(PACED_RATE * PACED_SECONDS)
    spec = LoadSpec(
        "paced",
        "stdlib",  # httpx could not hold the pace on this machine (see bench.loadgen)
        stack.registration_url,
        stack.token,
        stack.take_person_indexes(count),
        count,
        concurrency=PACED_CONNECTIONS,
        rate=PACED_RATE,
        max_seconds=PACED_SECONDS * 3,
        seed=next(_seeds),
    )
    poller = CountPoller(stack)
    stop = asyncio.Event()
    polling = asyncio.create_task(poller.run(stop))
    meter = CpuMeter(stack.program_pids())
    try:
        async with ActivitySampler(stack.database_url).running() as activity:
            meter.start(time.monotonic())
            result = await run_loadgen(spec)
            ctx.note(meter.stop(time.monotonic()))
        ctx.note(activity.summary())
        created = result["statuses"].get("201", 0)
        await poller.wait_for(base + created, VISIBILITY_TIMEOUT)
    finally:
        stop.set()
        await polling
    ctx.note(
        f"{created:,} created, sent at {spec.count / result['sent_in']:.0f}/s (max pacing lag "
        f"{1000 * result['max_lag']:.0f} ms), last response {result['elapsed']:.1f} s after the first send; "
        f"{_describe(result)}"
    )
    ctx.note(f"{len(poller.values):,} readings of the county count, {poller.failures} failed polls")
    if not created:
        raise BenchmarkFailed("no request was answered 201")
    latencies = visibility_latencies(result["created_at"], base, poller.times, poller.values)
    missing = sum(1 for latency in latencies if math.isinf(latency))
    if missing:
        ctx.note(f"{missing:,} registrations never showed in the county count within {VISIBILITY_TIMEOUT:.0f} s")
    ctx.note(f"max {1000 * max(latencies):.0f} ms")
    hop, hop_p50 = await limits.broker_hop(stack.values["KAFKA_BOOTSTRAP_SERVERS"], PACED_RATE, PACED_SECONDS)
    ctx.note(
        f"{limits.BROKER_HOP} on the stack's broker at {PACED_RATE:.0f}/s: p50 {hop_p50:.1f} ms, p99 {hop.value:.1f} ms"
    )
    return {
        limits.BROKER_HOP: hop,
        "visibility-latency p50": Measurement(1000 * percentile(latencies, 0.50), "ms"),
        "visibility-latency p99": Measurement(1000 * percentile(latencies, 0.99), "ms"),
    }
