"""``GET /status`` and the lag gauges: how far the projection is behind, per topic and partition.

Real Postgres (a fresh database, reporting's schema in it), the real broker, the reporting app's status
route and the real consumer runtime.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from bench.history import synthetic_history
from services.reporting import app as reporting_app
from services.reporting.projection import RegionMetricsProjection
from services.reporting.status import status_router
from services.runtime import kafka
from services.runtime.auth import issue_token
from services.runtime.consumer import EventConsumer
from services.runtime.db import open_pool
from services.runtime.process import create_service_app
from tests.integration.helpers import eventually, fresh_database, kafka_clients_left_after

pytestmark = pytest.mark.integration

SECRET = "test-secret-0123456789abcdef0123456789"
CONSUMER = RegionMetricsProjection.name
EVENTS = 300
#: The messages' broker timestamps run from this many seconds ago up to now.
SPREAD_SECONDS = 120


def auth(role: str = "county") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject='ops-1', role=role, region='430527')}"}


@pytest.fixture
async def reporting(infra, topic_name) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The reporting API's status route over ``topic_name``, on a fresh database; and that database's URL."""
    url = fresh_database(infra, "rep")
    settings = reporting_app.ReportingSettings(
        database_url=url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(SECRET)
    )
    app = create_service_app(
        settings, reporting_app.DDL, title="t", description="t", routers=[status_router(CONSUMER, [topic_name])]
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, url


async def publish(bootstrap: str, topic: str) -> None:
    """``EVENTS`` valid registration envelopes, stamped from SPREAD_SECONDS ago up to now."""
    await kafka.ensure_topics(bootstrap, [(topic, 3)])
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        history = list(synthetic_history(random.Random(3), EVENTS))[:EVENTS]
        now_ms = int(time.time() * 1000)
        sends = [
            await producer.send(
                topic,
                key=item.stream_id.encode(),
                value=item.envelope().model_dump_json().encode(),
                timestamp_ms=now_ms - SPREAD_SECONDS * 1000 + i * SPREAD_SECONDS * 1000 // EVENTS,
            )
            for i, item in enumerate(history)
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def test_status_counts_what_the_worker_has_not_applied_then_nothing(infra, topic_name, reporting):
    http, database_url = reporting
    await publish(infra.bootstrap_servers, topic_name)

    before = await http.get("/status", headers=auth())
    assert before.status_code == 200
    body = before.json()
    assert body["consumer"] == CONSUMER
    assert [(p["topic"], p["partition"]) for p in body["topics"]] == [(topic_name, p) for p in range(3)]
    assert body["behind"] == EVENTS == sum(p["end"] for p in body["topics"])
    assert all(p["committed"] == 0 and p["live"] for p in body["topics"])
    # The first unapplied message of a partition is up to two minutes older than its newest.
    assert SPREAD_SECONDS * 0.5 < body["seconds_behind"] <= SPREAD_SECONDS + 1

    pool = open_pool(database_url, "reporting", min_size=1, max_size=4)
    await pool.open(wait=True)
    worker = EventConsumer(pool, RegionMetricsProjection(), [topic_name], infra.bootstrap_servers, max_batch=50)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:

        async def caught_up() -> bool:
            return (await http.get("/status", headers=auth())).json()["behind"] == 0

        await eventually(caught_up, timeout=60, message="the worker applied everything")
    finally:
        stop.set()
        await task
        await pool.close()

    after = (await http.get("/status", headers=auth())).json()
    assert after["behind"] == 0 and after["seconds_behind"] == 0
    for partition in after["topics"]:
        assert partition["committed"] == partition["end"] > 0
        assert partition["last_event_at"] is not None and partition["updated_at"] is not None
        labels = {"consumer": CONSUMER, "topic": topic_name, "partition": str(partition["partition"])}
        assert REGISTRY.get_sample_value("renshe_consumer_lag_events", labels) == 0
        assert REGISTRY.get_sample_value("renshe_consumer_lag_seconds", labels) == 0
    assert worker.applied_total == EVENTS


async def test_status_needs_a_token(reporting):
    http, _ = reporting
    response = await http.get("/status")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_status_requests_leave_no_kafka_client_behind(infra, topic_name, reporting):
    # One stopped client's cycles per request piled up in the old generation: the soak's memory growth.
    http, _ = reporting
    await publish(infra.bootstrap_servers, topic_name)

    async def status_requests() -> None:
        for _ in range(3):
            assert (await http.get("/status", headers=auth())).status_code == 200

    assert await kafka_clients_left_after(status_requests) == 0
