"""Unemployment benefit, retirees, death and the enrolment expectation over real HTTP and Postgres, with
registration's and assistance's facts applied by the worker's handler."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contracts import assistance as asst
from contracts import registration as reg
from tests.integration import test_insurance_api as support
from tests.integration.registration_client import token
from tests.integration.test_insurance_api import TODAY, VILLAGE, month

pytestmark = pytest.mark.integration

ins = support.ins


def hired(person_id: str, started_on, employer_id: str | None = None, kind: reg.EmploymentKind = "unit"):
    return reg.EmploymentRegistered(
        person_id=person_id,
        previous_status="registered_unemployed",
        kind=kind,
        employer_id=employer_id,
        started_on=started_on,
        reported_on=started_on,
        report_deadline=started_on + timedelta(days=30),
        reported_late=False,
    )


async def test_benefit_needs_twelve_months_then_pays_monthly_and_stops_on_reemployment(ins):
    registered_on = TODAY.replace(day=1) - timedelta(days=40)
    person = await ins.unemployed(registered_on)
    employer = await ins.employer()
    await ins.enrol(person, "unemployment", employer)
    await ins.contributions(person, 11, employer)
    url = f"/persons/{person}/unemployment-benefit"
    refused = await ins.http.post(url, json={}, headers=token())
    assert refused.status_code == 422
    assert (refused.json()["rule"], refused.json()["contribution_months"]) == ("BenefitNeedsOneYearOfContributions", 11)
    assert "Art 14(1)" in refused.json()["detail"]
    # The twelfth month: a year of contributions.
    row = (person, "unemployment", employer, "5000.00", "25.00", "25.00")
    assert (await ins.post_file([row], month(-12))).json()["posted"] == 1
    granted = await ins.http.post(url, json={}, headers=token())
    assert granted.status_code == 201, granted.text
    [event] = granted.json()["events"]
    assert (event["data"]["months"], event["data"]["starts_on"]) == (12, str(registered_on))
    assert "失业保险条例 Art 14, 17" in event["data"]["article"]
    for paid_month in (registered_on.strftime("%Y-%m"), month(-1)):
        paid = await ins.http.post(f"{url}/payments", json={"month": paid_month}, headers=token())
        assert paid.status_code == 200, paid.text
    twice = await ins.http.post(f"{url}/payments", json={"month": month(-1)}, headers=token())
    assert (twice.status_code, twice.json()["rule"]) == (422, "MonthPaidOnce")
    await ins.feed(hired(person, TODAY))
    [stopped] = ins.events("UnemploymentBenefitStopped")
    assert (stopped["reason"], stopped["months_paid"], stopped["months_left"]) == ("reemployed", 2, 10)
    assert "Art 15(1)" in stopped["article"]
    record = (await ins.http.get(f"/persons/{person}/insurance", headers=token())).json()
    assert (record["benefit"]["active"], record["unused_benefit_months"]) == (False, 10)
    # A redelivered hire is kept out by the inbox in the worker; the rule itself also changes nothing now.
    await ins.feed(hired(person, TODAY))
    assert len(ins.events("UnemploymentBenefitStopped")) == 1


async def test_a_voluntary_quit_gets_no_benefit_and_a_refusal_of_suitable_work_stops_it(ins):
    quit_job = await ins.unemployed(TODAY - timedelta(days=10), involuntary=False)
    refused = await ins.http.post(f"/persons/{quit_job}/unemployment-benefit", json={}, headers=token())
    assert (refused.status_code, refused.json()["rule"]) == (422, "BenefitNeedsInvoluntaryJobLoss")
    person = await ins.unemployed(TODAY - timedelta(days=10))
    employer = await ins.employer()
    await ins.enrol(person, "unemployment", employer, enrolled_on=TODAY - timedelta(days=2000))
    await ins.contributions(person, 61, employer)
    granted = await ins.http.post(f"/persons/{person}/unemployment-benefit", json={}, headers=token())
    assert granted.json()["events"][0]["data"]["months"] == 18
    stop = await ins.http.post(
        f"/persons/{person}/unemployment-benefit/stop",
        json={"reason": "refused_suitable_work", "stopped_on": str(TODAY)},
        headers=token(),
    )
    assert stop.status_code == 200
    assert "Art 15(6)" in stop.json()["events"][0]["data"]["article"]


async def test_retiree_certification_due_list_suspension_and_resumption_with_back_pay(ins):
    retiree = await ins.person(VILLAGE, "retired")
    transferred_on = TODAY.replace(day=1) - timedelta(days=400)
    created = await ins.http.post(
        "/retirees",
        json={
            "person_id": retiree,
            "monthly_pension_fen": 320_000,
            "retired_on": "2015-06-01",
            "contribution_years": 30,
            "transferred_on": str(transferred_on),
        },
        headers=token(),
    )
    assert created.status_code == 201, created.text
    due = (await ins.http.get("/regions/430527100000/retirees/certification-due", headers=token())).json()
    assert [(r["person_id"], r["overdue"]) for r in due["retirees"]] == [(retiree, True)]
    run = await ins.http.post("/retirees/suspensions", json={}, headers=token())
    assert run.json()["suspended"] == 1
    [suspended] = ins.events("PensionSuspended")
    certified = await ins.http.post(f"/persons/{retiree}/certifications", json={}, headers=token())
    data = certified.json()["events"][0]["data"]
    assert data["resumed"] is True and data["back_paid_months"][0] == suspended["suspended_from"]
    assert data["back_pay_fen"] == 320_000 * len(data["back_paid_months"]) and data["back_paid_months"][-1] == month(0)
    due = (await ins.http.get(f"/regions/{VILLAGE}/retirees/certification-due", headers=token())).json()
    assert due["retirees"] == []


async def test_death_report_stops_the_pension_tells_registration_and_pays_survivor_benefits(ins):
    retiree = await ins.person()
    died_on = TODAY - timedelta(days=3)
    await ins.http.post(
        "/retirees",
        json={
            "person_id": retiree,
            "monthly_pension_fen": 320_000,
            "retired_on": str(date(died_on.year - 10, died_on.month, 1)),
            "contribution_years": 30,
            "transferred_on": str(TODAY - timedelta(days=30)),
        },
        headers=token(),
    )
    future = await ins.http.post(
        f"/persons/{retiree}/death", json={"died_on": str(TODAY + timedelta(days=1))}, headers=token()
    )
    assert (future.status_code, future.json()["field"]) == (422, "died_on")
    report = await ins.http.post(f"/persons/{retiree}/death", json={"died_on": str(died_on)}, headers=token())
    assert [e["type"] for e in report.json()["events"]] == ["DeathReported", "PensionStopped"]
    claim = await ins.http.post(f"/persons/{retiree}/survivor-benefits", json={}, headers=token())
    assert claim.status_code == 201, claim.text
    data = claim.json()["events"][0]["data"]
    income = {2024: 420_000, 2025: 440_000, 2026: 460_000}[died_on.year - 1]
    # 30 contribution years give 24 months; 10 full years of pension drawn take 10 away
    assert (data["survivor_months"], data["funeral_grant_fen"]) == (14, 2 * income)
    assert data["survivor_benefit_fen"] == 14 * income and data["income_year"] == died_on.year - 1
    paid = await ins.http.post(f"/persons/{retiree}/survivor-benefits/payment", json={}, headers=token())
    assert paid.json()["events"][0]["data"]["amount_fen"] == data["funeral_grant_fen"] + data["survivor_benefit_fen"]
    # registration's PersonDied (caused by this report) changes nothing more here
    await ins.feed(reg.PersonDied(person_id=retiree, previous_status="retired", died_on=died_on, source="insurance"))
    assert len(ins.events("PensionStopped")) == 1


async def test_registration_reporting_a_death_stops_the_pension_without_a_second_report(ins):
    retiree = await ins.person()
    await ins.http.post(
        "/retirees",
        json={
            "person_id": retiree,
            "monthly_pension_fen": 300_000,
            "retired_on": "2020-01-01",
            "contribution_years": 20,
            "transferred_on": str(TODAY),
        },
        headers=token(),
    )
    await ins.feed(reg.PersonDied(person_id=retiree, previous_status="retired", died_on=TODAY))
    assert ins.events("DeathReported") == []
    assert [e["stopped_from"] for e in ins.events("PensionStopped")] == [month(1)]


async def test_a_hire_expects_enrolment_within_thirty_days_and_lists_it_overdue_until_enrolled(ins):
    person = await ins.person()
    employer = await ins.employer()
    started_on = TODAY - timedelta(days=45)
    await ins.feed(hired(person, started_on, employer))
    placement = asst.PlacedInJob(
        case_id="c-1",
        person_id=person,
        region_code=VILLAGE,
        kind="unit",
        employer_id=employer,
        started_on=started_on,
        placed_on=started_on,
    )
    await ins.feed(placement, stream_id="c-1")
    [expected] = ins.events("EnrolmentExpected")
    # 30 days from the start, moved to the next working day when the last day is a rest day (民法典 Art 203)
    assert TODAY - timedelta(days=15) <= date.fromisoformat(expected["due_on"]) < TODAY
    overdue = (await ins.http.get("/regions/430527/enrolment-expectations/overdue", headers=token())).json()
    assert [o["person_id"] for o in overdue["overdue"]] == [person]
    await ins.enrol(person, "enterprise_pension", employer, enrolled_on=TODAY)
    overdue = (await ins.http.get("/regions/430527/enrolment-expectations/overdue", headers=token())).json()
    assert overdue["count"] == 0


async def test_hard_to_employ_certification_grants_the_flexible_subsidy_and_its_end_ends_it(ins):
    person = await ins.person()
    certified = asst.HardToEmployCertified(
        certification_id="h-1",
        person_id=person,
        region_code=VILLAGE,
        categories=["aged_4050"],
        certified_on=TODAY,
        review_on=TODAY + timedelta(days=365),
    )
    await ins.feed(certified, stream_id="h-1")
    await ins.feed(certified, stream_id="h-1")
    assert len(ins.events("FlexibleSubsidyGranted")) == 1
    await ins.feed(
        asst.HardToEmployStatusEnded(
            certification_id="h-1", person_id=person, region_code=VILLAGE, ended_on=TODAY, reason="reemployed"
        ),
        stream_id="h-1",
    )
    record = (await ins.http.get(f"/persons/{person}/insurance", headers=token())).json()
    assert record["subsidy_certification"] is None and len(ins.events("FlexibleSubsidyEnded")) == 1


async def test_the_monthly_run_pays_every_benefit_once_in_the_callers_region(ins):
    employer = await ins.employer()
    drawing = []
    for region in (VILLAGE, "430527101201"):
        person = await ins.unemployed(TODAY.replace(day=1), region=region)
        await ins.enrol(person, "unemployment", employer)
        await ins.contributions(person, 12, employer)
        granted = await ins.http.post(f"/persons/{person}/unemployment-benefit", json={}, headers=token())
        assert granted.status_code == 201, granted.text
        drawing.append(person)
    township = token("township", "430527100000")
    run = await ins.http.post("/unemployment-benefit/payments", json={"month": month(0)}, headers=township)
    assert run.json() == {"month": month(0), "paid": 1}
    county = await ins.http.post("/unemployment-benefit/payments", json={"month": month(0)}, headers=token())
    assert county.json()["paid"] == 1  # the township's beneficiary is paid already
    assert sorted(e["person_id"] for e in ins.events("UnemploymentBenefitPaid")) == sorted(drawing)
    future = await ins.http.post("/unemployment-benefit/payments", json={"month": month(1)}, headers=token())
    assert (future.status_code, future.json()["field"]) == (422, "month")
