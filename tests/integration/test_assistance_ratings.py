"""Satisfaction ratings over real HTTP and Postgres: a rating names a service of the case and is credited
to who gave it; anything else is refused naming the field and writes nothing (issue 19)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import psycopg
import pytest

from tests.integration.assistance_client import ANALYST, VILLAGE_CLERK, assistance_stack
from tests.integration.registration_client import count

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(infra):
    async with assistance_stack(infra) as running:
        yield running


def case_events(stack, case_id: str) -> list[tuple[str, str, str | None]]:
    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT event_id::text, type, metadata->>'actor' FROM assistance.events WHERE stream_id = %s"
            " ORDER BY version",
            (case_id,),
        ).fetchall()
    return [(str(r[0]), str(r[1]), r[2]) for r in rows]


async def test_a_rating_is_credited_to_who_gave_the_service_once(stack) -> None:
    person = await stack.person()
    await stack.sync()
    case_id = (await stack.case_of(person))["case_id"]
    given_on = date.today() - timedelta(days=3)
    guided = await stack.assistance.post(
        f"/cases/{case_id}/guidance",
        json={"topic": "求职技巧", "outcome": "已制定求职计划", "given_on": str(given_on)},
        headers=VILLAGE_CLERK,
    )
    assert guided.status_code == 200, guided.text
    [(opened, _, _), (service, kind, actor)] = case_events(stack, case_id)
    assert (kind, actor) == ("VocationalGuidanceGiven", "village-clerk")
    before = count(stack.database_url, "SELECT count(*) FROM assistance.events")
    for body, field, rule in (
        ({"service_event_id": str(uuid.uuid4()), "score": 4}, "service_event_id", "RatedServiceOnCase"),
        ({"service_event_id": opened, "score": 4}, "service_event_id", "RatedEventIsAService"),
        (
            {"service_event_id": service, "score": 4, "rated_on": str(given_on - timedelta(days=1))},
            "rated_on",
            "RatingAfterService",
        ),
        ({"service_event_id": service, "score": 6}, "score", None),
        ({"service_event_id": "not-an-id", "score": 4}, "service_event_id", None),
        (
            {"service_event_id": service, "score": 4, "rated_on": str(date.today() + timedelta(days=1))},
            "rated_on",
            None,
        ),
    ):
        refused = await stack.assistance.post(f"/cases/{case_id}/ratings", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["field"] == field or field in refused.text, refused.text
        if rule:
            assert refused.json()["rule"] == rule
    assert count(stack.database_url, "SELECT count(*) FROM assistance.events") == before
    rated = await stack.assistance.post(f"/cases/{case_id}/ratings", json={"service_event_id": service, "score": 4})
    assert rated.status_code == 200, rated.text
    data = rated.json()["events"][0]["data"]
    assert (data["staff"], data["score"], data["service_type"]) == ("village-clerk", 4, "VocationalGuidanceGiven")
    assert case_events(stack, case_id)[-1][2] == "county-officer"  # recorded by the officer, credited to the clerk
    assert (await stack.case_of(person))["services"] == 1  # a rating is not a service
    again = await stack.assistance.post(f"/cases/{case_id}/ratings", json={"service_event_id": service, "score": 5})
    assert again.status_code == 422 and again.json()["rule"] == "ServiceRatedOnce"
    analyst = await stack.assistance.post(
        f"/cases/{case_id}/ratings", json={"service_event_id": service, "score": 5}, headers=ANALYST
    )
    assert analyst.status_code == 403
