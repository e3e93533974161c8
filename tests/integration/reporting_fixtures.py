"""Shared by the reporting integration tests: a migrated reporting schema with the demo county, and events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr

from contracts.envelope import EventEnvelope
from contracts.reference import demo_county
from services.reporting import schema as reporting_schema
from services.reporting.app import ReportingSettings, create_app
from services.reporting.projection import RegionMetricsProjection
from services.runtime.db import Connection, migrate
from services.runtime.regions import load_regions
from tests.integration.helpers import fresh_database


async def prepare_reporting(conn: Connection, schema: str) -> None:
    """The reporting tables and views in ``schema``, with the demo county's regions loaded."""
    await migrate(conn, schema, reporting_schema.ddl())
    await load_regions(conn, demo_county())


def event(
    type_: str,
    entity_id: str,
    region: str | None,
    *,
    occurred: date | datetime = date(2026, 3, 1),
    stream_type: str = "person",
    **data: Any,
) -> EventEnvelope:
    """An envelope as registration would publish it, occurring on a given day (noon UTC unless a datetime)."""
    at = occurred if isinstance(occurred, datetime) else datetime.combine(occurred, time(12), UTC)
    id_field = {"person": "person_id", "employer": "employer_id", "vacancy": "vacancy_id"}.get(
        stream_type, "service_point_id"
    )
    values = {id_field: entity_id, **data}
    if region is not None and "region_code" not in values and stream_type != "person":
        values["region_code"] = region
    return EventEnvelope(
        event_id=uuid.uuid4(),
        type=type_,
        schema_version=1,
        stream_type=stream_type,
        stream_id=entity_id,
        version=1,
        region_code=region,
        occurred_at=at,
        recorded_at=at,
        data={k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()},
    )


@asynccontextmanager
async def reporting_client(
    infra: Any, events: Sequence[EventEnvelope], *, secret: str, prefix: str = "rep"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the reporting API on a fresh database, with ``events`` projected (tokens signed with
    ``secret``)."""
    url = fresh_database(infra, prefix)
    settings = ReportingSettings(
        database_url=url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(secret)
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with (
            await psycopg.AsyncConnection.connect(url, options="-c search_path=reporting") as conn,
            conn.transaction(),
        ):
            await RegionMetricsProjection().apply(conn, events)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
