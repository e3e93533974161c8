"""Reporting's read models, the SQL views analysts read, and the queries behind the API and the exports.

A figure for a window (``periods.Window``) is read, for any number of regions at once, with at most four
indexed reads: the figures now (``region_metrics``), the monthly changes since the window began
(``region_metric_months``), the daily changes of the window's last month when the window ends inside a
month (``region_metric_days``), and, for metrics counted over the division table, that table. Then

- stock at the end of day D = now - changes after D;
- flow over [F, D] = changes from F to D;
- ratio = scale x numerator / denominator of the same region and window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from contracts.regions import region_level
from services.reporting.metrics import METRICS, METRICS_BY_NAME, Metric, ratio_of
from services.reporting.periods import Window
from services.runtime.db import Connection

Value = int | float | None
Figures = dict[str, Value]

#: The role analysts are granted (``GRANT reporting_reader TO alice``): SELECT on the views, nothing else.
READER_ROLE = "reporting_reader"
VIEWS = ("v_metric_catalogue", "v_region_metrics", "v_region_month")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _catalogue_rows() -> str:
    return ",\n".join(
        "(" + ", ".join(_literal(v) for v in (m.name, m.label_zh, m.label_en, m.unit, m.kind)) + f", {n})"
        for n, m in enumerate(METRICS)
    )


DDL = [
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
    # A metric keeps its position in the history arrays for ever; a new metric takes the next one.
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
    if positions is None or len(positions) < len(METRICS):
        cursor = await conn.execute("SELECT name, position FROM metric_catalogue")
        positions = {name: int(position) - 1 for name, position in await cursor.fetchall()}
        _POSITIONS[key] = positions
    return positions


def _unpack(day: date, deltas: list[int], wanted_at: list[tuple[int, str]]) -> list[tuple[date, str, int]]:
    return [(day, name, deltas[i]) for i, name in wanted_at if i < len(deltas) and deltas[i]]


def _month(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _needed(metrics: Iterable[Metric]) -> list[Metric]:
    """The metrics asked for and every metric their ratios are computed from."""
    out: dict[str, Metric] = {}
    for metric in metrics:
        for name in (*metric.numerator, *metric.denominator):
            out.setdefault(name, METRICS_BY_NAME[name])
        out.setdefault(metric.name, metric)
    return list(out.values())


async def figures(
    conn: Connection,
    codes: Sequence[str],
    windows: Sequence[Window],
    metrics: Sequence[Metric] = METRICS,
) -> dict[str, list[Figures]]:
    """For each region, its figures in each window (in the order given), for the metrics asked for."""
    wanted = _needed(metrics)
    stored = [m.name for m in wanted if m.kind != "ratio" and m.entity != "region"]
    codes = list(dict.fromkeys(codes))
    current: dict[tuple[str, str], int] = defaultdict(int)
    months: dict[str, list[tuple[date, str, int]]] = defaultdict(list)
    days: dict[str, list[tuple[date, str, int]]] = defaultdict(list)
    if stored and codes and windows:
        cursor = await conn.execute(
            "SELECT region_code, metric, value FROM region_metrics WHERE region_code = ANY(%s) AND metric = ANY(%s)",
            (codes, stored),
        )
        for code, metric, value in await cursor.fetchall():
            current[(code, metric)] = int(value)
        positions = await metric_positions(conn)
        wanted_at = [(positions[name], name) for name in stored]
        cursor = await conn.execute(
            "SELECT region_code, month, deltas FROM region_metric_months WHERE region_code = ANY(%s) AND month >= %s",
            (codes, min(_month(w.flows_from) for w in windows)),
        )
        for code, month, deltas in await cursor.fetchall():
            months[code].extend(_unpack(month, deltas, wanted_at))
        partial = [w.as_of for w in windows if w.as_of != _month_end(w.as_of)]
        if partial:
            cursor = await conn.execute(
                "SELECT region_code, day, deltas FROM region_metric_days"
                " WHERE region_code = ANY(%s) AND day >= %s AND day <= %s",
                (codes, _month(min(partial)), _month_end(max(partial))),
            )
            for code, day, deltas in await cursor.fetchall():
                days[code].extend(_unpack(day, deltas, wanted_at))
    by_region = await _region_counts(conn, codes, [m for m in wanted if m.entity == "region"])
    out: dict[str, list[Figures]] = {}
    for code in codes:
        out[code] = [
            _evaluate(code, window, wanted, metrics, current, months[code], days[code], by_region) for window in windows
        ]
    return out


def _evaluate(
    code: str,
    window: Window,
    wanted: Sequence[Metric],
    asked: Sequence[Metric],
    current: dict[tuple[str, str], int],
    months: Sequence[tuple[date, str, int]],
    days: Sequence[tuple[date, str, int]],
    by_region: dict[tuple[str, str], int],
) -> Figures:
    end_month = _month(window.as_of)
    whole_month = window.as_of == _month_end(window.as_of)
    later: dict[str, int] = defaultdict(int)  # changes after as_of
    within: dict[str, int] = defaultdict(int)  # changes from flows_from to as_of
    for month, name, delta in months:
        if month > end_month:
            later[name] += delta
        elif month >= window.flows_from and (month < end_month or whole_month):
            within[name] += delta
    if not whole_month:
        for day, name, delta in days:
            if _month(day) != end_month:
                continue
            if day > window.as_of:
                later[name] += delta
            elif day >= window.flows_from:
                within[name] += delta
    values: Figures = {}
    for metric in wanted:
        if metric.kind == "stock" and metric.entity == "region":
            values[metric.name] = by_region.get((code, metric.name), 0)
        elif metric.kind == "stock":
            values[metric.name] = current[(code, metric.name)] - later[metric.name]
        elif metric.kind == "flow":
            values[metric.name] = within[metric.name]
    for metric in wanted:
        if metric.kind == "ratio":
            values[metric.name] = ratio_of(metric, values)
    return {m.name: values[m.name] for m in asked}


async def _region_counts(
    conn: Connection, codes: Sequence[str], metrics: Sequence[Metric]
) -> dict[tuple[str, str], int]:
    """Metrics counted over the division table itself (e.g. townships and villages under a region)."""
    if not metrics or not codes:
        return {}
    ends = {0: 2, 1: 4, 2: 6, 3: 9, 4: 12}
    prefixes = [code[: ends[region_level(code).depth]] for code in codes]
    cursor = await conn.execute(
        "SELECT c.code, r.level, count(*) FROM unnest(%s::text[], %s::char(12)[], %s::char(12)[]) AS c(code, lo, hi)"
        " JOIN regions r ON r.code BETWEEN c.lo AND c.hi GROUP BY c.code, r.level",
        (list(codes), [p.ljust(12, "0") for p in prefixes], [p.ljust(12, "9") for p in prefixes]),
    )
    out: dict[tuple[str, str], int] = defaultdict(int)
    for code, level, count in await cursor.fetchall():
        for metric in metrics:
            assert metric.counts is not None
            out[(code, metric.name)] += metric.counts(level) * int(count)
    return out


async def metrics_of(conn: Connection, codes: Sequence[str], window: Window) -> dict[str, Figures]:
    """Every declared metric for each region in one window (zero where nothing has happened)."""
    result = await figures(conn, codes, [window])
    return {code: values[0] for code, values in result.items()}
