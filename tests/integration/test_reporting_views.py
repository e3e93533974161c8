"""The analysts' read-only SQL views and the ``reporting_reader`` role, on real Postgres."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest
from psycopg import sql

from services.reporting.projection import RegionMetricsProjection
from services.reporting.schema import READER_ROLE, VIEWS, ddl
from services.runtime.db import migrate
from tests.integration.reporting_fixtures import event, prepare_reporting

pytestmark = pytest.mark.integration

VILLAGE = "430527101201"


@pytest.fixture
async def analyst(infra, pool, schema):
    """A login role holding only ``reporting_reader``, and a connection as it; the schema has figures."""
    async with pool.connection() as conn:
        await prepare_reporting(conn, schema)
        # Running the DDL again changes nothing: the role and grants are idempotent.
        await migrate(conn, schema, ddl())
        async with conn.transaction():
            await RegionMetricsProjection().apply(
                conn,
                [
                    event(
                        "PersonRegistered", "p1", VILLAGE, occurred=date(2026, 1, 5), region_code=VILLAGE, sex="male"
                    ),
                    event("EmploymentRegistered", "p1", VILLAGE, kind="unit", started_on=date(2026, 3, 2)),
                ],
            )
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'pw'").format(sql.Identifier(name)))
        admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(READER_ROLE), sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(infra.database_url, user=name, password="pw")
    try:
        with psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}") as conn:
            yield conn
    finally:
        with psycopg.connect(infra.database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_the_reader_selects_the_views_with_chinese_labels(analyst):
    rows = analyst.execute(
        "SELECT region_name, level, label_zh, unit, kind, value FROM v_region_metrics"
        " WHERE region_code = '430527000000' AND metric IN ('labour_force', 'employed') ORDER BY metric"
    ).fetchall()
    assert rows == [
        ("绥宁县", "county", "就业人员", "人", "stock", 1),
        ("绥宁县", "county", "实名登记劳动力", "人", "stock", 1),
    ]
    month = analyst.execute(
        "SELECT month, value, change_in_month FROM v_region_month WHERE region_code = %s AND metric = 'new_employment'",
        (VILLAGE,),
    ).fetchall()
    assert month == [(date(2026, 3, 1), 1, 1)]
    catalogue = dict(analyst.execute("SELECT metric, kind FROM v_metric_catalogue").fetchall())
    assert catalogue["registered_urban_unemployment_rate"] == "ratio"


def test_the_views_carry_chinese_comments(analyst):
    for view in VIEWS:
        comment = analyst.execute("SELECT obj_description(%s::regclass, 'pg_class')", (view,)).fetchone()[0]
        assert comment and any("\u4e00" <= ch <= "\u9fff" for ch in comment), view


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM region_metrics",
        "SELECT * FROM entity_states",
        "SELECT * FROM inbox",
        "INSERT INTO region_metrics VALUES ('430527000000', 'labour_force', 1)",
        "DELETE FROM v_metric_catalogue",
        "UPDATE v_metric_catalogue SET label_zh = 'x'",
        "CREATE TABLE mine (x int)",
    ],
)
def test_the_reader_can_neither_write_nor_read_the_tables(analyst, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst.execute(statement)
