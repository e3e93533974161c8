"""The one list of the platform's services: the local stack, its ports, the CLI, the k8s generator and the
docs read it, so a new service joins everything by adding one entry here.

Each service's ``app`` module offers ``serve()`` (its HTTP API), and ``run_relay()`` when it publishes a
topic, ``run_worker()`` when it reacts to or folds other topics. Ports are offsets from the local stack's
base port (``make up`` uses 18100).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.topics import REGISTRATION_EVENTS, Topic


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


SERVICES: tuple[Service, ...] = (
    Service(
        "registration",
        "The real-name ledger (实名制台账): persons, households, employers, vacancies, service points.",
        api_port=10,
        topic=REGISTRATION_EVENTS,
        relay_port=20,
        worker_port=21,
    ),
    Service(
        "reporting",
        "Per-region figures at every level, the quarterly report, the dashboard.",
        api_port=15,
        worker_port=25,
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
