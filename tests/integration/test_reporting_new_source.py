"""A new source joins reporting by being listed: its metrics reach the catalogue, every region's stats, the
quarterly report and the rebuild, with no change to the projection, queries, exports or rebuild."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, NamedTuple

import psycopg
import pytest
from pydantic import SecretStr

from contracts import assistance
from contracts.envelope import EventEnvelope
from contracts.topics import Topic
from services.reporting import sources
from services.reporting.app import ReportingSettings, source_topics
from services.reporting.catalogue import Catalogue, Source, event_types, field_of
from services.reporting.entities import Entity, IsUrban, region_of
from services.reporting.metrics import Metric, every_event
from services.reporting.rebuild import rebuild_read_models
from services.runtime import kafka
from services.runtime.auth import Role, issue_token
from tests.integration.helpers import fresh_database
from tests.integration.reporting_fixtures import event, reporting_client

pytestmark = pytest.mark.integration

SECRET = "new-source-secret-of-at-least-32-characters"
VILLAGE, OTHER = "430527100201", "430527101201"


class Placement(NamedTuple):
    region_code: str
    day: date
    kind: str


def _evolve(state: Placement | None, e: EventEnvelope, _: IsUrban, day: date) -> Placement:
    return Placement(region_of(e), state.day if state else day, str(e.data["kind"]))


def tiny_source(topic: str) -> Source:
    """What an engineer adding assistance would write: one entity, a stock over it and a flow."""
    placed = assistance.PlacedInJob
    return Source(
        Topic(topic, "assistance", "test placements"),
        entities=(Entity("placement", Placement, "case_id", event_types(placed), _evolve),),
        metrics=(
            Metric(
                "test_placements",
                "安置就业（测试）",
                "Placements (test)",
                "人次",
                "flow",
                events={placed.event_type: every_event},
            ),
            Metric(
                "test_placed_in_units",
                "单位就业安置（测试）",
                "Placed in a work unit (test)",
                "人",
                "stock",
                entity="placement",
                counts=lambda p: int(p.kind == "unit"),
            ),
        ),
        effective_days={placed.event_type: field_of(placed, "started_on")},
    )


def placements() -> list[EventEnvelope]:
    def placed(case: str, region: str, kind: str, on: date) -> EventEnvelope:
        return event(
            "PlacedInJob",
            case,
            region,
            stream_type="assistance_case",
            case_id=case,
            person_id=f"p-{case}",
            region_code=region,
            kind=kind,
            started_on=on,
        )

    return [
        placed("c1", VILLAGE, "unit", date(2026, 2, 3)),
        placed("c2", VILLAGE, "flexible", date(2026, 2, 10)),
        placed("c3", OTHER, "unit", date(2026, 5, 1)),
    ]


@pytest.fixture
def listed(monkeypatch) -> Source:
    """The catalogue with one more source listed, as adding it to ``SOURCES`` would make it."""
    extra = tiny_source(f"t{uuid.uuid4().hex[:8]}.placements")
    monkeypatch.setattr(sources, "CATALOGUE", Catalogue((*sources.SOURCES, extra)))
    return extra


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject='t', role=Role.COUNTY, region='430527')}"}


async def test_a_listed_source_shows_in_the_catalogue_stats_children_and_report(infra, listed):
    async with reporting_client(infra, placements(), secret=SECRET, prefix="newsrc") as client:
        catalogue = (await client.get("/metrics/catalogue", headers=auth())).json()
        entry = next(m for m in catalogue if m["name"] == "test_placements")
        assert entry == {
            "name": "test_placements",
            "label_zh": "安置就业（测试）",
            "label_en": "Placements (test)",
            "unit": "人次",
            "kind": "flow",
        }
        county = (await client.get("/regions/430527/stats?period=2026", headers=auth())).json()["metrics"]
        assert county["test_placements"] == 3 and county["test_placed_in_units"] == 2
        assert county["labour_force"] == 0  # registration's metrics are still there
        spring = (await client.get("/regions/430527/stats?period=2026Q1", headers=auth())).json()["metrics"]
        assert spring["test_placed_in_units"] == 1 and spring["test_placements"] == 2
        march = (await client.get("/regions/430527/stats?as_of=2026-03-31", headers=auth())).json()["metrics"]
        assert march["test_placed_in_units"] == 1
        township = (await client.get("/regions/430527100000/children?period=2026", headers=auth())).json()
        village = next(c for c in township["children"] if c["code"] == VILLAGE)
        assert village["metrics"]["test_placements"] == 2
        report = await client.get("/reports/quarterly?region=430527&period=2026Q1&format=csv", headers=auth())
        assert report.status_code == 200, report.text
        assert "test_placements" in report.text and "安置就业（测试）" in report.text


async def test_the_rebuild_reads_a_listed_sources_topic(infra, listed):
    assert listed.topic.name in source_topics()
    await kafka.ensure_topics(infra.bootstrap_servers, [(listed.topic.name, 3)])
    producer = kafka.producer(infra.bootstrap_servers)
    await producer.start()
    try:
        for env in placements():
            await producer.send_and_wait(
                listed.topic.name, key=env.stream_id.encode(), value=env.model_dump_json().encode()
            )
    finally:
        await producer.stop()
    url = fresh_database(infra, "newsrc_rb")
    settings = ReportingSettings(
        database_url=url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(SECRET)
    )
    report = await rebuild_read_models(settings, shards=1)
    found = {t.topic: t.messages for t in report.topics}
    assert found[listed.topic.name] == 3
    async with await psycopg.AsyncConnection.connect(url, options="-c search_path=reporting") as conn:
        cursor = await conn.execute(
            "SELECT region_code, value FROM region_metrics WHERE metric = 'test_placements' ORDER BY region_code"
        )
        rows: list[Any] = await cursor.fetchall()
    by_region = {code: value for code, value in rows}
    assert by_region["430527000000"] == 3 and by_region[VILLAGE] == 2 and by_region[OTHER] == 1
