"""Reporting's read models and the SQL views analysts read: the DDL, with the catalogue of every metric.

The tables are the projection's (``services.reporting.projection`` says what each holds); the catalogue
gives every listed source's metrics (``services.reporting.sources``) a fixed position in the history
arrays; the views are what ``reporting_reader`` may SELECT, nothing else.
"""

from __future__ import annotations

from services.reporting import sources

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
        deltas      bigint[] NOT NULL,
        PRIMARY KEY (region_code, day)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS region_metric_months (
        region_code char(12) NOT NULL,
        month       date     NOT NULL CHECK (extract(day FROM month) = 1),
        deltas      bigint[] NOT NULL,
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
    # Deltas were int[] until money in fen was folded: a county's pension contributions of one month overflow
    # 2^31 fen (21 million yuan). A schema made before is widened once; the view over it is made again below.
    """
    DO $$
    BEGIN
        IF EXISTS (SELECT FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'region_metric_days' AND column_name = 'deltas' AND udt_name = '_int4') THEN
            DROP VIEW IF EXISTS v_region_month;
            ALTER TABLE region_metric_days ALTER COLUMN deltas TYPE bigint[];
            ALTER TABLE region_metric_months ALTER COLUMN deltas TYPE bigint[];
            DROP FUNCTION IF EXISTS add_deltas(int[], int[]);
        END IF;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION add_deltas(a bigint[], b bigint[]) RETURNS bigint[]
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
                ELSE sum(t.delta) OVER (PARTITION BY d.region_code, c.name ORDER BY d.month)::bigint END AS value
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
