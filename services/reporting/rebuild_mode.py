"""What the projection holds in memory during a rebuild, and how and when it writes it.

Between ``begin_rebuild`` and ``finish_rebuild`` the projection folds every batch straight into this
memory and writes every ``REBUILD_FLUSH_EVERY`` events instead of every batch; a batch that fails is taken
back out through its ``Journal`` (``RegionMetricsProjection.begin_rebuild`` says what that promises, and
docs/adr/0003-rebuild.md why).
"""

from __future__ import annotations

from typing import Any

from services.reporting.entity_states import Key, in_key_order, save_states
from services.reporting.folding import Journal, PlaceMove
from services.reporting.history import Rows, history_writes
from services.runtime.db import Connection
from services.runtime.gctuning import gc_paused

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


class RebuildMemory:
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

    def undo(self, journal: Journal) -> None:
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

    async def before_batch(self, conn: Connection, positions: dict[str, int]) -> None:
        """Before a batch in rebuild mode: make sure the last write committed, and write if it is time.

        Writing before folding the batch, not after, means a write that fails leaves the memory as it
        was, with none of this batch in it, so the consumer may retry the batch.
        """
        if self.written_in is not None:
            # The last write cleared the memory before its transaction committed: check that it did.
            cursor = await conn.execute(
                "SELECT txid_status(%s) = 'committed' OR %s = txid_current_if_assigned()",
                (self.written_in, self.written_in),
            )
            row = await cursor.fetchone()
            self.failed = self.failed or not (row and row[0])
            self.written_in = None
        if self.failed:
            raise RuntimeError("a write of this rebuild was rolled back after it left memory: reset and rebuild")
        if self.pending >= REBUILD_FLUSH_EVERY:
            await self.write(conn, positions)

    async def write(self, conn: Connection, positions: dict[str, int]) -> None:
        """Write the changed states and history held so far; forget states if they grow too many."""
        # Sorted once here (each chunk is then in order): Postgres inserts keys in index order a third
        # faster than in hash order (1.0 s against 1.6 to 2.0 s for 245,000 states).
        dirty = in_key_order(self.dirty)
        held = self.states
        async with conn.pipeline():
            for at in range(0, len(dirty), _CHUNK):
                with gc_paused():
                    chunk = dirty[at : at + _CHUNK]
                    saved = save_states(chunk, [held[key] for key in chunk], new=not self.wrote_states)
                if saved is not None:
                    await conn.execute(*saved)
            with gc_paused():
                writes = history_writes(self.rows, positions)
            for statement in writes:
                await conn.execute(*statement)
        cursor = await conn.execute("SELECT txid_current()")
        row = await cursor.fetchone()
        assert row is not None
        self.flushed(int(row[0]))
        self.wrote_states = self.wrote_states or bool(dirty)
