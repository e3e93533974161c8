"""Supervision's reactions on the real broker and Postgres: registration's employers become supervision's
view of employers; insurance's arrears open a monitoring item and make the employer B, their clearance makes
it A again; redelivered events change nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from contracts.insurance import EmployerArrearsCleared, EmployerArrearsReported
from contracts.registration import EmployerChanged, EmployerRegistered, FieldChange
from services.runtime import kafka
from services.runtime.consumer import EventConsumer
from services.runtime.db import open_pool
from services.supervision.reactions import SupervisionReactions
from tests.integration.helpers import envelope, eventually
from tests.integration.supervision_client import (
    TOWNSHIP,
    complaint_body,
    credit_code,
    events,
    supervision_client,
    token,
)

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 3)
OTHER_TOWNSHIP = "430527101000"


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with supervision_client(infra, today=TODAY) as http:
        yield http


def wrap(event, stream_type: str, stream_id: str, version: int = 1):
    return envelope(
        event.event_type,
        stream_id=stream_id,
        stream_type=stream_type,
        version=version,
        region=event.region_code,
        **event.model_dump(mode="json"),
    )


async def publish(bootstrap: str, topic: str, envelopes) -> None:
    await kafka.ensure_topics(bootstrap, [(topic, 3)])
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(topic, key=env.stream_id.encode(), value=env.model_dump_json().encode())
    finally:
        await producer.stop()


async def test_employers_and_arrears_reach_supervision_once(client, infra, topic_name):
    employer_id = str(uuid.uuid4())
    registered = wrap(
        EmployerRegistered(
            employer_id=employer_id, credit_code=credit_code(7), name="绥宁县竹木加工厂", region_code=TOWNSHIP
        ),
        "employer",
        employer_id,
    )
    moved = wrap(
        EmployerChanged(
            employer_id=employer_id,
            changes=[FieldChange(field="name", old="绥宁县竹木加工厂", new="绥宁县竹木制品有限公司")],
            region_code=OTHER_TOWNSHIP,
            from_region_code=TOWNSHIP,
        ),
        "employer",
        employer_id,
        2,
    )
    arrears = wrap(
        EmployerArrearsReported(
            employer_id=employer_id,
            region_code=OTHER_TOWNSHIP,
            months=["2026-09", "2026-10"],
            arrears_fen=2_345_600,
            surcharge_fen=11_728,
            workers=12,
            reported_on=TODAY,
        ),
        "employer_account",
        employer_id,
    )
    # A relay crash can publish the same event twice; the inbox keeps the second out.
    await publish(infra.bootstrap_servers, topic_name, [registered, moved, arrears, arrears])

    pool = open_pool(client.database_url, "supervision", min_size=1, max_size=4)
    await pool.open(wait=True)
    service = client.app.state.supervision
    consumer = EventConsumer(
        pool,
        SupervisionReactions(service.context.store, service.ratings),
        [topic_name],
        infra.bootstrap_servers,
        group_id=topic_name,
        retry_backoff=0.01,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def rated(grade: str) -> bool:
        response = await client.get(f"/employers/{employer_id}/rating", headers=token())
        return response.status_code == 200 and response.json()["grade"] == grade

    try:
        await eventually(lambda: rated("B"), timeout=60)
        rating = (await client.get(f"/employers/{employer_id}/rating", headers=token())).json()
        assert (rating["name"], rating["region_code"], rating["registered"]) == (
            "绥宁县竹木制品有限公司",
            OTHER_TOWNSHIP,
            True,
        )
        assert "23,456.00 yuan for 2 month(s)" in rating["reasons"][0]
        # A complaint can now name the registered employer by its id.
        filed = await client.post(
            "/complaints",
            json=complaint_body(region_code=OTHER_TOWNSHIP, employer={"employer_id": employer_id}),
            headers=token(),
        )
        assert filed.status_code == 201, filed.text
        assert filed.json()["employer"]["registered"] is True
        cleared = wrap(
            EmployerArrearsCleared(employer_id=employer_id, region_code=OTHER_TOWNSHIP, cleared_on=TODAY),
            "employer_account",
            employer_id,
            2,
        )
        await publish(infra.bootstrap_servers, topic_name, [cleared])
        await eventually(lambda: rated("A"), timeout=60)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await task
        await pool.close()

    kinds = [kind for kind, _ in events(client.database_url)]
    assert kinds.count("ArrearsMonitoringOpened") == 1 and kinds.count("ArrearsMonitoringClosed") == 1
    changes = [data for kind, data in events(client.database_url) if kind == "EmployerRatingChanged"]
    assert [(c["previous_grade"], c["grade"]) for c in changes] == [("A", "B"), ("B", "A")]
    assert "no insurance arrears open" in changes[1]["reasons"][0]
