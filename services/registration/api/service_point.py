"""Routes of the service-point aggregate (平台): record, list with compliance (建成率, 达标), read, change."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.registration import queries
from services.registration.api.deps import CONFLICT, INVALID, LedgerDep, ServicePointInScope, region_query
from services.registration.commands import service_point
from services.registration.commands.items import run_each
from services.registration.commands.service_point import service_point_public
from services.registration.models.items import ItemResults, ServicePointBatch
from services.registration.models.service_point import (
    ServicePointChange,
    ServicePointCreate,
    ServicePointList,
    ServicePointPublic,
)
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import NOT_FOUND, STALE, ExpectedVersion, answer

router = APIRouter(tags=["registration"])


@router.post(
    "/service-points",
    status_code=201,
    response_model=ServicePointPublic,
    responses={**CONFLICT, **INVALID},
    summary="Record a county, township or village service point (平台) and assess it against the standards",
)
async def establish_service_point(body: ServicePointCreate, ledger: LedgerDep, command: Commands) -> Response:
    return await command.run(
        lambda conn, meta: service_point.establish_service_point(ledger, conn, command.principal, body, meta),
        etag=True,
    )


@router.post(
    "/service-points/batch",
    response_model=ItemResults,
    responses=INVALID,
    summary="Record up to 1,000 service points at once; one result per item, as POST /service-points answers it",
    description="Each item is the body of `POST /service-points`. One result per item: 201 with the point and "
    "its assessment, 409 naming the point already recorded for the region, 403 outside your scope, 422 naming "
    "the field. The accepted points commit together.",
)
async def establish_service_point_batch(body: ServicePointBatch, ledger: LedgerDep, command: Commands) -> Response:
    def run(conn: Connection, meta: Metadata) -> Awaitable[ItemResults]:
        return run_each(
            conn,
            body.items,
            ServicePointCreate.model_validate,
            lambda c, item: service_point.establish_service_point(ledger, c, command.principal, item, meta),
            done=201,
        )

    return await command.run(run, status_code=200)


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
    code = region_query(region)
    principal.require_region(code)
    points = [
        ServicePointPublic(**row)
        for row in await queries.service_points_in(conn, queries.subtree_prefix(code), compliant=compliant)
    ]
    compliant_count = sum(1 for p in points if p.compliance.compliant)
    return json_response(
        ServicePointList(region_code=code, count=len(points), compliant=compliant_count, service_points=points)
    )


@router.get(
    "/service-points/{service_point_id}",
    response_model=ServicePointPublic,
    responses=NOT_FOUND,
    summary="One service point with its compliance",
)
async def get_service_point(service_point_id: str, state: ServicePointInScope) -> Response:
    return answer(service_point_public(state), state.version)


@router.patch(
    "/service-points/{service_point_id}",
    response_model=ServicePointPublic,
    responses={**NOT_FOUND, **STALE, **INVALID},
    summary="Change a service point's staff, premises, equipment or reach; compliance is re-assessed",
)
async def update_service_point(
    service_point_id: str, body: ServicePointChange, ledger: LedgerDep, command: Commands, expected: ExpectedVersion
) -> Response:
    return await command.run(
        lambda conn, meta: service_point.update_service_point(
            ledger, conn, command.principal, service_point_id, body, expected, meta
        ),
        status_code=200,
        etag=True,
    )
