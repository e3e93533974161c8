"""Contribution files and arrears over real HTTP and Postgres: row-level reasons, a file posted twice posts
nothing twice, the surcharge to the fen, two months of arrears reported to supervision and cleared."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from openpyxl import Workbook

from services.insurance.domain.contributions import WHOLE_FEN, BaseBounds, check_contribution
from services.insurance.domain.employer_account import late_surcharge_fen
from tests.integration import test_insurance_api as support
from tests.integration.registration_client import token
from tests.integration.test_insurance_api import TODAY, month

pytestmark = pytest.mark.integration

ins = support.ins


async def test_a_month_file_posts_good_rows_lists_bad_ones_and_posts_nothing_twice(ins):
    employer = await ins.employer()
    paid, flexible, not_enrolled = [await ins.person() for _ in range(3)]
    await ins.enrol(paid, "enterprise_pension", employer)
    await ins.enrol(flexible, "medical")
    rows = [
        (paid, "enterprise_pension", employer, "5000.00", "800.00", "400.00"),
        (flexible, "基本医疗保险", None, "4000", "0", "320.5"),
        (paid, "enterprise_pension", employer, "5000.001", "800", "400"),  # a fraction of a fen
        (paid, "medical", employer, "100.00", "1", "1"),  # base below the province's bound
        (not_enrolled, "medical", None, "5000", "0", "400"),
        ("00000000-0000-4000-8000-000000000000", "medical", None, "5000", "0", "400"),
    ]
    first = await ins.post_file(rows, month(-1))
    assert first.status_code == 201, first.text
    result = first.json()
    assert (result["rows"], result["posted"], result["refused"], result["already_posted"]) == (6, 2, 4, 0)
    reasons = {e["row"]: (e["field"], e["rule"]) for e in result["errors"]}
    assert reasons == {
        4: ("base", "AmountInWholeFen"),
        5: ("base_fen", "BaseWithinProvinceBounds"),
        6: ("insurance_type", "ContributionNeedsEnrolment"),
        7: ("person_id", "PersonKnownFromRegistration"),
    }
    assert (result["base_fen"], result["employer_fen"], result["personal_fen"]) == (900_000, 80_000, 72_050)
    posted = ins.events("ContributionsPosted")
    assert sorted((e["employer_id"] is None, e["rows"], e["personal_fen"]) for e in posted) == [
        (False, 1, 40_000),
        (True, 1, 32_050),
    ]
    again = await ins.post_file(rows, month(-1))
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["posted"] == 2  # the first answer, unchanged
    overlapping = await ins.post_file(rows[:2], month(-1))
    assert (overlapping.status_code, overlapping.json()["posted"], overlapping.json()["already_posted"]) == (201, 0, 2)
    assert ins.count("SELECT count(*) FROM insurance.contributions") == 2
    assert len(ins.events("ContributionsPosted")) == 2
    ledger = (await ins.http.get(f"/persons/{flexible}/contributions", headers=token())).json()["months"]
    assert ledger == [
        {
            "insurance_type": "medical",
            "month": month(-1),
            "employer_id": None,
            "base_fen": 400_000,
            "employer_fen": 0,
            "personal_fen": 32_050,
        }
    ]


async def test_an_xlsx_file_with_chinese_headers_posts_and_a_future_month_is_refused(ins):
    person = await ins.person()
    await ins.enrol(person, "enterprise_pension")
    book = Workbook()
    sheet = book.active
    sheet.append(["人员编号", "险种", "缴费基数", "单位缴纳", "个人缴纳"])
    sheet.append([person, "企业职工基本养老保险", 5000, 0, 1200.5])
    data = io.BytesIO()
    book.save(data)
    upload = {"file": ("缴费明细.xlsx", data.getvalue(), "application/octet-stream")}
    posted = await ins.http.post("/contributions/files", files=upload, data={"month": month(0)}, headers=token())
    assert posted.status_code == 201 and posted.json()["personal_fen"] == 120_050, posted.text
    future = await ins.http.post("/contributions/files", files=upload, data={"month": month(1)}, headers=token())
    assert (future.status_code, future.json()["field"], future.json()["rule"]) == (422, "month", "MonthNotInFuture")
    analyst = await ins.post_file([], month(0), Authorization=token("analyst")["Authorization"])
    assert analyst.status_code == 403


async def test_two_months_of_arrears_report_the_employer_and_paying_clears_it_with_the_surcharge(ins):
    employer = await ins.employer()
    url = f"/employers/{employer}/arrears"
    due_1, due_2 = TODAY - timedelta(days=40), TODAY - timedelta(days=10)
    first = await ins.http.post(
        url, json={"month": month(-2), "amount_fen": 123_456, "workers": 6, "due_on": str(due_1)}, headers=token()
    )
    assert first.status_code == 201 and first.headers["etag"] == '"1"'
    assert [e["type"] for e in first.json()["events"]] == ["ArrearsAssessed"]
    fraction = await ins.http.post(
        url, json={"month": month(-1), "amount_fen": 12.5, "workers": 6, "due_on": str(due_2)}, headers=token()
    )
    assert (fraction.status_code, fraction.json()["field"]) == (422, "amount_fen")
    second = await ins.http.post(
        url, json={"month": month(-1), "amount_fen": 50_000, "workers": 5, "due_on": str(due_2)}, headers=token()
    )
    assert [e["type"] for e in second.json()["events"]] == ["ArrearsAssessed", "EmployerArrearsReported"]
    [report] = ins.events("EmployerArrearsReported")
    surcharge = late_surcharge_fen(123_456, 40) + late_surcharge_fen(50_000, 10)
    assert (report["arrears_fen"], report["surcharge_fen"], report["workers"]) == (173_456, surcharge, 6)
    account = (await ins.http.get(f"/employers/{employer}/account", headers=token())).json()
    assert account["surcharge_fen"] == surcharge and account["reported_to_supervision"] is True
    wrong = await ins.http.post(f"{url}/{month(-2)}/payment", json={"amount_fen": 1}, headers=token())
    assert (wrong.status_code, wrong.json()["rule"]) == (422, "PaymentCoversArrears")
    await ins.http.post(f"{url}/{month(-2)}/payment", json={"amount_fen": 123_456}, headers=token())
    last = await ins.http.post(f"{url}/{month(-1)}/payment", json={"amount_fen": 50_000}, headers=token())
    assert [e["type"] for e in last.json()["events"]] == ["ArrearsPaid", "EmployerArrearsCleared"]
    assert [p["surcharge_fen"] for p in ins.events("ArrearsPaid")] == [
        late_surcharge_fen(123_456, 40),
        late_surcharge_fen(50_000, 10),
    ]
    assert len(ins.events("EmployerArrearsCleared")) == 1


async def test_the_set_based_posting_gives_every_row_the_verdict_of_the_one_row_rule(ins):
    person = await ins.person()
    await ins.enrol(person, "medical")
    bounds = BaseBounds(400_000, 2_000_000)
    samples = [
        ("medical", "5000", "0", "400"),
        ("medical", "3999.99", "0", "400"),
        ("medical", "20000.00", "1.5", "0.05"),
        ("medical", "20000.01", "0", "1"),
        ("medical", "5000", "0", "0"),
        ("medical", "5000", "-1", "400"),
        ("medical", "5,000", "0", "400"),
        ("medical", "5000", "0", "400.001"),
        ("pension", "5000", "0", "400"),
        # the shapes a whole-fen check could let through: each is refused exactly as the one-row rule refuses it
        ("medical", "5000", "0", ".5"),
        ("medical", "5000", "0", "5."),
        ("medical", "5000", "0", "4.0.0"),
        ("medical", "5000", "0", "1e3"),
        ("medical", "5000", "0", "+5"),
        ("medical", "5000", "0", "NaN"),
        ("medical", "5000", "0", "１00"),
        ("medical", "5000", "0", "1234567890123"),
        ("medical", "5000", "0", "1234567890123.5"),
        ("medical", "5000", "0", ""),
        ("medical", "5000", "0", "0005.50"),
        ("medical", "5000", "0", "123456789012.25"),
        # and what Postgres's numeric input, which reads the amounts, takes beyond whole fen
        ("medical", "5000", "0", "0000000000001"),
        ("medical", "5000", "0", "-0"),
        ("medical", "5000", "0", "Infinity"),
        ("medical", "5000", "0", "1_000"),
        ("medical", "5000", "0", "0x10"),
        ("medical", "5000", "0", "1E2"),
        ("medical", "5000", "0", "0.5"),
        ("medical", "5000.50", "00", "400.5"),
    ]
    # each sample in its own month, so that every good one posts
    for offset, (kind, base, employer_part, personal_part) in enumerate(samples, start=1):
        expected = check_contribution(
            insurance_type=kind, base=base, employer_part=employer_part, personal_part=personal_part, bounds=bounds
        )
        posted = (
            await ins.post_file([(person, kind, None, f'"{base}"', employer_part, personal_part)], month(-offset))
        ).json()
        got = posted["errors"][0]["rule"] if posted["errors"] else None
        assert got == expected, (kind, base, employer_part, personal_part, posted)
        if got == "AmountInWholeFen":  # named by the first amount that is not whole fen
            amounts = {"base": base, "employer_part": employer_part, "personal_part": personal_part}
            first = next(name for name, value in amounts.items() if not WHOLE_FEN.fullmatch(value))
            assert posted["errors"][0]["field"] == first, (amounts, posted)


async def test_contributions_sent_as_json_in_fen_post_once_and_a_fraction_of_a_fen_is_refused(ins):
    person = await ins.person()
    await ins.enrol(person, "medical")
    row = {
        "person_id": person,
        "insurance_type": "medical",
        "base_fen": 500_000,
        "employer_fen": 0,
        "personal_fen": 40_000,
    }
    body = {"month": month(-1), "rows": [row]}
    first = await ins.http.post("/contributions", json=body, headers=token())
    assert (first.status_code, first.json()["posted"], first.json()["personal_fen"]) == (201, 1, 40_000)
    again = await ins.http.post("/contributions", json=body, headers=token())
    assert again.status_code == 200 and again.json()["replayed"] is True
    fraction = await ins.http.post(
        "/contributions", json={"month": month(-2), "rows": [{**row, "base_fen": 500_000.5}]}, headers=token()
    )
    assert (fraction.status_code, fraction.json()["field"]) == (422, "rows.0.base_fen")
    low = await ins.http.post(
        "/contributions", json={"month": month(-2), "rows": [{**row, "base_fen": 1}]}, headers=token()
    )
    assert low.json()["errors"][0]["rule"] == "BaseWithinProvinceBounds"
    assert ins.count("SELECT count(*) FROM insurance.contributions") == 1


async def test_two_overlapping_files_of_one_month_posted_at_once_post_each_row_once(ins):
    employer = await ins.employer()
    persons = [await ins.person() for _ in range(6)]
    for person in persons:
        await ins.enrol(person, "enterprise_pension", employer)
    rows = [(p, "enterprise_pension", employer, "5000.00", "800.00", "400.00") for p in persons]
    # the same person and type twice in one file: the first row posts, the second was posted already
    first, second = await asyncio.gather(
        ins.post_file(rows[:4] + rows[:1], month(-1)), ins.post_file(rows[2:], month(-1))
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    answers = [first.json(), second.json()]
    assert sum(a["posted"] for a in answers) == 6
    assert sorted((a["rows"], a["posted"] + a["already_posted"]) for a in answers) == [(4, 4), (5, 5)]
    assert ins.count("SELECT count(*) FROM insurance.contributions") == 6
    assert sum(e["rows"] for e in ins.events("ContributionsPosted")) == 6
