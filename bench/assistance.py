"""Assistance through the whole stack: a command over HTTP, and its reactions' latencies.

- ``assistance-command-http``: ``POST /cases/{id}/guidance`` (a service recorded, 职业指导) on distinct
  open cases, 64 in flight; commands per second.
- ``assistance-case-latency``: ``UnemploymentRegistered`` -> the case opened in assistance, paced at 500
  unemployment registrations a second for 10 s; p99 in ms of assistance's ``CaseOpened`` recorded_at minus
  registration's ``UnemploymentRegistered`` recorded_at (both stores are schemas of the stack's database,
  so the clocks are the same).
- ``assistance-placement-latency``: ``PlacedInJob`` -> registration's ``EmploymentRegistered`` (its
  ``causation_id``) -> reporting's inbox applying it (the figure moves in that transaction); p99 in ms.

Sizes: ``RENSHE_BENCH_ASSISTANCE_CASES`` (5,000) cases for the command benchmark,
``RENSHE_BENCH_ASSISTANCE_RATE`` (500) and ``RENSHE_BENCH_ASSISTANCE_SECONDS`` (10) for the paced one,
``RENSHE_BENCH_ASSISTANCE_PLACEMENTS`` (500).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date, timedelta
from typing import Any

import httpx
import orjson
import psycopg

from bench import limits
from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile, size
from bench.data import COUNTY_PREFIX
from bench.infra import LocalStack
from bench.loadgen import StdlibClient
from contracts.identifiers import citizen_id_check_character

CASES = size(5_000, env="RENSHE_BENCH_ASSISTANCE_CASES")
RATE = float(os.environ.get("RENSHE_BENCH_ASSISTANCE_RATE", 500))  # a rate is the same in a --quick run
SECONDS = size(10, quick_size=3, env="RENSHE_BENCH_ASSISTANCE_SECONDS")
PLACEMENTS = size(500, quick_size=100, env="RENSHE_BENCH_ASSISTANCE_PLACEMENTS")
CONCURRENCY = 64
BATCH = 1_000
#: A command: the share of the bare app answering the same load with no work that registration's commands
#: are held to (their 2,000/s, which the issue asks of assistance too).
COMMAND_BAR = Bar(">=", 0.15, of=limits.BARE_APP, also=(limits.SINGLE_ROW_COMMITS,))
#: A reaction: a command, the relay and one consumer, like registration's visibility (at most 16 broker hops
#: p99); the issue's 1 s is about 65 hops of 15 ms, the bar for the one reaction.
CASE_LATENCY_BAR = Bar("<=", 65.0, of=limits.BROKER_HOP)
#: Two reactions in a row (assistance -> registration -> reporting): the issue's 2 s, twice the hops.
PLACEMENT_LATENCY_BAR = Bar("<=", 130.0, of=limits.BROKER_HOP)
VILLAGES = [f"430527{t}{v}" for t in ("100", "101", "102", "103") for v in ("201", "202", "203")]


def _citizen_id(index: int) -> str:
    """The ``index``-th resident ID number of a person of working age (born 1980 on), unique per index and
    never one of ``bench.data.citizen_id``'s (born 1960), which are past the age to register unemployed."""
    birth = date(1980, 1, 1) + timedelta(days=index // 400)
    body = f"{COUNTY_PREFIX}{birth:%Y%m%d}{1 + 2 * (index % 400):03d}"
    return body + citizen_id_check_character(body)


def _url(stack: LocalStack) -> str:
    url = stack.values.get("ASSISTANCE_URL")
    if not url:
        raise BenchmarkFailed("the stack runs no assistance service (no ASSISTANCE_URL in stack.env)")
    return url


def _headers(stack: LocalStack) -> dict[str, str]:
    return {"authorization": f"Bearer {stack.token}", "content-type": "application/json"}


async def _register(stack: LocalStack, client: Clients, count: int) -> list[str]:
    """``count`` new persons through registration's batch API; their ids."""
    first = stack.take_person_indexes(count)
    ids: list[str] = []
    for start in range(0, count, BATCH):
        items = [
            {"id_number": _citizen_id(first + i), "name": "测试", "region_code": VILLAGES[i % len(VILLAGES)]}
            for i in range(start, min(count, start + BATCH))
        ]
        response = await client.post(
            f"{stack.registration_url}/persons/batch", content=orjson.dumps({"items": items}), headers=_headers(stack)
        )
        if response.status_code != 200:
            raise BenchmarkFailed(f"batch registration answered {response.status_code}: {response.text[:300]}")
        for result in response.json()["results"]:
            # 409: registered by an earlier run that used the same ID numbers; its id is in the problem.
            found = (result.get("person") or result.get("problem") or {}).get("person_id")
            if found:
                ids.append(str(found))
    if len(ids) != count:
        raise BenchmarkFailed(f"registration registered {len(ids)} of {count} persons")
    return ids


class Clients:
    """Several httpx clients of 8 connections each: one client with more connections makes httpx's own pool
    the bottleneck (``bench.loadgen.HTTPX_CONNECTIONS_PER_CLIENT``)."""

    def __init__(self, connections: int) -> None:
        self.clients = [
            httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=8))
            for _ in range(max(1, connections // 8))
        ]
        self._next = 0

    def post(self, url: str, **kw: Any) -> Any:
        """A POST on the next client in turn."""
        self._next = (self._next + 1) % len(self.clients)
        return self.clients[self._next].post(url, **kw)

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients))


async def _gather_limited(calls: list[Any], limit: int = CONCURRENCY) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with semaphore:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def _unemployed(stack: LocalStack, client: Clients, persons: list[str]) -> None:
    calls = [
        client.post(f"{stack.registration_url}/persons/{p}/unemployment", content=b"{}", headers=_headers(stack))
        for p in persons
    ]
    statuses = {r.status_code for r in await _gather_limited(calls)}
    if not statuses <= {200, 201}:
        raise BenchmarkFailed(f"unemployment registration answered {statuses}")


async def _cases(stack: LocalStack, persons: list[str], timeout: float = 300) -> list[str]:
    """The case ids of ``persons`` once assistance has opened them all."""
    deadline = time.monotonic() + timeout
    async with await psycopg.AsyncConnection.connect(stack.database_url, autocommit=True) as conn:
        while True:
            cursor = await conn.execute(
                "SELECT person_id, case_id FROM assistance.cases WHERE is_open AND person_id = ANY(%s)", (persons,)
            )
            found: dict[str, str] = dict(await cursor.fetchall())
            if len(found) == len(persons):
                return [found[p] for p in persons]
            if time.monotonic() > deadline:
                raise BenchmarkFailed(f"assistance opened {len(found)} of {len(persons)} cases in {timeout:.0f} s")
            await asyncio.sleep(0.2)


@benchmark("assistance-command-http", needs="stack", rows={"assistance-command-http": COMMAND_BAR})
async def assistance_command_http(ctx: Context) -> RunResult:
    """Record vocational guidance (POST /cases/{id}/guidance) on RENSHE_BENCH_ASSISTANCE_CASES (5,000)
    distinct open cases, 64 in flight from this process (``StdlibClient``: httpx's own CPU would bound the
    figure near the bar), on one API process; commands per second."""
    stack = await ctx.resources.stack()
    url = _url(stack)
    async with Clients(CONCURRENCY) as client:
        persons = await _register(stack, client, CASES)
        await _unemployed(stack, client, persons)
        cases = await _cases(stack, persons)
    body = orjson.dumps({"topic": "求职技巧", "outcome": "已制定求职计划"})
    sender = StdlibClient(url, _headers(stack), CONCURRENCY)
    try:
        started = time.monotonic()
        answers = await _gather_limited([sender.post(f"/cases/{c}/guidance", body) for c in cases])
        elapsed = time.monotonic() - started
    finally:
        await sender.aclose()
    statuses: dict[int, int] = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    ctx.note(f"{len(cases):,} commands in {elapsed:.2f} s; statuses {statuses}")
    if statuses.get(200, 0) != len(cases):
        raise BenchmarkFailed(f"not every command succeeded: {statuses}")
    bare = await limits.bare_posts(await ctx.resources.bare_app(stack.database_url), len(cases), CONCURRENCY)
    return {
        "assistance-command-http": Measurement(len(cases) / elapsed, "commands/s"),
        limits.BARE_APP: bare,
        limits.SINGLE_ROW_COMMITS: await limits.single_row_commits(stack.database_url),
    }


async def _latencies(stack: LocalStack, sql: str, ids: list[str]) -> list[float]:
    async with await psycopg.AsyncConnection.connect(stack.database_url, autocommit=True) as conn:
        cursor = await conn.execute(sql, (ids,))
        return [float(row[0]) for row in await cursor.fetchall()]


@benchmark("assistance-case-latency", needs="stack", rows={"assistance-case-latency": CASE_LATENCY_BAR})
async def assistance_case_latency(ctx: Context) -> RunResult:
    """Unemployment registrations paced at RENSHE_BENCH_ASSISTANCE_RATE (500/s) for 10 s; p99 in ms from
    registration's UnemploymentRegistered to assistance's CaseOpened (recorded_at of both)."""
    stack = await ctx.resources.stack()
    _url(stack)
    count = int(RATE * SECONDS)
    async with Clients(256) as client:
        persons = await _register(stack, client, count)
        await asyncio.sleep(2)  # let assistance see the registrations first: only the reaction is timed
        # The lean client paces them, as the other command benchmarks' do: httpx's own CPU (about 1.8 ms a request)
        # would load the machine the latency is measured on.
        paced = StdlibClient(stack.registration_url, _headers(stack), 256, timeout=120.0)
        try:
            started = time.monotonic()
            sends = []
            for index, person in enumerate(persons):
                delay = started + index / RATE - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sends.append(asyncio.create_task(paced.post(f"/persons/{person}/unemployment", b"{}")))
            answers = await asyncio.gather(*sends)
        finally:
            await paced.aclose()
        ctx.note(
            f"{count:,} registrations sent in {time.monotonic() - started:.1f} s;"
            f" statuses {sorted({status for status, _ in answers})}"
        )
        await _cases(stack, persons)
    latencies = await _latencies(
        stack,
        "SELECT 1000 * extract(epoch FROM a.recorded_at - r.recorded_at) FROM registration.events r"
        " JOIN assistance.events a ON a.type = 'CaseOpened' AND a.data->>'person_id' = r.stream_id"
        " WHERE r.type = 'UnemploymentRegistered' AND r.stream_id = ANY(%s)",
        persons,
    )
    ctx.note(
        f"p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms over {len(latencies):,}"
    )
    return {"assistance-case-latency": Measurement(percentile(latencies, 0.99), "ms"), **await _hop(ctx, stack, RATE)}


@benchmark("assistance-placement-latency", needs="stack", rows={"assistance-placement-latency": PLACEMENT_LATENCY_BAR})
async def assistance_placement_latency(ctx: Context) -> RunResult:
    """RENSHE_BENCH_ASSISTANCE_PLACEMENTS (500) placements, 50 a second; p99 in ms from assistance's
    PlacedInJob to reporting applying registration's EmploymentRegistered it caused."""
    stack = await ctx.resources.stack()
    url = _url(stack)
    async with Clients(CONCURRENCY) as client:
        persons = await _register(stack, client, PLACEMENTS)
        await _unemployed(stack, client, persons)
        cases = await _cases(stack, persons)
        body = orjson.dumps({"kind": "flexible", "started_on": time.strftime("%Y-%m-%d")})
        started = time.monotonic()
        sends = []
        for index, case in enumerate(cases):
            delay = started + index / 50 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sends.append(
                asyncio.create_task(client.post(f"{url}/cases/{case}/placement", content=body, headers=_headers(stack)))
            )
        statuses = {a.status_code for a in await asyncio.gather(*sends)}
        if statuses != {200}:
            raise BenchmarkFailed(f"placements answered {statuses}")
    sql = (
        "SELECT 1000 * extract(epoch FROM i.applied_at - p.recorded_at) FROM assistance.events p"
        " JOIN registration.events e ON e.type = 'EmploymentRegistered'"
        " AND e.metadata->>'causation_id' = p.event_id::text"
        " JOIN reporting.inbox i ON i.event_id = e.event_id"
        " WHERE p.type = 'PlacedInJob' AND p.data->>'person_id' = ANY(%s)"
    )
    deadline = time.monotonic() + 120
    while len(latencies := await _latencies(stack, sql, persons)) < len(persons):
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"only {len(latencies)} of {len(persons)} placements reached reporting")
        await asyncio.sleep(0.5)
    ctx.note(
        f"p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms over {len(latencies):,}"
    )
    p99 = Measurement(percentile(latencies, 0.99), "ms")
    return {"assistance-placement-latency": p99, **await _hop(ctx, stack, 50)}


async def _hop(ctx: Context, stack: LocalStack, rate: float) -> dict[str, Measurement]:
    """The broker's produce-to-consume p99 on the stack's broker at ``rate``, the latency bars' limit."""
    hop, p50 = await limits.broker_hop(stack.values["KAFKA_BOOTSTRAP_SERVERS"], rate, min(SECONDS, limits.HOP_SECONDS))
    ctx.note(f"{limits.BROKER_HOP} at {rate:.0f}/s: p50 {p50:.1f} ms, p99 {hop.value:.1f} ms")
    return {limits.BROKER_HOP: hop}
