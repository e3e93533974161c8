"""Reporting's read models, the SQL views analysts read, and the queries behind the API and the exports.

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

#: The role analysts are granted (``GRANT reporting_reader TO alice``): SELECT on the views, nothing else.
READER_ROLE = "reporting_reader"
VIEWS = ("v_metric_catalogue", "v_region_metrics", "v_region_month")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _catalogue_rows() -> str:
    return ",\n".join(
        "(" + ", ".join(_literal(v) for v in (m.name, m.label_zh, m.label_en, m.unit, m.kind)) + f", {n})"
        for n, m in enumerate(sources.CATALOGUE.metrics)
    )


def ddl() -> list[str]:
    """Reporting's tables and views, and the catalogue rows of every listed source's metrics."""
    return [*_TABLES, *_catalogue(), *_VIEWS]


_TABLES = [
    """
    CREATE TABLE IF NOT EXISTS region_metrics (
        region_code char(12) NOT NULL,
        metric      text     NOT NULL,
        value       bigint   NOT NULL,
        PRIMARY KEY (region_code, metric)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS region_metric_days (
        region_code char(12) NOT NULL,
        day         date     NOT NULL,
        deltas      int[]    NOT NULL,
        PRIMARY KEY (region_code, day)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS region_metric_months (
        region_code char(12) NOT NULL,
        month       date     NOT NULL CHECK (extract(day FROM month) = 1),
        deltas      int[]    NOT NULL,
        PRIMARY KEY (region_code, month)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS entity_states (
        kind        text     NOT NULL,
        entity_id   text     NOT NULL,
        region_code char(12) NOT NULL,
        state       jsonb    NOT NULL,
        PRIMARY KEY (kind, entity_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS metric_catalogue (
        name     text     PRIMARY KEY,
        label_zh text     NOT NULL,
        label_en text     NOT NULL,
        unit     text     NOT NULL,
        kind     text     NOT NULL,
        position smallint NOT NULL UNIQUE CHECK (position >= 1)
    )
    """,
]


def _catalogue() -> list[str]:
    # A metric keeps its position in the history arrays for ever; a new metric takes the next one.
    return [
        f"""
    INSERT INTO metric_catalogue (name, label_zh, label_en, unit, kind, position)
    SELECT v.name, v.label_zh, v.label_en, v.unit, v.kind,
           (SELECT coalesce(max(position), 0) FROM metric_catalogue) + row_number() OVER (ORDER BY v.ord)
    FROM (VALUES {_catalogue_rows()}) AS v(name, label_zh, label_en, unit, kind, ord)
    WHERE NOT EXISTS (SELECT FROM metric_catalogue c WHERE c.name = v.name)
    """,
        f"""
    UPDATE metric_catalogue c SET label_zh = v.label_zh, label_en = v.label_en, unit = v.unit, kind = v.kind
    FROM (VALUES {_catalogue_rows()}) AS v(name, label_zh, label_en, unit, kind, ord)
    WHERE c.name = v.name
    """,
    ]


_VIEWS = [
    """
    CREATE OR REPLACE FUNCTION add_deltas(a int[], b int[]) RETURNS int[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i) FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i) $$
    """,
    """
    CREATE OR REPLACE VIEW v_metric_catalogue AS
    SELECT name AS metric, label_zh, label_en, unit, kind FROM metric_catalogue
    """,
    "COMMENT ON VIEW v_metric_catalogue IS"
    " '指标目录：指标名、中英文名称、计量单位、类型（stock 存量 / flow 流量 / ratio 比率）'",
    """
    CREATE OR REPLACE VIEW v_region_metrics AS
    SELECT r.code AS region_code, r.name AS region_name, r.level, r.parent AS parent_code,
           m.metric, c.label_zh, c.unit, c.kind, m.value
    FROM region_metrics m
    JOIN regions r ON r.code = m.region_code
    LEFT JOIN metric_catalogue c ON c.name = m.metric
    """,
    "COMMENT ON VIEW v_region_metrics IS"
    " '各级区划当前指标（四级联网）：存量指标为当前值，流量指标为累计值；比率指标请按指标目录由分子分母计算'",
    """
    CREATE OR REPLACE VIEW v_region_month AS
    SELECT r.code AS region_code, r.name AS region_name, r.level, d.month, c.name AS metric, c.label_zh, c.unit,
           c.kind, t.delta AS change_in_month,
           CASE WHEN c.kind = 'flow' THEN t.delta
                ELSE sum(t.delta) OVER (PARTITION BY d.region_code, c.name ORDER BY d.month)::int END AS value
    FROM region_metric_months d
    CROSS JOIN LATERAL unnest(d.deltas) WITH ORDINALITY AS t(delta, position)
    JOIN metric_catalogue c ON c.position = t.position
    JOIN regions r ON r.code = d.region_code
    WHERE t.delta <> 0
    """,
    "COMMENT ON VIEW v_region_month IS"
    " '各级区划分月指标：流量指标为当月发生数，存量指标为月末值；仅列出有变动的月份，"
    "某月无行时存量取此前最近一个月的月末值'",
    f"""
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
            CREATE ROLE {READER_ROLE} NOLOGIN;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO {READER_ROLE}', current_schema());
        EXECUTE format('GRANT SELECT ON {", ".join("%I." + v for v in VIEWS)} TO {READER_ROLE}',
                       {", ".join("current_schema()" for _ in VIEWS)});
    EXCEPTION
        -- Another service's start-up created it first, or this database user may not manage roles
        -- (production grants it by hand then, see README): the service itself needs no role.
        WHEN duplicate_object OR unique_violation OR insufficient_privilege THEN
            RAISE NOTICE 'reporting_reader not (re)granted: %', SQLERRM;
    END $$
    """,
]


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
