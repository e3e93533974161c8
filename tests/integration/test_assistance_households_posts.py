"""Zero-employment households and public-welfare posts over real HTTP and Postgres: detection from
registration's snapshots, township confirmation, clearing by placement with days against the target, the
overdue list; posts filled by certified persons (placing them), full posts refused, posts ending soon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.registration import HouseholdCreated, HouseholdMember
from tests.factories import envelope
from tests.integration.assistance_client import TOWNSHIP_CLERK, VILLAGE, VILLAGE_CLERK, assistance_stack, certify

pytestmark = pytest.mark.integration

TODAY = date.today()
HOUSEHOLD = "5b0f8a52-3c1e-4f7a-9d2b-6e4c8a1f0b21"


@pytest.fixture
async def stack(infra):
    async with assistance_stack(infra) as running:
        yield running


async def zero_household(stack) -> tuple[str, str, str]:
    first, second = await stack.person(), await stack.person(sex="female")
    household = await stack.household(first, second)
    await stack.sync()
    return household, first, second


async def listed(stack, stage: str) -> list[dict]:
    response = await stack.assistance.get(f"/regions/430527100000/zero-employment-households?stage={stage}")
    assert response.status_code == 200, response.text
    return list(response.json()["households"])


async def test_household_of_two_unemployed_is_detected_confirmed_and_cleared_by_placement(stack) -> None:
    household, first, _ = await zero_household(stack)
    status = await stack.assistance.get(f"/households/{household}/zero-employment")
    assert status.status_code == 200, status.text
    assert status.json()["stage"] == "detected"
    path = f"/households/{household}/zero-employment"
    by_village = await stack.assistance.post(f"{path}/confirmation", json={}, headers=VILLAGE_CLERK)
    assert by_village.status_code == 403
    confirmed = await stack.assistance.post(f"{path}/confirmation", json={}, headers=TOWNSHIP_CLERK)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["events"][0]["data"]["clear_by"] >= str(TODAY + timedelta(days=30))
    assert [h["household_id"] for h in await listed(stack, "confirmed")] == [household]
    assert await listed(stack, "overdue") == []
    twice = await stack.assistance.post(f"{path}/confirmation", json={}, headers=TOWNSHIP_CLERK)
    assert (twice.status_code, twice.json()["rule"]) == (422, "ConfirmationFollowsDetection")

    case_id = (await stack.case_of(first))["case_id"]
    placed = await stack.assistance.post(
        f"/cases/{case_id}/placement", json={"kind": "flexible", "started_on": str(TODAY)}
    )
    assert placed.status_code == 200, placed.text
    assert await listed(stack, "outstanding") == []
    [cleared] = await listed(stack, "cleared")
    assert (cleared["household_id"], cleared["days_outstanding"]) == (household, 0)
    # Registration's worker records the employment; its snapshot then changes nothing here.
    hired = await stack.registration.post(
        f"/persons/{first}/employment", json={"kind": "flexible", "started_on": str(TODAY)}
    )
    assert hired.status_code in (200, 201), hired.text
    await stack.sync()
    assert (await stack.assistance.get(path)).json()["stage"] == "none"


async def test_household_confirmed_40_days_ago_is_on_the_overdue_list(stack) -> None:
    first, second = await stack.person(), await stack.person(sex="female")
    await stack.sync()
    # Registration recorded the household 45 days ago (its snapshot's envelope says when).
    members = [
        HouseholdMember(person_id=p, relation=r, working_age=True, status="registered_unemployed")
        for p, r in ((first, "head"), (second, "spouse"))
    ]
    created = HouseholdCreated(household_id=HOUSEHOLD, region_code=VILLAGE, head_person_id=first, members=members)
    old = envelope(created.event_type, stream_id=HOUSEHOLD, stream_type="household", **created.model_dump(mode="json"))
    old = old.model_copy(update={"occurred_at": datetime.now(UTC) - timedelta(days=45)})
    async with stack.pool.connection() as conn, conn.transaction():
        await stack.reactions.apply(conn, [old])
    confirmed = await stack.assistance.post(
        f"/households/{HOUSEHOLD}/zero-employment/confirmation",
        json={"confirmed_on": str(TODAY - timedelta(days=40))},
        headers=TOWNSHIP_CLERK,
    )
    assert confirmed.status_code == 200, confirmed.text
    [overdue] = await listed(stack, "overdue")
    assert (overdue["household_id"], overdue["days_outstanding"]) == (HOUSEHOLD, 40)
    refused = await stack.assistance.post(
        f"/households/{HOUSEHOLD}/zero-employment/refusal", json={}, headers=TOWNSHIP_CLERK
    )
    assert refused.status_code == 200, refused.text
    [cleared] = await listed(stack, "cleared")
    assert (cleared["days_outstanding"], refused.json()["events"][0]["data"]["within_target"]) == (40, False)


async def test_household_entered_from_a_paper_ledger_is_detected_on_its_entry_day(stack) -> None:
    first = await stack.person()
    await stack.sync()
    entered = TODAY - timedelta(days=200)
    members = [HouseholdMember(person_id=first, relation="head", working_age=True, status="registered_unemployed")]
    created = HouseholdCreated(
        household_id=HOUSEHOLD, region_code=VILLAGE, head_person_id=first, members=members, entered_on=entered
    )
    recorded = envelope(
        created.event_type, stream_id=HOUSEHOLD, stream_type="household", **created.model_dump(mode="json")
    )
    async with stack.pool.connection() as conn, conn.transaction():
        await stack.reactions.apply(conn, [recorded])
    [detected] = await listed(stack, "detected")
    assert (detected["household_id"], detected["detected_on"]) == (HOUSEHOLD, str(entered))


async def test_detected_household_clears_itself_when_a_member_finds_work(stack) -> None:
    household, _, second = await zero_household(stack)
    hired = await stack.registration.post(
        f"/persons/{second}/employment", json={"kind": "unit", "started_on": str(TODAY)}
    )
    assert hired.status_code in (200, 201), hired.text
    await stack.sync()
    assert (await stack.assistance.get(f"/households/{household}/zero-employment")).json()["stage"] == "none"
    assert await listed(stack, "outstanding") == []


async def test_posts_place_certified_persons_and_refuse_when_full(stack) -> None:
    household, first, second = await zero_household(stack)
    await stack.assistance.post(
        f"/households/{household}/zero-employment/confirmation", json={}, headers=TOWNSHIP_CLERK
    )
    too_long = await stack.assistance.post(
        "/public-welfare-posts",
        json={
            "region_code": "430527100000",
            "unit": "长铺镇人民政府",
            "title": "保洁员",
            "positions": 1,
            "monthly_subsidy_fen": 150_000,
            "term_starts_on": str(TODAY),
            "term_ends_on": str(TODAY + timedelta(days=3 * 366 + 1)),
        },
    )
    assert (too_long.status_code, too_long.json()["rule"]) == (422, "PostTermAtMostThreeYears")
    created = await stack.assistance.post(
        "/public-welfare-posts",
        json={
            "region_code": "430527100000",
            "unit": "长铺镇人民政府",
            "title": "保洁员",
            "positions": 1,
            "monthly_subsidy_fen": 150_000,
            "term_starts_on": str(TODAY - timedelta(days=60)),
            "term_ends_on": str(TODAY + timedelta(days=20)),
        },
        headers=TOWNSHIP_CLERK,
    )
    assert created.status_code == 201, created.text
    post = created.json()["id"]
    uncertified = await stack.assistance.post(
        f"/public-welfare-posts/{post}/fills", json={"person_id": first, "started_on": str(TODAY)}
    )
    assert (uncertified.status_code, uncertified.json()["rule"]) == (422, "PostForCertifiedHardToEmploy")
    for person in (first, second):
        await certify(stack, person, categories=["disabled"], evidence=["残疾人证"])
    filled = await stack.assistance.post(
        f"/public-welfare-posts/{post}/fills", json={"person_id": first, "started_on": str(TODAY)}
    )
    assert filled.status_code == 200, filled.text
    assert (await stack.case_of(first))["close_reason"] == "placed"
    assert (await stack.assistance.get(f"/households/{household}/zero-employment")).json()["stage"] == "none"
    full = await stack.assistance.post(
        f"/public-welfare-posts/{post}/fills", json={"person_id": second, "started_on": str(TODAY)}
    )
    assert (full.status_code, full.json()["rule"]) == (422, "PostHasVacancy")
    view = (await stack.assistance.get(f"/public-welfare-posts/{post}")).json()
    assert (view["vacant"], list(view["occupants"])) == (0, [first])
    ending = (await stack.assistance.get("/regions/430527/public-welfare-posts?ending_within_days=30")).json()["posts"]
    assert [(p["post_id"], p["filled"]) for p in ending] == [(post, 1)]
    assert (await stack.assistance.get("/regions/430527/public-welfare-posts?ending_within_days=10")).json()[
        "posts"
    ] == []
    exited = await stack.assistance.post(
        f"/public-welfare-posts/{post}/exits", json={"person_id": first, "reason": "本人辞职"}
    )
    assert exited.status_code == 200, exited.text
    early_end = await stack.assistance.post(f"/public-welfare-posts/{post}/term-end", json={})
    assert (early_end.status_code, early_end.json()["rule"]) == (422, "PostTermReached")
