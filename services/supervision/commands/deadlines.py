"""The worker's scheduled deadline check: every passed limit is flagged once, however often it runs.

It reads the passed, unchecked limits from ``deadlines`` (one index range), and for each stream runs the
aggregate's own rule in its own transaction: a complaint undecided after 5 working days
(``ComplaintDecisionOverdue``), a case past its investigation or rectification limit
(``CaseDeadlineBreached``), a mediation without agreement after 15 days (``DisputeReferredToArbitration``).
The rules look at the stream's state, so a second run, a second worker or a crash between the event and the
mark records nothing twice; a stream changed meanwhile (409) is simply checked on the next round.
Petitions, grid follow-ups and arbitration limits are shown overdue in the lists; no rule records an event
for them. The same pass recomputes every provisional limit of every kind of stream once the official
calendar knows its year (``KeptLimits.recompute``: ``CaseDeadlineRecomputed``, ``ComplaintDeadlineRecomputed``,
``GridFollowUpRecomputed``, ``DisputeDeadlineRecomputed``, ``PetitionDeadlineRecomputed``): a restart with the
new ``chinesecalendar`` or override file is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.runtime.errors import Conflict
from services.runtime.eventstore import Metadata
from services.supervision import queries
from services.supervision.commands.case import CaseCommands
from services.supervision.commands.complaint import ComplaintCommands
from services.supervision.commands.dispute import DisputeCommands
from services.supervision.commands.limits import KeptLimits

log = logging.getLogger(__name__)

ACTOR = "supervision:deadline-check"


class DeadlineCheck:
    """Flags passed limits; ``run`` repeats it every ``interval`` seconds."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        complaints: ComplaintCommands,
        cases: CaseCommands,
        disputes: DisputeCommands,
        *,
        kept: Sequence[KeptLimits[Any]],
        interval: float = 60.0,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.pool = pool
        self.complaints = complaints
        self.cases = cases
        self.disputes = disputes
        #: Every kind of stream's limits, by stream type, for the recompute.
        self.kept = {k.stream_type: k for k in kept}
        self.interval = interval
        self.today = today
        #: Events recorded by this instance's checks.
        self.flagged_total = 0

    async def run_once(self, today: date | None = None) -> int:
        """One pass over every passed, unchecked limit; returns the events it recorded."""
        day = today or self.today()
        recorded = 0
        seen: set[tuple[str, str]] = set()
        while True:
            async with self.pool.connection() as conn:
                # A stream that conflicted stays unchecked: it waits for the next round, not this loop.
                due = [d for d in await queries.passed_deadlines(conn, day) if d not in seen]
            if not due:
                break
            for stream_type, stream_id in due:
                seen.add((stream_type, stream_id))
                recorded += await self._check(stream_type, stream_id, day)
        recorded += await self._recompute()
        self.flagged_total += recorded
        return recorded

    async def _recompute(self) -> int:
        """Streams whose provisional limits fall in a year the official calendar now knows are computed again."""
        years = sorted(self.cases.context.calendar.official_years)
        async with self.pool.connection() as conn:
            streams = await queries.provisional_deadlines(conn, years)
        recorded = 0
        metadata = Metadata(actor=ACTOR, correlation_id="calendar-recompute")
        for stream_type, stream_id in streams:
            kept = self.kept.get(stream_type)
            if kept is None:
                log.warning("no limits kept for %s streams; %s is not recomputed", stream_type, stream_id)
                continue
            try:
                async with self.pool.connection() as conn, conn.transaction():
                    recorded += await kept.recompute(conn, stream_id, metadata)
            except Conflict:
                log.info("%s %s changed during the recompute; computed again next round", stream_type, stream_id)
        return recorded

    async def _check(self, stream_type: str, stream_id: str, day: date) -> int:
        metadata = Metadata(actor=ACTOR, correlation_id=f"deadline-check:{day}")
        try:
            async with self.pool.connection() as conn, conn.transaction():
                if stream_type == "complaint":
                    count = await self.complaints.flag_overdue(conn, stream_id, day, metadata)
                elif stream_type == "case":
                    count = await self.cases.flag_breaches(conn, stream_id, day, metadata)
                elif stream_type == "dispute":
                    count = await self.disputes.lapse(conn, stream_id, day, metadata)
                else:
                    count = 0
                await queries.mark_checked(conn, stream_id, day)
                return count
        except Conflict:
            log.info("%s %s changed during the deadline check; checked again next round", stream_type, stream_id)
            return 0

    async def run(self, stop: asyncio.Event) -> None:
        """Check now and then every ``interval`` seconds until ``stop``."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a database outage must not end the worker; the next round retries
                log.exception("deadline check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
