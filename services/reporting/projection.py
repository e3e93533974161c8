"""The per-region projection: folds events into per-entity states and per-region figures with history.

A batch costs one read and four writes however many events it holds: the states of the entities the batch
touches are read at once, folded in memory (``entities``), the changes of every stock and flow metric are
summed per (region, metric, day) at the village (or wherever the event happened) and then added to every
ancestor, so each level always equals the sum of what lies under it. Writes are set-based upserts of
unnested arrays, in key order so concurrent workers never deadlock:

- ``entity_states``: what reporting remembers of each person, employer, vacancy, service point, place;
- ``region_metric_days``: per (region, day) the change of every metric that day (the history), as one
  array indexed by the metric's ``position`` in ``metric_catalogue``, so a day costs one row, not one
  row per metric;
- ``region_metric_months``: the same summed per month, so a period or a past date reads a few rows;
- ``region_metrics``: per (region, metric) the sum of every change, i.e. the figure now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

import orjson

from contracts.envelope import EventEnvelope
from contracts.regions import ancestor_codes, normalise_region_code
from services.reporting.entities import (
    ENTITY_BY_EVENT,
    ENTITY_BY_NAME,
    PLACE,
    SERVICE_POINT,
    PlaceState,
    State,
    effective_day,
    place_moves,
)
from services.reporting.metrics import FLOWS_BY_EVENT, contributions
from services.reporting.queries import metric_positions
from services.runtime.db import Connection

NAME = "reporting.projection"

#: Every table the projection writes; ``reset`` empties them all.
TABLES = ("region_metrics", "region_metric_days", "region_metric_months", "entity_states")

#: The event types the projection reads; others are skipped before any work.
HANDLED: frozenset[str] = frozenset(ENTITY_BY_EVENT) | frozenset(FLOWS_BY_EVENT)

Key = tuple[str, str]  # (entity kind, entity id)


@lru_cache(maxsize=100_000)
def _ancestors(code: str) -> tuple[str, ...]:
    return tuple(ancestor_codes(code))


class RegionMetricsProjection:
    """The consumer handler behind every reporting figure (consumer group ``reporting.projection``)."""

    name = NAME

    def __init__(self) -> None:
        # Urban communities (urban-rural class 1xx), read once from the region table.
        self._urban: frozenset[str] | None = None
        # Metric name -> index in the history arrays, read once from the catalogue.
        self._positions: dict[str, int] | None = None

    async def reset(self, conn: Connection) -> None:
        """Empty every table the projection owns (figures, history, entity states) for a rebuild.

        The consumer's inbox is the runtime's, not the projection's: a rebuild that replays events the
        inbox already holds must clear the inbox rows of ``NAME`` too.
        """
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        self._urban = None
        self._positions = None

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Fold a batch of new events into the states and every affected region, level and day."""
        relevant = [e for e in events if e.type in HANDLED]
        if not relevant:
            return
        urban = await self._urban_regions(conn)
        states = await _load_states(conn, {key for e in relevant if (key := _key(e)) is not None})
        points = [e for e in relevant if e.type in SERVICE_POINT.events]
        if points:
            # The places a point may leave or reach in this batch, so moving between them needs no read.
            places = {s.region_code for k, s in states.items() if k[0] == SERVICE_POINT.name}
            places |= {e.region_code or str(e.data.get("region_code")) for e in points}
            states.update(await _load_states(conn, {(PLACE.name, normalise_region_code(c)) for c in places}))
        changes: defaultdict[tuple[str, str, date], int] = defaultdict(int)
        dirty: set[Key] = set()

        def move(entity: str, before: State | None, after: State | None, day: date) -> None:
            for metric, value in contributions(entity, before):
                changes[(before.region_code, metric, day)] -= value  # type: ignore[union-attr]
            for metric, value in contributions(entity, after):
                changes[(after.region_code, metric, day)] += value  # type: ignore[union-attr]

        for event in relevant:
            day = effective_day(event)
            key = _key(event)
            before = states.get(key) if key else None
            after = before
            if key is not None:
                entity = ENTITY_BY_EVENT[event.type]
                after = entity.evolve(before, event, urban.__contains__)
                if after != before:
                    # A back-dated change takes effect on the entity's last change at the earliest.
                    stamp = max(day, before.day) if before is not None else day
                    after = replace(after, day=stamp)
                    move(entity.name, before, after, stamp)
                    states[key] = after
                    dirty.add(key)
                    if entity is SERVICE_POINT:
                        _move_places(states, dirty, before, after, stamp, changes)
            flows = FLOWS_BY_EVENT.get(event.type, ())
            if flows:
                where = after.region_code if after is not None else event.region_code
                for metric in flows:
                    value = metric.events[event.type](event, before)
                    if value and where:
                        changes[(where, metric.name, day)] += value
        await _save_states(conn, {key: states[key] for key in dirty})
        await add_changes(conn, changes, await self._metric_positions(conn))

    async def _metric_positions(self, conn: Connection) -> dict[str, int]:
        if self._positions is None:
            self._positions = await metric_positions(conn)
        return self._positions

    async def _urban_regions(self, conn: Connection) -> frozenset[str]:
        if self._urban is None:
            cursor = await conn.execute("SELECT code FROM regions WHERE urban_rural_class LIKE '1%%'")
            self._urban = frozenset(row[0] for row in await cursor.fetchall())
        return self._urban


def _key(event: EventEnvelope) -> Key | None:
    entity = ENTITY_BY_EVENT.get(event.type)
    if entity is None:
        return None
    entity_id = event.data.get(entity.id_field) or event.stream_id
    return (entity.name, str(entity_id))


def _move_places(
    states: dict[Key, Any],
    dirty: set[Key],
    before: Any,
    after: Any,
    day: date,
    changes: defaultdict[tuple[str, str, date], int],
) -> None:
    """A service point arrived at or left a place on ``day``: re-date the place's figures from its history.

    The place's figures (e.g. whether it has a point) are a step function of its points' arrivals and
    departures; the change is the new step function minus the old, so arrivals reported out of date order
    still give the place a point from the earliest day one was there.
    """
    for code, delta in place_moves(before, after):
        key = (PLACE.name, code)
        old: PlaceState = states.get(key) or PlaceState(code, day, 0)
        new = old.with_change(day, delta)
        for sign, place in ((-1, old), (1, new)):
            previous: dict[str, int] = {}
            for step in place.on_each_day():
                values = dict(contributions(PLACE.name, step))
                for metric in previous.keys() | values.keys():
                    if values.get(metric, 0) != previous.get(metric, 0):
                        changes[(code, metric, step.day)] += sign * (values.get(metric, 0) - previous.get(metric, 0))
                previous = values
        states[key] = new
        dirty.add(key)


async def _load_states(conn: Connection, keys: set[Key]) -> dict[Key, Any]:
    """The stored states of these entities, in one read."""
    if not keys:
        return {}
    ordered = sorted(keys)
    cursor = await conn.execute(
        "SELECT s.kind, s.entity_id, s.state::text FROM entity_states s"
        " JOIN unnest(%b::text[], %b::text[]) AS k(kind, entity_id) USING (kind, entity_id)",
        ([k for k, _ in ordered], [i for _, i in ordered]),
    )
    return {
        (kind, entity_id): ENTITY_BY_NAME[kind].load(orjson.loads(raw))
        for kind, entity_id, raw in await cursor.fetchall()
    }


async def _save_states(conn: Connection, states: dict[Key, Any]) -> None:
    if not states:
        return
    keys = sorted(states)
    await conn.execute(
        """
        INSERT INTO entity_states (kind, entity_id, region_code, state)
        SELECT k, i, r, s::jsonb FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[]) AS t(k, i, r, s)
        ON CONFLICT (kind, entity_id) DO UPDATE SET region_code = excluded.region_code, state = excluded.state
        """,
        (
            [k for k, _ in keys],
            [i for _, i in keys],
            [states[k].region_code for k in keys],
            [orjson.dumps(states[k]).decode() for k in keys],
        ),
    )


async def add_changes(conn: Connection, changes: dict[tuple[str, str, date], int], positions: dict[str, int]) -> None:
    """Add per (region, metric, day) changes to that region and every region above it: history, months, now."""
    width = max(positions.values()) + 1
    days: dict[tuple[str, date], list[int]] = {}
    totals: defaultdict[tuple[str, str], int] = defaultdict(int)
    for (code, metric, day), value in changes.items():
        if not value:
            continue
        index = positions[metric]
        for region in _ancestors(code):
            row = days.get((region, day))
            if row is None:
                row = days[(region, day)] = [0] * width
            row[index] += value
            totals[(region, metric)] += value
    days = {k: row for k, row in days.items() if any(row)}
    if not days:
        return
    months: dict[tuple[str, date], list[int]] = {}
    for (region, day), row in days.items():
        month = months.get((region, day.replace(day=1)))
        if month is None:
            months[(region, day.replace(day=1))] = list(row)
        else:
            for i, value in enumerate(row):
                month[i] += value
    await _upsert_dated(conn, "region_metric_days", "day", days)
    await _upsert_dated(conn, "region_metric_months", "month", months)
    keys = sorted(k for k, v in totals.items() if v)
    if keys:
        await conn.execute(
            """
            INSERT INTO region_metrics (region_code, metric, value)
            SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[])
            ON CONFLICT (region_code, metric) DO UPDATE SET value = region_metrics.value + excluded.value
            """,
            ([k[0] for k in keys], [k[1] for k in keys], [totals[k] for k in keys]),
        )


async def _upsert_dated(conn: Connection, table: str, column: str, rows: dict[tuple[str, date], list[int]]) -> None:
    keys = sorted(rows)
    await conn.execute(
        f"""
        INSERT INTO {table} (region_code, {column}, deltas)
        SELECT r, d, x::int[] FROM unnest(%b::text[], %b::date[], %b::text[]) AS t(r, d, x)
        ON CONFLICT (region_code, {column}) DO UPDATE SET deltas = add_deltas({table}.deltas, excluded.deltas)
        """,
        (
            [k[0] for k in keys],
            [k[1] for k in keys],
            ["{" + ",".join(map(str, rows[k])) + "}" for k in keys],
        ),
    )
