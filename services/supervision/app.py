"""Wiring of the supervision service: settings, the API app, the relay and the worker.

The worker reacts to registration's employers and insurance's arrears (``reactions.py``) and runs the
scheduled deadline check (``commands/deadlines.py``) beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from contracts.topics import SUPERVISION_EVENTS
from services.runtime import consumer, eventstore, http, regions, relay
from services.runtime.eventstore import EventStore
from services.runtime.faust_driver import consumer_for
from services.runtime.http import dead_letters_router
from services.runtime.pii import PiiVault
from services.runtime.process import Loop, MissingSetting, create_service_app, run_loops, serve_api
from services.runtime.settings import ServiceSettings
from services.runtime.workdays import WorkdayCalendar
from services.supervision import api, schema
from services.supervision.api import Supervision
from services.supervision.commands.context import Context
from services.supervision.commands.deadlines import DeadlineCheck
from services.supervision.domain.limits import Limits
from services.supervision.reactions import SOURCE_TOPICS, SupervisionReactions


class SupervisionSettings(ServiceSettings):
    """Settings of every supervision process; the limits default to the national rules (docs/rules.md)."""

    http_port: int = 8104
    #: Secret from which the complainants' encryption and lookup keys are derived (no default).
    pii_secret: SecretStr = SecretStr("")
    #: YAML of holidays and swapped working days for years ``chinesecalendar`` does not know yet.
    workday_overrides: str = ""
    #: Seconds between two runs of the worker's deadline check.
    deadline_check_interval: float = 15.0
    complaint_decision_workdays: int = 5
    investigation_workdays: int = 60
    extension_max_workdays: int = 30
    rectification_workdays: int = 15
    grid_follow_up_workdays: int = 10
    mediation_days: int = 15
    arbitration_accept_days: int = 5
    award_days: int = 45
    award_extension_max_days: int = 15
    petition_answer_days: int = 60
    due_soon_workdays: int = 5

    @property
    def schema_name(self) -> str:
        return "supervision"

    def limits(self) -> Limits:
        """The statutory limits as configured."""
        return Limits(
            complaint_decision_workdays=self.complaint_decision_workdays,
            investigation_workdays=self.investigation_workdays,
            extension_max_workdays=self.extension_max_workdays,
            rectification_workdays=self.rectification_workdays,
            grid_follow_up_workdays=self.grid_follow_up_workdays,
            mediation_days=self.mediation_days,
            arbitration_accept_days=self.arbitration_accept_days,
            award_days=self.award_days,
            award_extension_max_days=self.award_extension_max_days,
            petition_answer_days=self.petition_answer_days,
            due_soon_workdays=self.due_soon_workdays,
        )


DDL = [*eventstore.DDL, *relay.DDL, *consumer.DDL, *http.IDEMPOTENCY_DDL, *regions.DDL, *schema.DDL]


def context(settings: SupervisionSettings) -> Context:
    """The commands' context: store, official calendar (with the override file), limits, PII vault."""
    secret = settings.pii_secret.get_secret_value()
    if len(secret) < 32:
        raise MissingSetting("set PII_SECRET to at least 32 random characters: it protects complainants at rest")
    overrides = Path(settings.workday_overrides) if settings.workday_overrides else None
    return Context(EventStore(), WorkdayCalendar.official(overrides), settings.limits(), PiiVault(secret))


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    """The supervision API."""
    settings = settings or SupervisionSettings()
    service = Supervision.of(context(settings))
    app = create_service_app(
        settings,
        DDL,
        title="renshe supervision",
        description="Labour inspection (劳动保障监察): complaints, cases, grid inspection, mediation, petitions, "
        "employer ratings; every statutory time limit on the official working-day calendar.",
        routers=[api.router(), dead_letters_router()],
    )
    app.state.supervision = service
    return app


def serve() -> None:
    """``renshe supervision api``."""
    serve_api("services.supervision.app:create_app", SupervisionSettings())


def run_relay() -> None:
    """``renshe supervision relay``: the outbox relay onto ``supervision.events``, with ``/replay``."""
    settings = SupervisionSettings()

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool], list[APIRouter]]:
        outbox = relay.OutboxRelay(
            pool,
            SUPERVISION_EVENTS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        return [outbox.run], lambda: True, [relay.replay_router(outbox)]

    run_loops(settings, DDL, build)


def run_worker() -> None:
    """``renshe supervision worker``: employers and arrears from other services, and the deadline check."""
    settings = SupervisionSettings()
    service = Supervision.of(context(settings))

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool]]:
        worker = consumer_for(
            settings.consumer_driver,
            pool,
            SupervisionReactions(service.context.store, service.ratings),
            SOURCE_TOPICS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        check = DeadlineCheck(
            pool,
            service.complaints,
            service.cases,
            service.disputes,
            kept=service.kept_limits(),
            interval=settings.deadline_check_interval,
        )
        return [worker.run, check.run], worker.ready.is_set

    run_loops(settings, DDL, build)
