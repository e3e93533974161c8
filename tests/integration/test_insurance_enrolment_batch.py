"""``POST /enrolments/batch`` over real HTTP and Postgres: many persons' enrolments decided by the single
routes' rules, one result per item, each item all or nothing, the good ones committed together, a retry
with the same Idempotency-Key answered from the first."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.integration import test_insurance_api as support
from tests.integration.registration_client import token
from tests.integration.test_insurance_api import OTHER_VILLAGE, TODAY

pytestmark = pytest.mark.integration

ins = support.ins


def _enrol(kind: str, employer_id: str | None, on: Any = None) -> dict[str, Any]:
    return {
        "action": "enrolment",
        "insurance_type": kind,
        "basis": "employer" if employer_id else "flexible",
        "employer_id": employer_id,
        "enrolled_on": str(on or TODAY - timedelta(days=400)),
    }


def _terminate(kind: str, on: Any = None) -> dict[str, Any]:
    return {
        "action": "termination",
        "insurance_type": kind,
        "on": str(on or TODAY - timedelta(days=30)),
        "reason": "劳动关系终止",
    }


async def _post(ins: support.Insurance, items: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    response = await ins.http.post("/enrolments/batch", json={"items": items}, headers={**token(), **headers})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_each_person_is_enrolled_in_both_types_and_a_refused_item_leaves_the_others(ins):
    employer = await ins.employer()
    first, second, third = [await ins.person() for _ in range(3)]
    both = [_enrol("enterprise_pension", employer), _enrol("unemployment", employer)]
    body = await _post(
        ins,
        [
            {"person_id": first, "changes": both},
            {"person_id": second, "changes": [*both, _terminate("unemployment")]},
            # a second enrolment of the type refuses the whole item: its first one is not written either
            {"person_id": third, "changes": [_enrol("unemployment", employer), _enrol("unemployment", employer)]},
        ],
    )
    assert (body["changed"], body["conflicts"], body["rejected"]) == (2, 0, 1)
    assert [r["status"] for r in body["results"]] == [200, 200, 422]
    assert body["results"][0]["version"] == 2 and body["results"][1]["changes"] == 3
    refused = body["results"][2]["problem"]
    assert (refused["field"], refused["rule"]) == ("changes.1.insurance_type", "OneOpenEnrolmentPerType")
    assert len(ins.events("InsuranceEnrolled")) == 4 and len(ins.events("EnrolmentTerminated")) == 1
    assert ins.count("SELECT count(*) FROM insurance.enrolments") == 3
    assert ins.count(f"SELECT count(*) FROM insurance.enrolments WHERE person_id = '{third}'") == 0
    read = await ins.http.get(f"/persons/{second}/insurance", headers=token())
    assert [e["insurance_type"] for e in read.json()["enrolments"]] == ["enterprise_pension"]


async def test_bad_items_are_named_by_field_and_write_nothing(ins):
    employer = await ins.employer()
    person = await ins.person()
    future = TODAY + timedelta(days=1)
    body = await _post(
        ins,
        [
            {"person_id": str(uuid.uuid4()), "changes": [_enrol("unemployment", employer)]},
            {"person_id": person, "changes": [_enrol("unemployment", str(uuid.uuid4()))]},
            {"person_id": person, "changes": [_enrol("unemployment", employer, future)]},
            {"person_id": person, "changes": [{"action": "enrolment", "insurance_type": "unemployment"}]},
            {"person_id": person, "changes": [{"action": "transfer", "insurance_type": "unemployment"}]},
            {"person_id": person, "changes": [_terminate("medical")]},
            {"person_id": person, "expected_version": 5, "changes": [_enrol("medical", None)]},
            {"changes": [_enrol("medical", None)]},
        ],
    )
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [404, 422, 422, 422, 422, 422, 409, 422]
    fields = [r["problem"]["field"] for r in body["results"]]
    assert fields == [
        "person_id",
        "changes.0.employer_id",
        "changes.0.enrolled_on",
        "changes.0.basis",
        "changes.0.action",
        "changes.0.insurance_type",
        "If-Match",
        "person_id",
    ]
    rules = [r["problem"]["rule"] for r in body["results"]]
    assert rules[1:3] == ["EmployerKnownFromRegistration", "DateNotInFuture"]
    assert rules[4:6] == ["KnownAction", "EnrolmentIsOpen"]
    assert (body["changed"], body["conflicts"], body["rejected"]) == (0, 1, 7)
    assert ins.count("SELECT count(*) FROM insurance.events") == 0


async def test_scope_and_role_are_the_single_routes(ins):
    employer = await ins.employer()
    here = await ins.person()
    elsewhere = await ins.person(OTHER_VILLAGE)
    township = token("township", "430527100000")
    items = [{"person_id": p, "changes": [_enrol("unemployment", employer)]} for p in (here, elsewhere)]
    scoped = await ins.http.post("/enrolments/batch", json={"items": items}, headers=township)
    assert [r["status"] for r in scoped.json()["results"]] == [200, 403]
    analyst = await ins.http.post("/enrolments/batch", json={"items": items}, headers=token("analyst"))
    assert analyst.status_code == 403
    empty = await ins.http.post("/enrolments/batch", json={"items": []}, headers=token())
    assert empty.status_code == 422
    assert len(ins.events("InsuranceEnrolled")) == 1


async def test_a_retry_with_the_same_key_answers_the_first_and_writes_nothing_twice(ins):
    employer = await ins.employer()
    person = await ins.person()
    items = [{"person_id": person, "changes": [_enrol("unemployment", employer)]}]
    first = await ins.http.post(
        "/enrolments/batch", json={"items": items}, headers={**token(), "Idempotency-Key": "enrol-1"}
    )
    again = await ins.http.post(
        "/enrolments/batch", json={"items": items}, headers={**token(), "Idempotency-Key": "enrol-1"}
    )
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert len(ins.events("InsuranceEnrolled")) == 1
    unkeyed = await _post(ins, items)
    assert unkeyed["results"][0]["problem"]["rule"] == "OneOpenEnrolmentPerType"
    assert len(ins.events("InsuranceEnrolled")) == 1
