"""Wiring of the registration service: settings, the API app and the relay process."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from contracts.topics import REGISTRATION_EVENTS
from services.registration import api, queries
from services.registration.commands import RegistrationCommands
from services.registration.pii import PiiVault
from services.runtime import consumer, eventstore, http, regions, relay
from services.runtime.eventstore import EventStore
from services.runtime.groupcommit import GroupCommit
from services.runtime.process import (
    Loop,
    MissingSetting,
    create_service_app,
    run_loops,
    serve_api,
)
from services.runtime.settings import ServiceSettings


class RegistrationSettings(ServiceSettings):
    """Settings of every registration process."""

    http_port: int = 8101
    #: Secret from which the PII encryption and lookup-hash keys are derived (no default: see create_app).
    pii_secret: SecretStr = SecretStr("")

    @property
    def schema_name(self) -> str:
        return "registration"


DDL = [*eventstore.DDL, *relay.DDL, *consumer.DDL, *http.IDEMPOTENCY_DDL, *regions.DDL, *queries.DDL]


def create_app(settings: RegistrationSettings | None = None) -> FastAPI:
    """The registration API."""
    settings = settings or RegistrationSettings()
    if len(settings.pii_secret.get_secret_value()) < 32:
        raise MissingSetting("set PII_SECRET to at least 32 random characters: it protects ID numbers at rest")
    app = create_service_app(
        settings,
        DDL,
        title="renshe registration",
        description="Real-name labour-force ledger (实名制台账): persons, employers, employment status.",
        routers=[api.router],
    )
    commands = RegistrationCommands(EventStore(), PiiVault(settings.pii_secret.get_secret_value()))
    app.state.commands = commands
    app.state.person_batches = GroupCommit(app.state.renshe.pool, commands.register_persons, name="register_person")
    return app


def serve() -> None:
    """``renshe registration api``."""
    settings = RegistrationSettings()
    serve_api("services.registration.app:create_app", settings)


def run_relay() -> None:
    """``renshe registration relay``: the outbox relay onto ``registration.events``, with ``/replay``."""
    settings = RegistrationSettings()

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool], list[APIRouter]]:
        outbox = relay.OutboxRelay(
            pool,
            REGISTRATION_EVENTS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        return [outbox.run], lambda: True, [relay.replay_router(outbox)]

    run_loops(settings, DDL, build)
