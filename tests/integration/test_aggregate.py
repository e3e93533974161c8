"""The write primitive every service shares (services/runtime/aggregate.py) on a real Postgres.

A tiny aggregate of its own (an employer's name and region, folded from registration's contract events)
so that what is tested is the loop, not a service's rules: load, scope, version, decide, effects, append.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pytest

from contracts.envelope import Event
from contracts.registration import EmployerChanged, EmployerRegistered, FieldChange
from services.runtime.aggregate import Aggregate, Changed
from services.runtime.auth import Principal, Role
from services.runtime.errors import Conflict, Forbidden, NotFound, RuleViolated
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent
from services.runtime.http import status_for

pytestmark = pytest.mark.integration

TOWNSHIP = "430527100000"
VILLAGE = "430527100201"
CLERK = Principal(subject="clerk-1", role=Role.TOWNSHIP, region=TOWNSHIP)
META = Metadata(actor="clerk-1")


@dataclass(frozen=True)
class Named:
    """The state under test: a name, a region, a version."""

    stream_id: str
    name: str
    region_code: str
    version: int


def evolve(state: Named | None, event: Event) -> Named:
    if isinstance(event, EmployerRegistered):
        return Named(event.employer_id, event.name, event.region_code, 1)
    assert state is not None and isinstance(event, EmployerChanged)
    names = [c.new for c in event.changes if c.field == "name"]
    return replace(state, name=str(names[-1]) if names else state.name, version=state.version + 1)


def registered(stream_id: str, region: str = VILLAGE) -> EmployerRegistered:
    return EmployerRegistered(
        employer_id=stream_id, credit_code="91350100M000100Y43", name="竹木厂", region_code=region
    )


def renamed(state: Named, name: str) -> list[Event]:
    if not name:
        raise RuleViolated("NameRequired", "a name is required", field="name")
    change = FieldChange(field="name", old=state.name, new=name)
    return [EmployerChanged(employer_id=state.stream_id, changes=[change], region_code=state.region_code,
                            from_region_code=state.region_code)]  # fmt: skip


@pytest.fixture
def employers() -> Aggregate[Named]:
    return Aggregate(EventStore(), "employer", evolve, name="employer")


async def created(pool, employers: Aggregate[Named], region: str = VILLAGE) -> str:
    stream_id = str(uuid.uuid4())
    async with pool.connection() as conn:
        changed = await employers.create(conn, stream_id, [registered(stream_id, region)], META)
    assert changed.version == 1 and changed.before is None
    return stream_id


async def version_of(pool, stream_id: str) -> int:
    async with pool.connection() as conn:
        return await EventStore().stream_version(conn, stream_id)


async def test_create_then_change_folds_appends_and_answers_the_new_version(pool, employers):
    stream_id = await created(pool, employers)
    async with pool.connection() as conn:
        changed = await employers.change(
            conn, stream_id, lambda s: renamed(s, "竹木制品公司"), META, expected_version=1, principal=CLERK
        )
        again = await employers.get(conn, stream_id, CLERK)
    assert changed.version == 2 and changed.before is not None and changed.before.name == "竹木厂"
    assert [e.event_type for e in changed.events] == ["EmployerChanged"]
    assert again == changed.after and again.name == "竹木制品公司"


async def test_a_stale_if_match_is_a_409_naming_the_current_version(pool, employers):
    stream_id = await created(pool, employers)
    async with pool.connection() as conn:
        await employers.change(conn, stream_id, lambda s: renamed(s, "二"), META, expected_version=1)
        with pytest.raises(Conflict) as stale:
            await employers.change(conn, stream_id, lambda s: renamed(s, "三"), META, expected_version=1)
    assert status_for(stale.value) == 409
    assert stale.value.extra["current_version"] == 2 and stale.value.field == "If-Match"
    assert "is at version 2, not 1" in stale.value.detail
    assert await version_of(pool, stream_id) == 2


async def test_an_append_that_lands_between_load_and_append_is_a_409(pool, employers):
    """The other writer commits while this change is between its load and its append (in its effects)."""
    stream_id = await created(pool, employers)

    async def meanwhile(_conn, changed: Changed[Named]) -> Sequence[Append]:
        async with pool.connection() as other:
            await employers.record(other, stream_id, changed.before, renamed(changed.before, "别人"), META)
        return []

    async with pool.connection() as conn, conn.transaction():
        with pytest.raises(Conflict) as lost:
            await employers.change(conn, stream_id, lambda s: renamed(s, "我"), META, effects=meanwhile)
    assert status_for(lost.value) == 409 and "changed concurrently after version 1" in lost.value.detail
    async with pool.connection() as conn:
        assert (await employers.get(conn, stream_id)).name == "别人"


async def test_a_refused_decision_writes_nothing_and_runs_no_effects(pool, employers):
    stream_id = await created(pool, employers)
    ran: list[str] = []

    async def effects(_conn, _changed: Changed[Named]) -> Sequence[Append]:
        ran.append("effects")
        return []

    async with pool.connection() as conn:
        with pytest.raises(RuleViolated):
            await employers.change(conn, stream_id, lambda s: renamed(s, ""), META, effects=effects)
        unchanged = await employers.change(conn, stream_id, lambda s: [], META, effects=effects)
    assert ran == [] and unchanged.version == 1 and unchanged.events == []
    assert await version_of(pool, stream_id) == 1


async def test_also_appends_commit_with_the_change_or_not_at_all(pool, employers):
    first, second = await created(pool, employers), await created(pool, employers)
    async with pool.connection() as conn:
        before = await employers.get(conn, second)
        note = employers.appending(second, before, renamed(before, "一起"), META)
        changed = await employers.change(
            conn, first, lambda s: renamed(s, "同时"), META, effects=lambda _c, _ch: _returning([note])
        )
    assert changed.version == 2 and await version_of(pool, second) == 2

    # The second stream is at version 2 now: an append expecting 1 fails, and takes the change with it.
    stale = Append("employer", second, 1, [PendingEvent.of(registered(second), region_code=VILLAGE)], META)
    async with pool.connection() as conn:
        with pytest.raises(Conflict):
            await employers.change(
                conn, first, lambda s: renamed(s, "不成"), META, effects=lambda _c, _ch: _returning([stale])
            )
    assert await version_of(pool, first) == 2 and await version_of(pool, second) == 2


async def _returning(appends: Sequence[Append]) -> Sequence[Append]:
    return appends


async def test_a_stream_outside_the_callers_region_is_403_and_nothing_is_written(pool, employers):
    stream_id = await created(pool, employers, region="430527101201")
    async with pool.connection() as conn:
        with pytest.raises(Forbidden) as outside:
            await employers.change(conn, stream_id, lambda s: renamed(s, "越界"), META, principal=CLERK)
        assert (await employers.get(conn, stream_id, Principal("c", Role.COUNTY, "430527"))).version == 1
    assert status_for(outside.value) == 403 and "430527101201" in outside.value.detail
    assert await version_of(pool, stream_id) == 1


@pytest.mark.parametrize("kind", ["missing", "not a uuid", "another stream type"])
async def test_no_such_stream_is_404_naming_the_id_field(pool, employers, kind):
    stream_id = {"missing": str(uuid.uuid4()), "not a uuid": "nope"}.get(kind, "")
    if kind == "another stream type":
        stream_id = str(uuid.uuid4())
        async with pool.connection() as conn:
            pending = PendingEvent.of(registered(stream_id), region_code=VILLAGE)
            await EventStore().append(conn, "vacancy", stream_id, 0, [pending])
    async with pool.connection() as conn:
        assert await employers.load(conn, stream_id) is None
        with pytest.raises(NotFound) as missing:
            await employers.change(conn, stream_id, lambda s: renamed(s, "无"), META, principal=CLERK)
    assert status_for(missing.value) == 404 and missing.value.field == "employer_id"
    assert missing.value.detail == f"no employer {stream_id}"
