"""Every stream's time limits, kept one way: the ``deadlines`` rows after each change, and their recomputation.

Each aggregate's domain module lists the limits a stream is running (``running_limits``: the due day, whether
it is provisional, how it is computed) and records a moved one (``decide_recompute``). :class:`KeptLimits`
writes that list into ``deadlines`` after every command and, once the official calendar knows a year it did
not (the State Council's holiday notice, a new ``chinesecalendar`` or override file), computes the
provisional limits of that year again through ``Aggregate.change``: the same code for complaints, cases,
grid inspections, disputes and petitions (issue 14; docs/design.md, "Supervision").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from contracts.envelope import Event
from services.runtime.aggregate import Aggregate, Changed, Decide, StreamState
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.workdays import WorkdayCalendar
from services.supervision import queries
from services.supervision.commands.context import Context
from services.supervision.domain.limits import Limits, RunningLimit

S = TypeVar("S", bound=StreamState)

#: Writes a stream's row of its list (``cases``, ``complaints``) from its state.
SaveRow = Callable[[Connection, S], Awaitable[None]]


@dataclass(frozen=True)
class KeptLimits(Generic[S]):
    """The limits of one kind of stream, listed and recomputed from its domain's ``running_limits``."""

    context: Context
    aggregate: Aggregate[S]
    running: Callable[[S, Limits], list[RunningLimit]]
    decide_recompute: Callable[[S, WorkdayCalendar, Limits], Sequence[Event]]
    #: The stream's list row, rewritten after each change with the limits; None: the stream has no list.
    save_row: SaveRow[S] | None = None

    @property
    def stream_type(self) -> str:
        """The kind of stream whose limits these are."""
        return self.aggregate.stream_type

    async def save(self, conn: Connection, stream_id: str, state: S) -> None:
        """The stream's rows in ``deadlines`` become exactly its running limits."""
        running = self.running(state, self.context.limits)
        rows = [(limit.name, limit.due, limit.provisional) for limit in running]
        await queries.set_deadlines(conn, self.stream_type, stream_id, state.region_code, rows)

    async def saved(self, conn: Connection, changed: Changed[S], metadata: Metadata) -> None:
        """The stream's rows after a change: its limits in ``deadlines``, and its list row."""
        await self.save(conn, changed.stream_id, changed.after)
        if self.save_row is not None:
            await self.save_row(conn, changed.after)

    async def change(
        self,
        conn: Connection,
        stream_id: str,
        decide: Decide[S],
        metadata: Metadata,
        *,
        expected_version: int | None = None,
        principal: Principal | None = None,
    ) -> Changed[S]:
        """``Aggregate.change``, then the stream's rows (:meth:`saved`), in the caller's transaction."""
        changed = await self.aggregate.change(
            conn, stream_id, decide, metadata, expected_version=expected_version, principal=principal
        )
        await self.saved(conn, changed, metadata)
        return changed

    async def recompute(self, conn: Connection, stream_id: str, metadata: Metadata) -> int:
        """The stream's provisional limits computed again on the calendar as it now is; events recorded."""
        ctx = self.context
        decide: Decide[S] = lambda s: self.decide_recompute(s, ctx.calendar, ctx.limits)  # noqa: E731
        return len((await self.change(conn, stream_id, decide, metadata)).events)
