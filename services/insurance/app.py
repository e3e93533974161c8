"""Wiring of the insurance service: settings, the API app, the relay onto ``insurance.events`` and the worker
reacting to ``registration.events`` and ``assistance.events``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from psycopg_pool import AsyncConnectionPool
from pydantic import Field

from contracts.topics import INSURANCE_EVENTS
from services.insurance import api, queries
from services.insurance.commands import Policy
from services.insurance.commands.employer_account import EmployerAccountCommands
from services.insurance.commands.insured import InsuredCommands
from services.insurance.domain.contributions import BaseBounds
from services.insurance.reactions import SOURCE_TOPICS, InsuranceReactions
from services.runtime import consumer, eventstore, http, regions, relay
from services.runtime.consumer import EventConsumer
from services.runtime.eventstore import EventStore
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import dead_letters_router
from services.runtime.process import Loop, create_service_app, run_loops, serve_api
from services.runtime.settings import ServiceSettings
from services.runtime.workdays import WorkdayCalendar


class InsuranceSettings(ServiceSettings):
    """Settings of every insurance process: the province's figures the rules need (docs/rules.md, "Insurance")."""

    http_port: int = 8103
    #: The province's lower and upper contribution base (缴费基数下限/上限), in fen.
    contribution_base_min_fen: int = 400_000
    contribution_base_max_fen: int = 2_000_000
    #: The province's monthly unemployment benefit (失业保险金标准), in fen.
    unemployment_benefit_fen: int = 170_000
    #: Province -> year -> urban per-capita monthly disposable income, in fen: the funeral grant is twice the
    #: previous year's figure, the survivor payment a number of months of it (人社部发〔2021〕18号).
    #: JSON in the environment, e.g. PROVINCE_MONTHLY_INCOME_FEN='{"43": {"2025": 440000}}'. The default is
    #: a placeholder for the demo province (Hunan, 43); set the published figures.
    province_monthly_income_fen: dict[str, dict[int, int]] = Field(
        default_factory=lambda: {"43": {2024: 420_000, 2025: 440_000, 2026: 460_000}}
    )
    #: Days within which an employer enrols a new hire (社会保险法 Art 58).
    enrolment_days: int = 30
    #: YAML of official working days for years the calendar library does not know (services/runtime/workdays.py).
    workday_overrides: str = ""
    #: Largest contribution file accepted (300,000 rows of CSV are about 30 MB).
    contribution_max_bytes: int = 128 * 1024 * 1024

    @property
    def schema_name(self) -> str:
        return "insurance"

    def policy(self) -> Policy:
        """The rules' provincial figures."""
        return Policy(
            bounds=BaseBounds(self.contribution_base_min_fen, self.contribution_base_max_fen),
            unemployment_benefit_fen=self.unemployment_benefit_fen,
            monthly_income_fen=self.province_monthly_income_fen,
            enrolment_days=self.enrolment_days,
        )

    def calendar(self) -> WorkdayCalendar:
        """The official working-day calendar, with the override file when one is set."""
        return WorkdayCalendar.official(Path(self.workday_overrides) if self.workday_overrides else None)


DDL = [*eventstore.DDL, *relay.DDL, *consumer.DDL, *http.IDEMPOTENCY_DDL, *regions.DDL, *queries.DDL]


def commands(settings: InsuranceSettings, store: EventStore) -> InsuredCommands:
    """The person commands with the settings' policy and calendar."""
    return InsuredCommands(store, settings.policy(), settings.calendar())


def create_app(settings: InsuranceSettings | None = None) -> FastAPI:
    """The insurance API."""
    settings = settings or InsuranceSettings()
    app = create_service_app(
        settings,
        DDL,
        title="renshe insurance",
        description="Social insurance (社会保险): enrolment, contributions and arrears, unemployment benefit, "
        "retirees under community management, death and survivor claims.",
        routers=[api.router(), dead_letters_router()],
    )
    store = EventStore()
    app.state.store = store
    app.state.policy = settings.policy()
    app.state.insured = commands(settings, store)
    app.state.claim_batches = GroupCommit(
        app.state.renshe.pool, app.state.insured.claim_benefits, name="unemployment_benefit_claim"
    )
    app.state.accounts = EmployerAccountCommands(store)
    app.state.contribution_max_bytes = settings.contribution_max_bytes
    return app


def serve() -> None:
    """``renshe insurance api``."""
    serve_api("services.insurance.app:create_app", InsuranceSettings())


def run_relay() -> None:
    """``renshe insurance relay``: the outbox relay onto ``insurance.events``, with ``/replay``."""
    settings = InsuranceSettings()

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool], list[APIRouter]]:
        outbox = relay.OutboxRelay(
            pool,
            INSURANCE_EVENTS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        return [outbox.run], lambda: True, [relay.replay_router(outbox)]

    run_loops(settings, DDL, build)


def run_worker() -> None:
    """``renshe insurance worker``: react to registration's and assistance's events."""
    settings = InsuranceSettings()

    def build(pool: AsyncConnectionPool) -> tuple[list[Loop], Callable[[], bool]]:
        worker = EventConsumer(
            pool,
            InsuranceReactions(commands(settings, EventStore())),
            SOURCE_TOPICS,
            settings.kafka_bootstrap_servers,
            replication_factor=settings.kafka_replication_factor,
        )
        return [worker.run], worker.ready.is_set

    run_loops(settings, DDL, build)
