"""Reporting's read models and the queries behind its API."""

from __future__ import annotations

from collections.abc import Sequence

from services.reporting.metrics import METRICS
from services.runtime.db import Connection

DDL = [
    """
    CREATE TABLE IF NOT EXISTS region_metrics (
        region_code char(12) NOT NULL,
        metric      text     NOT NULL,
        value       bigint   NOT NULL,
        PRIMARY KEY (region_code, metric)
    )
    """,
]


async def metrics_of(conn: Connection, codes: Sequence[str]) -> dict[str, dict[str, int]]:
    """Every declared metric for each region (zero where nothing has happened yet)."""
    figures = {code: {m.name: 0 for m in METRICS} for code in codes}
    cursor = await conn.execute(
        "SELECT region_code, metric, value FROM region_metrics WHERE region_code = ANY(%s)", (list(codes),)
    )
    for code, metric, value in await cursor.fetchall():
        if metric in figures[code]:
            figures[code][metric] = int(value)
    return figures
