"""The abuse suite's fixtures: every listed service's API as a real process on a fresh database.

A service joins every check here by being listed in ``services.platform.SERVICES``: ``service_api`` starts
``renshe <name> api`` with generated secrets on the session's Postgres and broker, the way ``make up`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from services.platform import SERVICES, Service
from services.runtime.auth import issue_token
from services.runtime.devstack import free_port
from tests.integration.helpers import fresh_database

RENSHE = str(Path(sys.executable).parent / "renshe")
JWT_SECRET = "abuse-jwt-" + "0123456789abcdef" * 3
PII_SECRET = "abuse-pii-" + "fedcba9876543210" * 3
COUNTY = "430527"
SERVICE_NAMES = [s.name for s in SERVICES]


def bearer(role: str = "county", region: str = COUNTY, secret: str = JWT_SECRET, **kwargs: object) -> dict[str, str]:
    """The Authorization header of a caller signed with the suite's secret (or ``secret``)."""
    return {"Authorization": f"Bearer {issue_token(secret, subject='abuse-1', role=role, region=region, **kwargs)}"}  # type: ignore[arg-type]


@dataclass
class RunningApi:
    """A service's API process: where it listens, its database and its log."""

    service: Service
    url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **kwargs)  # type: ignore[arg-type]

    def events(self) -> int:
        """How many events the service's store holds (0 when it keeps no event store)."""
        schema = self.service.name
        with psycopg.connect(self.database_url) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (f"{schema}.events",)).fetchone()
            if exists is None or exists[0] is None:
                return 0
            row = conn.execute(f'SELECT count(*) FROM "{schema}".events').fetchone()
        assert row is not None
        return int(row[0])

    def rss_kib(self, key: str = "VmRSS") -> int:
        """The process's resident set (``VmRSS``) or its peak (``VmHWM``), in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {key} for {self.process.pid}")


def start_api(infra: object, service: Service, log_dir: Path, **env: str) -> RunningApi:
    """``renshe <service> api`` on a fresh database, ready to serve."""
    database_url = fresh_database(infra, f"abuse_{service.name}")
    port = free_port()
    log_path = log_dir / f"{service.name}-api.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,  # type: ignore[attr-defined]
        "JWT_SECRET": JWT_SECRET,
        "PII_SECRET": PII_SECRET,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "HTTP_WORKERS": "1",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "4",
        **env,
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen([RENSHE, service.name, "api"], env=environment, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a loaded CI machine starts slowly
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{service.name} api did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return RunningApi(service, url, database_url, process, log_path, env)


def stop_api(api: RunningApi) -> None:
    api.process.terminate()
    try:
        api.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        api.process.kill()
        api.process.wait()


@pytest.fixture(scope="session")
def abuse_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("abuse-logs")


@pytest.fixture(scope="module", params=SERVICE_NAMES)
def api(request: pytest.FixtureRequest, infra: object, abuse_logs: Path) -> Iterator[RunningApi]:
    """Each listed service's API in turn (the test runs once per service)."""
    running = start_api(infra, next(s for s in SERVICES if s.name == request.param), abuse_logs)
    try:
        yield running
    finally:
        stop_api(running)


@pytest.fixture(scope="module")
def registration_api(infra: object, abuse_logs: Path) -> Iterator[RunningApi]:
    """Registration's API alone, its upload cap (8 MB) far below the bulk tests' 100 MB."""
    running = start_api(
        infra, next(s for s in SERVICES if s.name == "registration"), abuse_logs, IMPORT_MAX_BYTES=str(8 * 1024 * 1024)
    )
    try:
        yield running
    finally:
        stop_api(running)
