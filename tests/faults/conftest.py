"""The fault suite's harness: a real local stack, steady load over HTTP, and the checks every fault ends with.

Each fault test starts its own stack (the processes ``make up`` starts), drives ``POST /persons`` at a steady
rate for the whole test while it injects its fault through supervisord, lets the stack settle, and then
checks, for every service that publishes a topic (``services.platform.publishing()``):

- every command answered 2xx is in its service's event store (a 2xx means the event is stored);
- reporting's inbox holds exactly the store's event ids: nothing missing, nothing applied twice;
- nothing was dead-lettered;
- the live figures at every level and every month equal a rebuild of reporting from the complete log
  (``renshe reporting rebuild``, which first makes the relays republish what the broker lost).

``FaultReport`` prints commands accepted, events stored, events in reporting, duplicates and recovery time.
Faults are marked ``faults``; ``pytest -m "not faults"`` skips them locally.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from bench.data import person_body
from services.platform import publishing
from services.stack import read_env
from tests.e2e.conftest import RENSHE, RunningStack, _port_base

#: The reporting consumer whose inbox every producing service's events reach.
PROJECTION = "reporting.projection"


@pytest.fixture
def fault_stack(tmp_path: Path) -> Iterator[RunningStack]:
    """A fresh local stack per fault, so one fault's damage never explains another's result."""
    data_dir = tmp_path / "stack"
    subprocess.run(
        [RENSHE, "stack", "up", "--data-dir", str(data_dir), "--port-base", str(_port_base())], check=True, timeout=180
    )
    try:
        yield RunningStack(data_dir, read_env(data_dir))
    finally:
        subprocess.run([RENSHE, "stack", "down", "--data-dir", str(data_dir)], timeout=120)


@dataclass
class Load:
    """A bounded open-loop load: request ``i`` leaves at ``start + i / rate``, whatever the others are doing."""

    stack: RunningStack
    rate: float = 300.0
    seconds: float = 20.0
    first_index: int = 5_000_000
    statuses: Counter[int] = field(default_factory=Counter)
    #: Requests that got no HTTP answer at all (connection reset, refused, timed out), by exception type.
    unanswered: Counter[str] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)

    async def run(self) -> None:
        """Send ``rate * seconds`` registrations; a 5xx is retried once a second with the same body."""
        rng = random.Random(self.first_index)
        count = int(self.rate * self.seconds)
        url = self.stack.env["REGISTRATION_URL"]
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=url, headers=self.stack.headers, timeout=30, limits=limits) as http:
            start = time.monotonic()
            tasks = []
            for i in range(count):
                delay = start + i / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self._send(http, person_body(self.first_index + i, rng))))
            await asyncio.gather(*tasks)

    async def _send(self, http: httpx.AsyncClient, body: dict[str, object]) -> None:
        for _ in range(60):
            try:
                response = await http.post("/persons", json=body)
            except httpx.TransportError as exc:
                self.unanswered[type(exc).__name__] += 1
                return
            self.statuses[response.status_code] += 1
            if response.status_code in (201, 409):
                self.accepted.append(response.json()["person_id"])
                return
            if response.status_code < 500:
                raise AssertionError(f"{response.status_code}: {response.text}")
            await asyncio.sleep(1.0)  # 503 while a dependency is down: the client retries, as a clerk's would


@dataclass
class FaultReport:
    """What one fault test measured."""

    fault: str
    accepted: int
    stored: dict[str, int]
    in_reporting: int
    duplicates: int
    dead_letters: int
    unanswered: int
    recovery_seconds: float

    def __str__(self) -> str:
        stored = ", ".join(f"{s} {n}" for s, n in self.stored.items())
        return (
            f"{self.fault}: {self.accepted} commands accepted; events stored: {stored}; {self.in_reporting} in "
            f"reporting; {self.duplicates} duplicates; {self.dead_letters} dead letters; {self.unanswered} "
            f"unanswered; recovered {self.recovery_seconds:.1f} s after the load ended"
        )


def _query(stack: RunningStack, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def _store_ids(stack: RunningStack) -> dict[str, set[str]]:
    """Every event id of every producing service's store."""
    return {
        service.name: {str(r[0]) for r in _query(stack, f"SELECT event_id FROM {service.name}.events")}
        for service in publishing()
    }


def _inbox_ids(stack: RunningStack) -> list[str]:
    return [str(r[0]) for r in _query(stack, "SELECT event_id FROM reporting.inbox WHERE consumer = %s", (PROJECTION,))]


def _figures(stack: RunningStack) -> dict[tuple[object, ...], object]:
    rows = _query(stack, "SELECT region_code, metric, value FROM reporting.v_region_metrics")
    months = _query(stack, "SELECT region_code, metric, month, change_in_month FROM reporting.v_region_month")
    return {(*r[:-1],): r[-1] for r in rows} | {("month", *r[:-1]): r[-1] for r in months}


async def settled(stack: RunningStack, *, timeout: float = 120.0) -> float:
    """Wait until reporting's inbox holds every stored event (and stays so); the seconds it took."""
    started = time.monotonic()
    steady = 0
    while steady < 3:
        stored = set().union(*_store_ids(stack).values())
        steady = steady + 1 if stored and stored <= set(_inbox_ids(stack)) else 0
        if time.monotonic() - started > timeout:
            missing = len(stored - set(_inbox_ids(stack)))
            raise AssertionError(f"reporting still misses {missing} of {len(stored)} stored events after {timeout}s")
        await asyncio.sleep(1.0)
    return time.monotonic() - started


async def verify(stack: RunningStack, load: Load, fault: str) -> FaultReport:
    """The checks every fault ends with (module docstring); returns the report it prints."""
    recovery = await settled(stack)
    stores = _store_ids(stack)
    stored_persons = {
        str(r[0]) for r in _query(stack, "SELECT stream_id FROM registration.events WHERE type = 'PersonRegistered'")
    }
    lost = set(load.accepted) - stored_persons
    assert not lost, f"{len(lost)} accepted registrations are not in the store"
    inbox = _inbox_ids(stack)
    every_stored = set().union(*stores.values())
    assert set(inbox) == every_stored, "reporting's inbox differs from the stores"
    dead = _query(stack, "SELECT count(*) FROM reporting.dead_letters")[0][0]
    report = FaultReport(
        fault,
        len(load.accepted),
        {name: len(ids) for name, ids in stores.items()},
        len(inbox),
        len(inbox) - len(set(inbox)),
        int(dead),  # type: ignore[call-overload]
        sum(load.unanswered.values()),
        recovery,
    )
    print(report)
    assert report.dead_letters == 0
    assert report.unanswered == 0, f"requests without an answer: {dict(load.unanswered)}"
    county = _query(
        stack,
        "SELECT value FROM reporting.v_region_metrics WHERE region_code = '430527000000' AND metric = 'labour_force'",
    )
    assert county and county[0][0] == len(stored_persons)
    live = _figures(stack)
    rebuilt = subprocess.run(
        [RENSHE, "reporting", "rebuild", "--env-file", str(stack.data_dir / "stack.env")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert _figures(stack) == live, "the live figures differ from a rebuild from the complete log"
    return report


async def with_load(stack: RunningStack, fault: Callable[[], AsyncIterator[None]] | None = None, **load_args) -> Load:
    """Run the load while ``fault`` (an async generator of injection steps) runs beside it."""
    load = Load(stack, **load_args)
    runner = asyncio.create_task(load.run())
    if fault is not None:
        async for _ in fault():
            pass
    await runner
    return load
