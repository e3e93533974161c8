"""The per-region projection's arithmetic: every event moves its region and each ancestor once."""

from __future__ import annotations

import random
from collections import Counter

from contracts.reference import demo_county
from contracts.regions import RegionLevel, parent_code
from services.reporting import projection
from services.reporting.metrics import METRICS, METRICS_BY_EVENT
from tests.factories import envelope


class Capture:
    """Stands in for a connection: records the rows of the single upsert."""

    def __init__(self) -> None:
        self.rows: Counter[tuple[str, str]] = Counter()

    async def execute(self, sql, params):
        codes, metrics, values = params
        for code, metric, value in zip(codes, metrics, values, strict=True):
            self.rows[(code, metric)] += value


async def test_every_level_equals_the_sum_of_its_children_after_random_events():
    regions = demo_county()
    places = [r.code for r in regions if r.level in (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP)]
    rnd = random.Random(7)
    events = [
        envelope(rnd.choice(["PersonRegistered", "EmployerRegistered", "Unrelated"]), region=rnd.choice(places))
        for _ in range(3000)
    ]
    conn = Capture()
    await projection.RegionMetricsProjection().apply(conn, events)  # type: ignore[arg-type]
    for metric in METRICS:
        for region in regions:
            children = [r.code for r in regions if parent_code(r.code) == region.code]
            own = sum(1 for e in events if e.region_code == region.code and metric in METRICS_BY_EVENT.get(e.type, []))
            assert conn.rows[(region.code, metric.name)] == own + sum(conn.rows[(c, metric.name)] for c in children)
    county = conn.rows[("430527000000", "labour_force")]
    assert county == sum(1 for e in events if e.type == "PersonRegistered")
    assert conn.rows[("430000000000", "labour_force")] == county


async def test_one_row_per_region_and_metric_in_a_batch():
    conn = Capture()
    seen: list[int] = []

    async def execute(sql, params):
        seen.append(len(params[0]))
        assert len(set(zip(params[0], params[1], strict=True))) == len(params[0])

    conn.execute = execute  # type: ignore[method-assign]
    await projection.RegionMetricsProjection().apply(conn, [envelope("PersonRegistered", region="430527100201")] * 10)  # type: ignore[arg-type]
    assert seen == [5]
