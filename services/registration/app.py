"""Wiring of the registration service: settings, the API app and the relay process."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

from fastapi import APIRouter, FastAPI
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from contracts.topics import REGISTRATION_EVENTS
from services.registration import api, schema
from services.registration.commands.context import Ledger
from services.registration.commands.person import register_persons
from services.registration.reactions import SOURCE_TOPICS, RegistrationReactions
from services.runtime import consumer, eventstore, http, regions, relay
from services.runtime.eventstore import EventStore
from services.runtime.faust_driver import consumer_for
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import dead_letters_router
from services.runtime.pii import PiiVault
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
    #: Largest ledger upload accepted by POST /imports/persons (a 100,000-row XLSX is about 5 MB).
    import_max_bytes: int = 32 * 1024 * 1024
    #: Registration's reactions (placements, death reports) are low volume: faust agents by default (ADR 0002).
    consumer_driver: Literal["aiokafka", "faust"] = "faust"

    @property
    def schema_name(self) -> str:
        return "registration"


DDL = [*eventstore.DDL, *relay.DDL, *consumer.DDL, *http.IDEMPOTENCY_DDL, *regions.DDL, *schema.DDL]


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
        routers=[api.router, dead_letters_router()],
        shortcuts=[api.REGISTER_PERSON],
    )
    ledger = Ledger(EventStore(), _vault(settings))
    app.state.ledger = ledger
    app.state.import_max_bytes = settings.import_max_bytes
    app.state.person_batches = GroupCommit(
        app.state.renshe.pool, partial(register_persons, ledger), name="register_person"
    )
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


def _vault(settings: RegistrationSettings) -> PiiVault:
    if len(settings.pii_secret.get_secret_value()) < 32:
        raise MissingSetting("set PII_SECRET to at least 32 random characters: it protects ID numbers at rest")
    return PiiVault(settings.pii_secret.get_secret_value())


def run_worker() -> None:
    """``renshe registration worker``: react to assistance placements and insurance death reports."""
    settings = RegistrationSettings()
    ledger = Ledger(EventStore(), _vault(settings))

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool]]:
        worker = consumer_for(
            settings.consumer_driver,
            pool,
            RegistrationReactions(ledger),
            SOURCE_TOPICS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        return [worker.run], worker.ready.is_set

    run_loops(settings, DDL, build)
