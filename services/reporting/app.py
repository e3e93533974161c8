"""Wiring of the reporting service: settings, the API app and the projection worker."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from contracts.topics import REGISTRATION_EVENTS
from services.reporting import api, dashboard, exports, queries, status
from services.reporting.projection import RegionMetricsProjection
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

#: The topics reporting folds into its read models.
SOURCE_TOPICS = [REGISTRATION_EVENTS.name]


class ReportingSettings(ServiceSettings):
    """Settings of every reporting process."""

    http_port: int = 8105
    consumer_batch: int = 5000
    #: Ops URL of registration's relay (``http://host:ops_port``), asked to republish during a rebuild.
    registration_relay_url: str = ""

    @property
    def schema_name(self) -> str:
        return "reporting"


DDL = [*consumer.DDL, *regions.DDL, *queries.DDL]


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    """The reporting API."""
    settings = settings or ReportingSettings()
    return create_service_app(
        settings,
        DDL,
        title="renshe reporting",
        description="Per-region figures at every level (四级联网), drill-down and statistics.",
        routers=[
            api.router,
            exports.router,
            status.status_router(RegionMetricsProjection.name, SOURCE_TOPICS),
            dead_letters_router(),
            dashboard.router,
        ],
    )


def serve() -> None:
    """``renshe reporting api``."""
    settings = ReportingSettings()
    serve_api("services.reporting.app:create_app", settings)


def run_worker() -> None:
    """``renshe reporting worker``: the projection consumer."""
    settings = ReportingSettings()

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool]]:
        worker = EventConsumer(
            pool,
            RegionMetricsProjection(),
            SOURCE_TOPICS,
            settings.kafka_bootstrap_servers,
            max_batch=settings.consumer_batch,
            replication_factor=settings.kafka_replication_factor,
        )
        return [worker.run], worker.ready.is_set

    run_loops(settings, DDL, build)
