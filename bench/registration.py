"""Registration at county scale through the whole stack: the batch API, the XLSX import and a read p99.

Sizes are environment variables so that a small run checks the code and the lead's quiet machine runs the
issue's sizes (the defaults):

- ``RENSHE_BENCH_COUNTY_PERSONS`` (300,000): persons registered through ``POST /persons/batch`` per run;
- ``RENSHE_BENCH_XLSX_ROWS`` (100,000): rows of the ledger uploaded to ``POST /imports/persons`` per run;
- ``RENSHE_BENCH_READS`` (2,000): reads timed for the p99.

The synthetic population (``services.registration.population``) gives names, villages, hukou and education;
the citizen IDs come from ``bench.data.citizen_id`` through the stack's index counter, so they stay unique
over every run and every other benchmark sharing the stack.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import time
from typing import Any

import httpx
import orjson
import psycopg
from openpyxl import Workbook

from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile
from bench.cpu import CpuMeter
from bench.data import citizen_id
from bench.infra import LocalStack
from services.registration.population import generate_population


def _size(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


COUNTY_PERSONS = _size("RENSHE_BENCH_COUNTY_PERSONS", 300_000)
XLSX_ROWS = _size("RENSHE_BENCH_XLSX_ROWS", 100_000)
READS = _size("RENSHE_BENCH_READS", 2_000)
#: Items per batch request and batch requests in flight (one per API core, plus one being prepared).
BATCH = 1_000
BATCHES_IN_FLIGHT = 3
_runs = iter(range(1, 1_000_000))


def _bodies(stack: LocalStack, count: int) -> list[dict[str, Any]]:
    """``count`` person bodies of a generated county, with citizen IDs never used before on this stack."""
    population = generate_population(count, seed=next(_runs))
    first = stack.take_person_indexes(count)
    bodies = []
    for offset, person in enumerate(population.persons):
        body = person.body()
        body["id_number"] = citizen_id(first + offset)
        bodies.append(body)
    return bodies


@benchmark("registration-batch-api", needs="stack", rows={"registration-batch-api": Bar(">=", 2_000)})
async def registration_batch_api(ctx: Context) -> RunResult:
    """Register a synthetic county (RENSHE_BENCH_COUNTY_PERSONS, default 300,000) through POST /persons/batch,
    1,000 per request, 3 requests in flight; persons registered per second."""
    stack = await ctx.resources.stack()
    bodies = _bodies(stack, COUNTY_PERSONS)
    payloads = [orjson.dumps({"items": bodies[i : i + BATCH]}) for i in range(0, len(bodies), BATCH)]
    headers = {"authorization": f"Bearer {stack.token}", "content-type": "application/json"}
    created = 0
    statuses: dict[int, int] = {}
    queue = list(reversed(payloads))
    meter = CpuMeter(stack.program_pids())

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal created
        while queue:
            response = await client.post("/persons/batch", content=queue.pop(), headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                created += response.json()["created"]

    async with httpx.AsyncClient(base_url=stack.registration_url, timeout=600.0) as client:
        started = time.monotonic()
        meter.start(started)
        await asyncio.gather(*(worker(client) for _ in range(BATCHES_IN_FLIGHT)))
        elapsed = time.monotonic() - started
        ctx.note(meter.stop(time.monotonic()))
    ctx.note(f"{created:,} of {len(bodies):,} registered in {elapsed:.1f} s; HTTP statuses {statuses}")
    if created != len(bodies):
        raise BenchmarkFailed(f"only {created:,} of {len(bodies):,} persons were registered")
    return {"registration-batch-api": Measurement(created / elapsed, "persons/s")}


def _ledger(bodies: list[dict[str, Any]]) -> bytes:
    """A clerk's ledger as XLSX: a title row, Chinese headers, one person per row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("台账")
    sheet.append(["绥宁县劳动力资源台账"])
    sheet.append(["序号", "身份证号", "姓名", "所在村(社区)代码", "联系电话", "户籍类型", "文化程度"])
    hukou = {"rural": "农业", "urban": "非农业"}
    for number, body in enumerate(bodies, start=1):
        sheet.append(
            [
                number,
                body["id_number"],
                body["name"],
                body["region_code"],
                body.get("phone"),
                hukou.get(body.get("hukou", ""), ""),
                body.get("education"),
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@benchmark(
    "registration-xlsx-import",
    needs="stack",
    rows={"registration-xlsx-import": Bar("<", 120), "registration-xlsx-import-rate": None},
)
async def registration_xlsx_import(ctx: Context) -> RunResult:
    """Upload a ledger of RENSHE_BENCH_XLSX_ROWS (default 100,000) rows to POST /imports/persons; seconds from
    the first byte sent to the response listing every row's outcome."""
    stack = await ctx.resources.stack()
    content = await asyncio.to_thread(lambda: _ledger(_bodies(stack, XLSX_ROWS)))
    ctx.note(f"ledger of {XLSX_ROWS:,} rows: {len(content) / 1e6:.1f} MB")
    meter = CpuMeter(stack.program_pids())
    async with httpx.AsyncClient(base_url=stack.registration_url, timeout=900.0) as client:
        started = time.monotonic()
        meter.start(started)
        response = await client.post(
            "/imports/persons",
            files={"file": ("台账.xlsx", content)},
            headers={"authorization": f"Bearer {stack.token}"},
        )
        elapsed = time.monotonic() - started
        ctx.note(meter.stop(time.monotonic()))
    if response.status_code != 200:
        raise BenchmarkFailed(f"import answered {response.status_code}: {response.text[:500]}")
    result = response.json()
    ctx.note(
        f"created {result['created']:,}, already registered {result['already_registered']:,}, "
        f"rejected {result['rejected']:,}"
    )
    if result["created"] != XLSX_ROWS:
        raise BenchmarkFailed(f"only {result['created']:,} of {XLSX_ROWS:,} rows were registered")
    return {
        "registration-xlsx-import": Measurement(elapsed, "s"),
        "registration-xlsx-import-rate": Measurement(XLSX_ROWS / elapsed, "rows/s"),
    }


async def _sample_persons(stack: LocalStack, count: int) -> list[tuple[str, str]]:
    async with await psycopg.AsyncConnection.connect(stack.database_url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT person_id::text, region_code FROM registration.persons ORDER BY random() LIMIT %s", (count,)
        )
        return [(str(p), str(r)) for p, r in await cursor.fetchall()]


@benchmark("registration-read-p99", needs="stack", rows={"registration-read-p99": Bar("<", 50)})
async def registration_read_p99(ctx: Context) -> RunResult:
    """Latency of RENSHE_BENCH_READS reads one after another against everyone registered so far: the person
    search (GET /persons?region=...) when this build has it, else one ledger entry by id (GET /persons/{id})."""
    stack = await ctx.resources.stack()
    sample = await _sample_persons(stack, READS)
    if not sample:
        raise BenchmarkFailed("nobody is registered yet: run registration-batch-api first")
    headers = {"authorization": f"Bearer {stack.token}"}
    rng = random.Random(ctx.run_index)
    async with httpx.AsyncClient(base_url=stack.registration_url, headers=headers, timeout=30.0) as client:
        probe = await client.get("/persons", params={"region": sample[0][1], "limit": 20})
        searching = probe.status_code == 200
        ctx.note(
            "reads: GET /persons?region=<village>&limit=20 (search)"
            if searching
            else f"reads: GET /persons/{{id}} (GET /persons?region= answered {probe.status_code}: no search here yet)"
        )
        latencies = []
        for person_id, region in (rng.choice(sample) for _ in range(READS)):
            started = time.perf_counter()
            if searching:
                response = await client.get("/persons", params={"region": region, "limit": 20})
            else:
                response = await client.get(f"/persons/{person_id}")
            latencies.append(1000 * (time.perf_counter() - started))
            if response.status_code != 200:
                raise BenchmarkFailed(f"a read answered {response.status_code}: {response.text[:300]}")
    ctx.note(f"{len(sample):,} persons sampled; p50 {percentile(latencies, 0.5):.1f} ms, max {max(latencies):.1f} ms")
    return {"registration-read-p99": Measurement(percentile(latencies, 0.99), "ms")}
