"""The employer rating's commands: update the facts, record a grade change (人社部规〔2016〕1号).

Called inside the transaction of the case step or arrears event that changed the facts, so the facts, the
grade and the ``EmployerRatingChanged`` event commit with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

from contracts.envelope import Event
from services.runtime.aggregate import Aggregate
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.supervision import queries
from services.supervision.commands.context import Context
from services.supervision.domain.rating import ComplianceFacts, RatingState, decide_rate, evolve_rating, grade_of

_RATING_STREAMS = uuid.UUID("0e9c0c1a-2b7d-4f3e-8a51-7d6c2e9b4a10")


def rating_stream_id(employer_id: str) -> str:
    """The rating stream of an employer (stream ids are unique across stream types)."""
    return str(uuid.uuid5(_RATING_STREAMS, employer_id))


class RatingCommands:
    """Keeps each employer's facts and grade."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.ratings: Aggregate[RatingState] = Aggregate(
            context.store, "employer_rating", evolve_rating, name="employer rating", id_field="employer_id"
        )

    async def rating(self, conn: Connection, employer_id: str) -> RatingState | None:
        """The employer's recorded rating; None when it was never rated (A)."""
        return await self.ratings.load(conn, rating_stream_id(employer_id))

    async def update(
        self,
        conn: Connection,
        employer_id: str,
        region_code: str,
        change: Callable[[ComplianceFacts], ComplianceFacts],
        metadata: Metadata,
    ) -> list[Event]:
        """Apply ``change`` to the employer's facts; record the grade they give when it differs."""
        facts, _ = await queries.load_facts(conn, employer_id, region_code)
        after = change(replace(facts, region_code=region_code))
        today = self.context.today()
        stream_id = rating_stream_id(employer_id)
        previous = await self.ratings.load(conn, stream_id)
        events: list[Event] = list(decide_rate(previous, after, today))
        grade, reasons = grade_of(after)
        await queries.save_facts(conn, after, grade, reasons, today)
        if events:
            await self.ratings.record(conn, stream_id, previous, events, metadata)
        return events
