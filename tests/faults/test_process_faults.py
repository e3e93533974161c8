"""Faults of the processes under steady load: the broker lost twice, each relay and worker killed mid-batch.

Every test ends with ``verify`` (see conftest): nothing accepted is lost, nothing is counted twice, and the live
figures equal a rebuild from the complete log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.platform import SERVICES
from tests.e2e.conftest import RunningStack
from tests.faults.conftest import verify, with_load

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

#: Every relay and worker of every listed service: a new service joins the suite by being listed.
PROCESSES = [f"{s.name}-{role}" for s in SERVICES for role in s.processes if role != "api"]


async def test_the_broker_killed_and_restarted_empty_twice_loses_nothing(fault_stack: RunningStack):
    async def fault() -> AsyncIterator[None]:
        for at in (5, 8):
            await asyncio.sleep(at)
            fault_stack.ctl("signal", "KILL", "broker")  # supervisord starts it again, empty
            yield None

    load = await with_load(fault_stack, fault)
    await verify(fault_stack, load, "broker killed twice")


@pytest.mark.parametrize("process", PROCESSES)
async def test_a_relay_or_worker_killed_mid_batch_loses_and_doubles_nothing(fault_stack: RunningStack, process: str):
    async def fault() -> AsyncIterator[None]:
        for at in (4, 6):
            await asyncio.sleep(at)
            fault_stack.ctl("signal", "KILL", process)  # mid-batch: the load keeps every process busy
            yield None

    load = await with_load(fault_stack, fault)
    await verify(fault_stack, load, f"{process} killed twice")


async def test_without_a_fault_every_request_is_answered_and_counted_once(fault_stack: RunningStack):
    load = await with_load(fault_stack, None, rate=500.0, seconds=10.0)
    await verify(fault_stack, load, "no fault at 500/s")
