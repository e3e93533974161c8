"""Cases over real HTTP and Postgres: opened from registration's unemployment registration, kept current,
services recorded, placement publishing ``PlacedInJob``; bad input and steps out of order write nothing."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import psycopg
import pytest

from tests.integration.assistance_client import ANALYST, OTHER_VILLAGE, VILLAGE_CLERK, assistance_stack, token
from tests.integration.registration_client import count

pytestmark = pytest.mark.integration

TODAY = date.today()


@pytest.fixture
async def stack(infra):
    async with assistance_stack(infra) as running:
        yield running


def events(stack, stream_id: str) -> list[str]:
    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute("SELECT type FROM assistance.events WHERE stream_id = %s ORDER BY version", (stream_id,))
        return [r[0] for r in rows.fetchall()]


async def test_unemployment_registration_opens_a_case_that_knows_the_person(stack) -> None:
    person = await stack.person(birth=date(1980, 5, 1), hukou="urban", sex="female")
    await stack.sync()
    case = await stack.case_of(person)
    assert (case["is_open"], case["status"], case["region_code"]) == (True, "registered_unemployed", "430527100201")
    assert case["indicated_categories"] == ["aged_4050"]
    # Redelivery or a second registration event never opens a second case.
    stack.position = 0
    await stack.sync()
    assert events(stack, case["case_id"]) == ["CaseOpened"]


async def test_a_move_moves_the_case_and_reemployment_closes_it(stack) -> None:
    person = await stack.person()
    await stack.sync()
    moved = await stack.registration.post(
        f"/persons/{person}/moves", json={"region_code": OTHER_VILLAGE, "moved_on": str(TODAY)}
    )
    assert moved.status_code == 200, moved.text
    await stack.sync()
    assert (await stack.case_of(person))["region_code"] == OTHER_VILLAGE
    hired = await stack.registration.post(
        f"/persons/{person}/employment", json={"kind": "unit", "started_on": str(TODAY)}
    )
    assert hired.status_code in (200, 201), hired.text
    await stack.sync()
    case = await stack.case_of(person)
    assert (case["is_open"], case["close_reason"], case["status"]) == (False, "reemployed", "employed")


async def test_services_are_recorded_with_when_and_outcome(stack) -> None:
    person = await stack.person()
    _, vacancy = await stack.vacancy("叉车司机", requirements="持叉车证")
    await stack.sync()
    case_id = (await stack.case_of(person))["case_id"]
    base = f"/cases/{case_id}"
    for path, body in [
        ("/guidance", {"topic": "求职技巧", "outcome": "已制定求职计划"}),
        ("/home-visits", {"findings": "家中两人失业", "needs": ["技能培训"]}),
        ("/entrepreneurship", {"kind": "project_advice", "outcome": "推荐竹木加工项目"}),
        ("/business-loan-reviews", {"amount_fen": 15_000_000, "passed": True}),
    ]:
        response = await stack.assistance.post(base + path, json=body)
        assert response.status_code == 200, (path, response.text)
    training = await stack.assistance.post(
        base + "/trainings", json={"occupation": "叉车司机", "provider": "县职业中专"}
    )
    training_id = training.json()["events"][0]["data"]["training_id"]
    done = await stack.assistance.post(f"{base}/trainings/{training_id}/completion", json={"certificate": "叉车证"})
    assert done.status_code == 200, done.text
    referral = await stack.assistance.post(base + "/referrals", json={"vacancy_id": vacancy})
    assert referral.status_code == 200, referral.text
    referral_id = referral.json()["events"][0]["data"]["referral_id"]
    outcome = await stack.assistance.post(f"{base}/referrals/{referral_id}/outcome", json={"outcome": "no_show"})
    assert outcome.status_code == 200, outcome.text
    case = await stack.case_of(person)
    assert case["services"] == 6
    assert case["referrals"] == [{"referral_id": referral_id, "vacancy_id": vacancy, "outcome": "no_show"}]
    assert events(stack, case_id)[-1] == "ReferralOutcomeRecorded"
    history = count(
        stack.database_url,
        "SELECT count(*) FROM assistance.events"
        f" WHERE stream_id = '{case_id}' AND metadata->>'actor' = 'county-officer'",
    )
    assert history == 8


async def test_loan_over_the_cap_and_a_future_date_are_refused_and_write_nothing(stack) -> None:
    person = await stack.person()
    await stack.sync()
    case_id = (await stack.case_of(person))["case_id"]
    before = events(stack, case_id)
    over = await stack.assistance.post(
        f"/cases/{case_id}/business-loan-reviews", json={"amount_fen": 20_000_001, "passed": True}
    )
    assert over.status_code == 422
    assert (over.json()["rule"], over.json()["field"]) == ("BusinessLoanWithinCap", "amount_fen")
    future = await stack.assistance.post(
        f"/cases/{case_id}/guidance", json={"topic": "t", "outcome": "o", "given_on": str(TODAY + timedelta(days=1))}
    )
    assert (future.status_code, future.json()["rule"], future.json()["field"]) == (422, "DateNotInFuture", "given_on")
    floats = await stack.assistance.post(
        f"/cases/{case_id}/business-loan-reviews", json={"amount_fen": 1.5, "passed": True}
    )
    assert floats.status_code == 422 and floats.json()["field"] == "amount_fen"
    closed_vacancy = await stack.assistance.post(f"/cases/{case_id}/referrals", json={"vacancy_id": "nope"})
    assert closed_vacancy.json()["rule"] == "ReferralToOpenVacancy"
    assert events(stack, case_id) == before


async def test_placement_publishes_placed_in_job_and_closes_the_case(stack) -> None:
    person = await stack.person()
    employer, vacancy = await stack.vacancy()
    await stack.sync()
    case = await stack.case_of(person)
    stale = await stack.assistance.post(
        f"/cases/{case['case_id']}/placement",
        json={"kind": "unit", "started_on": str(TODAY)},
        headers={"If-Match": '"7"'},
    )
    assert stale.status_code == 409
    placed = await stack.assistance.post(
        f"/cases/{case['case_id']}/placement",
        json={"kind": "unit", "employer_id": employer, "vacancy_id": vacancy, "started_on": str(TODAY)},
        headers={"If-Match": f'"{case["version"]}"'},
    )
    assert placed.status_code == 200, placed.text
    assert placed.headers["ETag"] == f'"{case["version"] + 1}"'
    [event] = placed.json()["events"]
    assert (event["type"], event["data"]["kind"], event["data"]["vacancy_id"]) == ("PlacedInJob", "unit", vacancy)
    again = await stack.assistance.post(
        f"/cases/{case['case_id']}/placement", json={"kind": "unit", "started_on": str(TODAY)}
    )
    assert (again.status_code, again.json()["rule"]) == (422, "CaseIsOpen")


async def test_case_on_request_scope_and_analysts(stack) -> None:
    person = await stack.person(unemployed=False)
    missing = await stack.assistance.post("/cases", json={"person_id": "00000000-0000-4000-8000-000000000000"})
    assert (missing.status_code, missing.json()["rule"]) == (422, "PersonInLedger")
    await stack.sync()
    other = token("village", OTHER_VILLAGE, "other-clerk")
    assert (await stack.assistance.post("/cases", json={"person_id": person}, headers=other)).status_code == 403
    opened = await stack.assistance.post("/cases", json={"person_id": person}, headers=VILLAGE_CLERK)
    assert opened.status_code == 201, opened.text
    twice = await stack.assistance.post("/cases", json={"person_id": person}, headers=VILLAGE_CLERK)
    assert twice.json()["rule"] == "OneOpenCasePerPerson"
    assert (await stack.assistance.get(f"/persons/{person}/case", headers=ANALYST)).status_code == 403
    listed = await stack.assistance.get("/regions/430527100000/cases")
    assert [c["person_id"] for c in listed.json()["cases"]] == [person]


async def test_matches_rank_vacancies_and_say_why(stack) -> None:
    person = await stack.person()
    await stack.vacancy("厨师", positions=1)
    _, forklift = await stack.vacancy("叉车司机", requirements="持叉车证")
    await stack.sync()
    case_id = (await stack.case_of(person))["case_id"]
    profile = await stack.assistance.put(
        f"/cases/{case_id}/profile",
        json={"occupations": ["叉车司机"], "skills": ["叉车"], "expected_wage_fen": 250_000},
    )
    assert profile.status_code == 200, profile.text
    ranked = (await stack.assistance.get(f"/persons/{person}/matches")).json()["matches"]
    assert ranked[0]["vacancy_id"] == forklift
    assert ranked[0]["score"] > ranked[1]["score"]
    assert "same township" in ranked[0]["reasons"]
    assert any("叉车司机 is one the person seeks" in r for r in ranked[0]["reasons"])


async def test_concurrent_services_without_if_match_are_all_recorded(stack) -> None:
    person = await stack.person()
    await stack.sync()
    case_id = (await stack.case_of(person))["case_id"]
    body = {"topic": "求职技巧", "outcome": "已指导"}
    answers = await asyncio.gather(*(stack.assistance.post(f"/cases/{case_id}/guidance", json=body) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200]
    assert sorted(a.json()["version"] for a in answers) == [2, 3, 4]


async def test_a_retried_service_with_an_idempotency_key_is_recorded_once(stack) -> None:
    person = await stack.person()
    await stack.sync()
    case_id = (await stack.case_of(person))["case_id"]
    body = {"findings": "家中无人就业", "needs": ["公益性岗位"]}
    key = {"Idempotency-Key": "visit-2026-12-03"}
    first = await stack.assistance.post(f"/cases/{case_id}/home-visits", json=body, headers=key)
    again = await stack.assistance.post(f"/cases/{case_id}/home-visits", json=body, headers=key)
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (200, 200, "true")
    assert again.json() == first.json()
    assert events(stack, case_id) == ["CaseOpened", "HomeVisited"]


async def test_a_batch_of_registrations_opens_every_case_in_the_order_of_each_persons_events(stack) -> None:
    """One consumer batch holding many registrations and unemployment registrations (applied set-based)
    and, for one person, unemployment, its deregistration and a new unemployment: every case is opened
    once with the categories of its person, and the re-registered person's case was closed and reopened."""
    persons = [await stack.person(birth=date(1975 + i % 2 * 20, 5, 1), sex="female", hukou="urban") for i in range(12)]
    again = await stack.person()
    deregistered = await stack.registration.post(
        f"/persons/{again}/unemployment/deregistration", json={"reason": "stopped_seeking_work"}
    )
    assert deregistered.status_code == 200, deregistered.text
    response = await stack.registration.post(f"/persons/{again}/unemployment", json={})
    assert response.status_code in (200, 201), response.text
    assert await stack.sync() > 2 * len(persons)  # everything above in one apply
    for i, person in enumerate(persons):
        case = await stack.case_of(person)
        assert (case["is_open"], case["status"]) == (True, "registered_unemployed"), person
        assert case["indicated_categories"] == (["aged_4050"] if i % 2 == 0 else []), person
    case = await stack.case_of(again)
    assert case["is_open"] is True
    assert events(stack, case["case_id"]) == ["CaseOpened", "CaseClosed", "CaseOpened"]
    with psycopg.connect(stack.database_url) as conn:
        opened = conn.execute("SELECT count(*) FROM assistance.events WHERE type = 'CaseOpened'").fetchone()
        listed = conn.execute("SELECT count(*) FROM assistance.cases WHERE is_open").fetchone()
    assert opened == (len(persons) + 2,) and listed == (len(persons) + 1,)


async def test_a_plain_service_answers_as_the_route_does(stack) -> None:
    """Plain requests of the case services skip FastAPI (``CommandShortcut``); one with If-Match goes through
    the route. Both answer the same: the change, its version as ETag, and the same problems."""
    person = await stack.person()
    await stack.sync()
    case_id = (await stack.case_of(person))["case_id"]
    body = {"topic": "求职技巧", "outcome": "已制定求职计划", "given_on": str(TODAY)}
    plain = await stack.assistance.post(f"/cases/{case_id}/guidance", json=body)
    routed = await stack.assistance.post(f"/cases/{case_id}/guidance", json=body, headers={"If-Match": '"2"'})
    assert (plain.status_code, plain.headers["ETag"], routed.status_code, routed.headers["ETag"]) == (
        200,
        '"2"',
        200,
        '"3"',
    )
    assert {**plain.json(), "version": 3} == routed.json()
    assert plain.json()["events"][0]["type"] == "VocationalGuidanceGiven"
    stale = await stack.assistance.post(f"/cases/{case_id}/guidance", json=body, headers={"If-Match": '"2"'})
    assert (stale.status_code, stale.json()["field"]) == (409, "If-Match")
    missing = await stack.assistance.post("/cases/0b8e7f6a-4b7d-4c1e-9a53-2d0b6f1c2a9e/guidance", json=body)
    assert (missing.status_code, missing.headers["content-type"], missing.json()["field"]) == (
        404,
        "application/problem+json",
        "case_id",
    )
    outside = await stack.assistance.post(
        f"/cases/{case_id}/guidance", json=body, headers=token("village", OTHER_VILLAGE, "other-clerk")
    )
    assert outside.status_code == 403
    analyst = await stack.assistance.post(f"/cases/{case_id}/guidance", json=body, headers=ANALYST)
    assert analyst.status_code == 403
    assert events(stack, case_id) == ["CaseOpened", "VocationalGuidanceGiven", "VocationalGuidanceGiven"]
