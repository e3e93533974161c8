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
#: Seconds between two kills: each process is killed while the load keeps it busy, the next before it is back.
KILL_EVERY = 2.0


# Out of make test until 2026-12-06: it failed 3 of 4 runs on 2026-12-04 and 3 of 25 on 2026-12-06, from two causes
# in the embedded broker, a topic made with 4 partitions by a worker's metadata request and a batch refused in part
# (README "Guarantees", issue 15). With both handled it passed 21 runs in a row beside CPU burners (load averages
# 3.6-10.9).
async def test_the_broker_killed_and_restarted_empty_twice_loses_nothing(fault_stack: RunningStack):
    async def fault() -> AsyncIterator[None]:
        for at in (4, 5):
            await asyncio.sleep(at)
            await ctl(fault_stack, "signal", "KILL", "broker")  # supervisord starts it again, empty
            yield None

    load = await with_load(fault_stack, fault)
    await verify(fault_stack, load, "broker killed twice")


async def test_every_relay_and_worker_killed_mid_batch_loses_and_doubles_nothing(fault_stack: RunningStack):
    pids = {process: await ctl(fault_stack, "pid", process) for process in PROCESSES}

    async def fault() -> AsyncIterator[None]:
        await asyncio.sleep(3)
        for process in PROCESSES:
            await ctl(fault_stack, "signal", "KILL", process)  # mid-batch: the load keeps every process busy
            await asyncio.sleep(KILL_EVERY)
            yield None

    load = await with_load(fault_stack, fault, seconds=6 + KILL_EVERY * len(PROCESSES))
    await verify(fault_stack, load, f"{len(PROCESSES)} relays and workers each killed once")
    # supervisord brought every one back: a new process, running.
    again = {process: await ctl(fault_stack, "pid", process) for process in PROCESSES}
    assert all(again[p] != pids[p] and again[p].strip() not in ("", "0") for p in PROCESSES), (pids, again)
