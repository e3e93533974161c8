"""Settings shared by every renshe process; each process declares one subclass (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service process reads from its environment.

    Each service subclasses this once (``RegistrationSettings``, ``ReportingSettings``); nothing else in
    the code reads ``os.environ``.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        description="libpq connection string; each service keeps its tables in its own schema",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    #: Replicas of topics this process creates when they are missing (1 for the embedded broker).
    kafka_replication_factor: int = 1
    #: HS256 secret for bearer tokens; or leave empty and name the identity provider's JWKS URL.
    jwt_secret: SecretStr = SecretStr("")
    jwt_jwks_url: str = ""
    jwt_algorithm: str = "HS256"
    jwt_audience: str = "renshe"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: API worker processes; one per core the API may use.
    http_workers: int = 1
    #: Port of the health and /metrics endpoint of relays and workers (APIs serve theirs on http_port).
    ops_port: int = 0
    db_pool_min: int = 2
    db_pool_max: int = 10
    log_level: str = "INFO"
    #: What a worker's reactions run on: ``aiokafka`` batches or ``faust`` agents (services/runtime/faust_driver.py).
    consumer_driver: Literal["aiokafka", "faust"] = "aiokafka"
    #: CSV of the official division list (code,name,level,parent,urban_rural_class); empty: the demo county.
    regions_csv: str = ""

    @property
    def schema_name(self) -> str:
        """The Postgres schema this service owns."""
        raise NotImplementedError
