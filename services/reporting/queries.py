"""The queries behind reporting's API and exports: figures for any regions and windows, read from the models.

The tables and the views analysts read are in ``services.reporting.schema``.

A figure for a window (``periods.Window``) is read, for any number of regions at once, with at most four
indexed reads sent together in one round trip: the figures now (``region_metrics``), the monthly changes
since the window began (``region_metric_months``), when the window ends inside a month the daily changes
of that month on the shorter side of its last day (``region_metric_days``; the month's row less them gives
the other side), and, for metrics counted over the division table, that table. Then

- stock at the end of day D = now - changes after D;
- flow over [F, D] = changes from F to D;
- ratio = scale x numerator / denominator of the same region and window.

The change arrays are summed a whole array at a time (running sums per region), never per metric in
Python: the county's drill-down spent 14 ms doing that per (row, metric) at 10,000,000 events.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import add, sub
from typing import Any

from contracts.regions import region_level
from services.reporting import sources
from services.reporting.metrics import Metric, ratio_of
from services.reporting.periods import Window
from services.runtime.db import Connection

Value = int | float | None

#: Region codes sent as one comma-separated string.
_CODES = "string_to_array(%s, ',')::char(12)[]"
Figures = dict[str, Value]

#: Positions per database and schema. A position is assigned once (at migration) and never changes, so
#: reading the catalogue once per process spares every stats and children request a round trip.
_POSITIONS: dict[tuple[str, int, str, str], dict[str, int]] = {}


async def metric_positions(conn: Connection) -> dict[str, int]:
    """Metric name -> its 0-based index in the history arrays (``metric_catalogue.position`` - 1)."""
    info = conn.info
    key = (info.host, info.port, info.dbname, info.options)
    positions = _POSITIONS.get(key)
    if positions is None or not positions.keys() >= sources.CATALOGUE.metrics_by_name.keys():
        cursor = await conn.execute("SELECT name, position FROM metric_catalogue")
        positions = {name: int(position) - 1 for name, position in await cursor.fetchall()}
        _POSITIONS[key] = positions
    return positions


def _month(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _needed(metrics: Iterable[Metric]) -> list[Metric]:
    """The metrics asked for and every metric their ratios are computed from."""
    out: dict[str, Metric] = {}
    for metric in metrics:
        for name in (*metric.numerator, *metric.denominator):
            out.setdefault(name, sources.CATALOGUE.metrics_by_name[name])
        out.setdefault(metric.name, metric)
    return list(out.values())


@dataclass(frozen=True)
class _Spans:
    """The dates one window's changes are summed over, worked out once per window, not per region."""

    #: Months after this one are later than ``as_of``.
    end_month: date
    #: Months whose changes fall within the window whole (first, last; empty when last < first).
    months_within: tuple[date, date]
    #: Whether ``as_of`` ends inside its month; then that month splits into a head (to as_of, within)
    #: and a tail (after it, later), and only one side is read from the days.
    split: bool
    #: The days read (first, last), and whether they are the tail (else the days up to as_of).
    days: tuple[date, date]
    tail_read: bool
    #: The days of the head that are within (from flows_from when flows start inside the month).
    head: tuple[date, date]


def _spans(w: Window) -> _Spans:
    """Which dates a window needs. The month's row is the sum of its days (the projection writes both
    from the same changes), so either side of as_of is the month less the other: reading the shorter
    side reads at most 15 days per region, not 30. The head is read when flows start inside the month."""
    end_month = _month(w.as_of)
    month_end = _month_end(w.as_of)
    split = w.as_of != month_end
    last_whole = end_month - timedelta(days=1) if split else end_month
    tail_read = w.flows_from <= end_month and (month_end - w.as_of).days < w.as_of.day
    days = (w.as_of + timedelta(days=1), month_end) if tail_read else (end_month, w.as_of)
    head = (max(w.flows_from, end_month), w.as_of)
    return _Spans(end_month, (w.flows_from, last_whole), split, days, tail_read, head)


class _Running:
    """Dated change arrays of one region in date order, with running sums: the sum over any range of
    dates costs two bisections and one subtraction of arrays, however many rows and windows there are."""

    __slots__ = ("dates", "size", "sums")

    def __init__(self, rows: list[tuple[date, list[int]]], size: int) -> None:
        rows.sort(key=lambda row: row[0])
        self.size = size
        self.dates = [at for at, _ in rows]
        total = [0] * size
        self.sums = [total]
        for _, deltas in rows:
            # One C-level pass per row instead of a Python step per (row, metric).
            if len(deltas) == size:
                total = list(map(add, total, deltas))
            else:  # written before a metric was added (shorter), or after (longer: not asked for)
                total = total.copy()
                total[: len(deltas)] = map(add, total, deltas)
            self.sums.append(total)

    def between(self, first: date, last: date) -> list[int]:
        """The summed changes dated from ``first`` to ``last`` inclusive (zeros when none)."""
        lo = bisect_left(self.dates, first)
        hi = bisect_right(self.dates, last)
        if hi <= lo:
            return [0] * self.size
        return list(map(sub, self.sums[hi], self.sums[lo]))

    def after(self, day: date) -> list[int]:
        """The summed changes dated after ``day``."""
        return list(map(sub, self.sums[-1], self.sums[bisect_right(self.dates, day)]))


async def figures(
    conn: Connection,
    codes: Sequence[str],
    windows: Sequence[Window],
    metrics: Sequence[Metric] | None = None,
) -> dict[str, list[Figures]]:
    """For each region, its figures in each window (in the order given), for the metrics asked for
    (default: every listed source's)."""
    if metrics is None:
        metrics = sources.CATALOGUE.metrics
    wanted = _needed(metrics)
    stored = [m.name for m in wanted if m.kind != "ratio" and m.entity != "region"]
    codes = list(dict.fromkeys(codes))
    region_metrics = [m for m in wanted if m.entity == "region"]
    plans = [_spans(w) for w in windows]
    positions = await metric_positions(conn) if stored and codes and windows else {}
    # The codes travel as one string the server splits: psycopg dumps a list element by element in
    # Python (a regular expression each), which cost ~0.25 ms of a drill-down's 2 ms.
    joined = ",".join(codes)
    reads: dict[str, tuple[str, tuple[object, ...]]] = {}
    if positions:
        reads["current"] = (
            f"SELECT region_code, metric, value FROM region_metrics WHERE region_code = ANY({_CODES})",
            (joined,),
        )
        reads["months"] = (
            f"SELECT region_code, month, deltas FROM region_metric_months WHERE region_code = ANY({_CODES})"
            " AND month >= %s",
            (joined, min(_month(w.flows_from) for w in windows)),
        )
        partial = [spans.days for spans in plans if spans.split]
        if partial:
            reads["days"] = (
                f"SELECT region_code, day, deltas FROM region_metric_days WHERE region_code = ANY({_CODES})"
                " AND day >= %s AND day <= %s",
                (joined, min(first for first, _ in partial), max(last for _, last in partial)),
            )
    if region_metrics and codes:
        reads["regions"] = _region_counts_query(codes)
    rows = dict(zip(reads, await _fetch_all(conn, list(reads.values())), strict=True))
    current: dict[str, dict[str, int]] = defaultdict(dict)
    for code, metric, value in rows.get("current", ()):
        current[code][metric] = int(value)
    months: dict[str, list[tuple[date, list[int]]]] = defaultdict(list)
    for code, month, deltas in rows.get("months", ()):
        months[code].append((month, deltas))
    days: dict[str, list[tuple[date, list[int]]]] = defaultdict(list)
    for code, day, deltas in rows.get("days", ()):
        days[code].append((day, deltas))
    by_region = _region_counts(rows.get("regions", ()), region_metrics)
    size = max(positions.values(), default=-1) + 1
    kept = [m for m in wanted if m.name in positions and m.name in stored]
    layout = _Layout(
        stocks=[(m.name, positions[m.name]) for m in kept if m.kind == "stock"],
        flows=[(m.name, positions[m.name]) for m in kept if m.kind == "flow"],
        counted=[m.name for m in region_metrics],
        ratios=[m for m in wanted if m.kind == "ratio"],
        asked=[m.name for m in metrics],
    )
    out: dict[str, list[Figures]] = {}
    for code in codes:
        history = _Running(months[code], size), _Running(days[code], size)
        out[code] = [_evaluate(code, spans, layout, current[code], history, by_region) for spans in plans]
    return out


@dataclass(frozen=True)
class _Layout:
    """Where each metric asked for comes from, worked out once per call, not per region and window."""

    #: Stocks and flows kept in the history: (name, index in the change arrays).
    stocks: list[tuple[str, int]]
    flows: list[tuple[str, int]]
    #: Stocks counted over the division table, and ratios of other figures.
    counted: list[str]
    ratios: list[Metric]
    asked: list[str]


def _evaluate(
    code: str,
    spans: _Spans,
    layout: _Layout,
    current: dict[str, int],
    history: tuple[_Running, _Running],
    by_region: dict[tuple[str, str], int],
) -> Figures:
    """One region's figures in one window from its running sums of months and days."""
    months, days = history
    later = months.after(spans.end_month)  # changes after as_of
    within = months.between(*spans.months_within)  # changes from flows_from to as_of
    if spans.split:
        month = months.between(spans.end_month, spans.end_month)
        read = days.between(*spans.days)
        if spans.tail_read:
            tail, head = read, list(map(sub, month, read))
        else:
            tail = list(map(sub, month, read))
            head = read if spans.head == spans.days else days.between(*spans.head)
        later = list(map(add, later, tail))
        within = list(map(add, within, head))
    values: Figures = {name: by_region.get((code, name), 0) for name in layout.counted}
    for name, i in layout.stocks:
        values[name] = current.get(name, 0) - later[i]
    for name, i in layout.flows:
        values[name] = within[i]
    for metric in layout.ratios:
        values[metric.name] = ratio_of(metric, values)
    return {name: values[name] for name in layout.asked}


async def _fetch_all(conn: Connection, statements: Sequence[tuple[str, tuple[object, ...]]]) -> list[list[Any]]:
    """The rows of each statement, all sent in one pipeline: one round trip to the server instead of one
    per statement (each costs a send, a wake-up of the server and of this process, ~0.3 ms here)."""
    if len(statements) <= 1:
        return [await (await conn.execute(query, params)).fetchall() for query, params in statements]
    async with conn.pipeline():
        cursors = [await conn.execute(query, params) for query, params in statements]
    return [await cursor.fetchall() for cursor in cursors]


def _region_counts_query(codes: Sequence[str]) -> tuple[str, tuple[object, ...]]:
    """Per region asked for and level, how many divisions lie in its subtree (itself included)."""
    ends = {0: 2, 1: 4, 2: 6, 3: 9, 4: 12}
    prefixes = [code[: ends[region_level(code).depth]] for code in codes]
    return (
        "SELECT c.code, r.level, count(*) FROM unnest(string_to_array(%s, ','), string_to_array(%s, ',')) AS c(code, p)"
        " JOIN regions r ON r.code BETWEEN rpad(c.p, 12, '0')::char(12) AND rpad(c.p, 12, '9')::char(12)"
        " GROUP BY c.code, r.level",
        (",".join(codes), ",".join(prefixes)),
    )


def _region_counts(rows: Iterable[tuple[str, str, int]], metrics: Sequence[Metric]) -> dict[tuple[str, str], int]:
    """Metrics counted over the division table itself (e.g. townships and villages under a region)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for code, level, count in rows:
        for metric in metrics:
            assert metric.counts is not None
            out[(code, metric.name)] += metric.counts(level) * int(count)
    return out


async def metrics_of(conn: Connection, codes: Sequence[str], window: Window) -> dict[str, Figures]:
    """Every declared metric for each region in one window (zero where nothing has happened)."""
    result = await figures(conn, codes, [window])
    return {code: values[0] for code, values in result.items()}
