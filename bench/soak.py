"""The soak: the local stack under a steady ``POST /persons`` load for a long time, watched every minute.

``RENSHE_SOAK_MINUTES`` (default 30) minutes at ``RENSHE_SOAK_RATE`` (default 200) commands/s, open loop, from
this process's lean client (``bench.loadgen.StdlibClient``); ``--quick`` samples every 4 s instead of every minute,
four times (16 s in all), so a quick run stays short. Every minute (sample) it notes the memory
(proportional set size, shared pages divided among their sharers) of every process of the stack, the Postgres
database's size per 100,000 stored events, the reporting worker's lag as ``GET /status`` shows it (sampled every
second; p99 of the minute) and the API's p99 latency of the minute's requests.

The bar: no service process grows by more than 10% between the end of the warm-up (the first fifth of the run, at
least one sample) and the end. The broker and Postgres are reported but not barred: the embedded broker keeps every
topic in memory by design (production Kafka keeps it on disk) and Postgres fills its shared buffers as the data
grows. Every request must be answered; one without an answer fails the run.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import psycopg

from bench.core import Bar, BenchmarkFailed, Context, Measurement, RunResult, benchmark, percentile, quick, size
from bench.data import person_body
from bench.infra import LocalStack
from bench.loadgen import StdlibClient
from services.platform import SERVICES, publishing

MINUTES = size(30, quick_size=4, env="RENSHE_SOAK_MINUTES")
#: Seconds between samples: a minute, or 4 s in a quick run (whose "minutes" are then 4 s each): a quick soak is a
#: smoke test of the sampling and the bar, not a measure of growth.
SAMPLE_SECONDS = 4.0 if quick() else 60.0
#: What the notes call a sample.
SAMPLE = "minute" if SAMPLE_SECONDS == 60 else f"{SAMPLE_SECONDS:.0f} s sample"
RATE = float(os.environ.get("RENSHE_SOAK_RATE", "200"))
#: Connections the open loop may open.
CONNECTIONS = 128
#: The most a service process may grow after the warm-up.
GROWTH_BAR = 0.10
#: Processes measured but not barred (module docstring).
UNBARRED = ("broker", "postgres")


def pss_kib(pid: int) -> int:
    """A process's proportional set size in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory(pids: dict[str, int]) -> dict[str, int]:
    """KiB of every process in ``pids`` (``LocalStack.program_pids``); ``postgres`` sums the postmaster and its
    backends. A process that is gone (restarted under another PID) reads as 0, which ``soak`` fails rather than
    measuring its successor as if it were the same process."""
    kib = {name: pss_kib(pid) for name, pid in pids.items() if name != "postgres"}
    if "postgres" in pids:
        root = pids["postgres"]
        kib["postgres"] = pss_kib(root) + sum(pss_kib(child) for child in _children(root))
    return kib


def database_size(stack: LocalStack) -> tuple[int, int]:
    """The database's size in bytes and the events stored in every producing service's store."""
    counts = " + ".join(f"(SELECT count(*) FROM {s.name}.events)" for s in publishing())
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        row = conn.execute(f"SELECT pg_database_size(current_database()), {counts}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@dataclass
class Minute:
    """What one minute (sample) of the soak saw."""

    latencies: list[float] = field(default_factory=list)
    lag: list[int] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


@dataclass
class Soak:
    """The load and the samplers of one run."""

    stack: LocalStack
    minutes: int
    rate: float
    first_index: int
    current: Minute = field(default_factory=Minute)

    async def load(self, stop: asyncio.Event) -> None:
        """Request ``i`` leaves at ``start + i / rate`` until ``stop``; each answer lands in the current minute."""
        headers = {"authorization": f"Bearer {self.stack.token}", "content-type": "application/json"}
        client = StdlibClient(self.stack.registration_url, headers, CONNECTIONS, timeout=60.0)
        rng = random.Random(self.first_index)
        tasks: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        i = 0
        try:
            while not stop.is_set():
                delay = start + i / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(self._send(client, orjson.dumps(person_body(self.first_index + i, rng))))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                i += 1
            await asyncio.gather(*tasks)
        finally:
            await client.aclose()

    async def _send(self, client: StdlibClient, body: bytes) -> None:
        minute, sent = self.current, time.monotonic()
        try:
            status, _ = await client.post("/persons", body)
        except (OSError, EOFError, TimeoutError) as exc:
            minute.statuses[type(exc).__name__] += 1
            return
        minute.latencies.append(time.monotonic() - sent)
        minute.statuses[str(status)] += 1

    async def watch_lag(self, stop: asyncio.Event) -> None:
        """The reporting worker's ``behind`` once a second."""
        headers = {"authorization": f"Bearer {self.stack.token}"}
        async with httpx.AsyncClient(base_url=self.stack.reporting_url, headers=headers, timeout=10) as http:
            while not stop.is_set():
                try:
                    reply = await http.get("/status")
                    if reply.status_code == 200:
                        self.current.lag.append(int(reply.json()["behind"]))
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(1.0)


@benchmark(
    "soak",
    needs="stack",
    max_runs=1,
    rows={
        "soak service memory growth": Bar("<=", GROWTH_BAR),
        "soak API p99": None,
        "soak consumer lag p99": None,
        "soak Postgres per 100k events": None,
    },
)
async def soak(ctx: Context) -> RunResult:
    """POST /persons at 200/s for RENSHE_SOAK_MINUTES (30) minutes; every minute the memory of every process, Postgres
    per 100,000 events, consumer lag p99 and API p99; service memory must stay within 10% after the warm-up."""
    stack = await ctx.resources.stack()
    count = int(RATE * SAMPLE_SECONDS * MINUTES)
    run = Soak(stack, MINUTES, RATE, stack.take_person_indexes(count + int(RATE * 2 * SAMPLE_SECONDS)))
    warm_up = max(1, MINUTES // 5)
    # Looked up once, not every sample, so that a quick run's short samples stay short.
    programs = ["broker", *(f"{s.name}-{role}" for s in SERVICES for role in s.processes)]
    pids = await asyncio.to_thread(stack.program_pids, programs)
    stop = asyncio.Event()
    loops = [asyncio.create_task(run.load(stop)), asyncio.create_task(run.watch_lag(stop))]
    rows: list[tuple[dict[str, int], float, float, int, Counter[str]]] = []
    try:
        for minute in range(1, MINUTES + 1):
            await asyncio.sleep(SAMPLE_SECONDS)
            seen, run.current = run.current, Minute()
            kib = memory(pids)
            if gone := sorted(name for name, k in kib.items() if not k):
                raise BenchmarkFailed(f"{', '.join(gone)} exited during the soak")
            size_bytes, events = await asyncio.to_thread(database_size, stack)
            per_100k = size_bytes / 2**20 / max(events, 1) * 100_000
            api_p99 = percentile(seen.latencies, 0.99) * 1000
            lag_p99 = int(percentile(seen.lag, 0.99)) if seen.lag else -1
            rows.append((kib, api_p99, lag_p99, int(per_100k), seen.statuses))
            shown = ", ".join(f"{name} {k / 1024:.0f}" for name, k in sorted(kib.items()))
            ctx.note(
                f"{SAMPLE} {minute}{' (warm-up)' if minute <= warm_up else ''}: API p99 {api_p99:.0f} ms, lag p99 "
                f"{lag_p99} events, Postgres {size_bytes / 2**20:.0f} MB for {events:,} events ({per_100k:.0f} MB "
                f"per 100k), answers {dict(seen.statuses)}, load average {os.getloadavg()[0]:.1f}; MB: {shown}"
            )
    finally:
        stop.set()
        await asyncio.gather(*loops, return_exceptions=True)
    unanswered = sum(n for row in rows for status, n in row[4].items() if not status.isdigit())
    if unanswered:
        raise BenchmarkFailed(f"{unanswered} requests got no answer")
    after_warm_up, end = rows[warm_up - 1][0] if len(rows) > warm_up else rows[0][0], rows[-1][0]
    growth = {
        name: end[name] / kib - 1 for name, kib in after_warm_up.items() if name in end and kib and name not in UNBARRED
    }
    worst = max(growth, key=lambda name: growth[name])
    ctx.note(f"largest growth after the warm-up: {worst} {100 * growth[worst]:+.1f}%")
    return {
        "soak service memory growth": Measurement(max(growth.values()), "ratio"),
        "soak API p99": Measurement(max(r[1] for r in rows), "ms"),
        "soak consumer lag p99": Measurement(max(r[2] for r in rows), "events"),
        "soak Postgres per 100k events": Measurement(rows[-1][3], "MB"),
    }
