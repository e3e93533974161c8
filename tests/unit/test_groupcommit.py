"""Group commit's contract, with a stand-in pool: batches form under load, each caller gets its own
outcome, and one command that breaks a shared transaction does not fail the others."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from services.runtime.errors import Conflict
from services.runtime.groupcommit import GroupCommit


class FakeConnection:
    @asynccontextmanager
    async def transaction(self):
        yield

    @asynccontextmanager
    async def pipeline(self):
        yield


class FakePool:
    @asynccontextmanager
    async def connection(self):
        yield FakeConnection()


async def test_waiting_commands_form_batches_and_get_their_own_outcomes():
    batches: list[list[int]] = []

    async def run(conn, items):
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [Conflict("odd") if i % 2 else i * 10 for i in items]

    group = GroupCommit(FakePool(), run, name="t")
    results = await asyncio.gather(*[group.submit(i) for i in range(50)], return_exceptions=True)
    assert [r if not isinstance(r, Conflict) else "conflict" for r in results] == [
        i * 10 if i % 2 == 0 else "conflict" for i in range(50)
    ]
    assert len(batches) < 50 and max(len(b) for b in batches) > 1
    await group.close()


async def test_a_command_that_breaks_the_batch_is_retried_alone_and_only_it_fails():
    async def run(conn, items):
        if 13 in items:
            raise RuntimeError("constraint violated by 13")
        return list(items)

    group = GroupCommit(FakePool(), run, name="t")
    results = await asyncio.gather(*[group.submit(i) for i in range(20)], return_exceptions=True)
    assert [r for r in results if isinstance(r, RuntimeError)] and results[13].args[0] == "constraint violated by 13"
    assert [r for i, r in enumerate(results) if i != 13] == [i for i in range(20) if i != 13]
    await group.close()


async def test_an_idle_group_answers_the_first_command_at_once():
    async def run(conn, items):
        return list(items)

    group = GroupCommit(FakePool(), run, name="t")
    started = asyncio.get_running_loop().time()
    assert await group.submit(7) == 7
    assert asyncio.get_running_loop().time() - started < 0.1, "a lone command waits for no batch to fill"
    await group.close()


async def test_two_batches_run_at_once_and_a_third_waits_for_a_free_slot():
    running = 0
    most = 0
    release = asyncio.Event()

    async def run(conn, items):
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1
        return list(items)

    group = GroupCommit(FakePool(), run, name="t", in_flight=2)
    first = asyncio.ensure_future(group.submit(1))
    await asyncio.sleep(0.01)  # batch [1] is in flight
    second = asyncio.ensure_future(group.submit(2))
    await asyncio.sleep(0.01)  # batch [2] is in flight beside it
    rest = [asyncio.ensure_future(group.submit(i)) for i in range(3, 10)]
    await asyncio.sleep(0.01)
    assert running == 2, "the third batch waits for one of the two in flight"
    release.set()
    assert await asyncio.gather(first, second, *rest) == list(range(1, 10))
    assert most == 2
    await group.close()
