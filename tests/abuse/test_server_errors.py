"""Regression tests for the server errors found by fuzzing registration's API: each was a 500, each is now a
4xx problem document naming the field, and none writes anything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.abuse.conftest import RunningApi, bearer

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"


@pytest.fixture(scope="module")
def entries(registration_api: RunningApi) -> dict[str, str]:
    with registration_api.client() as http:
        person = http.post(
            "/persons",
            json={"id_number": "430527199003070011", "name": "杨秀成", "region_code": VILLAGE},
            headers=bearer(),
        )
        employer = http.post(
            "/employers",
            json={"credit_code": "91430527MA4L00001B", "name": "竹木加工厂", "region_code": "430527100000"},
            headers=bearer(),
        )
    assert person.status_code == 201 and employer.status_code == 201, (person.text, employer.text)
    return {"person_id": person.json()["person_id"], "employer_id": employer.json()["employer_id"]}


def _cases(ids: dict[str, str]) -> list[tuple[str, str, str, Any, str]]:
    person, employer = ids["person_id"], ids["employer_id"]
    big = {"employer_id": employer, "occupation": "操作工", "positions": 1}
    return [
        # (why, method, path, body, field): was psycopg NumericValueOutOfRange (bigint) -> 500
        (
            "wage beyond bigint",
            "POST",
            "/vacancies",
            {**big, "wage_min_fen": 10**19, "wage_max_fen": 10**20},
            "wage_min_fen",
        ),
        # was psycopg DataError "text fields cannot contain NUL" -> 500
        (
            "NUL in a name",
            "POST",
            "/employers",
            {"credit_code": "91430527MA4L00002B", "name": "厂\x00", "region_code": "430527100000"},
            "body",
        ),
        # was ValueError "year 10000 is out of range" -> 500
        (
            "quarter 9999Q4",
            "POST",
            f"/persons/{person}/surveys",
            {"quarter": "9999Q4", "status": "unemployed"},
            "quarter",
        ),
        # was ValueError "year 0 is out of range" -> 500
        (
            "quarter 0000Q1",
            "POST",
            f"/persons/{person}/surveys",
            {"quarter": "0000Q1", "status": "unemployed"},
            "quarter",
        ),
        ("pending in 0000Q1", "GET", f"/regions/{VILLAGE}/survey-pending?quarter=0000Q1", None, "quarter"),
        # an empty key in a body was answered 422 with an empty "field"
        ("empty key", "POST", f"/persons/{person}/retirement", {"": 0}, '""'),
    ]


CASE_IDS = ["wage beyond bigint", "NUL in a name", "quarter 9999Q4", "quarter 0000Q1", "pending in 0000Q1", "empty key"]


@pytest.mark.parametrize("which", range(len(CASE_IDS)), ids=CASE_IDS)
def test_what_was_a_server_error_is_a_4xx_naming_the_field(
    registration_api: RunningApi, entries: dict[str, str], which: int
) -> None:
    why, method, path, body, field = _cases(entries)[which]
    before = registration_api.events()
    with registration_api.client() as http:
        response = http.request(method, path, json=body, headers=bearer())
    assert response.status_code == 422, f"{why}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field, response.text
    assert registration_api.events() == before
