"""Insurance at county scale: posting a month's contribution file, benefit decisions over HTTP, and the
time from a hire (``EmploymentRegistered``) to the benefit stopped.

Sizes are environment variables so that a small run checks the code and a quiet machine runs the issue's
sizes (the defaults):

- ``RENSHE_BENCH_INSURED`` (300,000): insured persons of the county, one contribution row each per month file;
- ``RENSHE_BENCH_BENEFIT_CLAIMS`` (3,000): benefit claims decided over HTTP;
- ``RENSHE_BENCH_STOP_SECONDS`` (10): seconds of hires published at ``RENSHE_BENCH_STOP_RATE`` (500) a second.

Registration's facts (persons, employers) and the enrolments are COPYed into the service's tables as its
worker and API would leave them; what is timed goes through the service's own code.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool

from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile
from contracts import registration as reg
from services.insurance import imports
from services.insurance.app import DDL, InsuranceSettings, commands
from services.insurance.domain.contributions import BaseBounds
from services.insurance.domain.months import month_of
from services.insurance.reactions import SOURCE_TOPICS, InsuranceReactions
from services.runtime import kafka
from services.runtime.auth import issue_token
from services.runtime.consumer import EventConsumer
from services.runtime.devstack import free_port
from services.runtime.eventstore import EventStore, Metadata
from tests.factories import envelope


def _size(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


INSURED = _size("RENSHE_BENCH_INSURED", 300_000)
CLAIMS = _size("RENSHE_BENCH_BENEFIT_CLAIMS", 3_000)
STOP_SECONDS = _size("RENSHE_BENCH_STOP_SECONDS", 10)
STOP_RATE = _size("RENSHE_BENCH_STOP_RATE", 500)
EMPLOYERS = 3_000
VILLAGES = [f"430527{t:03d}{v:03d}" for t in (100, 101, 102, 103, 200, 201) for v in range(201, 236)]
SECRET = "bench-secret-0123456789abcdef0123456789"


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
                await copy.write_row((person, rng.choice(VILLAGES), status, registered_on if unemployed else None, True))
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
        lines.append(f"{person},enterprise_pension,{employer},{base}.00,{base * 16 // 100}.{i % 100:02d},{base * 8 // 100}.00")
    return ("\n".join(lines) + "\n").encode()


@benchmark("insurance-contribution-posting", needs="embedded", rows={"insurance-contribution-posting": Bar(">=", 50_000)})
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
    return {"insurance-contribution-posting": Measurement(result.posted / elapsed, "rows/s")}
