"""The one list of the platform's services: the local stack, its ports, the CLI, the k8s generator and the
docs read it, so a new service joins everything by adding one entry here.

Each service's ``app`` module offers ``serve()`` (its HTTP API), and ``run_relay()`` when it publishes a
topic, ``run_worker()`` when it reacts to or folds other topics. Ports are offsets from the local stack's
base port (``make up`` uses 18100).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from contracts.topics import REGISTRATION_EVENTS, Topic

Role = Literal["api", "relay", "worker"]
#: The function of a service's ``app`` module each role runs.
ENTRY_POINTS: dict[str, str] = {"api": "serve", "relay": "run_relay", "worker": "run_worker"}


@dataclass(frozen=True)
class Service:
    """One service of the platform and the processes it runs."""

    name: str
    summary: str
    #: Offset of its HTTP API's port from the stack's base port.
    api_port: int
    #: The topic its relay publishes its event store to (None: it publishes nothing).
    topic: Topic | None = None
    #: Offset of the relay's ops port (readiness, metrics, ``/replay``).
    relay_port: int | None = None
    #: Offset of the worker's ops port (None: the service runs no worker).
    worker_port: int | None = None
    #: What its worker does, for ``renshe <name> worker --help``.
    worker_summary: str = ""
    #: The HTTP port of its API inside a container (Kubernetes), its settings' default ``http_port``.
    http_port: int = 8100
    #: Its processes hold personal data encrypted at rest (``services.runtime.pii``) and get ``PII_SECRET``:
    #: which roles.
    pii_roles: tuple[str, ...] = ()
    #: Production: the most API replicas the autoscaler may run (mind the Postgres connection budget).
    api_max_replicas: int = 6

    @property
    def module(self) -> str:
        """Where its ``serve``, ``run_relay`` and ``run_worker`` live."""
        return f"services.{self.name}.app"

    @property
    def url_var(self) -> str:
        """The ``stack.env`` variable naming its API, e.g. ``REGISTRATION_URL``."""
        return f"{self.name.upper()}_URL"

    @property
    def relay_url_var(self) -> str:
        """The ``stack.env`` variable naming its relay's ops port (where rebuilds ask for a republication)."""
        return f"{self.name.upper()}_RELAY_URL"

    @property
    def processes(self) -> tuple[str, ...]:
        """The roles it runs: ``api`` always, ``relay`` and ``worker`` when it has them."""
        roles = ["api"]
        if self.topic is not None:
            roles.append("relay")
        if self.worker_port is not None:
            roles.append("worker")
        return tuple(roles)

    def port(self, role: str) -> int:
        """The offset of the port ``role`` listens on: the API's HTTP port, a relay's or worker's ops port."""
        offset = {"api": self.api_port, "relay": self.relay_port, "worker": self.worker_port}[role]
        if offset is None:
            raise KeyError(f"{self.name} runs no {role}")
        return offset

    @staticmethod
    def port_setting(role: str) -> str:
        """The setting naming that port (``ServiceSettings.http_port`` or ``ops_port``)."""
        return "HTTP_PORT" if role == "api" else "OPS_PORT"

    def describe(self, role: str) -> str:
        """One line on what ``renshe <name> <role>`` runs."""
        if role == "api":
            return f"Serve the {self.name} HTTP API."
        if role == "relay":
            assert self.topic is not None
            return f"Publish {self.name}'s events to Kafka ({self.topic.name})."
        return self.worker_summary or f"Run {self.name}'s worker."


SERVICES: tuple[Service, ...] = (
    Service(
        "registration",
        "The real-name ledger (实名制台账): persons, households, employers, vacancies, service points.",
        api_port=10,
        topic=REGISTRATION_EVENTS,
        relay_port=20,
        worker_port=21,
        worker_summary="React to assistance placements and insurance death reports.",
        http_port=8101,
        pii_roles=("api", "worker"),
        api_max_replicas=10,
    ),
    Service(
        "reporting",
        "Per-region figures at every level, the quarterly report, the dashboard.",
        api_port=15,
        worker_port=25,
        worker_summary="Project every topic into the per-region read models.",
        http_port=8105,
    ),
)


def service(name: str) -> Service:
    """The service called ``name``."""
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no service {name!r}")


def publishing() -> tuple[Service, ...]:
    """The services that publish a topic (the sources reporting folds)."""
    return tuple(s for s in SERVICES if s.topic is not None)
