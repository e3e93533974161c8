"""End to end: `renshe reporting rebuild` beside the running stack gives back exactly the live figures,
with the topic's whole history, and after the broker lost history the relay no longer knew about."""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

import httpx
import psycopg
import pytest

from contracts.reference import SUINING_COUNTY
from tests.e2e.conftest import RENSHE
from tests.e2e.test_slice import people, register

pytestmark = pytest.mark.e2e

Figures = dict[str, dict[str, Any]]


async def figures(stack) -> Figures:
    """Every metric of the county, each township and each village, over HTTP."""
    out: Figures = {}
    async with httpx.AsyncClient(base_url=stack.env["REPORTING_URL"], headers=stack.headers, timeout=30) as client:
        out[SUINING_COUNTY] = (await client.get(f"/regions/{SUINING_COUNTY}/stats")).json()["metrics"]
        townships = (await client.get(f"/regions/{SUINING_COUNTY}/children")).json()["children"]
        for township in townships:
            out[township["code"]] = township["metrics"]
            for village in (await client.get(f"/regions/{township['code']}/children")).json()["children"]:
                out[village["code"]] = village["metrics"]
    return out


async def wait_for_labour_force(stack, count: int, timeout: float = 90.0) -> Figures:
    deadline = time.monotonic() + timeout
    while True:
        current = await figures(stack)
        if current[SUINING_COUNTY]["labour_force"] == count:
            await asyncio.sleep(1.0)  # and nothing else is still arriving
            again = await figures(stack)
            if again == current:
                return current
        if time.monotonic() > deadline:
            raise AssertionError(f"labour force {current[SUINING_COUNTY]['labour_force']}, expected {count}")
        await asyncio.sleep(0.5)


def rebuild(stack) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [RENSHE, "reporting", "rebuild", "--env-file", str(stack.data_dir / "stack.env")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def differences(before: Figures, after: Figures) -> list[str]:
    return [
        f"{code} {metric}: live {value}, rebuilt {after.get(code, {}).get(metric)}"
        for code, metrics in before.items()
        for metric, value in metrics.items()
        if after.get(code, {}).get(metric) != value
    ]


async def test_rebuild_gives_back_the_live_figures_metric_by_metric(stack):
    await register(stack, people(300, seed=11))
    live = await wait_for_labour_force(stack, 300)

    result = rebuild(stack)  # the worker keeps running: it waits while the rebuild holds it

    assert "events/s" in result.stderr, "a progress bar with the rate"
    assert "registration.events: " in result.stdout and "holds all 300 events of the store" in result.stdout
    assert "rebuilt reporting.projection: 300 events applied" in result.stdout
    after = await figures(stack)
    assert not differences(live, after)
    assert after == live


async def test_rebuild_gets_lost_history_republished_from_the_registration_store(stack):
    before = (await figures(stack))[SUINING_COUNTY]["labour_force"]
    # The broker loses every topic while the relay is down, and the relay's marks are gone too (as when
    # Kafka's retention deletes old segments): the restarted relay publishes only what is new.
    stack.ctl("stop", "registration-relay")
    assert "broker: started" in stack.ctl("restart", "broker")
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("DELETE FROM registration.relay_marks")
    stack.ctl("start", "registration-relay")
    await register(stack, people(40, seed=12))
    live = await wait_for_labour_force(stack, before + 40)

    result = rebuild(stack)

    assert "history was missing; the relay republished after position 0" in result.stdout, result.stdout
    assert f"rebuilt reporting.projection: {before + 40} events applied" in result.stdout
    after = await figures(stack)
    assert not differences(live, after)
    assert after == live
