"""Routes that enter many residents at once: a JSON batch, and a village's ledger (台账) as XLSX or CSV."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from services.registration import imports
from services.registration.api.deps import LedgerDep
from services.registration.commands import batch
from services.registration.imports import ImportResult
from services.registration.models.batch import PersonBatch, PersonBatchResult
from services.runtime.errors import RuleViolated
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import NOT_FOUND

router = APIRouter(tags=["registration"])


@router.post(
    "/persons/batch",
    response_model=PersonBatchResult,
    summary="Register up to 1,000 residents at once; one result per item (201, 409, 403 or 422)",
)
async def register_person_batch(body: PersonBatch, ledger: LedgerDep, command: Commands) -> Response:
    return await command.run(
        lambda conn, meta: batch.register_person_batch(ledger, conn, command.principal, body.items, meta),
        status_code=200,
    )


_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The ledger: .xlsx (first sheet) or .csv (UTF-8 or GBK). Header row with "
                            "身份证号, 姓名, 所在村(社区)代码 and optionally 联系电话, 户籍类型, 文化程度, 人员类别 "
                            "(or the English field names)",
                        }
                    },
                },
                "examples": {
                    "ledger": {
                        "summary": "curl -F file=@台账.xlsx",
                        "value": {"file": "台账.xlsx"},
                    }
                },
            }
        },
    }
}


@router.post(
    "/imports/persons",
    response_model=ImportResult,
    responses={
        413: {"description": "The upload is larger than IMPORT_MAX_BYTES"},
        415: {"description": "Neither .xlsx nor .csv"},
        422: {"description": "A required column is missing or a column holds numbers/dates instead of text"},
    },
    openapi_extra=_UPLOAD_SCHEMA,
    summary="Import a ledger (台账) of persons from XLSX or CSV; every bad row is listed with its reasons",
)
async def import_persons(request: Request, ledger: LedgerDep, command: Commands) -> Response:
    limit: int = request.app.state.import_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:  # room for the multipart framing
        raise imports.too_large(int(declared), limit)
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise RuleViolated("UploadHasFile", "send the ledger as the multipart form field 'file'", field="file")
    if upload.size is not None and upload.size > limit:
        raise imports.too_large(upload.size, limit)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise imports.too_large(len(data), limit)
    result = await imports.import_persons(
        request.app.state.renshe.pool,
        ledger,
        command.principal,
        command.metadata,
        data,
        upload.filename or "ledger",
        imports.ImportSettings(max_bytes=limit),
    )
    return json_response(result)


@router.get(
    "/imports/{import_id}/errors.xlsx",
    responses={
        200: {"content": {imports.XLSX_MEDIA_TYPE: {}}, "description": "The bad rows with 错误原因"},
        **NOT_FOUND,
    },
    response_class=Response,
    summary="Download the bad rows of an import as XLSX, with a reasons column, to fix and upload again",
)
async def import_errors(import_id: str, ledger: LedgerDep, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    content = await imports.errors_workbook(conn, ledger, principal, import_id)
    return Response(
        content,
        media_type=imports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.xlsx"'},
    )
