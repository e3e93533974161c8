"""The per-region projection: folds events into per-entity states and per-region figures with history.

A batch costs one read and four writes however many events it holds: the states of the entities the batch
touches are read at once, folded in memory (``entities``), and the change of every stock and flow metric
is summed per (region, day) where the event happened, as one row of deltas indexed by the metric's
``position`` in ``metric_catalogue``. The rows are then summed up the region tree level by level (a
township's row is the sum of its villages' rows and its own), so each level always equals the sum of
what lies under it. Writes are set-based upserts of unnested arrays, in key order so concurrent workers
never deadlock:

- ``entity_states``: what reporting remembers of each person, employer, vacancy, service point, place;
- ``region_metric_days``: per (region, day) the change of every metric that day (the history), as one
  array indexed by metric position, so a day costs one row, not one row per metric;
- ``region_metric_months``: the same summed per month, so a period or a past date reads a few rows;
- ``region_metrics``: per (region, metric) the sum of every change, i.e. the figure now.

Speed (a rebuild replays millions of events): the fold works on named tuples and on contributions
remembered per state profile, so an event costs a few dictionary lookups; parameters travel as a few
long strings the server splits (``string_to_array``), not as Python lists dumped element by element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import lru_cache
from operator import add, itemgetter
from typing import Any

import orjson

from contracts.envelope import EventEnvelope
from contracts.regions import normalise_region_code, parent_code, region_level
from services.reporting import sources
from services.reporting.catalogue import Catalogue
from services.reporting.entities import (
    PLACE,
    IsUrban,
    PlaceState,
    State,
    dump_states,
    effective_day,
    place_moves,
)
from services.reporting.metrics import FlowDelta
from services.reporting.queries import metric_positions
from services.runtime.db import Connection
from services.runtime.gctuning import gc_paused

NAME = "reporting.projection"

#: Every table the projection writes; ``reset`` empties them all.
TABLES = ("region_metrics", "region_metric_days", "region_metric_months", "entity_states")

Key = tuple[str, str]  # (entity kind, entity id)
#: Per (region, day), the change of every metric, indexed by metric position.
Rows = dict[tuple[str, date], list[int]]
#: What one entity in a state adds: (metric position, value) for each metric it counts in.
Counted = tuple[tuple[int, int], ...]
#: A statement and its parameters.
Statement = tuple[str, tuple[Any, ...]]
#: A service point arriving at (+1) or leaving (-1) a place on a day.
PlaceMove = tuple[str, date, int]


#: In a rebuild, write every this many events (and at the end). What a rebuild holds between writes grows
#: with the entities and the (region, day) rows, not with the events, while every write sends each state
#: and row changed since the last one again (the rows of a busy county's villages and days change in
#: every stretch of 500,000 events): fewer writes, less sent twice.
REBUILD_FLUSH_EVERY = 2_000_000
#: In a rebuild, keep at most this many entity states in memory (about 300 bytes each); beyond, forget them
#: after a flush and read them back from the table as a live batch does.
REBUILD_MAX_STATES = 2_000_000
#: Rows per statement when a rebuild writes its states.
_CHUNK = 25_000


class _Rebuild:
    """What a rebuild holds in memory between flushes."""

    def __init__(self, *, sharded: bool = False) -> None:
        #: Entity states; ``complete`` while it holds every state there is (none were forgotten).
        self.states: dict[Key, Any] = {}
        self.complete = True
        #: Keys whose state changed since the last flush.
        self.dirty: set[Key] = set()
        #: Per (region, day) the changes since the last flush, where they happened (not yet rolled up).
        self.rows: Rows = {}
        #: Events folded since the last flush.
        self.pending = 0
        #: The transaction of the last write, until a later batch has seen it committed.
        self.written_in: int | None = None
        #: Whether this rebuild has written states yet: until it has, the table holds none of its keys.
        self.wrote_states = False
        #: A write was lost (its transaction rolled back after the memory was cleared): start again.
        self.failed = False
        #: One shard of several (``begin_shard``): moves of service points between places are set aside.
        self.sharded = sharded
        #: The moves set aside: (place, day, +1 or -1).
        self.aside: list[PlaceMove] = []

    def undo(self, journal: _Journal) -> None:
        """Put back what a batch that failed had folded into memory (its ``journal``)."""
        states, dirty = self.states, self.dirty
        for key, (before, was_dirty) in journal.states.items():
            if before is None:
                states.pop(key, None)
            else:
                states[key] = before
            if not was_dirty:
                dirty.discard(key)
        rows = self.rows
        for where, deltas in journal.rows.items():
            if deltas is None:
                del rows[where]
            else:
                rows[where] = deltas
        del self.aside[journal.aside :]

    def flushed(self, transaction: int) -> None:
        """Everything held has been written, in ``transaction`` (not yet committed)."""
        self.dirty = set()
        self.rows = {}
        self.pending = 0
        self.written_in = transaction
        if len(self.states) > REBUILD_MAX_STATES:
            self.states = {}
            self.complete = False


class _Journal:
    """What a batch folded straight into a rebuild's memory changed, so that a batch that fails can be
    taken back out (``_Rebuild.undo``): the consumer then retries its events one by one."""

    def __init__(self, aside: int) -> None:
        #: Per entity changed: its state before the batch (None: it had none) and whether it was dirty.
        self.states: dict[Key, tuple[Any, bool]] = {}
        #: Per (region, day) row changed: a copy of it before the batch (None: the batch added it).
        self.rows: dict[tuple[str, date], list[int] | None] = {}
        #: How many moves were set aside before the batch.
        self.aside = aside


async def _execute(conn: Connection, writes: Iterable[Statement | None]) -> None:
    """Run the statements in one round trip (a pipeline)."""
    async with conn.pipeline():
        for write in writes:
            if write is not None:
                await conn.execute(*write)


@lru_cache(maxsize=100_000)
def _where(code: str) -> tuple[str, int, str | None]:
    """A region code normalised, with its depth (0 province .. 4 village) and its parent's code."""
    normal = normalise_region_code(code)
    return normal, region_level(normal).depth, parent_code(normal)


class RegionMetricsProjection:
    """The consumer handler behind every reporting figure (consumer group ``reporting.projection``)."""

    name = NAME

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        #: What it folds: every listed source's (``services.reporting.sources``) unless told otherwise.
        self.catalogue = catalogue or sources.CATALOGUE
        # Urban communities (urban-rural class 1xx), read once from the region table.
        self._urban: frozenset[str] | None = None
        # Metric name -> index in the history arrays, read once from the catalogue.
        self._positions: dict[str, int] | None = None
        # (entity, state profile) -> what such an entity adds, by metric position.
        self._counted: dict[tuple[str, tuple[Any, ...]], Counted] = {}
        # (entity, profile before, profile after) -> what the change adds where the entity is.
        self._changes: dict[tuple[str, tuple[Any, ...], tuple[Any, ...]], Counted] = {}
        # Event type -> the flows it moves: (metric position, how much).
        self._flows: dict[str, tuple[tuple[int, FlowDelta], ...]] = {}
        # Between ``begin_rebuild`` and ``finish_rebuild``: what the rebuild holds in memory.
        self._rebuild: _Rebuild | None = None

    async def reset(self, conn: Connection) -> None:
        """Empty every table the projection owns (figures, history, entity states) for a rebuild.

        The consumer's inbox is the runtime's, not the projection's: a rebuild that replays events the
        inbox already holds must clear the inbox rows of ``NAME`` too.
        """
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        if self._rebuild is not None:
            self._rebuild = _Rebuild(sharded=self._rebuild.sharded)
        self._urban = None
        self._positions = None
        self._counted.clear()
        self._changes.clear()
        self._flows.clear()

    def begin_rebuild(self) -> None:
        """Fold what ``apply`` is given in memory until ``finish_rebuild``, writing every
        ``REBUILD_FLUSH_EVERY`` events instead of every batch: for a rebuild, right after ``reset``.

        Entity states stay in memory (up to ``REBUILD_MAX_STATES``), so a batch reads nothing, and each
        (region, day) of history is written once per flush, not once per batch. The caller promises that
        nothing else writes the projection's tables meanwhile. A batch folds straight into that memory (no
        copy per batch to merge afterwards), noting what it changes first; one that fails puts it back, so
        memory holds none of it and the consumer may retry its events one by one. A write that fails
        changes nothing in memory either. A write whose transaction rolls back after it went through (the
        commit failed) has left memory for good: the next batch notices (``txid_status``) and ``apply``
        refuses from then on: reset and start again.
        """
        self._rebuild = _Rebuild()

    async def finish_rebuild(self, conn: Connection) -> None:
        """Write what the rebuild still holds in memory, and go back to writing every batch."""
        if self._rebuild is not None:
            await self._rebuild_checked(conn)
            await self._flush(conn)
            self._rebuild = None

    def begin_shard(self) -> None:
        """Like ``begin_rebuild``, for a rebuild split by partition across processes.

        Every state but a place's is changed by the events of one message key (its own stream), so a
        shard folds its partitions alone, and the figures it writes add to the other shards'. A place
        (township or village) counts the service points of several streams, so its moves are set aside
        for ``merge_shards``.
        """
        self._rebuild = _Rebuild(sharded=True)

    async def finish_shard(self, conn: Connection) -> list[PlaceMove]:
        """Write what the shard holds; return the moves of service points it set aside."""
        aside = self._rebuild.aside if self._rebuild is not None else []
        await self.finish_rebuild(conn)
        return aside

    async def merge_shards(self, conn: Connection, leftovers: Sequence[list[PlaceMove]]) -> None:
        """Fold every shard's moves of service points into the places, and write them."""
        moves = [move for part in leftovers for move in part]
        if not moves:
            return
        positions = await self._metric_positions(conn)
        states = await _load_states(conn, {(PLACE.name, code) for code, _, _ in moves}, self.catalogue)
        rows: Rows = {}
        dirty: set[Key] = set()
        row = _row_in(rows, max(positions.values()) + 1)
        for code, day, delta in moves:
            _move_places(states, dirty, [(code, delta)], day, row, self._counted_in)
        ordered = _in_key_order(dirty)
        saved = _save_states(ordered, [states[key] for key in ordered])
        await _execute(conn, [saved, *history_writes(rows, positions)])

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Fold a batch of new events into the states and every affected region, level and day."""
        with gc_paused():
            keyed = _keyed(events, self.catalogue)
        if not keyed:
            return
        positions = await self._metric_positions(conn)
        is_urban = (await self._urban_regions(conn)).__contains__
        width = max(positions.values()) + 1
        if self._rebuild is not None:
            await self._fold_in_memory(conn, keyed, is_urban, width)
            return
        states: dict[Key, Any] = {}
        await self._read_states(conn, keyed, states, self.catalogue)
        rows: Rows = {}
        dirty: set[Key] = set()
        with gc_paused():
            self._fold(keyed, states, rows, dirty, is_urban, width)
            ordered = _in_key_order(dirty)
            saved = _save_states(ordered, [states[key] for key in ordered])
        # One round trip; the server upserts the states while the rows are summed up the region tree.
        async with conn.pipeline():
            if saved is not None:
                await conn.execute(*saved)
            with gc_paused():
                writes = history_writes(rows, positions)
            for write in writes:
                await conn.execute(*write)

    async def _fold_in_memory(
        self, conn: Connection, keyed: Sequence[tuple[EventEnvelope, Key | None]], is_urban: IsUrban, width: int
    ) -> None:
        """In a rebuild: fold the batch straight into the rebuild's memory, noting what it changes, and take
        it all back out if an event fails (the consumer then retries the events one by one)."""
        rebuild = self._rebuild
        assert rebuild is not None
        await self._rebuild_checked(conn)
        if not rebuild.complete:
            # States forgotten after a write come back from the table, as a live batch reads them.
            await self._read_states(conn, keyed, rebuild.states, self.catalogue)
        journal = _Journal(len(rebuild.aside))
        try:
            with gc_paused():
                aside = rebuild.aside if rebuild.sharded else None
                self._fold(keyed, rebuild.states, rebuild.rows, rebuild.dirty, is_urban, width, aside, journal)
        except BaseException:
            rebuild.undo(journal)
            raise
        rebuild.pending += len(keyed)

    @staticmethod
    async def _read_states(
        conn: Connection,
        keyed: Sequence[tuple[EventEnvelope, Key | None]],
        states: dict[Key, Any],
        catalogue: Catalogue,
    ) -> None:
        """Add to ``states`` the stored states a batch needs that it lacks: its entities', and the places
        its service points may leave or reach (so moving between them needs no read)."""
        keys = {key for _, key in keyed if key is not None}
        states.update(await _load_states(conn, keys - states.keys(), catalogue))
        points = [e for e, _ in keyed if e.type in catalogue.place_events]
        if points:
            entity_by_event = catalogue.entity_by_event
            kinds = {entity_by_event[e.type].name for e in points}
            places = {states[k][0] for k in keys if k[0] in kinds and k in states}
            places |= {e.region_code or str(e.data.get("region_code")) for e in points}
            wanted = {(PLACE.name, normalise_region_code(code)) for code in places}
            states.update(await _load_states(conn, wanted - states.keys(), catalogue))

    async def _rebuild_checked(self, conn: Connection) -> None:
        """Before a batch in rebuild mode: make sure the last write committed, and write if it is time.

        Writing before folding the batch, not after, means a write that fails leaves the memory as it
        was, with none of this batch in it, so the consumer may retry the batch.
        """
        rebuild = self._rebuild
        assert rebuild is not None
        if rebuild.written_in is not None:
            # The last write cleared the memory before its transaction committed: check that it did.
            cursor = await conn.execute(
                "SELECT txid_status(%s) = 'committed' OR %s = txid_current_if_assigned()",
                (rebuild.written_in, rebuild.written_in),
            )
            row = await cursor.fetchone()
            rebuild.failed = rebuild.failed or not (row and row[0])
            rebuild.written_in = None
        if rebuild.failed:
            raise RuntimeError("a write of this rebuild was rolled back after it left memory: reset and rebuild")
        if rebuild.pending >= REBUILD_FLUSH_EVERY:
            await self._flush(conn)

    async def _flush(self, conn: Connection) -> None:
        """Write the rebuild's changed states and history so far; forget states if they grow too many."""
        rebuild = self._rebuild
        assert rebuild is not None
        positions = await self._metric_positions(conn)
        # Sorted once here (each chunk is then in order): Postgres inserts keys in index order a third
        # faster than in hash order (1.0 s against 1.6 to 2.0 s for 245,000 states).
        dirty = _in_key_order(rebuild.dirty)
        held = rebuild.states
        async with conn.pipeline():
            for at in range(0, len(dirty), _CHUNK):
                with gc_paused():
                    chunk = dirty[at : at + _CHUNK]
                    saved = _save_states(chunk, [held[key] for key in chunk], new=not rebuild.wrote_states)
                if saved is not None:
                    await conn.execute(*saved)
            with gc_paused():
                writes = history_writes(rebuild.rows, positions)
            for write in writes:
                await conn.execute(*write)
        cursor = await conn.execute("SELECT txid_current()")
        row = await cursor.fetchone()
        assert row is not None
        rebuild.flushed(int(row[0]))
        rebuild.wrote_states = rebuild.wrote_states or bool(dirty)

    def _fold(
        self,
        keyed: Iterable[tuple[EventEnvelope, Key | None]],
        states: dict[Key, Any],
        rows: Rows,
        dirty: set[Key],
        is_urban: Callable[[str], bool],
        width: int,
        aside: list[PlaceMove] | None = None,
        journal: _Journal | None = None,
    ) -> None:
        """Fold events into ``states`` (noting the keys changed in ``dirty``) and their changes into ``rows``.

        With ``aside``, moves of service points between places are noted there instead of folded. With
        ``journal``, what each state and row was before the batch first changed it is noted there.

        The hot loop of a rebuild, so written for speed: an entity that changes but stays where it is
        (most changes) costs one lookup of what the change does to its region's figures.
        """
        counted = self._counted_in
        changed = self._changed
        flows_by_event = self._flows
        entity_by_event = self.catalogue.entity_by_event
        effective_days = self.catalogue.effective_days
        row = _row_in(rows, width, None if journal is None else journal.rows)
        noted = None if journal is None else journal.states

        for event, key in keyed:
            day = effective_day(event, effective_days)
            if key is None:
                before = after = None
            else:
                before = states.get(key)
                entity = entity_by_event[event.type]
                after = entity.evolve(before, event, is_urban, day)
                if after != before:
                    # A back-dated change takes effect on the entity's last change at the earliest.
                    stamp = day if before is None or day >= before[1] else before[1]
                    if after[1] != stamp:
                        after = after.__class__(after[0], stamp, *after[2:])
                    if before is not None and before[0] == after[0]:
                        change = changed(entity.name, before, after)
                        if change:
                            target = row(after[0], stamp)
                            for index, value in change:
                                target[index] += value
                    else:
                        if before is not None:
                            target = row(before[0], stamp)
                            for index, value in counted(entity.name, before):
                                target[index] -= value
                        target = row(after[0], stamp)
                        for index, value in counted(entity.name, after):
                            target[index] += value
                    if noted is not None and key not in noted:
                        noted[key] = (before, key in dirty)
                    states[key] = after
                    dirty.add(key)
                    if entity.at_places:
                        moves = place_moves(before, after)
                        if aside is None:
                            _move_places(states, dirty, moves, stamp, row, counted, noted)
                        else:
                            aside.extend((code, stamp, delta) for code, delta in moves)
            flows = flows_by_event.get(event.type)
            if flows:
                where = after[0] if after is not None else event.region_code
                if where:
                    target = row(where, day)
                    for index, delta in flows:
                        target[index] += delta(event, before)

    def _changed(self, entity: str, before: State, after: State) -> Counted:
        """What an entity changing from ``before`` to ``after`` in the same region does to each stock metric
        there, by position (remembered per pair of profiles)."""
        pair = (entity, before[2:], after[2:])
        found = self._changes.get(pair)
        if found is None:
            change = dict(self._counted_in(entity, after))
            for index, value in self._counted_in(entity, before):
                change[index] = change.get(index, 0) - value
            found = tuple((index, value) for index, value in change.items() if value)
            if len(self._changes) > 100_000:
                self._changes.clear()
            self._changes[pair] = found
        return found

    def _counted_in(self, entity: str, state: State) -> Counted:
        """What one ``entity`` in ``state`` adds to each stock metric, by position (remembered per profile)."""
        profile = (entity, state[2:])
        found = self._counted.get(profile)
        if found is None:
            assert self._positions is not None
            found = tuple((self._positions[name], value) for name, value in self.catalogue.contributions(entity, state))
            if len(self._counted) > 100_000:
                self._counted.clear()
            self._counted[profile] = found
        return found

    async def _metric_positions(self, conn: Connection) -> dict[str, int]:
        if self._positions is None:
            self._positions = await metric_positions(conn)
            self._counted.clear()
            self._changes.clear()
            self._flows = {
                event_type: tuple((self._positions[metric.name], metric.events[event_type]) for metric in metrics)
                for event_type, metrics in self.catalogue.flows_by_event.items()
            }
        return self._positions

    async def _urban_regions(self, conn: Connection) -> frozenset[str]:
        if self._urban is None:
            cursor = await conn.execute("SELECT code FROM regions WHERE urban_rural_class LIKE '1%%'")
            self._urban = frozenset(row[0] for row in await cursor.fetchall())
        return self._urban


def _keyed(events: Iterable[EventEnvelope], catalogue: Catalogue) -> list[tuple[EventEnvelope, Key | None]]:
    """The events the projection reads, each with the key of the entity it changes (None: it changes none).

    One comprehension, no call per event: it runs for every event of a rebuild (0.63 against 0.96 us an
    event with a function per key).
    """
    named_by, handled = catalogue.named_by, catalogue.handled
    return [
        (e, None if (named := named_by.get(e.type)) is None else (named[0], str(e.data.get(named[1]) or e.stream_id)))
        for e in events
        if e.type in handled
    ]


def _row_in(
    rows: Rows, width: int, noted: dict[tuple[str, date], list[int] | None] | None = None
) -> Callable[[str, date], list[int]]:
    """The row of ``rows`` for (region, day), added (all zeros) if missing. With ``noted`` (a journal's
    ``rows``), what each row held before it was first touched is noted there: a copy, or None if added."""
    rows_get = rows.get

    def row(region: str, day: date) -> list[int]:
        where = (region, day)
        found = rows_get(where)
        if found is None:
            found = rows[where] = [0] * width
            if noted is not None:
                noted[where] = None
        elif noted is not None and where not in noted:
            noted[where] = found.copy()
        return found

    return row


def _move_places(
    states: dict[Key, Any],
    dirty: set[Key],
    moves: Iterable[tuple[str, int]],
    day: date,
    row: Callable[[str, date], list[int]],
    counted: Callable[[str, Any], Counted],
    noted: dict[Key, tuple[Any, bool]] | None = None,
) -> None:
    """A service point arrived at or left a place on ``day``: re-date the place's figures from its history.

    The place's figures (e.g. whether it has a point) are a step function of its points' arrivals and
    departures; the change is the new step function minus the old, so arrivals reported out of date order
    still give the place a point from the earliest day one was there.
    """
    for code, delta in moves:
        key = (PLACE.name, code)
        if noted is not None and key not in noted:  # a journal's (``_Journal.states``)
            noted[key] = (states.get(key), key in dirty)
        old: PlaceState = states.get(key) or PlaceState(code, day, 0)
        new = old.with_change(day, delta)
        for sign, place in ((-1, old), (1, new)):
            previous: dict[int, int] = {}
            for step in place.on_each_day():
                values = dict(counted(PLACE.name, step))
                target = row(code, step.day)
                for index in previous.keys() | values.keys():
                    target[index] += sign * (values.get(index, 0) - previous.get(index, 0))
                previous = values
        states[key] = new
        dirty.add(key)


async def _load_states(conn: Connection, keys: set[Key], catalogue: Catalogue) -> dict[Key, Any]:
    """The stored states of these entities, in one read.

    The server answers with one JSON array, [index, state, index, state, ...] (index: the key's place in
    the request), which a single ``orjson.loads`` decodes: far cheaper than a row per state.
    """
    if not keys:
        return {}
    ordered = sorted(keys)
    kinds_sql, kinds = _texts([k for k, _ in ordered])
    ids_sql, ids = _texts([i for _, i in ordered])
    cursor = await conn.execute(
        "SELECT '[' || string_agg(k.n || ',' || s.state::text, ',') || ']' FROM entity_states s"
        f" JOIN unnest({kinds_sql}, {ids_sql}) WITH ORDINALITY AS k(kind, entity_id, n) USING (kind, entity_id)",
        (kinds, ids),
    )
    row = await cursor.fetchone()
    if row is None or row[0] is None:
        return {}
    out: dict[Key, Any] = {}
    with gc_paused():
        found = orjson.loads(row[0])
        for at in range(0, len(found), 2):
            key = ordered[found[at] - 1]
            out[key] = catalogue.entity_by_name[key[0]].load(found[at + 1])
    return out


#: Separates the values of a text array sent as one string (``string_to_array(%s, E'\\x1f')``): the ASCII
#: unit separator, which no region code, metric name, entity kind or JSON text contains (JSON escapes it).
_SEP = "\x1f"


def _texts(values: Sequence[str]) -> tuple[str, Any]:
    """A text[] parameter: (SQL, value). One joined string when no value holds the separator, which the
    server splits far faster than psycopg dumps a list element by element; else the list itself."""
    joined = _SEP.join(values)
    if joined.count(_SEP) == max(len(values) - 1, 0):
        return "string_to_array(%s, E'\\x1f')", joined
    return "%b::text[]", list(values)


_STATE_CONFLICT = (
    "ON CONFLICT (kind, entity_id) DO UPDATE SET region_code = excluded.region_code, state = excluded.state"
)


def _in_key_order(keys: Iterable[Key]) -> list[Key]:
    """Entity keys sorted (by kind, then id), as the table's primary key orders them.

    Sorted a kind at a time, by id alone: comparing two strings costs far less than comparing two
    tuples (0.24 s against 0.50 s for 245,000 keys).
    """
    by_kind: dict[str, list[Key]] = {}
    for key in keys:
        found = by_kind.get(key[0])
        if found is None:
            by_kind[key[0]] = [key]
        else:
            found.append(key)
    ordered: list[Key] = []
    for kind in sorted(by_kind):
        ordered += sorted(by_kind[kind], key=itemgetter(1))
    return ordered


def _save_states(keys: Sequence[Key], states: Sequence[Any], *, new: bool = False) -> Statement | None:
    """The upsert of changed states (``states[n]`` the state of ``keys[n]``) in their stored JSON form.

    The states travel as one JSON array (``entities.dump_states``) that the server splits
    (``jsonb_array_elements``). The keys must come in key order (``_in_key_order``), so that concurrent
    workers lock rows in the same order and never deadlock. ``new``: none of the states is in the table
    (a rebuild's first write), so a plain insert does, which measured 40 % faster than the upsert over
    245,000 states.
    """
    if not keys:
        return None
    kinds, ids = zip(*keys, strict=True)
    kinds_sql, kinds_value = _texts(kinds)
    ids_sql, ids_value = _texts(ids)
    return (
        f"""
        INSERT INTO entity_states (kind, entity_id, region_code, state)
        SELECT k, i, r, s
        FROM ROWS FROM (
            unnest({kinds_sql}), unnest({ids_sql}), unnest(string_to_array(%s, ',')), jsonb_array_elements(%s::jsonb)
        ) AS t(k, i, r, s)
        {"" if new else _STATE_CONFLICT}
        """,
        (kinds_value, ids_value, ",".join(map(_region_of, states)), dump_states(states).decode()),
    )


#: A state's region code (the first field of every state).
_region_of = itemgetter(0)


def roll_up(rows: Rows) -> Rows:
    """Every region's row plus the sum of the rows below it, for it and each region above, per day.

    Rows are summed a level at a time (villages into their township, townships into their county ...),
    so each row is added once, not once per ancestor. Rows that sum to nothing are left out.
    """
    levels: list[Rows] = [{} for _ in range(5)]
    for (code, day), deltas in rows.items():
        normal, depth, _ = _where(code)
        level = levels[depth]
        found = level.get((normal, day))
        level[(normal, day)] = deltas if found is None else list(map(add, found, deltas))
    for depth in range(4, 0, -1):
        above = levels[depth - 1]
        for (code, day), deltas in levels[depth].items():
            parent = _where(code)[2]
            assert parent is not None
            found = above.get((parent, day))
            above[(parent, day)] = list(deltas) if found is None else list(map(add, found, deltas))
    return {key: deltas for level in levels for key, deltas in level.items() if any(deltas)}


def by_month(rows: Rows) -> Rows:
    """The rows summed per (region, first day of the month)."""
    months: Rows = {}
    for (code, day), deltas in rows.items():
        key = (code, day.replace(day=1))
        found = months.get(key)
        months[key] = list(deltas) if found is None else list(map(add, found, deltas))
    return months


def history_writes(rows: Rows, positions: dict[str, int]) -> list[Statement]:
    """The upserts adding per (region, day) changes, by metric position, to that region and every region
    above it: history (days), months, and the figures now."""
    days = roll_up(rows)
    if not days:
        return []
    writes = [
        _upsert_dated("region_metric_days", "day", days),
        _upsert_dated("region_metric_months", "month", by_month(days)),
    ]
    totals: dict[str, list[int]] = {}
    for (code, _), deltas in days.items():
        found = totals.get(code)
        totals[code] = list(deltas) if found is None else list(map(add, found, deltas))
    names = {index: name for name, index in positions.items()}
    keys = sorted((code, names[i], value) for code, deltas in totals.items() for i, value in enumerate(deltas) if value)
    if keys:
        writes.append(
            (
                """
                INSERT INTO region_metrics (region_code, metric, value)
                SELECT * FROM unnest(
                    string_to_array(%s, ','), string_to_array(%s, ','), string_to_array(%s, ',')::bigint[]
                )
                ON CONFLICT (region_code, metric) DO UPDATE SET value = region_metrics.value + excluded.value
                """,
                (",".join([k[0] for k in keys]), ",".join([k[1] for k in keys]), ",".join([str(k[2]) for k in keys])),
            )
        )
    return writes


def _literals(rows: Iterable[list[int]]) -> str:
    """Arrays as Postgres literals (``{1,0,-2}``) separated by ``;``, for ``string_to_array(..., ';')``."""
    return ";".join(["{" + ",".join(map(str, deltas)) + "}" for deltas in rows])


def _upsert_dated(table: str, column: str, rows: Rows) -> Statement:
    keys = sorted(rows)
    return (
        f"""
        INSERT INTO {table} (region_code, {column}, deltas)
        SELECT r, d, x::int[]
        FROM unnest(string_to_array(%s, ','), string_to_array(%s, ',')::date[], string_to_array(%s, ';')) AS t(r, d, x)
        ON CONFLICT (region_code, {column}) DO UPDATE SET deltas = add_deltas({table}.deltas, excluded.deltas)
        """,
        (
            ",".join([k[0] for k in keys]),
            ",".join([k[1].isoformat() for k in keys]),
            _literals(rows[k] for k in keys),
        ),
    )
