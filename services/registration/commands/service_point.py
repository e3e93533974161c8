"""Commands on the service-point aggregate (平台): record a point, change its staff, premises or reach.

Every event carries the point's compliance with the staffing and premises standards (seed 001 §3;
docs/rules.md), assessed in ``domain/service_point.py``; one point per region.
"""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb

from contracts.registration import ServicePointUpdated
from services.registration import queries
from services.registration.commands.context import Ledger
from services.registration.domain.service_point import (
    EstablishServicePoint,
    ServicePointDetails,
    ServicePointState,
    decide_establish_service_point,
    decide_update_service_point,
)
from services.registration.models.service_point import ServicePointChange, ServicePointCreate, ServicePointPublic
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, RuleViolated
from services.runtime.eventstore import Append, Metadata


def service_point_public(state: ServicePointState) -> ServicePointPublic:
    """A service point as clients see it."""
    fields = state.event.model_dump(include=set(ServicePointPublic.model_fields) - {"version"})
    return ServicePointPublic(**fields, version=state.version)


async def _save(conn: Connection, changed: Changed[ServicePointState]) -> list[Append]:
    await save_service_point_row(conn, changed.after)
    return []


async def save_service_point_row(conn: Connection, state: ServicePointState) -> None:
    """Write a point's row in ``service_points`` as its stream now tells it (also when the roster re-staffs it)."""
    fact = state.event
    await conn.execute(
        "UPDATE service_points SET name = %s, staff = %s, floor_area_m2 = %s, has_archive_room = %s,"
        " equipment = %s, population_served = %s, compliance = %s, compliant = %s, version = %s"
        " WHERE service_point_id = %s",
        (
            fact.name,
            fact.staff,
            fact.floor_area_m2,
            fact.has_archive_room,
            Jsonb(fact.equipment),
            fact.population_served,
            Jsonb(fact.compliance.model_dump(mode="json")),
            fact.compliance.compliant,
            state.version,
            fact.service_point_id,
        ),
    )


async def establish_service_point(
    ledger: Ledger, conn: Connection, principal: Principal, body: ServicePointCreate, metadata: Metadata
) -> ServicePointPublic:
    """Record a service point (平台) with its compliance; one per region (409 naming the one there)."""
    principal.require_region(body.region_code)
    command = EstablishServicePoint(
        service_point_id=str(uuid.uuid4()),
        level=body.level,
        region=await ledger.region(conn, body.region_code),
        region_code=body.region_code,
        details=ServicePointDetails(
            name=body.name,
            staff=body.staff,
            floor_area_m2=body.floor_area_m2,
            has_archive_room=body.has_archive_room,
            population_served=body.population_served,
            equipment=tuple(body.equipment),
        ),
        established_on=body.established_on,
    )
    [event] = decide_establish_service_point(command, today=ledger.today())
    cursor = await conn.execute(
        "INSERT INTO service_points (service_point_id, level, region_code, name, staff, floor_area_m2,"
        " has_archive_room, equipment, population_served, compliance, compliant, version)"
        " VALUES (%s, %s, %s, '', 0, 0, false, '[]', 0, '{}', false, 0)"
        " ON CONFLICT (region_code) DO NOTHING RETURNING 1",
        (event.service_point_id, event.level, event.region_code),
    )
    if await cursor.fetchone() is None:
        raise Conflict(
            f"region {event.region_code} already has a service point",
            field="region_code",
            service_point_id=await queries.service_point_id_in(conn, event.region_code),
        )
    changed = await ledger.service_points.create(conn, event.service_point_id, [event], metadata, effects=_save)
    return service_point_public(changed.after)


async def update_service_point(
    ledger: Ledger,
    conn: Connection,
    principal: Principal,
    service_point_id: str,
    body: ServicePointChange,
    expected_version: int | None,
    metadata: Metadata,
) -> ServicePointPublic:
    """New staff, premises or reach; compliance is assessed again and published."""
    sent = body.model_dump(exclude_unset=True, exclude_none=True)
    if "staff" in sent and await queries.has_roster(conn, service_point_id):
        raise RuleViolated(
            "StaffFromRoster",
            "this point's staff are counted from the roster: appoint staff (POST /staff) or record that they left",
            field="staff",
        )

    def decide(state: ServicePointState) -> list[ServicePointUpdated]:
        current = state.event
        details = ServicePointDetails(
            name=sent.get("name", current.name),
            staff=sent.get("staff", current.staff),
            floor_area_m2=sent.get("floor_area_m2", current.floor_area_m2),
            has_archive_room=sent.get("has_archive_room", current.has_archive_room),
            population_served=sent.get("population_served", current.population_served),
            equipment=tuple(sent.get("equipment", current.equipment)),
        )
        return decide_update_service_point(details, state)

    changed = await ledger.service_points.change(
        conn, service_point_id, decide, metadata, expected_version=expected_version, principal=principal, effects=_save
    )
    return service_point_public(changed.after)
