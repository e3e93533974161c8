"""Registration's HTTP routes: thin, each one a command or a query."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from contracts.regions import normalise_region_code
from services.registration import imports, queries
from services.registration.commands import (
    PersonRequest,
    RegistrationCommands,
    employer_public,
    service_point_public,
    vacancy_public,
)
from services.registration.imports import ImportResult
from services.registration.models import (
    EmployerChange,
    EmployerCreate,
    EmployerDeregistration,
    EmployerPublic,
    PersonBatch,
    PersonBatchResult,
    PersonCreate,
    PersonPublic,
    ServicePointChange,
    ServicePointCreate,
    ServicePointList,
    ServicePointPublic,
    VacancyClosure,
    VacancyCreate,
    VacancyFill,
    VacancyList,
    VacancyPublic,
)
from services.registration.pii import mask_id_number
from services.runtime.auth import Role
from services.runtime.errors import Forbidden, NotFound, PreconditionRequired, RuleViolated
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response

router = APIRouter(tags=["registration"])

_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Already registered; the body names the existing id"}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "A field breaks a rule; the body names the field and the reason"}
}

#: Roles that see a person's ID number, name and phone in full.
PII_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})


def _commands(request: Request) -> RegistrationCommands:
    commands: RegistrationCommands = request.app.state.commands
    return commands


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonPublic,
    responses={**_CONFLICT, **_INVALID},
    summary="Register a resident in the labour-force ledger (劳动力实名登记)",
)
async def register_person(body: PersonCreate, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    if command.metadata.idempotency_key:  # the response must be stored with the command, in its transaction
        return await command.run(lambda conn, meta: handlers.register_person(conn, command.principal, body, meta))
    batches: GroupCommit[PersonRequest, PersonPublic] = request.app.state.person_batches
    return json_response(await batches.submit(PersonRequest(command.principal, body, command.metadata)), 201)


@router.get("/persons/{person_id}", response_model=PersonPublic, summary="One ledger entry")
async def get_person(person_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person")
    row = await queries.person(conn, person_id) if _is_uuid(person_id) else None
    if row is None:
        raise NotFound(f"no person {person_id}")
    principal.require_region(row.region_code)
    vault = _commands(request).vault
    full = principal.role in PII_ROLES
    number = vault.decrypt(row.id_cipher) or ""
    return json_response(
        PersonPublic(
            person_id=row.person_id,
            id_number=number if full else mask_id_number(number),
            name=vault.decrypt(row.name_cipher) if full else None,
            phone=vault.decrypt(row.phone_cipher) if full else None,
            sex=row.sex,
            birth_date=row.birth_date,
            hukou=row.hukou,
            education=row.education,
            region_code=row.region_code,
        )
    )


@router.post(
    "/employers",
    status_code=201,
    response_model=EmployerPublic,
    responses={**_CONFLICT, **_INVALID},
    summary="Register an employer (用人单位登记)",
)
async def register_employer(body: EmployerCreate, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    return await command.run(lambda conn, meta: handlers.register_employer(conn, command.principal, body, meta))


# --- employers: change and deregistration; vacancies; service points; batches (reg-b) -------------------

IfMatch = Annotated[
    str | None,
    Header(description='The version the change is based on, as the ETag gave it (e.g. "2")', examples=['"1"']),
]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such thing"}}
_STALE: dict[int | str, dict[str, Any]] = {
    409: {"description": "Changed since the If-Match version; the body names the current version"},
    428: {"description": "If-Match is missing"},
}


def _expected_version(if_match: str | None) -> int | None:
    """The version named by If-Match (``"3"``, ``W/"3"`` or ``3``); ``*`` means any version."""
    if if_match is None:
        raise PreconditionRequired(
            'send If-Match with the version you read (the ETag), e.g. If-Match: "1"', field="If-Match"
        )
    value = if_match.strip().removeprefix("W/").strip('"')
    if value == "*":
        return None
    if not value.isdigit():
        raise RuleViolated(
            "IfMatchNamesAVersion", f"If-Match must be a version number, got {if_match!r}", field="If-Match"
        )
    return int(value)


def _with_etag(response: Response, version: int | None = None) -> Response:
    if version is None:
        version = orjson.loads(response.body)["version"]
    response.headers["ETag"] = f'"{version}"'
    return response


@router.get("/employers/{employer_id}", response_model=EmployerPublic, responses=_NOT_FOUND, summary="One employer")
async def get_employer(employer_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    state = await _commands(request).employer(conn, employer_id) if _is_uuid(employer_id) else None
    if state is None:
        raise NotFound(f"no employer {employer_id}", field="employer_id")
    principal.require_region(state.region_code)
    return _with_etag(json_response(employer_public(state)), state.version)


@router.patch(
    "/employers/{employer_id}",
    response_model=EmployerPublic,
    responses={**_NOT_FOUND, **_STALE, **_INVALID},
    summary="Change an employer's name, industry, size or region (变更登记)",
)
async def change_employer(
    employer_id: str, body: EmployerChange, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    expected = _expected_version(if_match)
    handlers = _commands(request)
    return _with_etag(
        await command.run(
            lambda conn, meta: handlers.change_employer(conn, command.principal, employer_id, body, expected, meta),
            status_code=200,
        )
    )


@router.post(
    "/employers/{employer_id}/deregistration",
    response_model=EmployerPublic,
    responses={**_NOT_FOUND, **_INVALID},
    summary="Deregister an employer (注销)",
)
async def deregister_employer(
    employer_id: str, body: EmployerDeregistration, request: Request, command: Commands
) -> Response:
    handlers = _commands(request)
    return _with_etag(
        await command.run(
            lambda conn, meta: handlers.deregister_employer(conn, command.principal, employer_id, body, meta),
            status_code=200,
        )
    )


@router.post(
    "/vacancies",
    status_code=201,
    response_model=VacancyPublic,
    responses=_INVALID,
    summary="Open a vacancy (岗位) with positions, occupation and a wage range in fen",
)
async def open_vacancy(body: VacancyCreate, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    return await command.run(lambda conn, meta: handlers.open_vacancy(conn, command.principal, body, meta))


@router.get("/vacancies", response_model=VacancyList, summary="Vacancies in a region subtree, newest first")
async def list_vacancies(
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: Annotated[str, Query(description="Region code (2-12 digits); its whole subtree", examples=["430527"])],
    status: Annotated[Literal["open", "filled", "closed"] | None, Query()] = None,
    employer_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    code = _region_query(region)
    principal.require_region(code)
    rows = await queries.vacancies_in(
        conn,
        queries.subtree_prefix(code),
        status=status,
        employer_id=str(employer_id) if employer_id else None,
        limit=limit,
        offset=offset,
    )
    vacancies = [VacancyPublic(**row, remaining=row["positions"] - row["filled"] - row["withdrawn"]) for row in rows]
    return json_response(VacancyList(region_code=code, count=len(vacancies), vacancies=vacancies))


@router.get("/vacancies/{vacancy_id}", response_model=VacancyPublic, responses=_NOT_FOUND, summary="One vacancy")
async def get_vacancy(vacancy_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    state = await _commands(request).vacancy(conn, vacancy_id) if _is_uuid(vacancy_id) else None
    if state is None:
        raise NotFound(f"no vacancy {vacancy_id}", field="vacancy_id")
    principal.require_region(state.region_code)
    return _with_etag(json_response(vacancy_public(state)), state.version)


@router.post(
    "/vacancies/{vacancy_id}/fills",
    response_model=VacancyPublic,
    responses={**_NOT_FOUND, **_INVALID},
    summary="Fill positions of a vacancy, at most those remaining",
)
async def fill_vacancy(vacancy_id: str, body: VacancyFill, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    return await command.run(
        lambda conn, meta: handlers.fill_vacancy(conn, command.principal, vacancy_id, body, meta), status_code=200
    )


@router.post(
    "/vacancies/{vacancy_id}/closure",
    response_model=VacancyPublic,
    responses={**_NOT_FOUND, **_INVALID},
    summary="Close a vacancy; positions not filled are withdrawn",
)
async def close_vacancy(vacancy_id: str, body: VacancyClosure, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    return await command.run(
        lambda conn, meta: handlers.close_vacancy(conn, command.principal, vacancy_id, body, meta), status_code=200
    )


@router.post(
    "/service-points",
    status_code=201,
    response_model=ServicePointPublic,
    responses={**_CONFLICT, **_INVALID},
    summary="Record a county, township or village service point (平台) and assess it against the standards",
)
async def establish_service_point(body: ServicePointCreate, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    return _with_etag(
        await command.run(lambda conn, meta: handlers.establish_service_point(conn, command.principal, body, meta))
    )


@router.get(
    "/service-points",
    response_model=ServicePointList,
    summary="Service points in a region subtree with their compliance (建成率, 达标)",
)
async def list_service_points(
    principal: CurrentPrincipal,
    conn: DbConnection,
    region: Annotated[str, Query(description="Region code (2-12 digits); its whole subtree", examples=["430527"])],
    compliant: Annotated[bool | None, Query(description="Only points that do (true) or do not (false) comply")] = None,
) -> Response:
    code = _region_query(region)
    principal.require_region(code)
    points = [
        ServicePointPublic(**row)
        for row in await queries.service_points_in(conn, queries.subtree_prefix(code), compliant=compliant)
    ]
    return json_response(
        ServicePointList(
            region_code=code,
            count=len(points),
            compliant=sum(1 for p in points if p.compliance.compliant),
            service_points=points,
        )
    )


@router.get(
    "/service-points/{service_point_id}",
    response_model=ServicePointPublic,
    responses=_NOT_FOUND,
    summary="One service point with its compliance",
)
async def get_service_point(
    service_point_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    state = await _commands(request).service_point(conn, service_point_id) if _is_uuid(service_point_id) else None
    if state is None:
        raise NotFound(f"no service point {service_point_id}", field="service_point_id")
    principal.require_region(state.event.region_code)
    return _with_etag(json_response(service_point_public(state)), state.version)


@router.patch(
    "/service-points/{service_point_id}",
    response_model=ServicePointPublic,
    responses={**_NOT_FOUND, **_STALE, **_INVALID},
    summary="Change a service point's staff, premises, equipment or reach; compliance is re-assessed",
)
async def update_service_point(
    service_point_id: str, body: ServicePointChange, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    expected = _expected_version(if_match)
    handlers = _commands(request)
    return _with_etag(
        await command.run(
            lambda conn, meta: handlers.update_service_point(
                conn, command.principal, service_point_id, body, expected, meta
            ),
            status_code=200,
        )
    )


@router.post(
    "/persons/batch",
    response_model=PersonBatchResult,
    summary="Register up to 1,000 residents at once; one result per item (201, 409, 403 or 422)",
)
async def register_person_batch(body: PersonBatch, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    return await command.run(
        lambda conn, meta: handlers.register_person_batch(conn, command.principal, body.items, meta), status_code=200
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
async def import_persons(request: Request, command: Commands) -> Response:
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
        _commands(request),
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
        **_NOT_FOUND,
    },
    response_class=Response,
    summary="Download the bad rows of an import as XLSX, with a reasons column, to fix and upload again",
)
async def import_errors(import_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    content = await imports.errors_workbook(conn, _commands(request), principal, import_id)
    return Response(
        content,
        media_type=imports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.xlsx"'},
    )


def _region_query(region: str) -> str:
    try:
        return normalise_region_code(region)
    except ValueError as exc:
        raise RuleViolated("RegionCodeValid", str(exc), field="region") from exc


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
