"""``make demo`` through the running stack: a county with two years of history in every figure.

What issue 17 asks of the demo, checked through the public APIs as a county officer would see it (the
properties, not exact values): the last 8 quarters' key figures are non-zero where they should be, the
monthly series move, ``as_of`` a year ago shows a smaller county, last quarter's report has flows, and a
second run writes nothing twice.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta

import httpx
import pytest
from openpyxl import Workbook

from services.demo import POPULATION_DAY, load_demo
from services.demo.population import generate_population
from services.demo.timeline import Window

pytestmark = pytest.mark.e2e

PERSONS = 3_000
#: Figures every one of the last 8 quarters must have (stocks at its end, flows within it).
NON_ZERO = (
    "labour_force",
    "employed",
    "registered_unemployed",
    "new_employment",
    "new_unemployment",
    "persons_surveyed",
    "registered_urban_unemployment_rate",
    "survey_completion_rate",
    "employers",
    "open_vacancies",
    "service_points",
)


@pytest.fixture(scope="module")
def demo(stack):
    """The stack after one run of the demo, with what it reported."""
    return stack, load_demo(stack.env, persons=PERSONS, progress=False)


@pytest.fixture(scope="module")
def reporting(demo):
    stack, _ = demo
    with httpx.Client(base_url=stack.env["REPORTING_URL"], headers=stack.headers, timeout=60) as client:
        yield client


def test_the_demo_registers_the_county_and_writes_every_history(demo):
    _, counts = demo
    assert counts["registration: persons registered"] == PERSONS
    assert counts["registration: persons' histories written"] > 0.9 * PERSONS
    assert counts["registration: person changes"] > 5 * PERSONS
    assert counts["registration: vacancies opened"] > 0 and counts["registration: vacancy positions filled"] > 0
    assert counts["registration: service points recorded"] == 241


def test_the_last_eight_quarters_have_their_key_figures(reporting):
    quarters = [name for name, _, _ in Window.ending(date.today()).quarters[:-1]]
    assert len(quarters) == 8
    rates = set()
    for quarter in quarters:
        metrics = reporting.get("/regions/430527/stats", params={"period": quarter}).json()["metrics"]
        missing = [name for name in NON_ZERO if not metrics.get(name)]
        assert not missing, (quarter, missing)
        assert 50 < metrics["survey_completion_rate"] <= 100
        rates.add(metrics["registered_urban_unemployment_rate"])
    assert len(rates) > 1, "the unemployment rate moves from quarter to quarter"


def test_monthly_series_vary(reporting):
    today = date.today()
    first = Window.ending(today).start
    for metric in ("labour_force", "new_employment"):
        points = reporting.get(
            "/regions/430527/series",
            params={"metric": metric, "from": f"{first:%Y-%m}", "to": f"{today:%Y-%m}"},
        ).json()["points"]
        values = [p["value"] for p in points]
        assert len(values) >= 24 and len(set(values)) > 5, (metric, values)


def test_a_year_ago_the_county_was_smaller(reporting):
    today = date.today()
    now = reporting.get("/regions/430527/stats").json()["metrics"]["labour_force"]
    then = reporting.get("/regions/430527/stats", params={"as_of": f"{today - timedelta(days=365)}"}).json()
    assert 0 < then["metrics"]["labour_force"] < now


def test_last_quarters_report_has_flows_in_its_total_row(reporting):
    last_quarter = Window.ending(date.today()).quarters[-2][0]
    response = reporting.get("/reports/quarterly", params={"region": "430527", "period": last_quarter, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    codes = next(r for r in rows if r and r[0] == "指标代码")
    total = dict(zip(codes, next(r for r in rows if len(r) > 1 and r[1] == "合计"), strict=True))
    for flow in ("new_employment", "new_unemployment", "persons_surveyed"):
        assert int(total[flow]) > 0, flow


def _settled_county(reporting) -> dict:
    """The county's figures once they stop moving: the other services' workers react to the demo's
    registrations (cases opened, enrolments expected) and reporting folds their events a moment later."""
    last, deadline = None, time.monotonic() + 120
    while time.monotonic() < deadline:
        now = reporting.get("/regions/430527/stats").json()["metrics"]
        if now == last:
            return now
        last = now
        time.sleep(3)
    raise AssertionError("the county's figures kept moving for 120 s")


def test_a_second_run_writes_nothing_twice(demo, reporting):
    stack, _ = demo
    before = _settled_county(reporting)
    again = load_demo(stack.env, persons=PERSONS, progress=False)
    assert again.get("registration: persons registered", 0) == 0
    assert again["registration: persons already registered"] == PERSONS
    assert again.get("registration: persons' histories written", 0) == 0
    assert again.get("registration: employers registered", 0) == 0
    assert again.get("registration: vacancies opened", 0) == 0
    assert reporting.get("/regions/430527/stats").json()["metrics"] == before

    # A clerk re-uploads part of the county as a ledger: everyone is already registered.
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["身份证号", "姓名", "所在村(社区)代码"])
    for person in generate_population(PERSONS, as_of=POPULATION_DAY).persons[:50]:
        sheet.append([person.id_number, person.name, person.region_code])
    content = io.BytesIO()
    workbook.save(content)
    with httpx.Client(base_url=stack.env["REGISTRATION_URL"], headers=stack.headers, timeout=60) as client:
        result = client.post("/imports/persons", files={"file": ("台账.xlsx", content.getvalue())}).json()
    assert (result["created"], result["already_registered"], result["rejected"]) == (0, 50, 0)
