"""The projection's history: per (region, day) changes of every metric, summed up the region tree and written.

A batch's changes arrive as rows of deltas indexed by the metric's ``position`` in ``metric_catalogue``,
one per (region, day) where the events happened. They are summed up the region tree level by level (a
township's row is the sum of its villages' rows and its own), so each level always equals the sum of what
lies under it, and written as set-based upserts of unnested arrays, in key order so concurrent workers
never deadlock:

- ``region_metric_days``: per (region, day) the change of every metric that day, as one array indexed by
  metric position, so a day costs one row, not one row per metric;
- ``region_metric_months``: the same summed per month, so a period or a past date reads a few rows;
- ``region_metrics``: per (region, metric) the sum of every change, i.e. the figure now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from operator import add
from typing import Any

import orjson

from contracts.regions import normalise_region_code, parent_code, region_level
from services.runtime.db import Connection

#: Per (region, day), the change of every metric, indexed by metric position.
Rows = dict[tuple[str, date], list[int]]
#: A statement and its parameters.
Statement = tuple[str, tuple[Any, ...]]


async def execute(conn: Connection, writes: Iterable[Statement | None]) -> None:
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


def roll_up(rows: Rows) -> Rows:
    """Every region's row plus the sum of the rows below it, for it and each region above, per day.

    Rows are summed a level at a time (villages into their township, townships into their county ...),
    so each row is added once, not once per ancestor. A township of a city without counties goes straight
    into its city (contracts/regions.py, ``CITIES_WITHOUT_COUNTIES``). Rows that sum to nothing are left out.
    """
    levels: list[Rows] = [{} for _ in range(5)]
    for (code, day), deltas in rows.items():
        normal, depth, _ = _where(code)
        level = levels[depth]
        found = level.get((normal, day))
        level[(normal, day)] = deltas if found is None else list(map(add, found, deltas))
    for depth in range(4, 0, -1):
        for (code, day), deltas in levels[depth].items():
            parent = _where(code)[2]
            assert parent is not None
            # The parent's own level: one up, or two for a township directly under its city.
            above = levels[_where(parent)[1]]
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
    """Arrays as Postgres literals (``{1,0,-2}``) separated by ``;``, for ``string_to_array(..., ';')``.

    Made from one ``orjson.dumps`` of them all (``[[1,0,-2],[3]]``, flat lists of ints, so the only
    brackets are the rows'): a fifth of the time of joining each row's numbers in Python, which was a third
    of a rebuild's final write (20,000 rows of 120 metrics: 0.16 against 0.83 s).
    """
    listed = list(rows)
    if not listed:
        return ""
    return "{" + orjson.dumps(listed).decode()[2:-2].replace("],[", "};{") + "}"


def _upsert_dated(table: str, column: str, rows: Rows) -> Statement:
    keys = sorted(rows)
    return (
        f"""
        INSERT INTO {table} (region_code, {column}, deltas)
        SELECT r, d, x::bigint[]
        FROM unnest(string_to_array(%s, ','), string_to_array(%s, ',')::date[], string_to_array(%s, ';')) AS t(r, d, x)
        ON CONFLICT (region_code, {column}) DO UPDATE SET deltas = add_deltas({table}.deltas, excluded.deltas)
        """,
        (
            ",".join([k[0] for k in keys]),
            ",".join([k[1].isoformat() for k in keys]),
            _literals(rows[k] for k in keys),
        ),
    )
