"""Bulk import of a clerk's ledger (台账) over real HTTP and Postgres: XLSX and CSV, bad rows, re-uploads."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from tests.integration.registration_client import count, registration_client, token

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"
HEADER = ["序号", "身份证号", "姓名", "所在村(社区)代码", "联系电话", "户籍类型", "文化程度", "人员类别"]
GOOD = [
    [1, "11010519491231002X", "王芳", VILLAGE, "13800000001", "农业", "初中", "农村富余劳动力"],
    [2, "440524188001010014", "李强", "430527100202", 13800000002, "非农业", "高中", "外出务工、灵活就业"],
    [3, "34052419800101001X", "杨秀成", int(VILLAGE), None, None, None, None],
]
BAD = [
    [4, "110105194912310021", "错号", VILLAGE, None, "农业", None, None],  # wrong check character
    [5, "430527199003070011", "乡镇人", "430527100000", None, None, None, None],  # a township, not a village
    [6, "430527198511230021", "户口", VILLAGE, None, "外星", None, None],  # unknown hukou
    [7, "11010519491231002X", "重复", VILLAGE, None, None, None, None],  # same ID as row 3 of the data
    [8, "430527198511230021", None, VILLAGE, None, None, None, "打工"],  # no name, unknown category
]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER, title: bool = True) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if title:
        sheet.append(["长铺镇劳动力资源台账(2026年第二季度)"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    async with registration_client(infra, import_max_bytes=200_000) as http:
        yield http


async def upload(client, content: bytes, name: str = "台账.xlsx", headers: dict[str, str] | None = None):
    return await client.post("/imports/persons", files={"file": (name, content)}, headers=headers or token())


async def test_good_rows_are_registered_and_each_bad_row_is_listed_with_its_reasons(client):
    response = await upload(client, xlsx(GOOD + BAD))
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["rows"], result["created"], result["already_registered"], result["rejected"]) == (8, 3, 0, 5)
    by_row: dict[int, list[dict]] = {}
    for error in result["errors"]:
        by_row.setdefault(error["row"], []).append(error)
    # Row numbers are the spreadsheet's: a title row, the header, then data from row 3.
    assert sorted(by_row) == [6, 7, 8, 9, 10]
    assert by_row[6][0]["field"] == "id_number" and by_row[6][0]["column"] == "身份证号"
    assert "check character" in by_row[6][0]["reasons"][0]
    assert by_row[7][0]["rule"] == "PersonLivesInVillageOrCommunity"
    assert by_row[8][0]["field"] == "hukou" and "外星" in by_row[8][0]["reasons"][0]
    assert by_row[9][0]["rule"] == "DuplicateRowInFile" and "row 3" in by_row[9][0]["reasons"][0]
    assert {e["field"] for e in by_row[10]} == {"name", "categories"}
    assert count(client.database_url, "SELECT count(*) FROM registration.persons") == 3
    assert count(client.database_url, "SELECT count(*) FROM registration.events") == 3

    download = await client.get(result["errors_url"], headers=token())
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "行号" and rows[0][-1] == "错误原因" and list(rows[0][1:-1]) == HEADER
    assert [r[0] for r in rows[1:]] == [6, 7, 8, 9, 10]
    assert rows[1][2] == "110105194912310021" and "check character" in rows[1][-1]


async def test_re_uploading_the_same_file_registers_nothing_twice(client):
    ledger = xlsx(GOOD)
    first = (await upload(client, ledger)).json()
    second = (await upload(client, ledger)).json()
    assert first["created"] == 3 and first["previous_import_id"] is None
    assert (second["created"], second["already_registered"], second["rejected"]) == (0, 3, 0)
    assert second["previous_import_id"] == first["import_id"]
    assert second["duplicates"][0]["person_id"] is not None
    # A re-typed ledger (other bytes) with the same people registers nobody either.
    retyped = (await upload(client, xlsx(GOOD, title=False))).json()
    assert (retyped["created"], retyped["already_registered"], retyped["previous_import_id"]) == (0, 3, None)
    assert count(client.database_url, "SELECT count(*) FROM registration.persons") == 3
    assert count(client.database_url, "SELECT count(*) FROM registration.events") == 3


async def test_a_gbk_csv_with_english_headers_is_read(client):
    text = "id_number,name,region_code,hukou\n11010519491231002X,王芳,430527100201,rural\n"
    response = await upload(client, text.encode("gbk"), "ledger.csv")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1


async def test_a_missing_column_is_422_naming_it_and_writes_nothing(client):
    header = [h for h in HEADER if h != "姓名"]
    rows = [[c for i, c in enumerate(r) if HEADER[i] != "姓名"] for r in GOOD]
    response = await upload(client, xlsx(rows, header))
    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "姓名" and problem["missing_columns"] == ["姓名"]
    assert count(client.database_url, "SELECT count(*) FROM registration.persons") == 0


async def test_id_numbers_stored_as_excel_numbers_are_422_naming_the_column(client):
    rows = [list(r) for r in GOOD]
    rows[1][1] = 440524188001010014  # Excel keeps 15 significant digits: the number is already wrong
    response = await upload(client, xlsx(rows))
    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "身份证号" and problem["rule"] == "LedgerColumnHasTextCells"
    assert "rows 4" in problem["detail"]
    assert count(client.database_url, "SELECT count(*) FROM registration.persons") == 0


async def test_scientific_notation_ids_in_a_csv_are_a_wrong_type(client):
    text = "身份证号,姓名,所在村(社区)代码\n4.40524E+17,李强,430527100201\n"
    response = await upload(client, text.encode(), "ledger.csv")
    assert response.status_code == 422 and response.json()["field"] == "身份证号"


async def test_an_oversized_upload_is_413(client):
    response = await upload(client, b"x" * 300_000, "big.csv")
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["max_bytes"] == 200_000


async def test_an_old_xls_or_other_file_is_415(client):
    response = await upload(client, b"\xd0\xcf\x11\xe0old excel", "台账.xls")
    assert response.status_code == 415 and "xlsx" in response.json()["detail"]


async def test_rows_outside_the_callers_village_are_refused_per_row(client):
    clerk = token("village", VILLAGE)
    result = (await upload(client, xlsx(GOOD), headers=clerk)).json()
    assert result["created"] == 2
    [error] = result["errors"]
    assert (error["row"], error["field"], error["rule"]) == (4, "region_code", "OutsideYourRegion")


async def test_analysts_cannot_import_or_download(client):
    analyst = token("analyst", "430527")
    assert (await upload(client, xlsx(GOOD), headers=analyst)).status_code == 403
    result = (await upload(client, xlsx(BAD))).json()
    assert (await client.get(result["errors_url"], headers=analyst)).status_code == 403
    assert (await client.get("/imports/not-an-id/errors.xlsx", headers=token())).status_code == 404
