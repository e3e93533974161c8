"""The administrative-division reference table every service keeps in its own schema (docs/design.md "Regions").

Services scope callers and validate addresses by it, and reporting aggregates along it. It is loaded at
start-up from the official division list (``REGIONS_CSV``) or, when none is configured, the demo county.
"""

from __future__ import annotations

from pathlib import Path

from contracts.reference import demo_county, parse_regions_csv
from contracts.regions import Region, RegionLevel
from services.runtime.db import Connection

DDL = [
    """
    CREATE TABLE IF NOT EXISTS regions (
        code              char(12) PRIMARY KEY,
        name              text     NOT NULL,
        level             text     NOT NULL,
        parent            char(12),
        urban_rural_class text
    )
    """,
    "CREATE INDEX IF NOT EXISTS regions_parent ON regions (parent)",
]


def reference_regions(csv_path: str = "") -> list[Region]:
    """The configured division list: a CSV file if one is named, else the demo county."""
    if csv_path:
        return parse_regions_csv(Path(csv_path).read_text(encoding="utf-8-sig"))
    return demo_county()


async def load_regions(conn: Connection, regions: list[Region]) -> int:
    """Insert or update the divisions in one statement; returns how many were given."""
    await conn.execute(
        """
        INSERT INTO regions (code, name, level, parent, urban_rural_class)
        SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
        ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
            parent = excluded.parent, urban_rural_class = excluded.urban_rural_class
        """,
        (
            [r.code for r in regions],
            [r.name for r in regions],
            [str(r.level) for r in regions],
            [r.parent for r in regions],
            [str(r.urban_rural_class) if r.urban_rural_class else None for r in regions],
        ),
    )
    return len(regions)


async def find_region(conn: Connection, code: str) -> Region | None:
    """One division by its 12-digit code."""
    cursor = await conn.execute(
        "SELECT code, name, level, parent, urban_rural_class FROM regions WHERE code = %s", (code,)
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    return Region(code=row[0], name=row[1], level=RegionLevel(row[2]), parent=row[3], urban_rural_class=row[4])


async def child_regions(conn: Connection, code: str) -> list[Region]:
    """The divisions directly under ``code``, by code."""
    cursor = await conn.execute(
        "SELECT code, name, level, parent, urban_rural_class FROM regions WHERE parent = %s ORDER BY code",
        (code,),
    )
    return [
        Region(code=r[0], name=r[1], level=RegionLevel(r[2]), parent=r[3], urban_rural_class=r[4])
        for r in await cursor.fetchall()
    ]
