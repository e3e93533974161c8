"""A slow consumer: the reporting worker paused (SIGSTOP) for 30 s under steady load. Its lag shows in reporting's
``GET /status`` while it is paused and in the worker's ``/metrics`` once it runs again, and then it catches up
exactly (``verify``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.conftest import RunningStack
from tests.faults.conftest import ctl, verify, with_load
from tests.faults.test_message_faults import metric, worker_metrics_url

#: In make test; slow_fault (a 30 s pause on top of the load) lets a developer skip it locally.
pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.slow_fault]

PAUSE_SECONDS = 30.0


async def test_a_paused_reporting_worker_shows_its_lag_and_catches_up_exactly(fault_stack: RunningStack):
    statuses: list[dict[str, object]] = []
    lag_in_metrics: list[float] = []

    async def fault() -> AsyncIterator[None]:
        await asyncio.sleep(3)
        await ctl(fault_stack, "signal", "STOP", "reporting-worker")
        paused = time.monotonic()
        async with httpx.AsyncClient(headers=fault_stack.headers, timeout=30) as http:
            url = f"{fault_stack.env['REPORTING_URL']}/status"
            while time.monotonic() - paused < PAUSE_SECONDS:
                reply = await http.get(url)
                assert reply.status_code == 200, reply.text
                statuses.append(reply.json())
                await asyncio.sleep(1.0)
            await ctl(fault_stack, "signal", "CONT", "reporting-worker")
            # The worker's gauges are set as it works through the backlog, batch by batch.
            deadline = time.monotonic() + 120
            while not lag_in_metrics and time.monotonic() < deadline:
                try:
                    text = (await http.get(worker_metrics_url(fault_stack), timeout=5)).text
                except httpx.HTTPError:
                    continue
                behind = sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith('renshe_consumer_lag_events{consumer="reporting.projection"')
                )
                if behind > 0:
                    lag_in_metrics.append(behind)
                await asyncio.sleep(0.1)
        yield None

    load = await with_load(fault_stack, fault, seconds=PAUSE_SECONDS + 8)
    last = statuses[-1]
    assert int(last["behind"]) > 1000, last  # type: ignore[call-overload]
    assert float(last["seconds_behind"]) > PAUSE_SECONDS / 2, last  # type: ignore[arg-type]
    assert lag_in_metrics, "the worker's /metrics never showed its backlog"
    report = await verify(fault_stack, load, f"reporting worker paused {PAUSE_SECONDS:.0f} s")
    async with httpx.AsyncClient(headers=fault_stack.headers, timeout=30) as http:
        caught_up = (await http.get(f"{fault_stack.env['REPORTING_URL']}/status")).json()
        text = (await http.get(worker_metrics_url(fault_stack))).text
    assert caught_up["behind"] == 0, caught_up
    assert metric(text, "renshe_consumer_dead_letters_total", consumer="reporting.projection") == 0
    print(
        f"lag while paused: {last['behind']} events, {last['seconds_behind']} s; in /metrics after resuming: "
        f"{lag_in_metrics[0]:.0f} events; caught up {report.recovery_seconds:.1f} s after the load ended"
    )
