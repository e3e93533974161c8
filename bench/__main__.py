"""``python -m bench [names...] [--runs N] [--quick]``: run benchmarks, print figure, limit, ratio, bar and
pass/fail, and append the run to bench/results.md."""

from __future__ import annotations

import argparse
import asyncio
import importlib
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

from bench.core import QUICK_ENV, REGISTRY, BenchmarkReport, run_benchmark
from bench.infra import Resources
from bench.report import append_section, machine, render_section, render_text

RESULTS = Path(__file__).with_name("results.md")
#: The benchmark modules, in the order they register (``run_all`` runs the embedded ones, then the stack's). They
#: are imported only after ``--quick`` is known, because their sizes are module constants.
MODULES = (
    "store",
    "projection",
    "reporting",
    "http_api",
    "registration",
    "demo",
    "insurance",
    "assistance",
    "supervision",
    "staff",
    "soak",
)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line: benchmark names (default: all, in registry order), runs, quick mode."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=f"benchmarks to run: {', '.join(REGISTRY)}")
    parser.add_argument(
        "--runs", type=int, default=None, help="runs per benchmark; the table shows medians (3, or 1 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="about a tenth of the data, same bars: before and after a change"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append this run to bench/results.md")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(REGISTRY)}")
    if args.runs is None:
        # A quick run has to fit in two minutes on a shared 2-core machine: one run of each benchmark does.
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def load_benchmarks(quick: bool) -> None:
    """Import (and so register) the benchmark modules, at quick sizes when asked."""
    if quick:
        os.environ[QUICK_ENV] = "1"
    for module in MODULES:
        importlib.import_module(f"bench.{module}")


async def run_all(names: Sequence[str], runs: int, resources: Resources, reports: list[BenchmarkReport]) -> None:
    """Run the named benchmarks into ``reports``: every one on the embedded servers first, then every one on
    the stack, each group in registry order but for those marked ``first``, so each is started once (a stack start
    is 15-30 s of a quick run)."""
    chosen = [REGISTRY[name] for name in REGISTRY if name in names]
    for bench in sorted(chosen, key=lambda bench: (bench.needs != "embedded", not bench.first)):
        await resources.switch_to(bench.needs)
        reports.append(await run_benchmark(bench, resources, runs))


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
    argv = list(sys.argv[1:] if argv is None else argv)
    load_benchmarks("--quick" in argv)
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.list:
        for bench in REGISTRY.values():
            print(f"{bench.name:26} {bench.description}")
        return 0
    names = args.names or list(REGISTRY)
    root = Path(tempfile.mkdtemp(prefix="renshe-bench-"))
    resources = Resources(root)
    host = machine()
    started, started_at = time.monotonic(), datetime.now(UTC)
    reports: list[BenchmarkReport] = []
    interrupted = False
    try:
        with _runner() as runner:
            runner.run(run_all(names, args.runs, resources, reports))
    except KeyboardInterrupt:
        # Stopped (Ctrl-C, or SIGTERM from a timeout): report and record the benchmarks that finished.
        interrupted = True
    finally:
        resources.close()
        if not any(root.glob("stack/logs/*.log")):
            shutil.rmtree(root, ignore_errors=True)
    mode = ("quick" if args.quick else "full") + (", interrupted" if interrupted else "")
    environment = (
        f"Machine: {host}. {'Quick' if args.quick else 'Full'} sizes, medians over {args.runs} run(s) each, "
        f"CPython {platform.python_version()}, niceness {os.nice(0)}, {time.monotonic() - started:.0f} s in total."
    )
    print()
    print(environment)
    print(render_text(reports))
    if resources.log_notes:
        print("\nService logs:")
        print("\n".join(f"  {note}" for note in resources.log_notes))
    if not args.no_record:
        section = render_section(reports, title=f"{started_at:%Y-%m-%d %H:%M} UTC, {mode}", environment=environment)
        if resources.log_notes:
            items = [f"  - {note.strip()}" if note.startswith("  ") else f"- {note}" for note in resources.log_notes]
            section += "\nService logs:\n\n" + "\n".join(items) + "\n"
        append_section(RESULTS, section)
        print(f"\nappended to {RESULTS}")
    return 1 if interrupted or any(row.failed for report in reports for row in report.rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
