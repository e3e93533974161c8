"""Registration's HTTP routes: thin, each one a command or a query."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated, Any, Literal, cast

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from contracts.identifiers import parse_citizen_id
from contracts.regions import normalise_region_code
from contracts.registration import EmploymentStatus, PersonCategory, Sex
from services.registration import domain, imports, queries
from services.registration.commands import (
    PersonCommands,
    PersonRequest,
    RegistrationCommands,
    employer_public,
    household_public,
    is_uuid,
    name_lookup_hash,
    service_point_public,
    vacancy_public,
)
from services.registration.imports import ImportResult
from services.registration.models import (
    CategoriesUpdate,
    DeathRecord,
    EmployerChange,
    EmployerCreate,
    EmployerDeregistration,
    EmployerPublic,
    EmploymentCreate,
    EmploymentEnd,
    HeadChange,
    HistoryEntry,
    HouseholdCreate,
    HouseholdPublic,
    MemberAdd,
    PersonBatch,
    PersonBatchResult,
    PersonChange,
    PersonCorrection,
    PersonCreate,
    PersonHistory,
    PersonMove,
    PersonPage,
    PersonPublic,
    PersonSummary,
    RetirementCreate,
    ServicePointChange,
    ServicePointCreate,
    ServicePointList,
    ServicePointPublic,
    SurveyCreate,
    SurveyPendingPage,
    UnemploymentCreate,
    UnemploymentDeregistration,
    VacancyClosure,
    VacancyCreate,
    VacancyFill,
    VacancyList,
    VacancyPublic,
)
from services.runtime.auth import Principal, Role
from services.runtime.errors import Forbidden, NotFound, PreconditionRequired, RuleViolated
from services.runtime.eventstore import Metadata
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import Commands, CommandShortcut, CurrentPrincipal, DbConnection, json_response
from services.runtime.pii import PiiVault, mask_id_number

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
    return json_response(await _submit_person(request.app, command.principal, body, command.metadata), 201)


async def _submit_person(app: Any, principal: Principal, body: PersonCreate, metadata: Metadata) -> PersonPublic:
    """Register with whatever other registrations are waiting (group commit)."""
    batches: GroupCommit[PersonRequest, PersonPublic] = app.state.person_batches
    return await batches.submit(PersonRequest(principal, body, metadata))


#: Plain ``POST /persons`` (no Idempotency-Key, valid token and body) skip FastAPI: the bulk of a ledger
#: drive (CommandShortcut). Everything else, every error included, is the route's above.
REGISTER_PERSON = CommandShortcut("POST", "/persons", PersonCreate, _submit_person)


@router.get("/persons/{person_id}", response_model=PersonPublic, summary="One ledger entry")
async def get_person(person_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person")
    row = await queries.person(conn, person_id) if is_uuid(person_id) else None
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
            status=cast(EmploymentStatus, row.status),
            categories=list(row.categories),
            version=row.version,
        ),
        headers={"ETag": f'"{row.version}"'},
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
    Header(
        alias="If-Match",
        description="The version you read (GET returns it as ETag and in the body); a stale version gets 409",
        examples=['"3"'],
    ),
]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such thing"}}
_STALE: dict[int | str, dict[str, Any]] = {
    409: {"description": "Changed since the If-Match version; the body names the current version"},
    428: {"description": "If-Match is missing"},
}


def _expected_version(if_match: str | None) -> int | None:
    """The version a required If-Match names; 428 without one."""
    if if_match is None:
        raise PreconditionRequired(
            'send If-Match with the version you read (the ETag), e.g. If-Match: "1"', field="If-Match"
        )
    return _if_match_version(if_match)


def _if_match_version(if_match: str) -> int | None:
    """The version named by If-Match (``"3"``, ``W/"3"`` or ``3``); ``*`` means any version."""
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
    state = await _commands(request).employer(conn, employer_id) if is_uuid(employer_id) else None
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
    state = await _commands(request).vacancy(conn, vacancy_id) if is_uuid(vacancy_id) else None
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
    state = await _commands(request).service_point(conn, service_point_id) if is_uuid(service_point_id) else None
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


# --- person lifecycle, employment status, surveys, history, search, households (reg-a) -------------------

_PERSON_STALE: dict[int | str, dict[str, Any]] = {
    409: {"description": "Stale version (If-Match / expected_version): read the entry again and retry"},
    404: {"description": "No such person"},
}
_CHANGE = {**_PERSON_STALE, **_INVALID}


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """The version a change expects, from ``If-Match`` (``3``, ``"3"`` or ``W/"3"``) or the body."""
    if if_match is None or if_match.strip() == "*":
        return body_version
    version = _if_match_version(if_match)
    assert version is not None
    if body_version is not None and body_version != version:
        raise RuleViolated("IfMatchIsVersion", "If-Match and expected_version disagree", field="expected_version")
    return version


def _person_commands(request: Request) -> PersonCommands:
    commands: PersonCommands = request.app.state.commands
    return commands


@router.post(
    "/persons/{person_id}/corrections",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Correct recorded values (信息更正); PII is published redacted",
)
async def correct_person(
    person_id: str, body: PersonCorrection, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.correct_person(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/moves",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Move the residence to another village or community (居住地变更)",
)
async def move_person(
    person_id: str, body: PersonMove, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.move_person(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/death",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Record a death (死亡); the entry is closed",
)
async def record_death(
    person_id: str, body: DeathRecord, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.record_death(conn, command.principal, person_id, body.died_on, meta, version),
        status_code=200,
    )


@router.put(
    "/persons/{person_id}/categories",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Set the person's categories (人员类别)",
)
async def change_categories(
    person_id: str, body: CategoriesUpdate, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.change_categories(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/employment",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Employment registration (就业登记); flags a hire reported after 30 days",
)
async def register_employment(
    person_id: str, body: EmploymentCreate, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    registration = domain.RegisterEmployment(
        kind=body.kind,
        started_on=body.started_on,
        reported_on=body.reported_on or handlers.today(),
        employer_id=body.employer_id,
        vacancy_id=body.vacancy_id,
    )
    return await command.run(
        lambda conn, meta: handlers.register_employment(
            conn, command.principal, person_id, registration, meta, version
        ),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/employment/end",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="End of employment (终止/解除劳动关系); flags a termination reported after 15 days",
)
async def end_employment(
    person_id: str, body: EmploymentEnd, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.end_employment(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/unemployment",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Unemployment registration (失业登记)",
)
async def register_unemployment(
    person_id: str, body: UnemploymentCreate, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.register_unemployment(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/unemployment/deregistration",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Cancel an unemployment registration (注销失业登记)",
)
async def deregister_unemployment(
    person_id: str, body: UnemploymentDeregistration, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.deregister_unemployment(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/retirement",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Retirement (退休): the person leaves the labour force",
)
async def retire(
    person_id: str, body: RetirementCreate, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.retire(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.post(
    "/persons/{person_id}/surveys",
    response_model=PersonChange,
    responses=_CHANGE,
    summary="Quarterly dynamic survey (动态调查): confirm or update the status",
)
async def survey_person(
    person_id: str, body: SurveyCreate, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, body.expected_version)
    return await command.run(
        lambda conn, meta: handlers.survey(conn, command.principal, person_id, body, meta, version),
        status_code=200,
    )


@router.get(
    "/persons/{person_id}/history",
    response_model=PersonHistory,
    responses={404: {"description": "No such person"}},
    summary="Audit trail: every change with who, when and why",
)
async def person_history(person_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person")
    handlers = _person_commands(request)
    state = await handlers.load_person(conn, person_id)
    principal.require_region(state.region_code)
    recorded = await handlers.store.load(conn, person_id)
    entries = [
        HistoryEntry(
            version=r.envelope.version,
            type=r.envelope.type,
            occurred_at=r.envelope.occurred_at,
            recorded_at=r.envelope.recorded_at,
            actor=r.envelope.actor,
            reason=_reason_of(r.envelope.data),
            correlation_id=r.envelope.correlation_id,
            causation_id=r.envelope.causation_id,
            data=r.envelope.data,
        )
        for r in recorded
    ]
    return json_response(PersonHistory(person_id=person_id, entries=entries))


def _reason_of(data: dict[str, Any]) -> str | None:
    """The why of a change: its reason, or for a reaction the service it came from."""
    reason = data.get("reason")
    if isinstance(reason, str):
        return reason
    source = data.get("source")
    return f"reported by {source}" if isinstance(source, str) and source != "registration" else None


_LIMIT = Query(50, ge=1, le=200, description="Entries per page")
_CURSOR = Query(None, description="next_cursor of the previous page")


@router.get(
    "/persons",
    response_model=PersonPage,
    responses={403: {"description": "Region outside the caller's scope, or an analyst"}, **_INVALID},
    summary="Search the ledger: by ID number, by exact name in a region, by category or status",
    description="Names are stored encrypted; a keyed hash of the whole name allows exact matches only "
    "(no partial or fuzzy name search). Results are in region and id order, inside the caller's region "
    "unless `region` narrows it.",
)
async def search_persons(
    request: Request,
    principal: CurrentPrincipal,
    conn: DbConnection,
    id_number: str | None = Query(None, description="Exact resident ID number", examples=["11010519491231002X"]),
    name: str | None = Query(None, max_length=100, description="Exact full name", examples=["杨秀成"]),
    region: str | None = Query(None, description="Region subtree (default: your scope)", examples=["430527100000"]),
    category: PersonCategory | None = Query(None, description="Person category"),
    status: EmploymentStatus | None = Query(None, description="Employment status"),
    limit: int = _LIMIT,
    cursor: str | None = _CURSOR,
) -> Response:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person")
    vault = _person_commands(request).vault
    id_hash = None
    if id_number is not None:
        try:
            id_hash = vault.lookup_hash(parse_citizen_id(id_number).number)
        except ValueError as exc:
            raise RuleViolated("CitizenIdValid", str(exc), field="id_number") from exc
    where = queries.PersonFilter(
        region_code=_scoped_region(principal, region),
        id_hash=id_hash,
        name_hash=name_lookup_hash(vault, name) if name else None,
        category=category,
        status=status,
    )
    rows = await queries.search_persons(conn, where, limit=limit + 1, after=_decode_cursor(cursor))
    return json_response(_page(PersonPage, rows, limit, principal, vault))


@router.get(
    "/regions/{region_code}/survey-pending",
    response_model=SurveyPendingPage,
    responses={403: {"description": "Region outside the caller's scope"}, **_INVALID},
    summary="Who in a village (or any region subtree) has not been surveyed this quarter (动态调查)",
)
async def survey_pending(
    region_code: str,
    request: Request,
    principal: CurrentPrincipal,
    conn: DbConnection,
    quarter: str | None = Query(None, pattern=r"^\d{4}Q[1-4]$", description="Default: the current quarter"),
    limit: int = _LIMIT,
    cursor: str | None = _CURSOR,
) -> Response:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person")
    scope = _scoped_region(principal, region_code)
    quarter = quarter or domain.quarter_of(_person_commands(request).today())
    _, last = domain.quarter_bounds(quarter)
    rows = await queries.survey_pending(conn, scope, quarter, last, limit=limit + 1, after=_decode_cursor(cursor))
    page = _page(PersonPage, rows, limit, principal, _person_commands(request).vault)
    return json_response(SurveyPendingPage(region_code=scope, quarter=quarter, **page.model_dump()))


def _scoped_region(principal: Principal, region: str | None) -> str:
    if region is None:
        return principal.region
    try:
        code = normalise_region_code(region)
    except ValueError as exc:
        raise RuleViolated("RegionCodeFormat", str(exc), field="region") from exc
    principal.require_region(code)
    return code


def _page(
    model: type[PersonPage], rows: list[queries.PersonRow], limit: int, principal: Principal, vault: PiiVault
) -> PersonPage:
    full = principal.role in PII_ROLES
    persons = []
    for row in rows[:limit]:
        number = vault.decrypt(row.id_cipher) or ""
        persons.append(
            PersonSummary(
                person_id=row.person_id,
                id_number=number if full else mask_id_number(number),
                name=vault.decrypt(row.name_cipher) if full else None,
                sex=cast(Sex, row.sex),
                birth_date=row.birth_date,
                region_code=row.region_code,
                status=cast(EmploymentStatus, row.status),
                categories=list(row.categories),
                version=row.version,
            )
        )
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    next_cursor = base64.urlsafe_b64encode(f"{last.region_code}|{last.person_id}".encode()).decode() if last else None
    return model(persons=persons, next_cursor=next_cursor)


def _decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        region_code, person_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        uuid.UUID(person_id)
        normalise_region_code(region_code)
    except ValueError as exc:
        raise RuleViolated("CursorFromPreviousPage", "cursor is not a next_cursor we gave", field="cursor") from exc
    return region_code, person_id


@router.post(
    "/households",
    status_code=201,
    response_model=HouseholdPublic,
    responses={409: {"description": "A member already belongs to another household"}, **_INVALID},
    summary="Enter a household (户) with its members and head",
)
async def create_household(body: HouseholdCreate, request: Request, command: Commands) -> Response:
    handlers = _person_commands(request)
    return await command.run(lambda conn, meta: handlers.create_household(conn, command.principal, body, meta))


@router.get(
    "/households/{household_id}",
    response_model=HouseholdPublic,
    responses={404: {"description": "No such household"}},
    summary="A household with its members' working age and employment status",
)
async def get_household(
    household_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only")
    state = await _person_commands(request).load_household(conn, household_id, principal)
    return json_response(household_public(state), headers={"ETag": f'"{state.version}"'})


@router.post(
    "/households/{household_id}/members",
    response_model=HouseholdPublic,
    responses={409: {"description": "Stale version, or the person belongs to another household"}, **_INVALID},
    summary="A person joins the household",
)
async def add_member(
    household_id: str, body: MemberAdd, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers = _person_commands(request)
    body = body.model_copy(update={"expected_version": expected_version(if_match, body.expected_version)})
    return await command.run(
        lambda conn, meta: handlers.add_member(conn, command.principal, household_id, body, meta), status_code=200
    )


@router.delete(
    "/households/{household_id}/members/{person_id}",
    response_model=HouseholdPublic,
    responses=_CHANGE,
    summary="A person leaves the household (the head leaves last)",
)
async def remove_member(
    household_id: str,
    person_id: str,
    request: Request,
    command: Commands,
    reason: str = Query(min_length=1, max_length=200, examples=["moved_out", "died", "recorded_in_error"]),
    if_match: IfMatch = None,
) -> Response:
    handlers, version = _person_commands(request), expected_version(if_match, None)
    return await command.run(
        lambda conn, meta: handlers.remove_member(
            conn, command.principal, household_id, person_id, reason, meta, version
        ),
        status_code=200,
    )


@router.put(
    "/households/{household_id}/head",
    response_model=HouseholdPublic,
    responses=_CHANGE,
    summary="Another member becomes head of the household (户主)",
)
async def change_head(
    household_id: str, body: HeadChange, request: Request, command: Commands, if_match: IfMatch = None
) -> Response:
    handlers = _person_commands(request)
    body = body.model_copy(update={"expected_version": expected_version(if_match, body.expected_version)})
    return await command.run(
        lambda conn, meta: handlers.change_head(conn, command.principal, household_id, body, meta), status_code=200
    )
