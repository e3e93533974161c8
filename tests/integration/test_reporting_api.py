"""Reporting's HTTP API over real Postgres: stats by period and as_of, children, series, catalogue, scope, 422s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from services.reporting.api import ChildStats, RegionChildren
from services.reporting.sources import CATALOGUE
from services.runtime.auth import issue_token
from tests.integration.reporting_fixtures import event, reporting_client

pytestmark = pytest.mark.integration

SECRET = "reporting-secret-0123456789abcdef0123"
VILLAGE = "430527101201"
OTHER_VILLAGE = "430527101202"
TOWNSHIP = "430527101000"


def bearer(role: str = "analyst", region: str = "430527") -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, subject=role, role=role, region=region)}


def events():
    """Two people in 武阳镇: one employed in February and moved in May, one unemployed from April."""
    return [
        event("PersonRegistered", "p1", VILLAGE, occurred=date(2026, 1, 5), region_code=VILLAGE, sex="female"),
        event("PersonRegistered", "p2", VILLAGE, occurred=date(2026, 1, 5), region_code=VILLAGE, sex="male"),
        event("EmploymentRegistered", "p1", VILLAGE, kind="unit", started_on=date(2026, 2, 10)),
        event("UnemploymentRegistered", "p2", VILLAGE, registered_on=date(2026, 4, 3)),
        event(
            "PersonMoved",
            "p1",
            OTHER_VILLAGE,
            from_region_code=VILLAGE,
            region_code=OTHER_VILLAGE,
            moved_on=date(2026, 5, 20),
        ),
    ]


@pytest.fixture(scope="module")
async def http(infra) -> AsyncIterator[httpx.AsyncClient]:
    """The reporting API on a database of its own, with the events above projected."""
    async with reporting_client(infra, events(), secret=SECRET, prefix="rep") as client:
        yield client


async def test_stats_for_a_quarter_take_stocks_at_its_end_and_flows_within_it(http):
    response = await http.get(f"/regions/{TOWNSHIP}/stats", params={"period": "2026Q1"}, headers=bearer())
    assert response.status_code == 200
    body = response.json()
    assert body["region"] == {"code": TOWNSHIP, "name": "武阳镇", "level": "township"}
    assert (body["period"], body["as_of"], body["flows_from"]) == ("2026Q1", "2026-03-31", "2026-01-01")
    metrics = body["metrics"]
    assert (metrics["labour_force"], metrics["employed"], metrics["new_employment"]) == (2, 1, 1)
    assert metrics["registered_unemployed"] == 0


async def test_stats_as_of_a_past_date_answer_from_the_history(http):
    april = await http.get(f"/regions/{VILLAGE}/stats", params={"as_of": "2026-04-30"}, headers=bearer())
    june = await http.get(f"/regions/{VILLAGE}/stats", params={"as_of": "2026-06-30"}, headers=bearer())
    assert april.json()["metrics"]["labour_force"] == 2 and april.json()["flows_from"] == "2026-04-01"
    assert june.json()["metrics"]["labour_force"] == 1  # p1 moved away on 20 May
    assert june.json()["metrics"]["registered_unemployed"] == 1


async def test_children_drill_down_with_a_period(http):
    response = await http.get(f"/regions/{TOWNSHIP}/children", params={"period": "2026-06"}, headers=bearer())
    assert response.status_code == 200
    children = {c["code"]: c for c in response.json()["children"]}
    assert len(children) == 20
    assert children[VILLAGE]["metrics"]["labour_force"] == 1
    assert children[OTHER_VILLAGE]["metrics"]["employed"] == 1
    assert children[OTHER_VILLAGE]["name"] and children[OTHER_VILLAGE]["level"] == "village"


@pytest.mark.parametrize("params", [{"period": "2026Q1"}, {"as_of": "2026-05-20"}, {}])
async def test_children_answer_exactly_the_documented_model(http, params):
    """The route builds its body as plain data for speed: it must stay what RegionChildren describes,
    field for field and in the same order, ratios (floats or null) included."""
    response = await http.get("/regions/430527/children", params=params, headers=bearer())
    body = response.json()
    assert response.status_code == 200 and len(body["children"]) == 17
    assert body == RegionChildren.model_validate(body).model_dump(mode="json")
    assert list(body) == list(RegionChildren.model_fields)
    assert list(body["children"][0]) == list(ChildStats.model_fields)
    assert body["region"] == {"code": "430527000000", "name": "绥宁县", "level": "county"}
    wuyang = next(c for c in body["children"] if c["code"] == TOWNSHIP)
    assert list(wuyang["metrics"]) == [m.name for m in CATALOGUE.metrics]
    assert wuyang["metrics"]["labour_force"] == 2 and wuyang["metrics"]["places"] == 21


async def test_series_by_month_and_by_quarter(http):
    months = await http.get(
        f"/regions/{VILLAGE}/series",
        params={"metric": "labour_force", "from": "2025-12", "to": "2026-06"},
        headers=bearer(),
    )
    assert months.status_code == 200
    assert [(p["period"], p["value"]) for p in months.json()["points"]] == [
        ("2025-12", 0),
        ("2026-01", 2),
        ("2026-02", 2),
        ("2026-03", 2),
        ("2026-04", 2),
        ("2026-05", 1),
        ("2026-06", 1),
    ]
    quarters = await http.get(
        f"/regions/{TOWNSHIP}/series",
        params={"metric": "new_employment", "from": "2026Q1", "to": "2027Q1"},
        headers=bearer(),
    )
    body = quarters.json()
    assert body["kind"] == "flow"
    assert [(p["period"], p["value"]) for p in body["points"]] == [
        ("2026Q1", 1),
        ("2026Q2", 0),
        ("2026Q3", 0),
        ("2026Q4", 0),
        ("2027Q1", None),
    ]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (f"/regions/{VILLAGE}/stats", {"period": "2026Q5"}, "period"),
        (f"/regions/{VILLAGE}/stats", {"period": "2099"}, "period"),
        (f"/regions/{VILLAGE}/stats", {"as_of": "2026-02-30"}, "as_of"),
        (f"/regions/{VILLAGE}/stats", {"as_of": "2099-01-01"}, "as_of"),
        (f"/regions/{VILLAGE}/stats", {"as_of": "2026-01-01", "period": "2026"}, "as_of"),
        (f"/regions/{VILLAGE}/children", {"period": "Q3"}, "period"),
        (f"/regions/{VILLAGE}/series", {"metric": "nope", "from": "2026-01", "to": "2026-02"}, "metric"),
        (f"/regions/{VILLAGE}/series", {"metric": "employed", "from": "2026-01", "to": "2026Q2"}, "to"),
        (f"/regions/{VILLAGE}/series", {"metric": "employed", "from": "2026-13", "to": "2026-12"}, "from"),
        (f"/regions/{VILLAGE}/series", {"metric": "employed", "from": "2026"}, "to"),
    ],
)
async def test_bad_parameters_are_422_naming_the_field(http, path, params, field):
    response = await http.get(path, params=params, headers=bearer())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.get("field") == field or any(e["field"] == field for e in body.get("errors", [])), body


async def test_scope_limits_what_a_caller_sees(http):
    township = bearer("township", TOWNSHIP)
    assert (await http.get(f"/regions/{TOWNSHIP}/stats", headers=township)).status_code == 200
    assert (
        await http.get(f"/regions/{VILLAGE}/series?metric=employed&from=2026&to=2026", headers=township)
    ).status_code == 200
    assert (await http.get("/regions/430527/stats", headers=township)).status_code == 403
    assert (await http.get("/regions/430527102000/children", headers=township)).status_code == 403
    assert (await http.get("/regions/430527/stats")).status_code == 401


async def test_catalogue_lists_every_metric_with_its_kind(http):
    response = await http.get("/metrics/catalogue", headers=bearer())
    entries = {e["name"]: e for e in response.json()}
    assert entries["labour_force"] == {
        "name": "labour_force",
        "label_zh": "实名登记劳动力",
        "label_en": "Labour force in ledger",
        "unit": "人",
        "kind": "stock",
    }
    assert entries["new_employment"]["kind"] == "flow"
    assert entries["registered_urban_unemployment_rate"]["kind"] == "ratio"


async def test_every_endpoint_is_documented(http):
    spec = (await http.get("/openapi.json")).json()
    for path in ("/regions/{code}/stats", "/regions/{code}/children", "/regions/{code}/series", "/metrics/catalogue"):
        operation = spec["paths"][path]["get"]
        assert operation["summary"], path
        assert "application/json" in operation["responses"]["200"]["content"], path
