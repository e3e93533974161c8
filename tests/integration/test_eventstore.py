"""The event store on a real Postgres: optimistic concurrency, and insert order = commit order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from services.runtime.errors import Conflict
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent

pytestmark = pytest.mark.integration


def event(n: int = 0, region: str | None = "430527100201") -> PendingEvent:
    return PendingEvent(
        type="Happened", schema_version=1, data={"n": n}, region_code=region, occurred_at=datetime.now(UTC)
    )


async def test_appended_events_load_in_version_order_with_metadata(pool):
    store = EventStore()
    async with pool.connection() as conn:
        await store.append(
            conn, "person", "p1", 0, [event(1), event(2)], Metadata(actor="clerk-7", correlation_id="c1")
        )
        await store.append(conn, "person", "p1", 2, [event(3)])
        loaded = await store.load(conn, "p1")
    assert [e.envelope.version for e in loaded] == [1, 2, 3]
    assert [e.envelope.data["n"] for e in loaded] == [1, 2, 3]
    assert loaded[0].envelope.actor == "clerk-7" and loaded[0].envelope.correlation_id == "c1"
    assert loaded[0].position < loaded[1].position < loaded[2].position


@pytest.mark.parametrize("expected_version", [0, 1, 3])
async def test_append_at_a_stale_or_future_version_is_a_conflict(pool, expected_version):
    store = EventStore()
    async with pool.connection() as conn:
        await store.append(conn, "person", "p1", 0, [event(), event()])
        with pytest.raises(Conflict):
            await store.append(conn, "person", "p1", expected_version, [event()])
        assert await store.stream_version(conn, "p1") == 2


async def test_a_conflicting_batch_writes_nothing(pool):
    store = EventStore()
    async with pool.connection() as conn:
        await store.append(conn, "person", "a", 0, [event()])
        with pytest.raises(Conflict):
            await store.append_batch(conn, [Append("person", "b", 0, [event()]), Append("person", "a", 0, [event()])])
        assert await store.stream_version(conn, "b") == 0


async def test_concurrent_writers_to_one_stream_one_wins(pool):
    store = EventStore()

    async def write() -> bool:
        async with pool.connection() as conn:
            try:
                async with conn.transaction():
                    await store.append(conn, "person", "same", 0, [event()])
                return True
            except Conflict:
                return False

    results = await asyncio.gather(*[write() for _ in range(8)])
    assert results.count(True) == 1


async def test_a_late_commit_blocks_later_appends_so_positions_commit_in_order(pool):
    """Deterministic form of the ordering guarantee: B cannot commit while A, which took a lower position,
    is still open; without the lock B would commit first and a tailer could pass A's position."""
    store = EventStore()
    async with pool.connection() as a_conn:
        tx = a_conn.transaction()
        await tx.__aenter__()
        [a_position] = await store.append(a_conn, "s", "a", 0, [event()])

        async def append_b() -> int:
            async with pool.connection() as b_conn, b_conn.transaction():
                [position] = await store.append(b_conn, "s", "b", 0, [event()])
            return position

        b = asyncio.create_task(append_b())
        await asyncio.sleep(0.3)
        assert not b.done(), "B committed while A was still open"
        async with pool.connection() as reader:
            assert await store.read_all(reader, 0) == []
        await tx.__aexit__(None, None, None)
        b_position = await asyncio.wait_for(b, 5)
    assert a_position < b_position


async def test_a_tailer_never_skips_an_event_under_concurrent_appenders(pool):
    """Eight concurrent appenders, one tailer reading by position: the tailer sees every event exactly once,
    in position order, without ever going back."""
    store = EventStore()
    writers, per_writer = 12, 60
    done = asyncio.Event()
    seen: list[int] = []

    async def writer(w: int) -> None:
        for i in range(per_writer):
            async with pool.connection() as conn, conn.transaction():
                stream = f"w{w}-{i % 5}"
                version = await store.stream_version(conn, stream)
                await store.append(conn, "s", stream, version, [event(i) for _ in range(1 + i % 3)])

    async def tailer() -> None:
        after = 0
        async with pool.connection() as conn:
            while True:
                finished = done.is_set()
                batch = await store.read_all(conn, after, limit=50)
                for recorded in batch:
                    assert recorded.position > after
                    seen.append(recorded.position)
                    after = recorded.position
                if finished and not batch:
                    return
                await asyncio.sleep(0)

    tail = asyncio.create_task(tailer())
    await asyncio.gather(*[writer(w) for w in range(writers)])
    done.set()
    await tail
    async with pool.connection() as conn:
        everything = [r.position for r in await store.read_all(conn, 0, limit=100_000)]
    assert len(everything) == writers * sum(1 + i % 3 for i in range(per_writer))
    assert seen == everything


async def test_event_ids_are_unique(pool):
    store = EventStore()
    same = uuid.uuid4()
    async with pool.connection() as conn:
        await store.append(conn, "s", "x", 0, [PendingEvent("T", 1, {}, None, datetime.now(UTC), same)])
        with pytest.raises(Conflict):
            await store.append(conn, "s", "y", 0, [PendingEvent("T", 1, {}, None, datetime.now(UTC), same)])
