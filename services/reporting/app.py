"""Wiring of the reporting service: settings, the API app and the projection worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool
from pydantic import create_model

from services import platform
from services.reporting import api, dashboard, exports, schema, sources, status
from services.reporting.projection import RegionMetricsProjection
from services.reporting.staff import api as staff_api
from services.reporting.staff import exports as staff_exports
from services.reporting.staff import projection as staff_projection
from services.reporting.staff.settings import StaffPerformanceSettings
from services.reporting.staff.worker import staff_consumer
from services.runtime import consumer, regions
from services.runtime.consumer import EventConsumer
from services.runtime.http import dead_letters_router
from services.runtime.process import (
    Loop,
    create_service_app,
    run_loops,
    serve_api,
)
from services.runtime.settings import ServiceSettings


class _ReportingSettings(ServiceSettings):
    """Settings of every reporting process.

    Also, per service that publishes a topic (``services.platform``), ``<name>_relay_url``: the ops URL of
    its relay (``http://host:ops_port``, env ``<NAME>_RELAY_URL``), asked to republish during a rebuild.
    """

    http_port: int = 8105
    consumer_batch: int = 5000

    @property
    def schema_name(self) -> str:
        return "reporting"

    def relay_url(self, topic: str) -> str:
        """The ops URL of the relay publishing ``topic`` ("" when none is configured)."""
        for service in platform.publishing():
            if service.topic is not None and service.topic.name == topic:
                return str(getattr(self, service.relay_url_var.lower(), ""))
        return ""


_RELAY_FIELDS: dict[str, Any] = {s.relay_url_var.lower(): (str, "") for s in platform.publishing()}

if TYPE_CHECKING:
    ReportingSettings = _ReportingSettings
else:
    # One field per publishing service, so a new service's relay is a setting without an edit here.
    ReportingSettings = create_model(
        "ReportingSettings", __base__=_ReportingSettings, __module__=__name__, **_RELAY_FIELDS
    )


def source_topics() -> list[str]:
    """The topics reporting folds into its read models: one per listed source."""
    return list(sources.CATALOGUE.topics)


def ddl() -> list[str]:
    """What reporting's processes migrate: the consumer's and the region table's, and the read models (the
    staff-performance tables live in their own schema, named in their statements)."""
    return [*consumer.DDL, *regions.DDL, *schema.ddl(), *staff_projection.DDL]


#: ``ddl()`` of the listed sources, as the benchmarks and tests migrate it.
DDL = ddl()


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    """The reporting API."""
    settings = settings or ReportingSettings()
    app = create_service_app(
        settings,
        ddl(),
        title="renshe reporting",
        description="Per-region figures at every level (四级联网), drill-down and statistics.",
        routers=[
            api.router,
            exports.router,
            status.status_router(RegionMetricsProjection.name, source_topics()),
            dead_letters_router(),
            dashboard.router,
            staff_api.router,
            staff_exports.router,
        ],
    )
    app.state.staff_settings = StaffPerformanceSettings()
    return app


def serve() -> None:
    """``renshe reporting api``."""
    settings = ReportingSettings()
    serve_api("services.reporting.app:create_app", settings)


def run_worker() -> None:
    """``renshe reporting worker``: the region projection's consumer and the staff-performance one."""
    settings = ReportingSettings()

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool]]:
        worker = EventConsumer(
            pool,
            RegionMetricsProjection(),
            source_topics(),
            settings.kafka_bootstrap_servers,
            max_batch=settings.consumer_batch,
            replication_factor=settings.kafka_replication_factor,
        )
        staff, staff_ready = staff_consumer(settings, source_topics(), max_batch=settings.consumer_batch)
        return [worker.run, staff], lambda: worker.ready.is_set() and staff_ready()

    run_loops(settings, ddl(), build)
