"""The month's roster and credited work as the evaluation reads them: two indexed reads per month."""

from __future__ import annotations

from datetime import date

from services.reporting.staff.projection import SCHEMA
from services.reporting.staff.scoring import StaffWork
from services.runtime.db import Connection

#: The staff in post on any day of the window, in a county, each subject's latest post; the township is the
#: service point's (the county bureau's staff form a group of their own under the county's code).
_ROSTER = f"""
    SELECT DISTINCT ON (subject) staff_id, subject, role, region_code,
        CASE WHEN substr(region_code, 7) = '000000' THEN region_code ELSE substr(region_code, 1, 9) || '000' END
    FROM {SCHEMA}.staff_roster
    WHERE region_code LIKE %s AND started_on <= %s AND (ended_on IS NULL OR ended_on >= %s)
    ORDER BY subject, started_on DESC, staff_id
"""

_WORK = f"""
    SELECT staff, kind, count(*), array_agg(points) FILTER (WHERE kind = 'rating'),
        array_agg(event_id::text ORDER BY day, event_id) FILTER (WHERE staff = %s)
    FROM {SCHEMA}.staff_credits
    WHERE staff = ANY(%s) AND day BETWEEN %s AND %s
    GROUP BY staff, kind
"""


async def month_work(
    conn: Connection, county_code: str, first: date, last: date, *, ids_of: str | None = None
) -> list[StaffWork]:
    """Every staff member of the county in post between ``first`` and ``last``, with the work credited to
    them in those days: counts per kind, the ratings' scores, and for the subject ``ids_of`` the events'
    ids (as text, the bulk of the work: a county's month of them took two thirds of an evaluation)."""
    cursor = await conn.execute(_ROSTER, (county_code[:6] + "%", last, first))
    roster = await cursor.fetchall()
    if not roster:
        return []
    cursor = await conn.execute(_WORK, (ids_of, [r[1] for r in roster], first, last))
    counts: dict[str, dict[str, int]] = {}
    events: dict[str, dict[str, list[str]]] = {}
    ratings: dict[str, list[int]] = {}
    for staff, kind, count, scores, ids in await cursor.fetchall():
        counts.setdefault(staff, {})[kind] = int(count)
        if ids is not None:
            events.setdefault(staff, {})[kind] = list(ids)
        if scores is not None:
            ratings[staff] = [int(p) for p in scores]
    return [
        StaffWork(
            staff_id=str(staff_id),
            subject=str(subject),
            role=str(role),
            region_code=str(region),
            township_code=str(township),
            counts=counts.get(subject, {}),
            events=events.get(subject, {}),
            ratings=ratings.get(subject, []),
        )
        for staff_id, subject, role, region, township in roster
    ]
