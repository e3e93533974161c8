"""The projection's rebuild mode (``begin_rebuild`` .. ``finish_rebuild``) writes exactly what batch-by-batch
application writes: every figure at every region and date, and every entity state; a failed batch in it
changes nothing."""

from __future__ import annotations

import random
import zlib
from datetime import date

import pytest

from services.reporting import rebuild_mode
from services.reporting.periods import parse_period, window
from services.reporting.projection import RegionMetricsProjection
from services.reporting.queries import figures
from tests.integration.reporting_fixtures import event, prepare_reporting
from tests.integration.test_reporting_invariants import CHECK_DAYS, CHECK_PERIODS, REGIONS, TODAY, random_history

pytestmark = pytest.mark.integration

WINDOWS = [window(None, d, TODAY) for d in CHECK_DAYS] + [window(parse_period(p), None, TODAY) for p in CHECK_PERIODS]
CODES = [r.code for r in REGIONS]


async def everything(conn):
    """Every figure of every region in every window, and every stored state."""
    got = await figures(conn, CODES, WINDOWS)
    cursor = await conn.execute("SELECT kind, entity_id, region_code, state FROM entity_states ORDER BY 1, 2")
    return got, await cursor.fetchall()


async def replay(conn, projection, history, rng, *, rebuild):
    if rebuild:
        projection.begin_rebuild()
    at = 0
    while at < len(history):
        size = rng.choice([1, 7, 50, 300, 1000])
        async with conn.transaction():
            await projection.apply(conn, history[at : at + size])
        at += size
    if rebuild:
        async with conn.transaction():
            await projection.finish_rebuild(conn)


async def folded_batch_by_batch(conn, schema, history, seed):
    """A prepared schema with ``history`` applied batch by batch: the projection, and everything it wrote."""
    await prepare_reporting(conn, schema)
    projection = RegionMetricsProjection()
    await replay(conn, projection, history, random.Random(seed), rebuild=False)
    return projection, await everything(conn)


@pytest.mark.parametrize("flush_every, max_states", [(10**9, 10**9), (700, 300)])
async def test_a_rebuild_writes_what_batch_by_batch_application_writes(
    pool, schema, monkeypatch, flush_every, max_states
):
    # Small limits make the rebuild write several times and forget its states between writes.
    monkeypatch.setattr(rebuild_mode, "REBUILD_FLUSH_EVERY", flush_every)
    monkeypatch.setattr(rebuild_mode, "REBUILD_MAX_STATES", max_states)
    history, _ = random_history(random.Random(3), 3000)
    async with pool.connection() as conn:
        projection, batch_by_batch = await folded_batch_by_batch(conn, schema, history, 4)
        await projection.reset(conn)
        await replay(conn, projection, history, random.Random(5), rebuild=True)
        rebuilt = await everything(conn)
    assert rebuilt[1] == batch_by_batch[1]
    assert rebuilt[0] == batch_by_batch[0]
    county = batch_by_batch[0]["430527000000"][CHECK_DAYS.index(TODAY)]
    assert county["labour_force"] > 100 and county["service_points"] > 10


async def test_shards_folding_a_share_of_the_streams_each_write_what_one_fold_writes(pool, schema):
    """As a rebuild split by partition: each shard folds the events of some streams (all of a stream's
    events in one shard, in order), writes, and the service points' moves between places it set aside are
    merged at the end. Points of one village land in different shards, so the merge must count each place
    once, not once per shard."""
    history, _ = random_history(random.Random(6), 3000)
    shards = 3
    async with pool.connection() as conn:
        projection, one_fold = await folded_batch_by_batch(conn, schema, history, 7)
        await projection.reset(conn)
        leftovers = []
        for shard in range(shards):
            part = [e for e in history if zlib.crc32(e.stream_id.encode()) % shards == shard]
            folder = RegionMetricsProjection()
            folder.begin_shard()
            rng, at = random.Random(shard), 0
            while at < len(part):
                size = rng.choice([50, 400])
                async with conn.transaction():
                    await folder.apply(conn, part[at : at + size])
                at += size
            async with conn.transaction():
                leftovers.append(await folder.finish_shard(conn))
        async with conn.transaction():
            await RegionMetricsProjection().merge_shards(conn, leftovers)
        sharded = await everything(conn)
    points_by_shard = {zlib.crc32(e.stream_id.encode()) % shards for e in history if e.type.startswith("ServicePoint")}
    assert len(points_by_shard) == shards, "service points in every shard"
    assert all(leftovers), "every shard set moves of service points aside"
    assert sharded[1] == one_fold[1]
    assert sharded[0] == one_fold[0]


async def test_a_batch_that_fails_in_a_rebuild_leaves_nothing_behind(pool, schema):
    village, other = "430527101201", "430527102201"
    good = [
        event("PersonRegistered", "p1", village, occurred=date(2026, 1, 5), region_code=village, sex="male"),
        event("PersonMoved", "p1", other, region_code=other, moved_on=date(2026, 2, 1)),
    ]
    bad = event("PersonRegistered", "p2", "x", region_code="not a region")
    projection = RegionMetricsProjection()
    async with pool.connection() as conn:
        await prepare_reporting(conn, schema)
        async with conn.transaction():
            await projection.apply(conn, good)
        expected = await everything(conn)
        await projection.reset(conn)
        projection.begin_rebuild()
        with pytest.raises(ValueError, match="region code"):
            async with conn.transaction():
                await projection.apply(conn, [good[0], bad, good[1]])
        for one in good:  # as the consumer retries a failed batch: one by one, the bad event dead-lettered
            async with conn.transaction():
                await projection.apply(conn, [one])
        async with conn.transaction():
            await projection.finish_rebuild(conn)
        assert await everything(conn) == expected
    assert expected[0]["430527000000"][CHECK_DAYS.index(TODAY)]["labour_force"] == 1


def _point(type_: str, point: str, region: str, on: date, *, staffed: bool):
    compliance = {"staff_required": 1, "staffing_ok": staffed, "premises_ok": True, "compliant": staffed}
    return event(type_, point, region, occurred=on, stream_type="service_point", level="village", compliance=compliance)


@pytest.mark.parametrize("sharded", [False, True])
async def test_a_failed_batch_takes_back_everything_it_folded_into_memory(pool, schema, sharded):
    """The rebuild folds a batch straight into its memory: when an event fails, every state, (region, day)
    row, place and set-aside move the batch had already changed is put back as it was before the batch,
    including those an earlier batch had put there."""
    village, other = "430527101201", "430527102201"
    earlier = [
        event("PersonRegistered", "p1", village, occurred=date(2026, 1, 5), region_code=village, sex="male"),
        _point("ServicePointEstablished", "sp1", village, date(2026, 1, 6), staffed=True),
    ]
    later = [
        event("PersonMoved", "p1", other, region_code=other, moved_on=date(2026, 2, 1)),
        _point("ServicePointUpdated", "sp1", other, date(2026, 2, 2), staffed=False),
        # Same village and day as p1: changes a (region, day) row an earlier batch made.
        event("PersonRegistered", "p4", village, occurred=date(2026, 1, 5), region_code=village, sex="male"),
        event("PersonRegistered", "p2", village, occurred=date(2026, 1, 5), region_code=village, sex="female"),
    ]
    bad = event("PersonRegistered", "p3", "x", region_code="not a region")
    projection = RegionMetricsProjection()
    async with pool.connection() as conn:
        await prepare_reporting(conn, schema)
        for batch in (earlier, later):
            async with conn.transaction():
                await projection.apply(conn, batch)
        expected = await everything(conn)
        await projection.reset(conn)
        projection.begin_shard() if sharded else projection.begin_rebuild()
        async with conn.transaction():
            await projection.apply(conn, earlier)
        held = projection._rebuild
        assert held is not None
        memory = (dict(held.states), set(held.dirty), {k: list(v) for k, v in held.rows.items()}, list(held.aside))
        with pytest.raises(ValueError, match="region code"):
            async with conn.transaction():
                await projection.apply(conn, [*later[:3], bad, *later[3:]])
        assert (held.states, held.dirty, held.rows, held.aside) == memory
        for one in later:
            async with conn.transaction():
                await projection.apply(conn, [one])
        async with conn.transaction():
            if sharded:
                await projection.merge_shards(conn, [await projection.finish_shard(conn)])
            else:
                await projection.finish_rebuild(conn)
        assert await everything(conn) == expected
    county = expected[0]["430527000000"][CHECK_DAYS.index(TODAY)]
    assert county["labour_force"] == 3 and county["service_points"] == 1


async def test_a_rebuild_refuses_to_go_on_when_a_write_was_rolled_back(pool, schema, monkeypatch):
    monkeypatch.setattr(rebuild_mode, "REBUILD_FLUSH_EVERY", 2)
    village = "430527101201"
    people = [event("PersonRegistered", f"p{n}", village, region_code=village, sex="male") for n in range(4)]
    projection = RegionMetricsProjection()
    async with pool.connection() as conn:
        await prepare_reporting(conn, schema)
        projection.begin_rebuild()
        async with conn.transaction():
            await projection.apply(conn, people[:2])
        with pytest.raises(RuntimeError, match="lost"):
            async with conn.transaction():
                await projection.apply(conn, people[2:3])  # writes the first two people ...
                raise RuntimeError("lost")  # ... and the commit never happens
        with pytest.raises(RuntimeError, match="reset and rebuild"):
            async with conn.transaction():
                await projection.apply(conn, people[3:])
        await projection.reset(conn)  # starting again works
        async with conn.transaction():
            await projection.apply(conn, people)
            await projection.finish_rebuild(conn)
        got = await figures(conn, ["430527000000"], [window(None, TODAY, TODAY)])
    assert got["430527000000"][0]["labour_force"] == 4
