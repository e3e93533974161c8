"""The staff-performance read model: the roster and every event's credit to a staff member.

Its own consumer (``staff_performance``) over every topic reporting folds, in its own schema
(``reporting_staff``) so that its inbox, dead letters and progress never share a table with the region
projection: each rebuilds alone, and each takes the fast path of an inbox it owns alone
(docs/adr/0003-rebuild.md). Credits are rows, one per event and kind: the evaluation sums them for any
month and lists the events behind every score.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts import registration as reg
from contracts.envelope import EventEnvelope
from services.reporting.entities import parse_day
from services.reporting.staff.credit import Credit, credits_of
from services.runtime.db import Connection
from services.runtime.inbox import copy_escaped

NAME = "staff_performance"
#: The schema of the model's tables and of its consumer's inbox.
SCHEMA = "reporting_staff"

#: The tables, schema-qualified so that the reporting API (whose search path is ``reporting``) reads them.
DDL = [
    f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"',
    f"""
    CREATE TABLE IF NOT EXISTS {SCHEMA}.staff_roster (
        staff_id         text PRIMARY KEY,
        subject          text NOT NULL,
        role             text NOT NULL,
        service_point_id text NOT NULL,
        region_code      text NOT NULL,
        started_on       date NOT NULL,
        ended_on         date
    )
    """,
    f"CREATE INDEX IF NOT EXISTS staff_roster_region ON {SCHEMA}.staff_roster (region_code text_pattern_ops)",
    f"""
    CREATE TABLE IF NOT EXISTS {SCHEMA}.staff_credits (
        event_id    uuid    NOT NULL,
        kind        text    NOT NULL,
        staff       text    NOT NULL,
        day         date    NOT NULL,
        points      integer NOT NULL,
        event_type  text    NOT NULL,
        region_code text,
        PRIMARY KEY (event_id, kind)
    )
    """,
    f"CREATE INDEX IF NOT EXISTS staff_credits_staff_day ON {SCHEMA}.staff_credits (staff, day)",
]

_INSERT_CREDITS = f"""
    INSERT INTO {SCHEMA}.staff_credits (event_id, kind, staff, day, points, event_type, region_code)
    SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::date[], %s::int[], %s::text[], %s::text[])
    ON CONFLICT DO NOTHING
"""


_COPY_CREDITS = f"COPY {SCHEMA}.staff_credits (event_id, kind, staff, day, points, event_type, region_code) FROM STDIN"


class StaffPerformanceProjection:
    """Folds the roster from registration's staff events and credits every other event to its staff.

    In a rebuild (``begin_rebuild`` .. ``finish_rebuild``) a batch's credits go in with one COPY instead of
    an upsert of unnested arrays: the tables start empty and the rebuild's consumer tells redelivered events
    from memory, so no credit can already be there. Being a handler that ``BuffersDuringRebuild`` also lets
    the consumer add each batch's ids to the inbox with COPY. Over a county's history the upsert's array
    dumping was a third of the fold's time (``python -m bench rebuild``). It rebuilds in shards too.
    """

    name = NAME

    def __init__(self) -> None:
        #: Between ``begin_rebuild`` and ``finish_rebuild``: credits are copied, not upserted.
        self._rebuilding = False
        #: Staff subjects and regions as COPY text fields: a county has a few hundred of each.
        self._escaped: dict[str | None, str] = {None: "\\N"}

    def begin_rebuild(self) -> None:
        """From now on (right after ``reset``), write each batch's credits with COPY."""
        self._rebuilding = True

    async def finish_rebuild(self, conn: Connection) -> None:
        """Go back to upserting credits: each batch already wrote its own, so nothing is held."""
        self._rebuilding = False

    # A rebuild in shards (``RebuildsInShards``): a credit is the event's own, and a staff member's
    # appointment and leaving share the member's stream (one message key, one partition, one shard), so a
    # shard folds its partitions alone and leaves nothing for the others.
    def begin_shard(self) -> None:
        """Like ``begin_rebuild``: credits go in with COPY."""
        self.begin_rebuild()

    async def finish_shard(self, conn: Connection) -> None:
        """Nothing is held and nothing left aside."""
        await self.finish_rebuild(conn)

    async def merge_shards(self, conn: Connection, leftovers: Sequence[object]) -> None:
        """Nothing to merge: no state spans the shards."""

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """The batch's roster changes in order, then all its credits in one statement."""
        credits = []
        for event in events:
            if event.type == reg.StaffAppointed.event_type:
                d = event.data
                await conn.execute(
                    f"INSERT INTO {SCHEMA}.staff_roster (staff_id, subject, role, service_point_id, region_code,"
                    " started_on) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (staff_id) DO NOTHING",
                    (
                        d["staff_id"],
                        d["subject"],
                        d["role"],
                        d["service_point_id"],
                        d["region_code"],
                        parse_day(d["started_on"]),
                    ),
                )
            elif event.type == reg.StaffLeft.event_type:
                await conn.execute(
                    f"UPDATE {SCHEMA}.staff_roster SET ended_on = %s WHERE staff_id = %s",
                    (parse_day(event.data["ended_on"]), event.data["staff_id"]),
                )
            else:
                credits.extend(credits_of(event))
        if credits and self._rebuilding:
            await self._copy(conn, credits)
        elif credits:
            await conn.execute(
                _INSERT_CREDITS,
                (
                    [c.event_id for c in credits],
                    [c.kind for c in credits],
                    [c.staff for c in credits],
                    [c.day for c in credits],
                    [c.points for c in credits],
                    [c.event_type for c in credits],
                    [c.region_code for c in credits],
                ),
            )

    async def reset(self, conn: Connection) -> None:
        """Empty the model (``renshe reporting rebuild``)."""
        await conn.execute(f"TRUNCATE {SCHEMA}.staff_roster, {SCHEMA}.staff_credits")

    async def _copy(self, conn: Connection, credits: Sequence[Credit]) -> None:
        escaped = self._escaped

        def field(text: str | None) -> str:
            found = escaped.get(text)
            if found is None:
                found = escaped[text] = copy_escaped(str(text))
            return found

        lines = [
            f"{c.event_id}\t{c.kind}\t{field(c.staff)}\t{c.day}\t{c.points}\t{c.event_type}\t{field(c.region_code)}\n"
            for c in credits
        ]
        async with conn.cursor().copy(_COPY_CREDITS) as copy:
            await copy.write("".join(lines))
