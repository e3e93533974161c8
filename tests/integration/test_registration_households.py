"""Households (户) and the quarterly dynamic survey (动态调查) through the registration API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.registration.domain.survey import quarter_of
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

client = registration_client  # the registration API on a fresh database, as a fixture here too


async def family(client, size: int = 3) -> list[str]:
    births = [date(1975, 1, 1), date(1978, 6, 1), date(1950, 1, 1), date(2001, 9, 9)]
    return [(await register(client, id_number(births[n], 10 + n)))["person_id"] for n in range(size)]


async def test_a_household_snapshot_shows_working_age_and_status(client):
    head, spouse, grandparent = await family(client)
    response = await client.post(
        "/households",
        json={
            "region_code": VILLAGE,
            "members": [
                {"person_id": head, "relation": "head"},
                {"person_id": spouse, "relation": "spouse"},
                {"person_id": grandparent, "relation": "parent"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    household = response.json()
    assert household["head_person_id"] == head and household["version"] == 1
    assert [(m["working_age"], m["status"]) for m in household["members"]] == [
        (True, "not_in_labour_force"),
        (True, "not_in_labour_force"),
        (False, "not_in_labour_force"),
    ]
    [(kind, data)] = events_of(client, household["household_id"])
    assert kind == "HouseholdCreated" and len(data["members"]) == 3


async def test_a_member_status_change_appends_the_household_snapshot_in_the_same_transaction(client):
    head, spouse = await family(client, 2)
    household = (
        await client.post(
            "/households",
            json={"region_code": VILLAGE, "members": [{"person_id": head, "relation": "head"}]},
        )
    ).json()
    added = await client.post(
        f"/households/{household['household_id']}/members",
        json={"person_id": spouse, "relation": "spouse"},
        headers={"If-Match": "1"},
    )
    assert added.status_code == 200 and added.json()["version"] == 2
    hired = await client.post(f"/persons/{spouse}/employment", json={"kind": "flexible", "started_on": str(TODAY)})
    assert hired.status_code == 200
    # Both streams were appended by one statement: adjacent positions, one transaction.
    rows = sql(
        client,
        "SELECT position, type, data, xmin::text FROM registration.events WHERE type IN"
        " ('EmploymentRegistered', 'HouseholdEmploymentChanged') ORDER BY position",
    )
    assert [r[1] for r in rows] == ["EmploymentRegistered", "HouseholdEmploymentChanged"]
    assert rows[1][0] == rows[0][0] + 1 and rows[0][3] == rows[1][3]
    snapshot = rows[1][2]
    assert snapshot["person_id"] == spouse
    assert {m["person_id"]: m["status"] for m in snapshot["members"]} == {
        head: "not_in_labour_force",
        spouse: "employed",
    }
    shown = (await client.get(f"/households/{household['household_id']}")).json()
    assert shown["version"] == 3 and shown["members"][1]["status"] == "employed"
    # A change that leaves the status as it was publishes no snapshot.
    await client.put(f"/persons/{spouse}/categories", json={"categories": ["flexible_employment"]})
    assert (await client.get(f"/households/{household['household_id']}")).json()["version"] == 3


async def test_a_person_belongs_to_at_most_one_household(client):
    a, b = await family(client, 2)
    first = await client.post(
        "/households", json={"region_code": VILLAGE, "members": [{"person_id": a, "relation": "head"}]}
    )
    second = await client.post(
        "/households",
        json={
            "region_code": VILLAGE,
            "members": [{"person_id": b, "relation": "head"}, {"person_id": a, "relation": "child"}],
        },
    )
    assert second.status_code == 409
    assert second.json()["person_id"] == a and second.json()["household_id"] == first.json()["household_id"]
    assert sql(client, "SELECT count(*) FROM registration.households") == [(1,)]
    assert [t for (t,) in sql(client, "SELECT type FROM registration.events WHERE stream_type = 'household'")] == [
        "HouseholdCreated"
    ]


async def test_head_changes_before_the_head_leaves(client):
    a, b = await family(client, 2)
    created = (
        await client.post(
            "/households",
            json={
                "region_code": VILLAGE,
                "members": [{"person_id": a, "relation": "head"}, {"person_id": b, "relation": "spouse"}],
            },
        )
    ).json()
    hid = created["household_id"]
    refused = await client.delete(f"/households/{hid}/members/{a}", params={"reason": "moved_out"})
    assert refused.status_code == 422 and refused.json()["rule"] == "ChangeHeadBeforeRemovingHead"
    changed = await client.put(f"/households/{hid}/head", json={"person_id": b, "former_head_relation": "spouse"})
    assert changed.status_code == 200 and changed.json()["head_person_id"] == b
    removed = await client.delete(f"/households/{hid}/members/{a}", params={"reason": "moved_out"})
    assert removed.status_code == 200 and [m["person_id"] for m in removed.json()["members"]] == [b]
    # The one who left may now join another household.
    again = await client.post(
        "/households", json={"region_code": VILLAGE, "members": [{"person_id": a, "relation": "head"}]}
    )
    assert again.status_code == 201
    stale = await client.put(f"/households/{hid}/head", json={"person_id": b}, headers={"If-Match": "1"})
    assert stale.status_code == 409


async def test_household_bad_input_names_field_and_rule(client):
    [a] = await family(client, 1)
    cases = [
        ({"region_code": "430527100000", "members": [{"person_id": a, "relation": "head"}]}, "region_code"),
        ({"region_code": VILLAGE, "members": [{"person_id": a, "relation": "child"}]}, "members"),
        ({"region_code": VILLAGE, "members": [{"person_id": "nobody", "relation": "head"}]}, "person_id"),
    ]
    for body, field in cases:
        response = await client.post("/households", json=body)
        assert response.status_code == 422 and response.json()["field"] == field, response.text
    assert sql(client, "SELECT count(*) FROM registration.households") == [(0,)]


# --- the quarterly survey ----------------------------------------------------------------------------------


async def test_survey_pending_lists_who_is_not_yet_surveyed_this_quarter(client):
    here = [(await register(client, id_number(sequence=20 + n)))["person_id"] for n in range(3)]
    elsewhere = (await register(client, id_number(sequence=30), region_code=OTHER_VILLAGE))["person_id"]
    quarter = quarter_of(TODAY)

    async def pending(region: str, **params) -> list[str]:
        page = await client.get(f"/regions/{region}/survey-pending", params={"quarter": quarter, **params})
        assert page.status_code == 200, page.text
        return [p["person_id"] for p in page.json()["persons"]]

    assert set(await pending(VILLAGE)) == set(here)
    assert set(await pending("430527")) == {*here, elsewhere}
    confirmed = await client.post(
        f"/persons/{here[0]}/surveys", json={"quarter": quarter, "status": "not_in_labour_force"}
    )
    assert confirmed.status_code == 200
    assert [e["type"] for e in confirmed.json()["events"]] == ["StatusSurveyed"]
    assert confirmed.json()["events"][0]["data"]["changed"] is False
    assert set(await pending(VILLAGE)) == set(here[1:])

    changed = await client.post(
        f"/persons/{here[1]}/surveys",
        json={"quarter": quarter, "status": "employed", "employment": {"kind": "flexible", "started_on": str(TODAY)}},
    )
    assert [e["type"] for e in changed.json()["events"]] == ["EmploymentRegistered", "StatusSurveyed"]
    assert changed.json()["status"] == "employed"
    assert await pending(VILLAGE) == [here[2]]
    # Pages follow the cursor.
    first = await client.get("/regions/430527/survey-pending", params={"quarter": quarter, "limit": 1})
    second = await client.get(
        "/regions/430527/survey-pending", params={"quarter": quarter, "limit": 1, "cursor": first.json()["next_cursor"]}
    )
    both = [p["person_id"] for p in first.json()["persons"] + second.json()["persons"]]
    assert set(both) == {here[2], elsewhere} and second.json()["next_cursor"] is None
    # Last quarter nobody was surveyed, and the region scope holds.
    previous = quarter_of(TODAY.replace(day=1) - timedelta(days=100))
    assert await pending("430527", quarter=previous) == []  # registered after that quarter ended
    outside = await client.get(f"/regions/{OTHER_VILLAGE}/survey-pending", headers=token("village", VILLAGE))
    assert outside.status_code == 403


async def test_a_survey_for_a_future_quarter_is_refused(client):
    pid = (await register(client))["person_id"]
    response = await client.post(
        f"/persons/{pid}/surveys", json={"quarter": f"{TODAY.year + 1}Q1", "status": "employed"}
    )
    assert response.status_code == 422 and response.json()["rule"] == "QuarterNotInFuture"
    assert [t for t, _ in events_of(client, pid)] == ["PersonRegistered"]
