"""The per-region projection: folds events into ``region_metrics`` at all five levels at once.

A batch's changes are summed in memory per (region, metric) and written with one set-based upsert, so
the cost is per batch, not per event; each event moves its own region and every ancestor by the same
amount, which keeps every level equal to the sum of its children.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from contracts.envelope import EventEnvelope
from contracts.regions import ancestor_codes
from services.reporting.metrics import METRICS_BY_EVENT
from services.runtime.db import Connection

NAME = "reporting.projection"


class RegionMetricsProjection:
    """The consumer handler behind every reporting figure."""

    name = NAME

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Add the batch's changes to every affected region and level."""
        deltas: dict[tuple[str, str], int] = defaultdict(int)
        for event in events:
            metrics = METRICS_BY_EVENT.get(event.type)
            if not metrics or not event.region_code:
                continue
            regions = ancestor_codes(event.region_code)
            for metric in metrics:
                change = metric.changes[event.type](event)
                if change:
                    for code in regions:
                        deltas[(code, metric.name)] += change
        await add_deltas(conn, deltas)

    async def reset(self, conn: Connection) -> None:
        """Empty every table the projection owns, for a rebuild (inside the caller's transaction)."""
        await conn.execute("TRUNCATE region_metrics")


async def add_deltas(conn: Connection, deltas: dict[tuple[str, str], int]) -> None:
    """One upsert for all changes, in key order so concurrent workers never deadlock."""
    if not deltas:
        return
    keys = sorted(deltas)
    await conn.execute(
        """
        INSERT INTO region_metrics (region_code, metric, value)
        SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[])
        ON CONFLICT (region_code, metric) DO UPDATE SET value = region_metrics.value + excluded.value
        """,
        ([k[0] for k in keys], [k[1] for k in keys], [deltas[k] for k in keys]),
    )
