"""CPU accounting from /proc: how busy each process (tree) and the whole machine was during a run.

On a 2-core machine every part of the stack competes for the same cores, so a throughput figure means
little without knowing who used them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may contain spaces; the fields after it are fixed.
    return text[text.rindex(")") + 2 :].split()


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat


def children_of(pid: int) -> list[int]:
    """Direct children of a process (e.g. every backend under the postmaster)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuMeter:
    """Measures CPU use of named processes between ``start`` and ``stop``.

    ``trees`` names the processes whose direct children count too (Postgres backends).
    """

    pids: dict[str, int]
    trees: frozenset[str] = frozenset({"postgres"})
    _before: dict[int, float] = field(default_factory=dict)
    _machine: tuple[int, int] = (0, 0)
    _wall: float = 0.0

    def _members(self, name: str) -> list[int]:
        pid = self.pids[name]
        return [pid, *children_of(pid)] if name in self.trees else [pid]

    def start(self, now: float) -> None:
        """Take the starting readings (``now``: a monotonic time)."""
        self._before = {pid: process_seconds(pid) for name in self.pids for pid in self._members(name)}
        self._machine = machine_ticks()
        self._wall = now

    def stop(self, now: float) -> str:
        """A one-line summary: each process's share of one core, and how busy all cores were."""
        wall = max(now - self._wall, 1e-9)
        parts = []
        for name in self.pids:
            used = sum(process_seconds(pid) - self._before.get(pid, 0.0) for pid in self._members(name))
            parts.append(f"{name} {100 * used / wall:.0f}%")
        busy, total = machine_ticks()
        machine = 100 * (busy - self._machine[0]) / max(total - self._machine[1], 1)
        return f"CPU (% of one core): {', '.join(parts)}; all {os.cpu_count()} cores {machine:.0f}% busy"
