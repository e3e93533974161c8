"""Insurance at county scale: posting a month's contribution file, benefit decisions over HTTP, and the
time from a hire (``EmploymentRegistered``) to the benefit stopped.

Sizes are environment variables so that a small run checks the code and a quiet machine runs the issue's
sizes (the defaults; ``--quick`` takes a tenth):

- ``RENSHE_BENCH_INSURED`` (300,000): insured persons of the county, one contribution row each per month file;
- ``RENSHE_BENCH_BENEFIT_CLAIMS`` (3,000): benefit claims decided over HTTP;
- ``RENSHE_BENCH_STOP_SECONDS`` (10): seconds of hires published at ``RENSHE_BENCH_STOP_RATE`` (500) a second.

Registration's facts (persons, employers) and the enrolments are COPYed into the service's tables as its
worker and API would leave them; what is timed goes through the service's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool

from bench import limits
from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile, size
from bench.loadgen import StdlibClient
from contracts import insurance as ins
from contracts import registration as reg
from contracts.envelope import EventEnvelope
from services.insurance import imports, queries
from services.insurance.app import DDL, InsuranceSettings, commands
from services.insurance.domain.contributions import BaseBounds
from services.insurance.domain.months import month_of
from services.insurance.reactions import InsuranceReactions
from services.runtime import kafka
from services.runtime.auth import issue_token
from services.runtime.consumer import EventConsumer
from services.runtime.devstack import free_port
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent

INSURED = size(300_000, env="RENSHE_BENCH_INSURED")
CLAIMS = size(3_000, env="RENSHE_BENCH_BENEFIT_CLAIMS")
STOP_SECONDS = size(10, quick_size=3, env="RENSHE_BENCH_STOP_SECONDS")
STOP_RATE = int(os.environ.get("RENSHE_BENCH_STOP_RATE", 500))  # a rate is the same in a --quick run
EMPLOYERS = 3_000
VILLAGES = [f"430527{t:03d}{v:03d}" for t in (100, 101, 102, 103, 200, 201) for v in range(201, 236)]
SECRET = "bench-secret-0123456789abcdef0123456789"
#: Requests in flight for the decisions, and for the bare app they are measured against.
IN_FLIGHT = 32

#: Posting: at least this share of one COPY of as many event-shaped rows into the same Postgres: the issue's
#: 50,000 rows/s over COPY on the quiet machine (363,000-473,000 rows/s, median 400,095 on 2026-12-04 at load
#: 0.2-6). The first bar, 0.3, came from COPY measured at load averages 6-16 (78,000-233,000 rows/s), where
#: COPY suffers more than posting: on the quiet machine it asked for 120,000 rows/s, over twice the issue.
POSTING_BAR = Bar(">=", 0.125, of=limits.COPY, also=(limits.BATCHED_INSERTS,))
#: Decisions: a share of the bare app answering the same load with no work, as registration's commands are;
#: the issue's 1,000/s is half of registration's 2,000/s, so the bar is half of registration's 0.15.
DECISIONS_BAR = Bar(">=", 0.075, of=limits.BARE_APP, also=(limits.SINGLE_ROW_COMMITS,))
#: Hire to benefit stopped: at most this many times the broker's own produce-to-consume p99 at the same rate
#: (about 15 ms on a quiet machine, so the issue's 1 s).
STOP_BAR = Bar("<=", 65.0, of=limits.BROKER_HOP)


async def _seed_persons(pool: AsyncConnectionPool, count: int, *, enrol: str | None, unemployed: bool) -> list[str]:
    """``count`` persons registration reported (and their enrolment in ``enrol``), COPYed in."""
    rng = random.Random(count)
    persons = [str(uuid.uuid4()) for _ in range(count)]
    employers = [str(uuid.uuid4()) for _ in range(EMPLOYERS)]
    registered_on = date.today() - timedelta(days=20)
    async with pool.connection() as conn, conn.transaction():
        async with conn.cursor().copy("COPY employers (employer_id, region_code, name) FROM STDIN") as copy:
            for i, employer in enumerate(employers):
                await copy.write_row((employer, VILLAGES[i % len(VILLAGES)][:9] + "000", f"单位{i}"))
        async with conn.cursor().copy(
            "COPY persons (person_id, region_code, status, unemployment_registered_on, involuntary) FROM STDIN"
        ) as copy:
            for person in persons:
                status = "registered_unemployed" if unemployed else "employed"
                registered = registered_on if unemployed else None
                await copy.write_row((person, rng.choice(VILLAGES), status, registered, True))
        if enrol:
            async with conn.cursor().copy(
                "COPY enrolments (person_id, insurance_type, basis, employer_id, enrolled_on) FROM STDIN"
            ) as copy:
                for i, person in enumerate(persons):
                    await copy.write_row((person, enrol, "employer", employers[i % EMPLOYERS], date(2015, 1, 1)))
    return persons


def _file(persons: list[str], employers: list[str] | None = None) -> bytes:
    """A month's contribution file: one enterprise-pension row per person, amounts in yuan."""
    lines = ["人员编号,险种,单位编号,缴费基数,单位缴纳,个人缴纳"]
    for i, person in enumerate(persons):
        base = 4_000 + (i % 9_000)
        employer = employers[i % len(employers)] if employers else ""
        parts = f"{base}.00,{base * 16 // 100}.{i % 100:02d},{base * 8 // 100}.00"
        lines.append(f"{person},enterprise_pension,{employer},{parts}")
    return ("\n".join(lines) + "\n").encode()


@benchmark("insurance-contribution-posting", needs="embedded", rows={"insurance-contribution-posting": POSTING_BAR})
async def contribution_posting(ctx: Context) -> RunResult:
    """Post a month's contribution file of RENSHE_BENCH_INSURED (default 300,000) rows, one per insured person
    enrolled in the enterprise pension: parse and check every row, COPY, one set-based posting statement, the
    ContributionsPosted events, commit; rows posted per second. The same file posted again must post nothing."""
    infra = await ctx.resources.embedded()
    async with infra.schema(DDL, max_size=3) as pool:
        persons = await _seed_persons(pool, INSURED, enrol="enterprise_pension", unemployed=False)
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT employer_id FROM employers")
            employers = [row[0] for row in await cursor.fetchall()]
            await conn.execute("ANALYZE")
        data = _file(persons, employers)
        month = month_of(date.today().replace(day=1) - timedelta(days=1))
        bounds = BaseBounds(400_000, 2_000_000)
        store = EventStore()
        started = time.perf_counter()
        async with pool.connection() as conn, conn.transaction():
            result = await imports.post_file(
                conn, store, data, "缴费明细.csv", month, bounds, Metadata(actor="bench"), today=date.today()
            )
        elapsed = time.perf_counter() - started
        async with pool.connection() as conn, conn.transaction():
            again = await imports.post_file(
                conn, store, data, "缴费明细.csv", month, bounds, Metadata(actor="bench"), today=date.today()
            )
    ctx.note(f"{result.posted:,} rows, {result.events:,} events, {len(data) / 1e6:.1f} MB in {elapsed:.2f} s")
    if result.posted != INSURED or result.refused:
        raise BenchmarkFailed(f"posted {result.posted:,} of {INSURED:,}; refused {result.refused}: {result.errors[:3]}")
    if not again.replayed:
        raise BenchmarkFailed("the same file posted twice was posted again")
    return {
        "insurance-contribution-posting": Measurement(result.posted / elapsed, "rows/s"),
        limits.COPY: await limits.copy_rows(infra.database_url, INSURED),
        limits.BATCHED_INSERTS: await limits.batched_inserts(infra.database_url, INSURED),
    }


async def _seed_benefits_due(pool: AsyncConnectionPool, persons: list[str]) -> None:
    """Twelve months of unemployment-insurance contributions for each person, COPYed into the ledger."""
    today = date.today()
    months = [month_of(today.replace(day=1) - timedelta(days=31 * k)) for k in range(1, 14)]
    async with pool.connection() as conn, conn.transaction():
        async with conn.cursor().copy(
            "COPY contributions (person_id, insurance_type, month, region_code, base_fen, employer_fen,"
            " personal_fen, file_id) FROM STDIN"
        ) as copy:
            for person in persons:
                for m in dict.fromkeys(months[:12]):
                    await copy.write_row((person, "unemployment", m, VILLAGES[0], 500_000, 2_500, 2_500, "seed"))
        await conn.execute("ANALYZE")


@contextlib.asynccontextmanager
async def _api(database_url: str, bootstrap: str) -> AsyncIterator[str]:
    """The insurance API as its own process (uvicorn, one worker) on ``database_url``; its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "JWT_SECRET": SECRET,
        "HTTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from services.insurance.app import serve; serve()", env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise BenchmarkFailed("the insurance API did not start within 60 s")
        yield url
    finally:
        process.terminate()
        await process.wait()


@benchmark("insurance-benefit-decisions", needs="embedded", rows={"insurance-benefit-decisions": DECISIONS_BAR})
async def benefit_decisions(ctx: Context) -> RunResult:
    """Decide RENSHE_BENCH_BENEFIT_CLAIMS (default 3,000) unemployment benefit claims over HTTP
    (POST /persons/{id}/unemployment-benefit, 32 in flight, ``StdlibClient``) against the insurance API in its
    own process:
    registration's facts, twelve months of contributions, the grant appended; decisions per second."""
    infra = await ctx.resources.embedded()
    database = f"bench_ins_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(infra.database_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {database}")
    url = infra.database_url.rsplit("/", 1)[0] + "/" + database
    async with _api(url, infra.bootstrap_servers) as base_url:
        options = {"options": "-c search_path=insurance"}
        pool = AsyncConnectionPool(url, kwargs=options, open=False, min_size=1, max_size=2)
        await pool.open(wait=True)
        try:
            persons = await _seed_persons(pool, CLAIMS, enrol=None, unemployed=True)
            await _seed_benefits_due(pool, persons)
        finally:
            await pool.close()
        token = issue_token(SECRET, subject="bench", role="county", region="430527")
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        queue = list(persons)
        statuses: dict[int, int] = {}
        # The stdlib client costs about 0.02 ms a request where httpx costs 0.7-3 ms (bench.loadgen): with
        # httpx this process, not the API, would bound the figure near the bar.
        client = StdlibClient(base_url, headers, IN_FLIGHT)

        async def worker() -> None:
            while queue:
                status, _ = await client.post(f"/persons/{queue.pop()}/unemployment-benefit", b"{}")
                statuses[status] = statuses.get(status, 0) + 1

        try:
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
            elapsed = time.perf_counter() - started
        finally:
            await client.aclose()
    ctx.note(f"{CLAIMS:,} claims in {elapsed:.1f} s; HTTP statuses {statuses}")
    if statuses.get(201) != CLAIMS:
        raise BenchmarkFailed(f"not every claim was granted: {statuses}")
    bare = await limits.bare_posts(await ctx.resources.bare_app(infra.database_url), CLAIMS, IN_FLIGHT)
    return {
        "insurance-benefit-decisions": Measurement(CLAIMS / elapsed, "decisions/s"),
        limits.BARE_APP: bare,
        limits.SINGLE_ROW_COMMITS: await limits.single_row_commits(infra.database_url),
    }


@benchmark("insurance-benefit-stop-p99", needs="embedded", rows={"insurance-benefit-stop-p99": STOP_BAR})
async def benefit_stop_p99(ctx: Context) -> RunResult:
    """Publish EmploymentRegistered for persons drawing a benefit at RENSHE_BENCH_STOP_RATE (500) a second for
    RENSHE_BENCH_STOP_SECONDS (10) onto a topic the insurance worker's handler consumes; milliseconds from each
    hire's publication to its UnemploymentBenefitStopped committed, p99."""
    infra = await ctx.resources.embedded()
    count = STOP_RATE * STOP_SECONDS
    async with infra.schema(DDL, max_size=6) as pool:
        persons = await _seed_persons(pool, count, enrol=None, unemployed=True)
        await _seed_benefits_due(pool, persons)
        store = EventStore()
        handlers = commands(InsuranceSettings(), store)
        grants = [_grant(p) for p in persons]
        granted = [
            Append("insured_person", g.person_id, 0, [PendingEvent.of(g, region_code=VILLAGES[0])]) for g in grants
        ]
        async with pool.connection() as conn:
            for i in range(0, len(granted), 2_000):
                async with conn.transaction():
                    await store.append_batch(conn, granted[i : i + 2_000])
                    # the read rows the API's grant leaves: the worker asks them who draws a benefit
                    await queries.apply_own(conn, grants[i : i + 2_000])
        topic = f"bench.registration.{uuid.uuid4().hex[:8]}"
        await kafka.ensure_topics(infra.bootstrap_servers, [(topic, 6)])
        worker = EventConsumer(pool, InsuranceReactions(handlers), [topic], infra.bootstrap_servers, group_id=topic)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.wait_for(worker.ready.wait(), 60)
        producer = kafka.producer(infra.bootstrap_servers)
        await producer.start()
        sent: dict[str, datetime] = {}
        try:
            started = time.perf_counter()
            for i, person in enumerate(persons):
                await asyncio.sleep(max(0.0, started + i / STOP_RATE - time.perf_counter()))
                hire = _hire(person)
                sent[person] = hire.occurred_at
                await producer.send(topic, key=person.encode(), value=hire.model_dump_json().encode())
            await producer.flush()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                async with pool.connection() as conn:
                    cursor = await conn.execute("SELECT count(*) FROM events WHERE type = 'UnemploymentBenefitStopped'")
                    row = await cursor.fetchone()
                if row and row[0] >= count:
                    break
                await asyncio.sleep(0.2)
            async with pool.connection() as conn:
                cursor = await conn.execute(
                    "SELECT stream_id, recorded_at FROM events WHERE type = 'UnemploymentBenefitStopped'"
                )
                stopped = dict(await cursor.fetchall())
        finally:
            await producer.stop()
            stop.set()
            await task
    if len(stopped) != count:
        raise BenchmarkFailed(f"{len(stopped):,} of {count:,} benefits stopped")
    latencies = [1000 * (stopped[p] - sent[p]).total_seconds() for p in persons]
    ctx.note(f"{count:,} hires at {STOP_RATE}/s: p50 {percentile(latencies, 0.5):.0f} ms")
    hop, hop_p50 = await limits.broker_hop(infra.bootstrap_servers, STOP_RATE, min(STOP_SECONDS, limits.HOP_SECONDS))
    ctx.note(f"{limits.BROKER_HOP} at {STOP_RATE}/s: p50 {hop_p50:.1f} ms, p99 {hop.value:.1f} ms")
    return {"insurance-benefit-stop-p99": Measurement(percentile(latencies, 0.99), "ms"), limits.BROKER_HOP: hop}


def _grant(person_id: str) -> ins.UnemploymentBenefitGranted:
    today = date.today()
    return ins.UnemploymentBenefitGranted(
        person_id=person_id,
        region_code=VILLAGES[0],
        claim_id=str(uuid.uuid4()),
        claimed_on=today,
        starts_on=today - timedelta(days=20),
        contribution_months=12,
        months=12,
        carried_over_months=0,
        monthly_amount_fen=170_000,
        article="失业保险条例 Art 14, 17",
    )


def _hire(person_id: str) -> EventEnvelope:
    today = date.today()
    event = reg.EmploymentRegistered(
        person_id=person_id,
        previous_status="registered_unemployed",
        kind="flexible",
        started_on=today,
        reported_on=today,
        report_deadline=today + timedelta(days=30),
        reported_late=False,
    )
    now = datetime.now(UTC)
    return EventEnvelope(
        event_id=uuid.uuid4(),
        type=event.event_type,
        schema_version=1,
        stream_type="person",
        stream_id=person_id,
        version=2,
        region_code=VILLAGES[0],
        occurred_at=now,
        recorded_at=now,
        data=event.model_dump(mode="json"),
    )
