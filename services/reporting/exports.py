"""The quarterly upward statistical report (统计上报) of a region: one row per child region and a total.

Columns follow the metric declarations (Chinese label and unit in the header, the metric name under it);
the header rows name the reporting unit (填报单位) and the period. Stocks are taken at the end of the
quarter, flows within it; ratios are recomputed from each row's own numerator and denominator, never
summed. Where the region holds figures of its own (an employer registered at the township itself), a
"本级" row carries them, so the total row is always the sum of the rows above it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from contracts.regions import Region
from services.reporting import queries, sources
from services.reporting.api import parse_period_param, region_in_scope, request_window
from services.reporting.entities import now_in_china
from services.reporting.metrics import Metric, ratio_of
from services.reporting.periods import Period, Window
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.http import CurrentPrincipal, DbConnection
from services.runtime.regions import child_regions
from services.runtime.spreadsheets import csv_text, is_formula

router = APIRouter(tags=["reporting"])

TITLE = "劳动就业和社会保障统计季报"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Value = int | float | None


@dataclass(frozen=True)
class Row:
    """One line of the report: a region (or the region's own figures, or the total) and its figures."""

    code: str
    name: str
    values: dict[str, Value]


@dataclass(frozen=True)
class QuarterlyReport:
    """What the report says, before it is written as XLSX or CSV."""

    region: Region
    period: Period
    window: Window
    metrics: tuple[Metric, ...]
    rows: list[Row]
    total: Row

    @property
    def headers(self) -> list[str]:
        """区划代码, 单位名称, then each metric's Chinese label with its unit."""
        return ["区划代码", "单位名称", *(f"{m.label_zh}（{m.unit}）" for m in self.metrics)]

    @property
    def reporting_unit(self) -> str:
        """填报单位 line."""
        return f"填报单位：{self.region.name}（区划代码 {self.region.code}）"

    @property
    def period_line(self) -> str:
        """统计期 line."""
        return f"统计期：{self.period.label_zh}（{self.period.start} 至 {self.window.as_of}）"

    @property
    def note(self) -> str:
        """How to read the figures."""
        return "存量指标为期末数，流量指标为期内发生数；比率指标按各行分子分母重新计算，不作加总。"


def _own(total: dict[str, Value], children: list[dict[str, Value]], metrics: tuple[Metric, ...]) -> dict[str, Value]:
    """The region's own figures: the total less its children's, ratios recomputed from those."""
    own: dict[str, Value] = {}
    for m in metrics:
        if m.kind != "ratio":
            own[m.name] = int(total[m.name] or 0) - sum(int(c[m.name] or 0) for c in children)
    for m in metrics:
        if m.kind == "ratio":
            own[m.name] = ratio_of(m, own)
    return own


async def quarterly_report(conn: Connection, region: Region, period: Period) -> QuarterlyReport:
    """The figures of the report: every child region of ``region`` and the total, for one quarter."""
    w = request_window(period.label, None)
    children = await child_regions(conn, region.code)
    figures = await queries.metrics_of(conn, [region.code, *(c.code for c in children)], w)
    rows = [Row(c.code, c.name, figures[c.code]) for c in children]
    total = figures[region.code]
    metrics = sources.CATALOGUE.metrics
    own = _own(total, [r.values for r in rows], metrics)
    if any(own[m.name] for m in metrics if m.kind != "ratio"):
        rows.append(Row(region.code, f"{region.name}（本级）", own))
    return QuarterlyReport(region, period, w, metrics, rows, Row(region.code, "合计", total))


def _number_format(metric: Metric) -> str:
    return "0.00" if metric.kind == "ratio" else "#,##0"


def to_xlsx(report: QuarterlyReport) -> bytes:
    """The report as an XLSX workbook (written in openpyxl's write-only mode for speed)."""
    book = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = book.create_sheet(report.period.label)
    sheet.freeze_panes = "C6"
    # The write-only sheet forwards column widths to its worksheet; the stubs do not know that.
    sheet.column_dimensions["A"].width = 15  # type: ignore[attr-defined]
    sheet.column_dimensions["B"].width = 22  # type: ignore[attr-defined]
    bold = Font(bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    shade = PatternFill("solid", fgColor="DDEBF7")

    def cell(
        value: str | float | None,
        *,
        font: Font | None = None,
        fmt: str | None = None,
        fill: PatternFill | None = None,
    ) -> Cell:
        c = WriteOnlyCell(sheet, value=value)
        if is_formula(value):  # a region's name comes from an imported list: text stays text
            c.data_type = "s"
        if font is not None:
            c.font = font
        if fmt is not None:
            c.number_format = fmt
        if fill is not None:
            c.fill = fill
        return c

    sheet.append([cell(TITLE, font=Font(bold=True, size=14))])
    sheet.append([cell(report.reporting_unit), None, cell(report.period_line)])
    sheet.append([cell(report.note, font=Font(italic=True, color="666666"))])
    header = [cell(h, font=bold, fill=shade) for h in report.headers]
    for c in header:
        c.alignment = centre
    sheet.append(header)
    sheet.append(["指标代码", None, *(cell(m.name, font=Font(color="888888")) for m in report.metrics)])

    def line(row: Row, font: Font | None = None) -> list[object]:
        return [
            cell(row.code, font=font),
            cell(row.name, font=font),
            *(cell(row.values[m.name], font=font, fmt=_number_format(m)) for m in report.metrics),
        ]

    for row in report.rows:
        sheet.append(line(row))
    sheet.append(line(report.total, bold))
    sheet.append([cell(f"制表时间：{now_in_china():%Y-%m-%d %H:%M}（北京时间）", font=Font(color="666666"))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(report: QuarterlyReport) -> bytes:
    """The report as CSV in UTF-8 with a byte order mark, which spreadsheet programs expect for Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([TITLE])
    writer.writerow([report.reporting_unit, report.period_line])
    writer.writerow([report.note])
    writer.writerow(report.headers)
    writer.writerow(["指标代码", "", *(m.name for m in report.metrics)])

    def text(metric: Metric, value: Value) -> str:
        if value is None:
            return ""
        return f"{value:.2f}" if metric.kind == "ratio" else str(value)

    for row in [*report.rows, report.total]:
        # Codes and names come from the imported division list: formula-like text is written as text.
        writer.writerow(
            [csv_text(row.code), csv_text(row.name), *(text(m, row.values[m.name]) for m in report.metrics)]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get(
    "/reports/quarterly",
    summary="The quarterly statistical report (统计上报) of a region as XLSX or CSV",
    response_class=Response,
    responses={
        200: {
            "description": "The report file",
            "content": {XLSX: {}, "text/csv": {}},
        }
    },
)
async def quarterly(
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: Annotated[str, Query(description="The reporting unit's region code", examples=["430527"])],
    period: Annotated[str, Query(description="The quarter", examples=["2026Q3"])],
    format: Annotated[Literal["xlsx", "csv"], Query(description="File format", examples=["xlsx"])] = "xlsx",
) -> Response:
    """One row per child region, the region's own figures if it has any, and the total row."""
    quarter = parse_period_param(period, "period")
    if quarter.granularity != "quarter":
        raise RuleViolated(
            "QuarterlyReportPeriod",
            f"the quarterly report needs a quarter such as 2026Q3, got {period!r}",
            field="period",
        )
    unit = await region_in_scope(conn, principal, region, field="region")
    report = await quarterly_report(conn, unit, quarter)
    body, media = (to_xlsx(report), XLSX) if format == "xlsx" else (to_csv(report), "text/csv; charset=utf-8")
    ascii_name = f"{unit.code}_{quarter.label}_quarterly.{format}"
    chinese_name = f"{unit.name}_{quarter.label_zh}_统计季报.{format}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
