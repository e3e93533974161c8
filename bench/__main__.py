"""``python -m bench [names...] [--runs N]``: run benchmarks, print the table, write bench/results.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

# isort: off
# Importing registers the benchmarks, in the order they run: embedded infrastructure first, then the stack.
from bench import store, projection, reporting, http_api, registration, demo  # noqa: F401

# isort: on
from bench.core import REGISTRY, BenchmarkReport, render_markdown, render_text, run_benchmark
from bench.infra import Resources

RESULTS = Path(__file__).with_name("results.md")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line: benchmark names (default: all, in registry order) and the number of runs."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=f"benchmarks to run: {', '.join(REGISTRY)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per benchmark; the table shows medians (3)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(REGISTRY)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


async def run_all(names: Sequence[str], runs: int, resources: Resources) -> list[BenchmarkReport]:
    """Run the named benchmarks in registry order, switching infrastructure only when needed."""
    reports = []
    for bench in (REGISTRY[name] for name in REGISTRY if name in names):
        await resources.switch_to(bench.needs)
        reports.append(await run_benchmark(bench, resources, runs))
    return reports


def _runner() -> asyncio.Runner:
    """An event loop like the services' (uvloop when installed)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (e.g. a timeout killing ``make bench``) stops like Ctrl-C, so the stack is shut down."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run, report, and exit non-zero when a benchmark failed or missed its bar."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.list:
        for bench in REGISTRY.values():
            print(f"{bench.name:22} {bench.description}")
        return 0
    names = args.names or list(REGISTRY)
    if args.runs < 3:
        print(f"note: {args.runs} run(s) per benchmark; the issue asks for medians of at least 3", flush=True)
    root = Path(tempfile.mkdtemp(prefix="renshe-bench-"))
    resources = Resources(root)
    started, started_at = time.monotonic(), datetime.now(UTC)
    reports: list[BenchmarkReport] = []
    try:
        with _runner() as runner:
            reports = runner.run(run_all(names, args.runs, resources))
    finally:
        resources.close()
        if not any(root.glob("stack/logs/*.log")):
            shutil.rmtree(root, ignore_errors=True)
    environment = (
        f"Started {started_at:%Y-%m-%d %H:%M} UTC on {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {time.monotonic() - started:.0f} s in total."
    )
    print()
    print(render_text(reports))
    markdown = render_markdown(reports, runs=args.runs, environment=environment)
    if resources.log_notes:
        print("\nService logs:")
        print("\n".join(f"  {note}" for note in resources.log_notes))
        items = [f"  - {note.strip()}" if note.startswith("  ") else f"- {note}" for note in resources.log_notes]
        markdown += "\n## Service logs\n\n" + "\n".join(items) + "\n"
    RESULTS.write_text(markdown)
    print(f"\nwritten to {RESULTS}")
    return 1 if any(row.failed for report in reports for row in report.rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
