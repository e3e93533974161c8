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
from tests.faults.conftest import ctl, verify, with_load

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

#: Every relay and worker of every listed service: a new service joins the suite by being listed.
PROCESSES = [f"{s.name}-{role}" for s in SERVICES for role in s.processes if role != "api"]


async def test_the_broker_killed_and_restarted_empty_twice_loses_nothing(fault_stack: RunningStack):
    async def fault() -> AsyncIterator[None]:
        for at in (4, 5):
            await asyncio.sleep(at)
            await ctl(fault_stack, "signal", "KILL", "broker")  # supervisord starts it again, empty
            yield None

    load = await with_load(fault_stack, fault)
    await verify(fault_stack, load, "broker killed twice")


@pytest.mark.parametrize("process", PROCESSES)
async def test_a_relay_or_worker_killed_mid_batch_loses_and_doubles_nothing(fault_stack: RunningStack, process: str):
    async def fault() -> AsyncIterator[None]:
        for at in (4, 4):
            await asyncio.sleep(at)
            await ctl(fault_stack, "signal", "KILL", process)  # mid-batch: the load keeps every process busy
            yield None

    load = await with_load(fault_stack, fault)
    await verify(fault_stack, load, f"{process} killed twice")
