"""Infrastructure the benchmarks run on, started lazily and shared by consecutive benchmarks.

``embedded``: an embedded Postgres and an embedded broker (Tansu), for the store, relay and projection
benchmarks; each run works in a fresh schema (and topic) so runs never see each other's rows.
``stack``: the whole local stack (``services.stack.up``) in its own data directory, for the HTTP
benchmarks. Only one of the two runs at a time, so neither steals CPU from the other's measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool

from bench import limits
from bench.core import Needs
from services import stack as local_stack
from services.runtime import kafka
from services.runtime.db import migrate, open_pool
from services.runtime.devstack import EmbeddedBroker, EmbeddedPostgres, free_port

#: Environment variables that would make ``services.stack.up`` use external servers instead of its own.
_EXTERNAL_SERVERS = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")

#: Offsets from the port base that the local stack listens on (``services.runtime.devstack.StackPorts``).
_STACK_PORT_OFFSETS = (0, 1, 10, 15, 20, 25)


@dataclass
class Embedded:
    """A running embedded Postgres and broker."""

    postgres: EmbeddedPostgres
    broker: EmbeddedBroker

    @property
    def database_url(self) -> str:
        """libpq URL of the server."""
        return self.postgres.url

    @property
    def bootstrap_servers(self) -> str:
        """Kafka bootstrap address of the broker."""
        return self.broker.bootstrap_servers

    @contextlib.asynccontextmanager
    async def schema(
        self, ddl: Sequence[str], *, min_size: int = 2, max_size: int = 10
    ) -> AsyncIterator[AsyncConnectionPool]:
        """An open pool on a fresh schema migrated with ``ddl``; the schema is dropped afterwards."""
        name = f"bench_{uuid.uuid4().hex[:10]}"
        pool = open_pool(self.database_url, name, min_size=min(min_size, max_size), max_size=max_size)
        await pool.open(wait=True, timeout=30)
        try:
            async with pool.connection() as conn:
                await migrate(conn, name, ddl)
            yield pool
        finally:
            await pool.close()
            async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as conn:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


#: The programs whose CPU the command benchmarks' notes show: the path of ``POST /persons`` to reporting.
CPU_METERED = ("registration-api", "registration-relay", "reporting-api", "reporting-worker", "broker")


@dataclass
class LocalStack:
    """The whole local stack as ``services.stack.up`` started it."""

    data_dir: Path
    port_base: int
    values: dict[str, str]
    #: Index of the next citizen ID to use: IDs must stay unique for as long as the stack runs.
    next_person: int = 0
    #: Registered persons the county's labour force does not count (a quick run's demo leaves its dead, retired
    #: and moved away on the shared stack): what a benchmark waiting for reporting to count everyone allows for.
    outside_labour_force: int = 0

    @property
    def registration_url(self) -> str:
        return self.values["REGISTRATION_URL"]

    @property
    def reporting_url(self) -> str:
        return self.values["REPORTING_URL"]

    @property
    def token(self) -> str:
        return self.values["DEV_TOKEN"]

    @property
    def database_url(self) -> str:
        return self.values["DATABASE_URL"]

    def take_person_indexes(self, count: int) -> int:
        """Reserve ``count`` fresh citizen-ID indexes; returns the first."""
        first = self.next_person
        self.next_person += count
        return first

    def program_pids(self, names: Sequence[str] = CPU_METERED) -> dict[str, int]:
        """PID of each named supervised program (a ``supervisorctl`` call each), and of the postmaster under
        ``postgres``."""
        stack = local_stack.stack_at(self.data_dir, self.port_base)
        pids: dict[str, int] = {}
        for name in names:
            out = stack.ctl("pid", name, check=False).stdout.strip()
            if out.isdigit() and int(out) > 0:
                pids[name] = int(out)
        postmaster = self.data_dir / "pg" / "postmaster.pid"
        if postmaster.exists():
            pids["postgres"] = int(postmaster.read_text().split()[0])
        return pids


@dataclass
class Resources:
    """Lazily started infrastructure under one temporary root directory."""

    root: Path
    _embedded: Embedded | None = None
    _stack: LocalStack | None = None
    #: What the service logs said, collected as each piece of infrastructure stops.
    log_notes: list[str] = field(default_factory=list)
    #: The bare apps started (``bare_app``), by the database they answer ``SELECT 1`` from.
    _bare_apps: dict[str, limits.BareApp] = field(default_factory=dict)

    async def bare_app(self, database_url: str) -> limits.BareApp:
        """The bare app (the HTTP floor, ``bench.limits.BareApp``) against ``database_url``, started on first use
        and stopped with that database's infrastructure."""
        if database_url not in self._bare_apps:
            self._bare_apps[database_url] = await asyncio.to_thread(limits.BareApp.start, database_url)
        return self._bare_apps[database_url]

    def _stop_bare_apps(self) -> None:
        apps, self._bare_apps = self._bare_apps, {}
        for app in apps.values():
            app.stop()

    async def embedded(self) -> Embedded:
        """The embedded Postgres and broker, started on first use."""
        if self._embedded is None:
            print("   starting embedded Postgres and broker ...", flush=True)
            directory = self.root / "embedded"
            directory.mkdir(parents=True, exist_ok=True)
            postgres = EmbeddedPostgres(directory / "pg", free_port())
            broker = EmbeddedBroker(free_port(), directory / "broker.log")
            await asyncio.to_thread(postgres.start)
            try:
                await asyncio.to_thread(broker.start)
                await kafka.wait_for_broker(broker.bootstrap_servers)
            except BaseException:
                postgres.stop()
                broker.stop()
                raise
            self._embedded = Embedded(postgres, broker)
        return self._embedded

    async def stack(self) -> LocalStack:
        """The whole local stack, started on first use."""
        if self._stack is None:
            for name in _EXTERNAL_SERVERS:
                os.environ.pop(name, None)  # the stack must start its own Postgres and broker
            data_dir = self.root / "stack"
            port_base = free_port_base()
            print(f"   starting the local stack in {data_dir} (ports from {port_base}) ...", flush=True)
            try:
                values = await asyncio.to_thread(local_stack.up, data_dir, port_base, timeout=120.0)
            except BaseException:
                await asyncio.to_thread(local_stack.down, data_dir)
                raise
            print(f"   stack ready in {values['STACK_READY_SECONDS']} s", flush=True)
            self._stack = LocalStack(data_dir, port_base, values)
        return self._stack

    async def switch_to(self, needs: Needs) -> None:
        """Stop whatever the next benchmark does not need."""
        if needs != "embedded" and self._embedded is not None:
            await asyncio.to_thread(self._stop_embedded)
        if needs != "stack" and self._stack is not None:
            await asyncio.to_thread(self._stop_stack)

    def close(self) -> None:
        """Stop everything still running (blocking; safe to call more than once)."""
        self._stop_embedded()
        self._stop_stack()

    def _stop_embedded(self) -> None:
        if self._embedded is None:
            return
        self._stop_bare_apps()
        embedded, self._embedded = self._embedded, None
        embedded.broker.stop()
        embedded.postgres.stop()
        pg_dir = embedded.postgres.data_dir
        self.log_notes += summarise_logs("embedded", [pg_dir / "server.log", embedded.broker.log_path])
        shutil.rmtree(pg_dir, ignore_errors=True)

    def _stop_stack(self) -> None:
        if self._stack is None:
            return
        self._stop_bare_apps()
        stack, self._stack = self._stack, None
        local_stack.down(stack.data_dir)
        pg_dir = stack.data_dir / "pg"
        logs = sorted((stack.data_dir / "logs").glob("*.log"))
        self.log_notes += summarise_logs("stack", [pg_dir / "server.log", *logs])
        shutil.copy2(pg_dir / "server.log", stack.data_dir / "logs" / "postgres-server.log")
        shutil.rmtree(pg_dir, ignore_errors=True)  # the data itself is large and of no further use
        self.log_notes.append(f"stack logs kept in {stack.data_dir / 'logs'}")


def free_port_base() -> int:
    """A port base whose every stack port is free right now."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 60_000)
        if all(_port_free(base + offset) for offset in _STACK_PORT_OFFSETS):
            return base
    raise RuntimeError("no free port range for the local stack")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_SEVERITY = re.compile(r"\b(ERROR|FATAL|PANIC|CRITICAL|WARNING|WARN|Traceback)\b")
# supervisord's WARN lines about the shutdown that ``services.stack.down`` itself asked for.
_EXPECTED = re.compile(
    r"WARN (stopped: \S+ \(terminated by SIGTERM\)|exited: \S+ \(terminated by SIGTERM; not expected\)"
    r"|received SIGTERM indicating exit request)"
)
# Parts of a log line that differ between otherwise identical messages.
_VOLATILE = re.compile(r"^\S+ \S+ |\b[0-9a-f]{8}-[0-9a-f-]{27}\b|\d+")


def summarise_logs(label: str, paths: Sequence[Path], *, examples: int = 5) -> list[str]:
    """Count the warning and error lines of each log, with the most frequent kinds as examples."""
    notes: list[str] = []
    for path in paths:
        if not path.exists():
            continue
        kinds: Counter[str] = Counter()
        first_of_kind: dict[str, str] = {}
        with path.open(errors="replace") as handle:
            for line in handle:
                match = _SEVERITY.search(line)
                if not match or _EXPECTED.search(line):
                    continue
                kind = match.group(1) + ": " + _VOLATILE.sub("#", line.strip())[:160]
                kinds[kind] += 1
                first_of_kind.setdefault(kind, line.strip()[:300])
        total = sum(kinds.values())
        if not total:
            notes.append(f"{label} {path.name}: no warnings or errors")
            continue
        notes.append(f"{label} {path.name}: {total} warning/error lines")
        for kind, count in kinds.most_common(examples):
            notes.append(f"  {count} x `{first_of_kind[kind]}`")
    return notes
