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

This module is the consumer handler; the fold is in ``folding``, the history's arithmetic and writes in
``history``, the states' reads and writes in ``entity_states``, and what a rebuild holds in memory between
writes in ``rebuild_mode``. Speed matters throughout: a rebuild replays millions of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts.envelope import EventEnvelope
from contracts.regions import normalise_region_code
from services.reporting import sources
from services.reporting.catalogue import Catalogue
from services.reporting.entities import PLACE, IsUrban
from services.reporting.entity_states import Key, in_key_order, load_states, save_states
from services.reporting.folding import Folder, Journal, PlaceMove, fold_keys, move_places, row_in
from services.reporting.history import Rows, execute, history_writes
from services.reporting.queries import metric_positions
from services.reporting.rebuild_mode import RebuildMemory
from services.runtime.db import Connection
from services.runtime.gctuning import gc_paused

NAME = "reporting.projection"

#: Every table the projection writes; ``reset`` empties them all.
TABLES = ("region_metrics", "region_metric_days", "region_metric_months", "entity_states")


class RegionMetricsProjection:
    """The consumer handler behind every reporting figure (consumer group ``reporting.projection``)."""

    name = NAME

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        #: What it folds: every listed source's (``services.reporting.sources``) unless told otherwise.
        self.catalogue = catalogue or sources.CATALOGUE
        # Urban communities (urban-rural class 1xx), read once from the region table.
        self._urban: frozenset[str] | None = None
        # The fold for the metric positions read from the catalogue table, made once they are read.
        self._folder: Folder | None = None
        # Between ``begin_rebuild`` and ``finish_rebuild``: what the rebuild holds in memory.
        self._rebuild: RebuildMemory | None = None

    async def reset(self, conn: Connection) -> None:
        """Empty every table the projection owns (figures, history, entity states) for a rebuild.

        The consumer's inbox is the runtime's, not the projection's: a rebuild that replays events the
        inbox already holds must clear the inbox rows of ``NAME`` too.
        """
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        if self._rebuild is not None:
            self._rebuild = RebuildMemory(sharded=self._rebuild.sharded)
        self._urban = None
        self._folder = None

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
        self._rebuild = RebuildMemory()

    async def finish_rebuild(self, conn: Connection) -> None:
        """Write what the rebuild still holds in memory, and go back to writing every batch."""
        if self._rebuild is not None:
            positions = (await self._folder_for(conn)).positions
            await self._rebuild.before_batch(conn, positions)
            await self._rebuild.write(conn, positions)
            self._rebuild = None

    def begin_shard(self) -> None:
        """Like ``begin_rebuild``, for a rebuild split by partition across processes.

        Every state but a place's is changed by the events of one message key (its own stream), so a
        shard folds its partitions alone, and the figures it writes add to the other shards'. A place
        (township or village) counts the service points of several streams, so its moves are set aside
        for ``merge_shards``.
        """
        self._rebuild = RebuildMemory(sharded=True)

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
        folder = await self._folder_for(conn)
        states = await load_states(conn, {(PLACE.name, code) for code, _, _ in moves}, self.catalogue)
        rows: Rows = {}
        dirty: set[Key] = set()
        row = row_in(rows, folder.width)
        for code, day, delta in moves:
            move_places(states, dirty, [(code, delta)], day, row, folder.counted_in)
        ordered = in_key_order(dirty)
        saved = save_states(ordered, [states[key] for key in ordered])
        await execute(conn, [saved, *history_writes(rows, folder.positions)])

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Fold a batch of new events into the states and every affected region, level and day."""
        with gc_paused():
            keyed = fold_keys(events, self.catalogue)
        if not keyed:
            return
        folder = await self._folder_for(conn)
        is_urban = (await self._urban_regions(conn)).__contains__
        if self._rebuild is not None:
            await self._fold_in_memory(conn, folder, keyed, is_urban)
            return
        states: dict[Key, Any] = {}
        await self._read_states(conn, keyed, states, self.catalogue)
        rows: Rows = {}
        dirty: set[Key] = set()
        with gc_paused():
            folder.fold(keyed, states, rows, dirty, is_urban)
            ordered = in_key_order(dirty)
            saved = save_states(ordered, [states[key] for key in ordered])
        # One round trip; the server upserts the states while the rows are summed up the region tree.
        async with conn.pipeline():
            if saved is not None:
                await conn.execute(*saved)
            with gc_paused():
                writes = history_writes(rows, folder.positions)
            for write in writes:
                await conn.execute(*write)

    async def _fold_in_memory(
        self,
        conn: Connection,
        folder: Folder,
        keyed: Sequence[tuple[EventEnvelope, Key | None]],
        is_urban: IsUrban,
    ) -> None:
        """In a rebuild: fold the batch straight into the rebuild's memory, noting what it changes, and take
        it all back out if an event fails (the consumer then retries the events one by one)."""
        rebuild = self._rebuild
        assert rebuild is not None
        await rebuild.before_batch(conn, folder.positions)
        if not rebuild.complete:
            # States forgotten after a write come back from the table, as a live batch reads them.
            await self._read_states(conn, keyed, rebuild.states, self.catalogue)
        journal = Journal(len(rebuild.aside))
        try:
            with gc_paused():
                aside = rebuild.aside if rebuild.sharded else None
                folder.fold(keyed, rebuild.states, rebuild.rows, rebuild.dirty, is_urban, aside, journal)
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
        states.update(await load_states(conn, keys - states.keys(), catalogue))
        points = [e for e, _ in keyed if e.type in catalogue.place_events]
        if points:
            entity_by_event = catalogue.entity_by_event
            kinds = {entity_by_event[e.type].name for e in points}
            places = {states[k][0] for k in keys if k[0] in kinds and k in states}
            places |= {e.region_code or str(e.data.get("region_code")) for e in points}
            wanted = {(PLACE.name, normalise_region_code(code)) for code in places}
            states.update(await load_states(conn, wanted - states.keys(), catalogue))

    async def _folder_for(self, conn: Connection) -> Folder:
        """The fold, made once the metric positions are read (once after each reset)."""
        if self._folder is None:
            self._folder = Folder(self.catalogue, await metric_positions(conn))
        return self._folder

    async def _urban_regions(self, conn: Connection) -> frozenset[str]:
        if self._urban is None:
            cursor = await conn.execute("SELECT code FROM regions WHERE urban_rural_class LIKE '1%%'")
            self._urban = frozenset(row[0] for row in await cursor.fetchall())
        return self._urban
