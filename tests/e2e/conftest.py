"""The whole stack as processes, started the way ``make up`` starts it."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.stack import read_env

RENSHE = str(Path(sys.executable).parent / "renshe")


def _port_base() -> int:
    """A base port whose next 50 ports (every offset in services/platform.py) are all free."""
    for _ in range(50):
        # Below Linux's ephemeral range (32768-60999), so no outgoing connection takes a port meanwhile.
        base = random.randrange(20_000, 32_700, 100)
        try:
            for port in range(base, base + 50):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


@dataclass
class RunningStack:
    """A started stack: its data directory and what it wrote to stack.env."""

    data_dir: Path
    env: dict[str, str]

    def ctl(self, *args: str) -> str:
        """supervisorctl through the CLI, as an operator would."""
        result = subprocess.run(
            [RENSHE, "stack", "ctl", "--data-dir", str(self.data_dir), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout

    @property
    def headers(self) -> dict[str, str]:
        """The development token: a county-level admin."""
        return {"Authorization": f"Bearer {self.env['DEV_TOKEN']}"}

    def headers_for(self, role: str, region: str) -> dict[str, str]:
        """A token minted by `renshe token` with this stack's secret."""
        token = subprocess.run(
            [RENSHE, "token", "--role", role, "--region", region, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    data_dir = tmp_path_factory.mktemp("stack")
    subprocess.run(
        # A generous readiness wait: on a busy machine the processes take several times their usual 10 s.
        [
            RENSHE,
            "stack",
            "up",
            "--data-dir",
            str(data_dir),
            "--port-base",
            str(_port_base()),
            "--ready-timeout",
            "240",
        ],
        check=True,
        timeout=300,
    )
    running = RunningStack(data_dir, read_env(data_dir))
    try:
        yield running
    finally:
        programs = [int(pid) for pid in running.ctl("pid", "all").split() if pid.isdigit() and int(pid) > 0]
        subprocess.run([RENSHE, "stack", "down", "--data-dir", str(data_dir)], timeout=120)
        # `stack down` signals every program at once rather than leaving supervisord to stop them one by one:
        # none may outlive it.
        assert programs and not [pid for pid in programs if _running(pid)], f"left running: {programs}"


def _running(pid: int) -> bool:
    """Whether the process is alive (a zombie is not)."""
    try:
        os.kill(pid, 0)
        return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (ProcessLookupError, FileNotFoundError):
        return False
