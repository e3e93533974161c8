"""Registration at county scale through the whole stack: the batch API, the XLSX import and a read p99.

Sizes are the issue's by default, a tenth with ``--quick``, and each can be set by an environment variable:

- ``RENSHE_BENCH_COUNTY_PERSONS`` (300,000): persons registered through ``POST /persons/batch`` per run;
- ``RENSHE_BENCH_XLSX_ROWS`` (100,000): rows of the ledger uploaded to ``POST /imports/persons`` per run;
- ``RENSHE_BENCH_READS`` (2,000): searches timed for the p99.

The synthetic population (``services.demo.population``) gives names, villages, hukou and education;
the citizen IDs come from ``bench.data.citizen_id`` through the stack's index counter, so they stay unique
over every run and every other benchmark sharing the stack.
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from typing import Any

import httpx
import orjson
from openpyxl import Workbook

from bench import limits
from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile, size
from bench.cpu import CpuMeter
from bench.data import COUNTY, citizen_id
from bench.infra import LocalStack
from services.demo.population import generate_population

COUNTY_PERSONS = size(300_000, env="RENSHE_BENCH_COUNTY_PERSONS")
XLSX_ROWS = size(100_000, env="RENSHE_BENCH_XLSX_ROWS")
READS = size(2_000, quick_size=500, env="RENSHE_BENCH_READS")
#: Batched registrations: at least this share of 1,000-row INSERTs into the stack's Postgres.
BATCH_BAR = Bar(">=", 0.04, of=limits.BATCHED_INSERTS, also=(limits.COPY,))
#: The import's rows per second against the same limit.
IMPORT_BAR = Bar(">=", 0.02, of=limits.BATCHED_INSERTS)
#: Searches: at most this many times a SELECT 1 over HTTP from a bare app on the stack's Postgres.
SEARCH_BAR = Bar("<=", 15.0, of=limits.SELECT1_HTTP)
#: Items per batch request and batch requests in flight (one per API core, plus one being prepared).
BATCH = 1_000
BATCHES_IN_FLIGHT = 3
_runs = iter(range(1, 1_000_000))
#: (ID number, name, village) of some of the persons registered by the batch benchmark: what the search
#: benchmark looks for. ID numbers and names are encrypted in the database, so they are kept here.
_registered: list[tuple[str, str, str]] = []


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


@benchmark("registration-batch-api", needs="stack", rows={"registration-batch-api": BATCH_BAR})
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
    _registered.extend((b["id_number"], b["name"], b["region_code"]) for b in bodies[:: max(1, len(bodies) // 5_000)])
    return {
        "registration-batch-api": Measurement(created / elapsed, "persons/s"),
        limits.BATCHED_INSERTS: await limits.batched_inserts(stack.database_url, COUNTY_PERSONS),
        limits.COPY: await limits.copy_rows(stack.database_url, COUNTY_PERSONS),
    }


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
    # The bar is on the rate: a time has no limit to divide by, rows per second do.
    rows={"registration-xlsx-import": None, "registration-xlsx-import-rate": IMPORT_BAR},
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
        limits.BATCHED_INSERTS: await limits.batched_inserts(stack.database_url, XLSX_ROWS),
    }


def _search_queries(rng: random.Random, count: int) -> list[tuple[str, dict[str, str | int]]]:
    """``count`` searches a clerk makes, in turn: an exact ID number, a full name within the person's
    township, a category within the county, a status within a village; 20 results a page."""
    queries: list[tuple[str, dict[str, str | int]]] = []
    for index in range(count):
        id_number, name, village = rng.choice(_registered)
        kind = ("id_number", "name_in_township", "category_in_county", "status_in_village")[index % 4]
        params: dict[str, str | int] = {"limit": 20}
        if kind == "id_number":
            params["id_number"] = id_number
        elif kind == "name_in_township":
            params.update(name=name, region=village[:9])
        elif kind == "category_in_county":
            params.update(category=rng.choice(("rural_surplus_labour", "migrant_worker", "unemployed")), region=COUNTY)
        else:
            params.update(status="not_in_labour_force", region=village)
        queries.append((kind, params))
    return queries


@benchmark("registration-search-p99", needs="stack", rows={"registration-search-p99": SEARCH_BAR})
async def registration_search_p99(ctx: Context) -> RunResult:
    """Latency of RENSHE_BENCH_READS searches (GET /persons?...) one after another, against everyone the batch
    benchmark registered (300,000 persons or more): by ID number, by name in a township, by category in the
    county, by status in a village, in turn; the p99 over all of them in milliseconds."""
    stack = await ctx.resources.stack()
    if not _registered:
        raise BenchmarkFailed("nobody is registered yet: run registration-batch-api first")
    headers = {"authorization": f"Bearer {stack.token}"}
    latencies: dict[str, list[float]] = {}
    async with httpx.AsyncClient(base_url=stack.registration_url, headers=headers, timeout=30.0) as client:
        for kind, params in _search_queries(random.Random(ctx.run_index), READS):
            started = time.perf_counter()
            response = await client.get("/persons", params=params)
            latencies.setdefault(kind, []).append(1000 * (time.perf_counter() - started))
            if response.status_code != 200:
                raise BenchmarkFailed(f"a search answered {response.status_code}: {response.text[:300]}")
            if kind == "id_number" and len(response.json()["persons"]) != 1:
                raise BenchmarkFailed(f"the ID number search found {response.text[:300]}")
    every = [ms for values in latencies.values() for ms in values]
    ctx.note(
        "; ".join(
            f"{kind}: p50 {percentile(v, 0.5):.1f} ms, p99 {percentile(v, 0.99):.1f} ms"
            for kind, v in latencies.items()
        )
    )
    app = await ctx.resources.bare_app(stack.database_url)
    select1, select1_p50 = await limits.select1_over_http(app, READS)
    ctx.note(f"{limits.SELECT1_HTTP}: p50 {select1_p50:.2f} ms, p99 {select1.value:.2f} ms")
    return {"registration-search-p99": Measurement(percentile(every, 0.99), "ms"), limits.SELECT1_HTTP: select1}
