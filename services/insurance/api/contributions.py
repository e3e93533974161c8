"""Routes of the contribution ledger: posting a month's file (CSV or XLSX), idempotently."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from contracts.insurance import MONTH_PATTERN
from services.insurance import imports
from services.insurance.commands import require_clerk
from services.insurance.domain.contributions import BaseBounds
from services.insurance.models import ContributionBatch
from services.runtime.errors import PayloadTooLarge, RuleViolated
from services.runtime.http import Commands, json_response

router = APIRouter(tags=["contributions"])

_UPLOAD_SCHEMA = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "month"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The month's file: .csv (UTF-8 or GBK) or .xlsx (first sheet). Header row "
                            "with 人员编号, 险种, 缴费基数, 单位缴纳, 个人缴纳 and optionally 单位编号 (or the English "
                            "names person_id, insurance_type, base, employer_part, personal_part, employer_id); "
                            "amounts in yuan with at most two decimals",
                        },
                        "month": {"type": "string", "pattern": MONTH_PATTERN, "description": "The month it pays for"},
                    },
                },
                "examples": {
                    "csv": {
                        "summary": "One employee's unemployment insurance for November",
                        "value": {"file": "缴费明细.csv", "month": "2026-11"},
                    }
                },
            }
        }
    }
}


@router.post(
    "/contributions/files",
    response_model=imports.PostingResult,
    responses={
        413: {"description": "Larger than CONTRIBUTION_MAX_BYTES"},
        415: {"description": "Neither .xlsx nor .csv"},
        422: {"description": "The month is in the future or a required column is missing"},
    },
    openapi_extra=_UPLOAD_SCHEMA,
    summary="Post a month's contribution file (缴费明细); bad rows are listed, a file posted twice posts nothing twice",
)
async def post_file(request: Request, command: Commands) -> Response:
    require_clerk(command.principal)
    limit: int = request.app.state.contribution_max_bytes
    form = await request.form(max_files=1, max_fields=5)
    upload, month = form.get("file"), form.get("month")
    if not isinstance(upload, UploadFile):
        raise RuleViolated("UploadHasFile", "send the file as the multipart form field 'file'", field="file")
    if not isinstance(month, str) or not imports.is_month(month):
        raise RuleViolated("MonthIsYYYYMM", "send the month the file pays for as 'month', YYYY-MM", field="month")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes", field="file")
    bounds: BaseBounds = request.app.state.policy.bounds
    today: date = request.app.state.insured.today()
    store = request.app.state.store
    async with request.app.state.renshe.pool.connection() as conn, conn.transaction():
        result = await imports.post_file(
            conn, store, data, upload.filename or "contributions.csv", month, bounds, command.metadata, today=today
        )
    return json_response(result, 200 if result.replayed else 201)


@router.post(
    "/contributions",
    response_model=imports.PostingResult,
    responses={422: {"description": "A month in the future, an amount with a fraction of a fen"}},
    summary="Post a month's contributions as JSON, in fen; the same rows twice post nothing twice",
)
async def post_rows(body: ContributionBatch, request: Request, command: Commands) -> Response:
    require_clerk(command.principal)
    rows = [
        (r.person_id, r.insurance_type, r.employer_id, r.base_fen, r.employer_fen, r.personal_fen) for r in body.rows
    ]
    async with request.app.state.renshe.pool.connection() as conn, conn.transaction():
        result = await imports.post_rows(
            conn,
            request.app.state.store,
            rows,
            body.month,
            request.app.state.policy.bounds,
            command.metadata,
            today=request.app.state.insured.today(),
        )
    return json_response(result, 200 if result.replayed else 201)
