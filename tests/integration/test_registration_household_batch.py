"""``POST /households/batch`` through the registration API: many households entered as ``POST /households``
enters one, with a past ``entered_on``, one result per item, the good ones committed together."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.test_registration_households import family
from tests.integration.test_registration_persons import (
    OTHER_VILLAGE,
    TODAY,
    VILLAGE,
    events_of,
    id_number,
    register,
    registration_client,
    sql,
    token,
)

pytestmark = pytest.mark.integration

client = registration_client


def _household(head: str, *others: str, entered_on: date | None = None, region: str = VILLAGE) -> dict[str, Any]:
    members = [{"person_id": head, "relation": "head"}, *({"person_id": o, "relation": "child"} for o in others)]
    body: dict[str, Any] = {"region_code": region, "members": members}
    if entered_on is not None:
        body["entered_on"] = str(entered_on)
    return body


async def _batch(client, items: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    response = await client.post("/households/batch", json={"items": items}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_households_are_entered_at_their_past_day_and_a_refused_item_leaves_the_others(client):
    a1, a2, b1, c1 = await family(client, 4)
    entered = TODAY - timedelta(days=400)
    body = await _batch(
        client,
        [
            _household(a1, a2, entered_on=entered),
            _household(b1, a2),  # a2 is in the first item already: 409 naming it and that household
            _household(c1),
        ],
    )
    assert (body["created"], body["conflicts"], body["rejected"]) == (2, 1, 0)
    first, taken, third = body["results"]
    assert (first["status"], taken["status"], third["status"]) == (201, 409, 201)
    assert taken["problem"]["person_id"] == a2
    assert taken["problem"]["household_id"] == first["household"]["household_id"]
    [(kind, data)] = events_of(client, first["household"]["household_id"])
    assert kind == "HouseholdCreated" and data["entered_on"] == str(entered) and len(data["members"]) == 2
    assert events_of(client, third["household"]["household_id"])[0][1]["entered_on"] is None
    # the rows are those POST /households writes: the member list and the household read back
    read = await client.get(f"/households/{first['household']['household_id']}")
    assert read.status_code == 200 and [m["person_id"] for m in read.json()["members"]] == [a1, a2]
    assert sql(client, "SELECT count(*) FROM registration.household_members")[0][0] == 3
    # a second batch finds every member in a household: 409 for each, nothing written
    again = await _batch(client, [_household(a1, a2, entered_on=entered), _household(c1)])
    assert [r["status"] for r in again["results"]] == [409, 409]
    assert again["results"][1]["problem"]["household_id"] == third["household"]["household_id"]
    assert sql(client, "SELECT count(*) FROM registration.events WHERE type = 'HouseholdCreated'")[0][0] == 2


async def test_bad_items_are_named_by_field_and_write_nothing(client):
    head, other = await family(client, 2)
    elsewhere = (await register(client, id_number(date(1980, 1, 1), 40), region_code=OTHER_VILLAGE))["person_id"]
    body = await _batch(
        client,
        [
            _household(head, entered_on=TODAY + timedelta(days=1)),
            _household(str(uuid.uuid4())),
            {"region_code": VILLAGE, "members": [{"person_id": head, "relation": "boss"}]},
            {"region_code": VILLAGE, "members": [{"person_id": head, "relation": "child"}]},
            _household(head, region="430527100000"),
            _household(head, head),
            {"members": [{"person_id": other, "relation": "head"}]},
        ],
    )
    assert [r["status"] for r in body["results"]] == [422] * 7
    fields = [r["problem"]["field"] for r in body["results"]]
    assert fields == [
        "entered_on",
        "person_id",
        "members.0.relation",
        "members",
        "region_code",
        "members",
        "region_code",
    ]
    rules = [r["problem"]["rule"] for r in body["results"]]
    assert rules[0:2] == ["EntryNotInFuture", "MemberIsInLedger"]
    assert rules[3:6] == ["OneHeadPerHousehold", "HouseholdLivesInVillageOrCommunity", "MemberListedOnce"]
    township = token("township", "430527100000")
    scoped = await _batch(client, [_household(elsewhere), _household(other)], **township)
    assert [r["status"] for r in scoped["results"]] == [403, 201]
    analyst = await client.post("/households/batch", json={"items": [_household(head)]}, headers=token("analyst"))
    assert analyst.status_code == 403
    assert sql(client, "SELECT count(*) FROM registration.events WHERE type = 'HouseholdCreated'")[0][0] == 1


async def test_a_retry_with_the_same_key_answers_the_first(client):
    [head] = await family(client, 1)
    items = [_household(head, entered_on=TODAY - timedelta(days=30))]
    first = await client.post("/households/batch", json={"items": items}, headers={"Idempotency-Key": "hh-1"})
    again = await client.post("/households/batch", json={"items": items}, headers={"Idempotency-Key": "hh-1"})
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert sql(client, "SELECT count(*) FROM registration.events WHERE type = 'HouseholdCreated'")[0][0] == 1


async def test_the_single_route_takes_the_past_day_too(client):
    [head] = await family(client, 1)
    entered = TODAY - timedelta(days=90)
    response = await client.post("/households", json=_household(head, entered_on=entered))
    assert response.status_code == 201, response.text
    assert events_of(client, response.json()["household_id"])[0][1]["entered_on"] == str(entered)
    future = await client.post("/households", json=_household(head, entered_on=TODAY + timedelta(days=1)))
    assert (future.status_code, future.json()["rule"]) == (422, "EntryNotInFuture")
