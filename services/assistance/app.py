"""Wiring of the assistance service: settings, the API app, the relay and the worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fastapi import APIRouter, FastAPI
from psycopg_pool import AsyncConnectionPool

from contracts.topics import ASSISTANCE_EVENTS
from services.assistance import queries
from services.assistance.api import Handlers, build_router
from services.assistance.api.services import SHORTCUTS
from services.assistance.commands import Streams
from services.assistance.commands.certification import CertificationCommands
from services.assistance.domain import Policy
from services.assistance.reactions import SOURCE_TOPICS, AssistanceReactions
from services.runtime import consumer, eventstore, http, regions, relay
from services.runtime.consumer import EventConsumer
from services.runtime.errors import Conflict
from services.runtime.eventstore import EventStore, Metadata
from services.runtime.http import dead_letters_router
from services.runtime.process import Loop, create_service_app, run_loops, serve_api
from services.runtime.settings import ServiceSettings
from services.runtime.workdays import WorkdayCalendar

log = logging.getLogger(__name__)


class AssistanceSettings(ServiceSettings):
    """Settings of every assistance process; the local rules default to the national ones (docs/rules.md)."""

    http_port: int = 8102
    #: Public notice (公示) of a hard-to-employ application, in working days.
    public_notice_workdays: int = 5
    #: Days from confirmation within which a zero-employment household must be cleared (动态清零).
    zero_employment_clear_days: int = 30
    #: Cap of a small guaranteed business loan for an individual, in fen (财金〔2020〕21号: 200,000 yuan).
    business_loan_cap_fen: int = 20_000_000
    #: Longest term of a public-welfare post, in years.
    public_welfare_post_max_years: int = 3
    #: Years after which a certified hard-to-employ status is due for review.
    certification_review_years: int = 1
    #: Seconds between two sweeps of the worker ending certified statuses whose review date has passed.
    review_sweep_seconds: float = 3600.0
    #: YAML file of official holidays for years the calendar library does not know yet (``WORKDAY_OVERRIDES``).
    workday_overrides: str = ""

    @property
    def schema_name(self) -> str:
        return "assistance"

    def policy(self) -> Policy:
        """The local rules these settings name."""
        return Policy(
            notice_workdays=self.public_notice_workdays,
            clear_target_days=self.zero_employment_clear_days,
            business_loan_cap_fen=self.business_loan_cap_fen,
            post_max_term_years=self.public_welfare_post_max_years,
            certification_review_years=self.certification_review_years,
        )


DDL = [*eventstore.DDL, *relay.DDL, *consumer.DDL, *http.IDEMPOTENCY_DDL, *regions.DDL, *queries.DDL]


def streams_for(settings: AssistanceSettings) -> Streams:
    """The write side's shared parts for these settings."""
    overrides = Path(settings.workday_overrides) if settings.workday_overrides else None
    return Streams(EventStore(), settings.policy(), WorkdayCalendar.official(overrides))


def create_app(settings: AssistanceSettings | None = None) -> FastAPI:
    """The assistance API."""
    settings = settings or AssistanceSettings()
    app = create_service_app(
        settings,
        DDL,
        title="renshe assistance",
        description="Employment assistance (就业援助): cases, hard-to-employ certification, zero-employment "
        "households, services, public-welfare posts, placement and matching.",
        routers=[build_router(), dead_letters_router()],
        shortcuts=SHORTCUTS,
    )
    app.state.assistance = Handlers.of(streams_for(settings), app.state.renshe.pool)
    return app


def serve() -> None:
    """``renshe assistance api``."""
    serve_api("services.assistance.app:create_app", AssistanceSettings())


def run_relay() -> None:
    """``renshe assistance relay``: the outbox relay onto ``assistance.events``, with ``/replay``."""
    settings = AssistanceSettings()

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool], list[APIRouter]]:
        outbox = relay.OutboxRelay(
            pool,
            ASSISTANCE_EVENTS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        return [outbox.run], lambda: True, [relay.replay_router(outbox)]

    run_loops(settings, DDL, build)


@dataclass
class ReviewSweep:
    """Ends, once an interval, the certified statuses whose review date passed without a review."""

    pool: AsyncConnectionPool
    certifications: CertificationCommands
    interval: float

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep until ``stop``; a sweep that collides with another worker's is simply tried next time."""
        while not stop.is_set():
            try:
                async with self.pool.connection() as conn, conn.transaction():
                    ended = await self.certifications.end_due(conn, date.today(), Metadata(actor="assistance"))
                if ended:
                    log.info("ended %d certified statuses past their review date", ended)
            except Conflict:
                log.info("another worker swept at the same time; next sweep in %.0f s", self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


def run_worker() -> None:
    """``renshe assistance worker``: react to registration's events; end statuses past their review date."""
    settings = AssistanceSettings()
    streams = streams_for(settings)
    reactions = AssistanceReactions(streams)

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool]]:
        worker = EventConsumer(
            pool,
            reactions,
            SOURCE_TOPICS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        sweep = ReviewSweep(pool, CertificationCommands(streams), settings.review_sweep_seconds)
        return [worker.run, sweep.run], worker.ready.is_set

    run_loops(settings, DDL, build)
