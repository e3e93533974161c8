"""Postgres stopped and restarted under steady load: the API answers 503 with Retry-After while it is down, and
no accepted command is lost (a 2xx means the event is in the store).

The embedded Postgres runs outside supervisord (``renshe stack up`` starts it with ``pg_ctl``), so the test
stops and starts it the same way, on the stack's data directory.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse

import httpx
import pytest

from services.runtime.devstack import EmbeddedPostgres
from tests.e2e.conftest import RunningStack
from tests.faults.conftest import Load, verify

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def _postgres(stack: RunningStack) -> EmbeddedPostgres:
    port = urllib.parse.urlsplit(stack.env["DATABASE_URL"]).port
    assert port is not None
    return EmbeddedPostgres(stack.data_dir / "pg", port)


async def test_postgres_stopped_and_restarted_mid_load_loses_no_accepted_command(fault_stack: RunningStack):
    postgres = _postgres(fault_stack)
    assert postgres.running()
    probes: list[httpx.Response] = []
    load = Load(fault_stack)
    running = asyncio.create_task(load.run())
    await asyncio.sleep(5)
    stopped = time.monotonic()
    await asyncio.to_thread(postgres.stop)
    assert not postgres.running()
    # It stays down until a read and the load's commands have been answered 503 (a pooled connection is waited
    # for up to the pool's timeout first, so an outage shorter than that only slows the answers down).
    url = f"{fault_stack.env['REGISTRATION_URL']}/persons/00000000-0000-7000-8000-000000000000"
    async with httpx.AsyncClient(headers=fault_stack.headers, timeout=60) as http:
        deadline = time.monotonic() + 120
        while not any(p.status_code == 503 for p in probes) or load.statuses[503] == 0:
            probes.append(await http.get(url))
            assert time.monotonic() < deadline, f"no 503 while Postgres was down: {probes[-1].status_code}"
            await asyncio.sleep(0.2)
    await asyncio.to_thread(postgres.start)
    down_for = time.monotonic() - stopped
    await running

    unavailable = [p for p in probes if p.status_code == 503]
    assert all(p.headers.get("retry-after") for p in unavailable)
    assert unavailable[0].headers["content-type"] == "application/problem+json"
    assert set(load.statuses) <= {200, 201, 409, 503}, dict(load.statuses)
    report = await verify(fault_stack, load, f"Postgres stopped for {down_for:.1f} s and restarted")
    assert report.accepted == int(load.rate * load.seconds)
