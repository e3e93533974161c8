"""Hard-to-employ certification over real HTTP and Postgres: village applies, township reviews and
publishes the notice, county decides; maker-checker, level rules and steps out of order are refused
and write nothing; the certified status is its own stream and ends on re-employment."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from contracts.registration import PersonMoved
from services.runtime.eventstore import Metadata
from tests.factories import envelope
from tests.integration.assistance_client import (
    COUNTY_OFFICER,
    TOWNSHIP_CLERK,
    VILLAGE,
    VILLAGE_CLERK,
    assistance_stack,
    certify,
    token,
)

pytestmark = pytest.mark.integration

TODAY = date.today()
ELSEWHERE = "330503100201"


@pytest.fixture
async def stack(infra):
    async with assistance_stack(infra) as running:
        yield running


def stored(stack) -> int:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM assistance.events").fetchone()
    assert row is not None
    return int(row[0])


async def apply(stack, person: str, **body):
    payload = {"person_id": person, "applied_on": str(TODAY - timedelta(days=30)), **body}
    return await stack.assistance.post("/hard-to-employ/applications", json=payload, headers=VILLAGE_CLERK)


async def test_three_levels_certify_a_4050_woman_from_the_ledgers_events(stack) -> None:
    person = await stack.person(birth=date(1980, 5, 2), sex="female", hukou="urban")
    await stack.sync()
    application_id, certification_id = await certify(stack, person)
    application = (await stack.assistance.get(f"/hard-to-employ/applications/{application_id}")).json()
    assert (application["stage"], application["reviewed_by"]) == ("certified", "township-clerk")
    status = await stack.assistance.get(f"/hard-to-employ/certifications/{certification_id}")
    assert status.status_code == 200, status.text
    assert (status.json()["categories"], status.json()["active"]) == (["aged_4050"], True)
    assert status.json()["review_on"] == str(TODAY.replace(year=TODAY.year + 1))
    again = await apply(stack, person, categories=["disabled"], evidence=["残疾人证"])
    assert (again.status_code, again.json()["rule"]) == (422, "NotAlreadyCertified")
    history = (await stack.assistance.get(f"/streams/{application_id}/history")).json()["entries"]
    assert [(e["type"], e["actor"]) for e in history] == [
        ("HardToEmployApplied", "village-clerk"),
        ("HardToEmployReviewed", "township-clerk"),
        ("HardToEmployDecided", "county-officer"),
    ]
    due = "/regions/430527100000/hard-to-employ/review-due?within_days="
    assert (await stack.assistance.get(due + "30")).json()["certifications"] == []
    [listed] = (await stack.assistance.get(due + "400")).json()["certifications"]
    assert listed["certification_id"] == certification_id


async def test_steps_out_of_order_and_at_the_wrong_level_are_refused_and_write_nothing(stack) -> None:
    person = await stack.person()
    await stack.sync()
    typed = await apply(stack, person, categories=["aged_4050"], evidence=["x"])
    assert (typed.status_code, typed.json()["rule"], typed.json()["field"]) == (
        422,
        "ComputedCategoryNotTyped",
        "categories",
    )
    nobody = await apply(stack, "00000000-0000-4000-8000-000000000000", categories=["disabled"], evidence=["x"])
    assert (nobody.status_code, nobody.json()["rule"]) == (422, "PersonInLedger")
    at_county = await stack.assistance.post(
        "/hard-to-employ/applications",
        json={"person_id": person, "categories": ["disabled"], "evidence": ["残疾人证"]},
        headers=COUNTY_OFFICER,
    )
    assert at_county.status_code == 403
    before = stored(stack)
    applied = await apply(stack, person, categories=["disabled"], evidence=["残疾人证"])
    assert applied.status_code == 201, applied.text
    app_id = applied.json()["id"]
    path = f"/hard-to-employ/applications/{app_id}"
    early = await stack.assistance.post(f"{path}/decision", json={"certify": True}, headers=COUNTY_OFFICER)
    assert (early.status_code, early.json()["rule"]) == (422, "DecisionFollowsReview")
    by_village = await stack.assistance.post(f"{path}/review", json={"passed": True}, headers=VILLAGE_CLERK)
    assert by_village.status_code == 403
    reviewed = await stack.assistance.post(
        f"{path}/review", json={"passed": True, "reviewed_on": str(TODAY - timedelta(days=1))}, headers=TOWNSHIP_CLERK
    )
    assert reviewed.status_code == 200, reviewed.text
    notice_ends = reviewed.json()["events"][0]["data"]["notice_ends_on"]
    assert date.fromisoformat(notice_ends) >= TODAY + timedelta(days=3)
    during = await stack.assistance.post(f"{path}/decision", json={"certify": True}, headers=COUNTY_OFFICER)
    assert (during.status_code, during.json()["rule"]) == (422, "DecisionAfterPublicNotice")
    objection = await stack.assistance.post(f"{path}/objections", json={"objection": "其家庭有经营收入"})
    assert objection.status_code == 200, objection.text
    village_decides = await stack.assistance.post(f"{path}/decision", json={"certify": True}, headers=VILLAGE_CLERK)
    assert village_decides.status_code == 403
    assert stored(stack) == before + 3  # applied, reviewed, objection: nothing of the refused steps


async def test_the_reviewer_may_not_decide(stack) -> None:
    person = await stack.person()
    await stack.sync()
    applied = await apply(stack, person, categories=["disabled"], evidence=["残疾人证"])
    path = f"/hard-to-employ/applications/{applied.json()['id']}"
    reviewed = await stack.assistance.post(
        f"{path}/review", json={"passed": True, "reviewed_on": str(TODAY - timedelta(days=25))}, headers=TOWNSHIP_CLERK
    )
    assert reviewed.status_code == 200
    same_subject = token("county", "430527", "township-clerk")
    refused = await stack.assistance.post(f"{path}/decision", json={"certify": True}, headers=same_subject)
    assert (refused.status_code, refused.json()["rule"]) == (422, "ReviewerMayNotDecide")
    stale = await stack.assistance.post(
        f"{path}/decision", json={"certify": False, "reason": "x"}, headers={**COUNTY_OFFICER, "If-Match": '"1"'}
    )
    assert stale.status_code == 409
    refusal = await stack.assistance.post(f"{path}/decision", json={"certify": False}, headers=COUNTY_OFFICER)
    assert (refusal.status_code, refusal.json()["rule"]) == (422, "RefusalGivesReason")


async def test_reemployment_in_a_unit_ends_the_certified_status(stack) -> None:
    person = await stack.person()
    await stack.sync()
    _, certification_id = await certify(stack, person, categories=["disabled"], evidence=["残疾人证"])
    hired = await stack.registration.post(
        f"/persons/{person}/employment", json={"kind": "unit", "started_on": str(TODAY)}
    )
    assert hired.status_code in (200, 201), hired.text
    await stack.sync()
    status = (await stack.assistance.get(f"/hard-to-employ/certifications/{certification_id}")).json()
    assert (status["active"], status["end_reason"], status["ended_on"]) == (False, "reemployed", str(TODAY))
    with psycopg.connect(stack.database_url) as conn:
        types = [
            r[0]
            for r in conn.execute(
                "SELECT type FROM assistance.events WHERE stream_id = %s ORDER BY version", (certification_id,)
            ).fetchall()
        ]
    assert types == ["HardToEmployCertified", "HardToEmployStatusEnded"]
    ended = await stack.assistance.post(
        f"/hard-to-employ/certifications/{certification_id}/end", json={"reason": "revoked"}
    )
    assert (ended.status_code, ended.json()["rule"]) == (422, "CertificationActive")


async def test_a_move_out_of_the_county_ends_the_status_and_moves_the_case(stack) -> None:
    person = await stack.person()
    await stack.sync()
    _, certification_id = await certify(stack, person, categories=["disabled"], evidence=["残疾人证"])
    # Registration's ledger of another county (南浔区) is not this test county's: hand the event over directly.
    moved = PersonMoved(person_id=person, from_region_code=VILLAGE, region_code=ELSEWHERE, moved_on=TODAY)
    async with stack.pool.connection() as conn, conn.transaction():
        await stack.reactions.apply(
            conn, [envelope(moved.event_type, stream_id=person, version=9, **moved.model_dump(mode="json"))]
        )
    status = (await stack.assistance.get(f"/hard-to-employ/certifications/{certification_id}")).json()
    assert (status["active"], status["end_reason"]) == (False, "moved_away")
    # The case went with the person, out of this county officer's sight.
    assert (await stack.assistance.get(f"/persons/{person}/case")).status_code == 403
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute("SELECT region_code FROM assistance.cases WHERE person_id = %s", (person,)).fetchone()
    assert row == (ELSEWHERE,)


async def test_the_workers_sweep_ends_a_status_whose_review_date_passed(stack) -> None:
    person = await stack.person()
    await stack.sync()

    def days(n: int) -> str:
        return str(TODAY - timedelta(days=n))

    applied = await apply(stack, person, categories=["disabled"], evidence=["残疾人证"], applied_on=days(420))
    path = f"/hard-to-employ/applications/{applied.json()['id']}"
    await stack.assistance.post(
        f"{path}/review", json={"passed": True, "reviewed_on": days(410)}, headers=TOWNSHIP_CLERK
    )
    decided = await stack.assistance.post(f"{path}/decision", json={"certify": True, "decided_on": days(380)})
    assert decided.status_code == 200, decided.text
    certification_id = decided.json()["events"][0]["data"]["certification_id"]
    async with stack.pool.connection() as conn, conn.transaction():
        assert await stack.reactions.certifications.end_due(conn, TODAY, Metadata(actor="assistance")) == 1
    async with stack.pool.connection() as conn, conn.transaction():
        assert await stack.reactions.certifications.end_due(conn, TODAY, Metadata(actor="assistance")) == 0
    status = (await stack.assistance.get(f"/hard-to-employ/certifications/{certification_id}")).json()
    review_on = date.fromisoformat(days(380)).replace(year=date.fromisoformat(days(380)).year + 1)
    assert (status["active"], status["end_reason"], status["ended_on"]) == (False, "review_due", str(review_on))
