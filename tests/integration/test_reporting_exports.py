"""The quarterly statistical report (统计上报) over HTTP, opened with openpyxl and csv and checked cell by cell."""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from urllib.parse import unquote

import httpx
import openpyxl
import pytest

from contracts.reference import demo_county
from contracts.regions import RegionLevel
from services.reporting.sources import CATALOGUE
from tests.integration.reporting_fixtures import event, reporting_client

pytestmark = pytest.mark.integration
METRICS, METRICS_BY_NAME = CATALOGUE.metrics, CATALOGUE.metrics_by_name

SECRET = "export-secret-0123456789abcdef01234567"
COUNTY = "430527000000"
TOWNSHIP = "430527101000"
REGIONS = demo_county()
VILLAGES = [r.code for r in REGIONS if r.level is RegionLevel.VILLAGE]
COMMUNITIES = [code for code in VILLAGES if code.startswith("430527100") and int(code[9:]) < 200]
HEADER_ROWS = 5  # title, unit and period, note, column headers, metric codes


def bearer(role: str = "county", region: str = "430527") -> dict[str, str]:
    return {"Authorization": "Bearer " + issue(role, region)}


def issue(role: str, region: str) -> str:
    from services.runtime.auth import issue_token

    return issue_token(SECRET, subject=role, role=role, region=region)


def population(rng: random.Random, people: int) -> list:
    """People in every village and community of the county, employed or unemployed in 2026 Q3; an employer
    registered at 武阳镇 itself (the township's own figures)."""
    out = []
    for n in range(people):
        village = VILLAGES[n % len(VILLAGES)] if n < len(VILLAGES) else rng.choice(VILLAGES + COMMUNITIES * 10)
        pid = f"p{n}"
        out.append(
            event("PersonRegistered", pid, village, occurred=date(2026, 1, 5), region_code=village, sex="female")
        )
        day = date(2026, 7, 1) + timedelta(days=rng.randrange(92))
        if rng.random() < 0.6:
            out.append(event("EmploymentRegistered", pid, village, kind="unit", started_on=day))
        elif rng.random() < 0.5:
            out.append(event("UnemploymentRegistered", pid, village, registered_on=day))
    out.append(event("EmployerRegistered", "e1", TOWNSHIP, stream_type="employer", credit_code="c", name="甲"))
    return out


@pytest.fixture(scope="module")
async def http(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with reporting_client(infra, population(random.Random(3), 3000), secret=SECRET, prefix="exp") as client:
        yield client


def column(name: str) -> int:
    """0-based column of a metric: after the region code and name."""
    return 2 + [m.name for m in METRICS].index(name)


async def test_xlsx_has_header_rows_one_row_per_township_and_a_total_equal_to_their_sum(http):
    started = time.perf_counter()
    response = await http.get("/reports/quarterly", params={"region": "430527", "period": "2026Q3"}, headers=bearer())
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = response.headers["content-disposition"]
    assert 'filename="430527000000_2026Q3_quarterly.xlsx"' in disposition
    assert "绥宁县_2026年第3季度_统计季报.xlsx" in unquote(disposition)
    assert elapsed < 2.0, f"the county's report took {elapsed:.2f} s"

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "劳动就业和社会保障统计季报"
    assert rows[1][0] == "填报单位：绥宁县（区划代码 430527000000）"
    assert rows[1][2] == "统计期：2026年第3季度（2026-07-01 至 2026-09-30）"
    assert rows[3][:3] == ("区划代码", "单位名称", "实名登记劳动力（人）")
    assert rows[3][column("registered_urban_unemployment_rate")] == "城镇登记失业率（%）"
    assert rows[4][column("labour_force")] == "labour_force"

    body = rows[HEADER_ROWS:-2]
    total = rows[-2]
    townships = [r for r in REGIONS if r.level is RegionLevel.TOWNSHIP]
    assert [r[0] for r in body] == [t.code for t in townships]  # the county has no figures of its own
    assert [r[1] for r in body] == [t.name for t in townships]
    assert total[:2] == (COUNTY, "合计")
    assert str(rows[-1][0]).startswith("制表时间")
    for metric in METRICS:
        if metric.kind != "ratio":
            assert total[column(metric.name)] == sum(r[column(metric.name)] or 0 for r in body), metric.name
    assert total[column("labour_force")] == 3000
    assert total[column("places")] == 17 + len(VILLAGES)

    # Ratios are recomputed from the total's own numerator and denominator, not summed or averaged.
    rate = column("registered_urban_unemployment_rate")
    urban_u, urban_e = total[column("urban_registered_unemployed")], total[column("urban_employed")]
    assert urban_u and total[rate] == round(100 * urban_u / (urban_u + urban_e), 2)
    for row in body:
        u, e = row[column("urban_registered_unemployed")], row[column("urban_employed")]
        assert row[rate] == (round(100 * u / (u + e), 2) if u + e else None), row[0]

    # Numbers are formatted: thousands separators for counts, two decimals for rates.
    cells = next(iter(sheet.iter_rows(min_row=len(rows) - 1, max_row=len(rows) - 1)))
    assert cells[column("labour_force")].number_format == "#,##0"
    assert cells[rate].number_format == "0.00"
    assert cells[0].font.bold


async def test_a_township_report_has_its_own_row_when_it_holds_figures_itself(http):
    response = await http.get(
        "/reports/quarterly", params={"region": TOWNSHIP, "period": "2026Q3", "format": "xlsx"}, headers=bearer()
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    body, total = rows[HEADER_ROWS:-2], rows[-2]
    assert len(body) == 20 + 1
    own = body[-1]
    assert (own[0], own[1]) == (TOWNSHIP, "武阳镇（本级）")
    assert own[column("employers")] == 1 and own[column("labour_force")] == 0
    assert own[column("places")] == 1  # the township itself is a place that may have a point
    for name in ("employers", "labour_force", "employed", "new_employment", "places"):
        assert total[column(name)] == sum(r[column(name)] for r in body), name


async def test_csv_has_the_same_rows_in_utf8_with_a_byte_order_mark(http):
    response = await http.get(
        "/reports/quarterly", params={"region": "430527", "period": "2026Q3", "format": "csv"}, headers=bearer()
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][0].startswith("填报单位：绥宁县")
    assert rows[3][2] == "实名登记劳动力（人）"
    body, total = rows[HEADER_ROWS:-1], rows[-1]
    assert len(body) == 17 and total[1] == "合计"
    assert int(total[column("new_employment")]) == sum(int(r[column("new_employment")]) for r in body)
    assert METRICS_BY_NAME["new_employment"].kind == "flow" and int(total[column("new_employment")]) > 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"region": "430527", "period": "2026"}, "period"),
        ({"region": "430527", "period": "2026-07"}, "period"),
        ({"region": "430527", "period": "2099Q1"}, "period"),
        ({"region": "43x", "period": "2026Q3"}, "region"),
        ({"region": "430527", "period": "2026Q3", "format": "pdf"}, "format"),
    ],
)
async def test_bad_report_requests_are_422_naming_the_field(http, params, field):
    response = await http.get("/reports/quarterly", params=params, headers=bearer())
    assert response.status_code == 422
    body = response.json()
    assert body.get("field") == field or any(e["field"] == field for e in body.get("errors", [])), body


async def test_a_township_officer_cannot_export_the_county(http):
    township = {"Authorization": "Bearer " + issue("township", TOWNSHIP)}
    assert (
        await http.get("/reports/quarterly", params={"region": "430527", "period": "2026Q3"}, headers=township)
    ).status_code == 403
    assert (
        await http.get("/reports/quarterly", params={"region": TOWNSHIP, "period": "2026Q3"}, headers=township)
    ).status_code == 200
