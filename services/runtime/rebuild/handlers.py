"""What a handler offers a rebuild: a reset, and optionally folding in memory, in one process or in shards.

docs/adr/0003-rebuild.md says why each exists and what it must promise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from services.runtime.db import Connection
from services.runtime.inbox import Handler


class ResettableHandler(Handler, Protocol):
    """A handler whose whole state can be dropped: a projection."""

    async def reset(self, conn: Connection) -> None:
        """Empty every table the handler owns (inside the caller's transaction)."""
        ...


@runtime_checkable
class BuffersDuringRebuild(Protocol):
    """A handler that can fold a rebuild in memory and write it in a few large steps instead of per batch.

    ``begin_rebuild`` comes right after ``reset``; ``finish_rebuild`` writes what is still held, before the
    workers may go on. A rebuild that fails in between has written only part: it must be run again.
    """

    def begin_rebuild(self) -> None:
        """From now on, fold in memory and write in large steps."""
        ...

    async def finish_rebuild(self, conn: Connection) -> None:
        """Write what is held and go back to writing every batch."""
        ...


@runtime_checkable
class RebuildsInShards(ResettableHandler, BuffersDuringRebuild, Protocol):
    """A buffering handler whose rebuild can be split across processes, each folding a share of the partitions.

    It can when all the events of an entity share one message key (so a partition folds on its own) and
    what one shard writes adds to what the others write (sums; upserts of states no other shard holds).
    What a shard cannot fold alone (a state that events of several keys change) it hands back from
    ``finish_shard``; once every shard has written, the rebuilding process gives all of it to
    ``merge_shards``. Each shard process makes its own handler, so the class must take no arguments.
    """

    def begin_shard(self) -> None:
        """Like ``begin_rebuild``, for one shard of several: leave what needs other shards' events aside."""
        ...

    async def finish_shard(self, conn: Connection) -> Any:
        """Write what the shard holds; return (picklable) what it left aside for ``merge_shards``."""
        ...

    async def merge_shards(self, conn: Connection, leftovers: Sequence[Any]) -> None:
        """Fold and write what every shard left aside (inside the caller's transaction)."""
        ...
