"""The month's evaluation as the XLSX a county bureau files (基层公共就业服务人员月度考核评分表).

The layout follows the quarterly report's (``services/reporting/exports.py``): a title, the reporting unit
and the period, a note on how to read it, a shaded header, one row per staff member in county rank, and
the time it was made; a second sheet lists the townships and villages with their targets (以奖代补).
"""

from __future__ import annotations

import io
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from services.reporting.entities import now_in_china
from services.reporting.exports import XLSX
from services.reporting.staff.api import (
    AsOfQuery,
    MonthQuery,
    RegionQuery,
    Settings,
    StaffPerformance,
    require_individual_reader,
    staff_performance_body,
)
from services.reporting.staff.evaluation import evaluation_window
from services.runtime.http import CurrentPrincipal, DbConnection

router = APIRouter(tags=["staff performance"])

TITLE = "基层公共就业服务人员月度考核评分表"
ROLE_ZH = {
    "broker": "农村劳务经纪人",
    "guidance_officer": "职业指导员",
    "coordinator": "劳动保障协理员",
    "clerk": "工作人员",
}
LEVEL_ZH = {"township": "乡镇（街道）", "village": "村（社区）"}
STAFF_HEADERS = (
    "县排名",
    "乡镇排名",
    "乡镇代码",
    "服务点区划代码",
    "工号",
    "岗位",
    "工作量得分",
    "服务成本得分",
    "服务效果得分",
    "满意度得分",
    "综合得分",
    "工作量（分）",
    "服务效果（分）",
    "满意度评价（次）",
    "月经费（元）",
    "末位",
    "连续两月末位",
)
TARGET_HEADERS = ("区划代码", "名称", "层级", "人数", "平均分", "安置就业（人）", "目标（人）", "是否达标")


def to_xlsx(report: StaffPerformance, unit_name: str) -> bytes:
    """The evaluation as a workbook: the scores, then the 以奖代补 list."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = report.month
    bold = Font(bold=True)
    shade = PatternFill("solid", fgColor="DDEBF7")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    weights = "、".join(
        f"{label}{report.weights[part]:g}"
        for part, label in (
            ("workload", "工作量"),
            ("cost", "服务成本"),
            ("effect", "服务效果"),
            ("satisfaction", "满意度"),
        )
    )
    sheet.append([TITLE])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            f"填报单位：{unit_name}（区划代码 {report.region_code}）",
            None,
            None,
            None,
            f"考核期：{report.month}（{report.month}-01 至 {report.last_day}）",
        ]
    )
    sheet.append([f"各项得分 0-100；综合得分为加权平均（权重：{weights}），无满意度评价的不计该项。"])
    sheet["A3"].font = Font(italic=True, color="666666")
    sheet.append(list(STAFF_HEADERS))
    for c in sheet[4]:
        c.font, c.fill, c.alignment = bold, shade, centre
    for e in report.staff:
        p = e.parts
        sheet.append(
            [
                e.county_rank,
                e.township_rank,
                e.township_code,
                e.region_code,
                e.subject,
                ROLE_ZH.get(e.role, e.role),
                p["workload"],
                p["cost"],
                p["effect"],
                p["satisfaction"],
                e.score,
                e.workload_points,
                e.effect_points,
                e.ratings,
                e.monthly_funding_yuan,
                "是" if e.last_in_county else "",
                "是" if e.dismissal_due else "",
            ]
        )
    sheet.append([f"制表时间：{now_in_china():%Y-%m-%d %H:%M}（北京时间）"])
    for column, width in (("C", 14), ("D", 15), ("E", 14), ("F", 16)):
        sheet.column_dimensions[column].width = width
    targets = book.create_sheet("以奖代补")
    targets.append([f"{report.month} 以奖代补：乡镇（街道）、村（社区）目标完成情况"])
    targets["A1"].font = Font(bold=True, size=14)
    targets.append(list(TARGET_HEADERS))
    for c in targets[2]:
        c.font, c.fill, c.alignment = bold, shade, centre
    for t in report.targets:
        targets.append(
            [
                t.region_code,
                t.name,
                LEVEL_ZH.get(t.level, t.level),
                t.staff,
                t.mean_score,
                t.placements,
                t.placements_target,
                "达标" if t.met else "未达标",
            ]
        )
    targets.column_dimensions["A"].width = 15
    targets.column_dimensions["B"].width = 22
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get(
    "/staff-performance/report",
    summary="The month's evaluation as the XLSX a county bureau files: county officers and admins only",
    response_class=Response,
    responses={200: {"description": "The workbook", "content": {XLSX: {}}}},
)
async def staff_performance_report(
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: RegionQuery,
    settings: Settings,
    month: MonthQuery = None,
    as_of: AsOfQuery = None,
) -> Response:
    require_individual_reader(principal)
    report, unit_name = await staff_performance_body(conn, principal, region, evaluation_window(month, as_of), settings)
    ascii_name = f"{report.region_code}_{report.month}_staff_performance.xlsx"
    chinese_name = f"{unit_name}_{report.month}_月度考核评分.xlsx"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"
    return Response(to_xlsx(report, unit_name), media_type=XLSX, headers={"Content-Disposition": disposition})
