"""The staff-performance read model on real Postgres and broker: its consumer folds every topic once, the
API evaluates any month (and as of a day), refuses bad input and unauthorised readers, and
``renshe reporting rebuild`` folds it again (issue 19)."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import Any

import httpx
import psycopg
import pytest
from openpyxl import load_workbook
from pydantic import SecretStr

from contracts.envelope import EventEnvelope
from contracts.topics import ASSISTANCE_EVENTS, REGISTRATION_EVENTS
from services.reporting import rebuild
from services.reporting.app import ReportingSettings, create_app
from services.reporting.rebuild import rebuild_read_models
from services.reporting.staff.worker import staff_consumer
from services.runtime import kafka
from services.runtime.auth import issue_token
from services.runtime.rebuild import RebuildReport
from tests.factories import envelope as factory_envelope
from tests.integration.helpers import fresh_database

pytestmark = pytest.mark.integration

SECRET = "staff-performance-secret-of-32-characters"
TOWNSHIP, VILLAGE, VILLAGE_B = "430527100000", "430527100201", "430527100202"


def envelope(
    type_: str, actor: str | None, on: date, stream_type: str = "assistance_case", **data: Any
) -> EventEnvelope:
    """An event ``actor`` caused on day ``on`` (its dates as ISO strings, as on the wire)."""
    return factory_envelope(
        type_,
        stream_id=str(data.get("staff_id") or data.get("case_id") or uuid.uuid4()),
        region=str(data.get("region_code", VILLAGE)),
        stream_type=stream_type,
        actor=actor,
        occurred_at=datetime.combine(on, clock(4), UTC),
        **{k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()},
    )


def appointed(staff_id: str, subject: str, role: str, region: str) -> EventEnvelope:
    return envelope(
        "StaffAppointed",
        "c-zhou",
        date(2026, 10, 1),
        "staff",
        staff_id=staff_id,
        subject=subject,
        role=role,
        service_point_id=f"p-{staff_id}",
        region_code=region,
        started_on=date(2026, 10, 1),
    )


def guidance(actor: str, on: date, region: str = VILLAGE) -> EventEnvelope:
    return envelope(
        "VocationalGuidanceGiven",
        actor,
        on,
        case_id=str(uuid.uuid4()),
        person_id="p",
        region_code=region,
        given_on=on,
        topic="求职技巧",
        outcome="已制定求职计划",
    )


class History:
    """A month of events, and which of them each staff member should be credited with."""

    def __init__(self) -> None:
        nov = date(2026, 11, 1)
        self.yang_guidance = [guidance("b-yang", nov.replace(day=3)), guidance("b-yang", nov.replace(day=3))]
        self.yang_october = guidance("b-yang", date(2026, 10, 20))
        self.placed = envelope(
            "PlacedInJob",
            "b-yang",
            nov.replace(day=5),
            case_id=str(uuid.uuid4()),
            person_id="p",
            kind="unit",
            started_on=nov.replace(day=5),
            placed_on=nov.replace(day=5),
        )
        self.cleared = envelope(
            "ZeroEmploymentHouseholdCleared",
            "registration:assistance:b-yang",
            nov.replace(day=6),
            "zero_employment_household",
            household_id="h",
            cleared_on=nov.replace(day=6),
            reason="member_placed",
            days_outstanding=12,
            within_target=True,
        )
        self.li_guidance = guidance("g-li", nov.replace(day=4), VILLAGE_B)
        self.rated = envelope(
            "ServiceRated",
            "c-zhou",
            nov.replace(day=8),
            case_id=str(uuid.uuid4()),
            person_id="p",
            region_code=VILLAGE_B,
            service_event_id=str(self.li_guidance.event_id),
            service_type="VocationalGuidanceGiven",
            staff="g-li",
            score=3,
            rated_on=nov.replace(day=8),
        )
        self.nobody = envelope("PersonRegistered", "dev-admin", nov.replace(day=2), "person", person_id="p2")
        self.roster = [
            appointed("s1", "b-yang", "broker", VILLAGE),
            appointed("s2", "g-li", "guidance_officer", TOWNSHIP),
            appointed("s3", "b-gone", "broker", VILLAGE_B),
            envelope(
                "StaffLeft",
                "c-zhou",
                date(2026, 10, 31),
                "staff",
                staff_id="s3",
                subject="b-gone",
                region_code=VILLAGE_B,
                service_point_id="p-s3",
                ended_on=date(2026, 10, 31),
                reason="resigned",
            ),
        ]
        self.assistance = [
            *self.yang_guidance,
            self.yang_october,
            self.placed,
            self.cleared,
            self.li_guidance,
            self.rated,
        ]

    def ids(self, *events: EventEnvelope) -> set[str]:
        return {str(e.event_id) for e in events}


async def publish(bootstrap: str, topic: str, events: Sequence[EventEnvelope], *, times: int = 1) -> None:
    await kafka.ensure_topics(bootstrap, [(topic, 6)])
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        for _ in range(times):
            for e in events:
                await producer.send_and_wait(topic, key=e.stream_id.encode(), value=e.model_dump_json().encode())
    finally:
        await producer.stop()


def credit_rows(url: str) -> list[tuple[str, str, str]]:
    """Every credit the model holds (none before the worker has created its tables)."""
    with psycopg.connect(url) as conn:
        try:
            rows = conn.execute("SELECT event_id::text, kind, staff FROM reporting_staff.staff_credits").fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


@pytest.fixture(scope="module")
def history() -> History:
    return History()


@pytest.fixture
async def published(infra, history: History) -> AsyncIterator[tuple[History, list[str]]]:
    """The history on two topics of this test's own (the real topics' names would leak these events into
    other tests' rebuilds), every event twice: the second delivery must change nothing."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    topics = [f"{prefix}.{REGISTRATION_EVENTS.name}", f"{prefix}.{ASSISTANCE_EVENTS.name}"]
    await publish(infra.bootstrap_servers, topics[0], [*history.roster, history.nobody], times=2)
    await publish(infra.bootstrap_servers, topics[1], history.assistance, times=2)
    yield history, topics


def auth(role: str = "county", region: str = "430527") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject='c-zhou', role=role, region=region)}"}


async def test_the_worker_folds_once_and_the_api_evaluates_any_month(infra, published):
    h, topics = published
    url = fresh_database(infra, "staffperf")
    settings = ReportingSettings(
        database_url=url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(SECRET)
    )
    run, ready = staff_consumer(settings, topics, max_batch=500)
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop))
    mine = h.ids(*h.assistance, h.nobody)
    try:
        deadline = time.monotonic() + 90
        while {r[0] for r in credit_rows(url) if r[0] in mine} != mine:
            assert time.monotonic() < deadline, f"credited {credit_rows(url)}"
            await asyncio.sleep(0.3)
        assert ready()
    finally:
        stop.set()
        await task
    rows = [r for r in credit_rows(url) if r[0] in mine]
    assert len(rows) == len(set(rows))  # twice delivered, once credited
    assert {(r[1], r[2]) for r in rows if r[0] == str(h.cleared.event_id)} == {
        ("zero_household_cleared_in_time", "b-yang")
    }

    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        november = (await client.get(f"/staff-performance?region={TOWNSHIP}&month=2026-11", headers=auth())).json()
        by = {e["subject"]: e for e in november["staff"]}
        assert list(by) == ["b-yang", "g-li"], november  # b-gone left in October
        assert {line["kind"]: line["count"] for line in by["b-yang"]["work"]} == {
            "service_given": 2,
            "placement": 1,
            "zero_household_cleared_in_time": 1,
        }

        async def events_of(subject: str, query: str = "month=2026-11") -> dict[str, set[str]]:
            answer = await client.get(f"/staff-performance/staff/{subject}?region={TOWNSHIP}&{query}", headers=auth())
            assert answer.status_code == 200, answer.text
            return {line["kind"]: set(line["events"]) for line in answer.json()["work"]}

        assert await events_of("b-yang") == {
            "service_given": h.ids(*h.yang_guidance),
            "placement": h.ids(h.placed),
            "zero_household_cleared_in_time": h.ids(h.cleared),
        }
        assert by["b-yang"]["effect_points"] == 6 and by["b-yang"]["parts"]["effect"] == 100.0
        assert await events_of("g-li") == {
            "service_given": h.ids(h.li_guidance),
            "rating": h.ids(h.rated),
        }
        assert by["g-li"]["parts"]["satisfaction"] == 50.0
        assert by["g-li"]["last_in_county"] and by["g-li"]["township_rank"] == 2

        october = (await client.get(f"/staff-performance?region={TOWNSHIP}&month=2026-10", headers=auth())).json()
        assert {e["subject"] for e in october["staff"]} == {"b-yang", "g-li", "b-gone"}
        assert await events_of("b-yang", "month=2026-10") == {"service_given": h.ids(h.yang_october)}

        early = (await client.get(f"/staff-performance?region={TOWNSHIP}&as_of=2026-11-03", headers=auth())).json()
        yang_early = next(e for e in early["staff"] if e["subject"] == "b-yang")
        assert [line["kind"] for line in yang_early["work"]] == ["service_given"] and early["last_day"] == "2026-11-03"

        one = await client.get(f"/staff-performance/staff/b-yang?region={VILLAGE}&month=2026-11", headers=auth())
        assert one.status_code == 200 and one.json()["county_rank"] == 1
        missing = await client.get(f"/staff-performance/staff/b-gone?region={TOWNSHIP}&month=2026-11", headers=auth())
        assert missing.status_code == 404 and missing.json()["field"] == "subject"

        for query, field in (
            ("month=2026Q4", "month"),
            ("month=2026-13", "month"),
            ("month=2026-11&as_of=2026-11-03", "as_of"),
            ("month=2999-01", "month"),
            ("month=0001-01", "month"),
            ("as_of=0001-01-01", "as_of"),
        ):
            bad = await client.get(f"/staff-performance?region={TOWNSHIP}&{query}", headers=auth())
            assert bad.status_code == 422 and bad.json()["field"] == field, (query, bad.text)
        above = await client.get("/staff-performance?region=43&month=2026-11", headers=auth("admin", "43"))
        assert above.status_code == 422 and above.json()["field"] == "region"

        for role, region in (("analyst", "430527"), ("township", TOWNSHIP), ("village", VILLAGE)):
            denied = await client.get(f"/staff-performance?region={TOWNSHIP}&month=2026-11", headers=auth(role, region))
            assert denied.status_code == 403, role
        other_county = await client.get(
            f"/staff-performance?region={TOWNSHIP}&month=2026-11", headers=auth("county", "430528")
        )
        assert other_county.status_code == 403
        summary = await client.get(
            f"/staff-performance/summary?region={TOWNSHIP}&month=2026-11", headers=auth("analyst")
        )
        assert summary.status_code == 200, summary.text
        assert summary.json()["staff"] == 2 and summary.json()["mean_score"] is None  # fewer than three
        assert "subject" not in summary.text and "b-yang" not in summary.text

        report = await client.get(f"/staff-performance/report?region={TOWNSHIP}&month=2026-11", headers=auth())
        assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
        book = load_workbook(io.BytesIO(report.content))
        scores = [r for r in book.worksheets[0].iter_rows(min_row=5, values_only=True) if isinstance(r[0], int)]
        assert [(r[4], r[10]) for r in scores] == [(e["subject"], e["score"]) for e in november["staff"]]
        assert book.worksheets[1].title == "以奖代补"


@pytest.mark.parametrize("shards", [1, 2])
async def test_the_rebuild_folds_the_staff_model_again(infra, published, monkeypatch, shards):
    h, topics = published
    monkeypatch.setattr(rebuild, "source_topics", lambda: topics)
    url = fresh_database(infra, "staffrb")
    settings = ReportingSettings(
        database_url=url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(SECRET)
    )
    reports: list[RebuildReport] = []
    await rebuild_read_models(settings, shards=shards, on_report=reports.append)
    with psycopg.connect(url) as conn:  # a stale credit the next rebuild must drop
        conn.execute(
            "INSERT INTO reporting_staff.staff_credits VALUES (%s, 'placement', 'b-yang', '2026-11-09', 3, 'x', NULL)",
            (str(uuid.uuid4()),),
        )
    await rebuild_read_models(settings, shards=shards, on_report=reports.append)
    assert [r.consumer for r in reports] == ["reporting.projection", "staff_performance"] * 2
    assert {r[1] for r in credit_rows(url) if r[2] == "b-yang"} == {
        "service_given",
        "placement",
        "zero_household_cleared_in_time",
    }
    assert len([r for r in credit_rows(url) if r[1] == "placement"]) == 1
    mine = h.ids(*h.assistance, h.nobody)
    assert {r[0] for r in credit_rows(url) if r[0] in mine} == mine
    with psycopg.connect(url) as conn:
        roster = conn.execute("SELECT subject, ended_on FROM reporting_staff.staff_roster ORDER BY subject").fetchall()
    assert [(str(s), e) for s, e in roster] == [("b-gone", date(2026, 10, 31)), ("b-yang", None), ("g-li", None)]
