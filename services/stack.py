"""``make up`` / ``make down``: the whole platform on one machine, under supervisord.

Starts embedded Postgres (unless ``DATABASE_URL`` names a server), the embedded broker (unless
``KAFKA_BOOTSTRAP_SERVERS`` names one) and every service process; waits until all are ready; writes
``.data/stack.env`` with the URLs and a development token.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from contracts.reference import SUINING_COUNTY
from services.platform import SERVICES, Service
from services.runtime.auth import Role, issue_token
from services.runtime.devstack import EmbeddedPostgres, StackPorts, broker_command, find_supervisor

DEFAULT_PORT_BASE = 18100


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str | None = None


@dataclass(frozen=True)
class Stack:
    """A local stack rooted in a data directory."""

    data_dir: Path
    ports: StackPorts

    @property
    def conf(self) -> Path:
        return self.data_dir / "supervisord.conf"

    @property
    def socket(self) -> Path:
        return self.data_dir / "supervisor.sock"

    @property
    def env_file(self) -> Path:
        return self.data_dir / "stack.env"

    def secrets(self) -> dict[str, str]:
        """Secrets generated once per data directory and kept across restarts."""
        path = self.data_dir / "secrets.env"
        if not path.exists():
            from services.runtime.pii import new_secret

            path.write_text(f"JWT_SECRET={new_secret()}\nPII_SECRET={new_secret()}\n")
            path.chmod(0o600)
        return dict(line.split("=", 1) for line in path.read_text().split())

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run supervisorctl against this stack."""
        _, supervisorctl = find_supervisor()
        return subprocess.run([supervisorctl, "-c", str(self.conf), *args], capture_output=True, text=True, check=check)

    def supervisor_running(self) -> bool:
        """Whether this stack's supervisord answers."""
        return self.conf.exists() and self.ctl("pid", check=False).returncode == 0


def stack_at(data_dir: Path, port_base: int) -> Stack:
    """The stack in ``data_dir`` (created if missing)."""
    data_dir = data_dir.resolve()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    return Stack(data_dir, StackPorts(port_base))


def programs(
    stack: Stack, database_url: str, bootstrap: str, external_broker: bool, services: Sequence[Service] = SERVICES
) -> list[Program]:
    """Every process of the stack: the broker (unless external), then each listed service's api, relay and
    worker, on the ports its entry gives."""
    secrets = stack.secrets()
    common = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "JWT_SECRET": secrets["JWT_SECRET"],
        "PII_SECRET": secrets["PII_SECRET"],
        "REGIONS_CSV": os.environ.get("REGIONS_CSV", ""),
    }
    renshe = str(Path(sys.executable).parent / "renshe")
    programs = [
        Program(
            f"{service.name}-{role}",
            [renshe, service.name, role],
            {**common, service.port_setting(role): str(port), "HTTP_WORKERS": "1"},
            f"http://127.0.0.1:{port}/readyz",
        )
        for service in services
        for role in service.processes
        for port in [stack.ports.at(service.port(role))]
    ]
    if not external_broker:
        programs.insert(0, Program("broker", broker_command(stack.ports.broker), {}))
    return programs


def service_urls(ports: StackPorts, services: Sequence[Service] = SERVICES) -> dict[str, str]:
    """``<NAME>_URL``: where each service's API listens, as ``stack.env`` names it."""
    return {s.url_var: f"http://127.0.0.1:{ports.at(s.api_port)}" for s in services}


def relay_urls(ports: StackPorts, services: Sequence[Service] = SERVICES) -> dict[str, str]:
    """``<NAME>_RELAY_URL``: each relay's ops port, where ``renshe reporting rebuild`` asks for a
    republication."""
    return {s.relay_url_var: f"http://127.0.0.1:{ports.at(s.port('relay'))}" for s in services if s.topic}


def _supervisor_conf(stack: Stack, programs: list[Program]) -> str:
    lines = [
        "[unix_http_server]",
        f"file={stack.socket}",
        "",
        "[supervisord]",
        f"logfile={stack.data_dir / 'logs' / 'supervisord.log'}",
        f"pidfile={stack.data_dir / 'supervisord.pid'}",
        f"directory={stack.data_dir}",
        "nodaemon=false",
        "minfds=4096",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{stack.socket}",
        "",
    ]
    for prog in programs:
        env = ",".join(f'{k}="{v}"' for k, v in prog.env.items())
        lines += [
            f"[program:{prog.name}]",
            "command=" + " ".join(prog.argv),
            "autostart=true",
            "autorestart=true",
            "startsecs=1",
            "startretries=100",
            "stopwaitsecs=15",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={stack.data_dir / 'logs' / (prog.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
        ]
        if env:
            lines.append(f"environment={env}")
        lines.append("")
    return "\n".join(lines)


def up(data_dir: Path, port_base: int = DEFAULT_PORT_BASE, *, timeout: float = 60.0) -> dict[str, str]:
    """Start everything not yet running, wait until ready, write ``stack.env``; returns its values."""
    started = time.monotonic()
    stack = stack_at(data_dir, port_base)
    database_url = (
        os.environ.get("DATABASE_URL") or EmbeddedPostgres(stack.data_dir / "pg", stack.ports.postgres).start()
    )
    external_broker = bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or f"127.0.0.1:{stack.ports.broker}"
    processes = programs(stack, database_url, bootstrap, external_broker)
    stack.conf.write_text(_supervisor_conf(stack, processes))
    if stack.supervisor_running():
        stack.ctl("update")
        stack.ctl("start", "all", check=False)
    else:
        supervisord, _ = find_supervisor()
        subprocess.run([supervisord, "-c", str(stack.conf)], check=True)
    _wait_ready([p for p in processes if p.ready_url], timeout, stack)
    secrets = stack.secrets()
    dev_token = issue_token(secrets["JWT_SECRET"], subject="dev-admin", role=Role.ADMIN, region=SUINING_COUNTY)
    urls = service_urls(stack.ports)
    values = {
        **urls,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATABASE_URL": database_url,
        "DEV_TOKEN": dev_token,
        "STACK_READY_SECONDS": f"{time.monotonic() - started:.1f}",
        # The page reads the token from the fragment, which browsers never send to the server.
        "DASHBOARD_URL": f"{urls['REPORTING_URL']}/dashboard#token={dev_token}",
        **relay_urls(stack.ports),
    }
    stack.env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return values


def _wait_ready(programs: list[Program], timeout: float, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    pending = {p.name: p.ready_url for p in programs}
    with httpx.Client(timeout=2.0) as client:
        while pending:
            for name, url in list(pending.items()):
                try:
                    if url and client.get(url).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if not pending:
                return
            if time.monotonic() > deadline:
                status = stack.ctl("status", check=False).stdout
                raise TimeoutError(
                    f"not ready after {timeout:.0f}s: {sorted(pending)}\n{status}\nlogs: {stack.data_dir / 'logs'}"
                )
            time.sleep(0.2)


def down(data_dir: Path) -> None:
    """Stop every process the stack started, then its Postgres."""
    stack = stack_at(data_dir, DEFAULT_PORT_BASE)
    if stack.supervisor_running():
        # supervisord stops its programs one after another, each given its time to end gracefully: 12 s for the
        # whole stack. Once it is shutting down it restarts none, so every program is also sent SIGTERM at once
        # and they end side by side.
        listed = stack.ctl("pid", "all", check=False).stdout.split()
        stack.ctl("shutdown", check=False)
        for pid in (int(p) for p in listed if p.isdigit() and int(p) > 0):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
        pidfile = stack.data_dir / "supervisord.pid"
        deadline = time.monotonic() + 30
        while pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    EmbeddedPostgres(stack.data_dir / "pg", 0).stop()


def read_env(data_dir: Path) -> dict[str, str]:
    """The values ``up`` wrote to ``stack.env``."""
    text = (data_dir / "stack.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
