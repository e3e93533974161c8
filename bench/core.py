"""The benchmark registry, bars, medians and the results table.

A benchmark is an async function registered with ``@benchmark``. One call is one run; it returns a
``Measurement`` (value, unit) per row it reports, keyed by row name (most benchmarks report one row,
named after themselves). The runner calls it ``--runs`` times and reports the median of each row.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from bench.infra import Resources

Needs = Literal["embedded", "stack"]


class Measurement(NamedTuple):
    """One figure of one run."""

    value: float
    unit: str


RunResult = dict[str, Measurement]


class BenchmarkFailed(Exception):
    """The benchmark ran but its result is wrong (e.g. a projection total that does not add up)."""


@dataclass(frozen=True)
class Bar:
    """A target from the issue: ``value >= threshold`` or ``value < threshold``."""

    op: Literal[">=", "<"]
    threshold: float

    def met(self, value: float) -> bool:
        """Whether ``value`` reaches the bar."""
        if math.isnan(value):
            return False
        return value >= self.threshold if self.op == ">=" else value < self.threshold

    def __str__(self) -> str:
        return f"{self.op} {format_value(self.threshold)}"


@dataclass
class Context:
    """What a run gets: the shared infrastructure and a place for notes shown with the results."""

    resources: Resources
    run_index: int
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record (and print) a detail of this run, e.g. error counts or CPU use."""
        print(f"      {text}", flush=True)
        self.notes.append(text)


BenchFn = Callable[[Context], Awaitable[RunResult]]


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark: its rows (name -> bar or None) and what infrastructure it needs."""

    name: str
    needs: Needs
    rows: dict[str, Bar | None]
    fn: BenchFn
    description: str


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, *, needs: Needs, rows: dict[str, Bar | None] | None = None) -> Callable[[BenchFn], BenchFn]:
    """Register a benchmark; ``rows`` defaults to one row named after it, without a bar."""

    def register(fn: BenchFn) -> BenchFn:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name} registered twice")
        description = " ".join((fn.__doc__ or "").split())
        REGISTRY[name] = Benchmark(name, needs, rows if rows is not None else {name: None}, fn, description)
        return fn

    return register


@dataclass
class RowResult:
    """The runs of one row and their median."""

    benchmark: str
    row: str
    bar: Bar | None
    unit: str = ""
    values: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float:
        """The median over the runs (NaN when no run finished)."""
        return statistics.median(self.values) if self.values else math.nan

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL (...)`` or ``n/a`` when the issue gives no bar."""
        if self.error is not None:
            return "FAIL (error)"
        if self.bar is None:
            return "n/a (no bar)"
        return "pass" if self.bar.met(self.median) else "FAIL (bar missed)"

    @property
    def failed(self) -> bool:
        """Whether this row counts as a failure."""
        return self.verdict.startswith("FAIL")


@dataclass
class BenchmarkReport:
    """Everything one benchmark produced over its runs."""

    benchmark: Benchmark
    rows: list[RowResult]
    notes: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


async def run_benchmark(bench: Benchmark, resources: Resources, runs: int) -> BenchmarkReport:
    """Run one benchmark ``runs`` times; an exception fails its rows but not the whole session."""
    rows = {name: RowResult(bench.name, name, bar) for name, bar in bench.rows.items()}
    report = BenchmarkReport(bench, list(rows.values()))
    started = time.monotonic()
    print(f"== {bench.name}: {bench.description}", flush=True)
    for index in range(1, runs + 1):
        ctx = Context(resources, index)
        try:
            result = await bench.fn(ctx)
        except Exception as exc:  # report the failure and go on with the other benchmarks
            message = f"{type(exc).__name__}: {exc}"
            print(f"   run {index}/{runs}: ERROR {message}", flush=True)
            for row in rows.values():
                row.error = message
            report.notes += [(index, note) for note in ctx.notes]
            report.notes.append((index, f"error: {message}"))
            break
        report.notes += [(index, note) for note in ctx.notes]
        shown = ", ".join(f"{name} {format_value(m.value)} {m.unit}" for name, m in result.items())
        print(f"   run {index}/{runs}: {shown}", flush=True)
        for name, measurement in result.items():
            row = rows.setdefault(name, RowResult(bench.name, name, None))
            if row not in report.rows:
                report.rows.append(row)
            row.unit = measurement.unit
            row.values.append(measurement.value)
    report.seconds = time.monotonic() - started
    return report


def format_value(value: float) -> str:
    """Readable numbers: thousands separators for big ones, a few decimals for small ones."""
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


HEADER = ("benchmark", "median", "unit", "bar", "pass/fail")


def table_rows(reports: Iterable[BenchmarkReport]) -> list[tuple[str, str, str, str, str]]:
    """One line per row of every report."""
    out = []
    for report in reports:
        for row in report.rows:
            median = "error" if row.error is not None and not row.values else format_value(row.median)
            out.append((row.row, median, row.unit or "-", str(row.bar) if row.bar else "none", row.verdict))
    return out


def render_text(reports: Sequence[BenchmarkReport]) -> str:
    """The results as a fixed-width table for the terminal."""
    lines = [HEADER, *table_rows(reports)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    right = {1}
    formatted = [
        " | ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(line))
        for line in lines
    ]
    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([formatted[0], rule, *formatted[1:]])


def render_markdown(reports: Sequence[BenchmarkReport], *, runs: int, environment: str) -> str:
    """The results as a markdown document: the table, then each run's values and notes."""
    lines = [
        "# renshe benchmark results",
        "",
        f"Medians over {runs} run(s) each. {environment}",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|---|---:|---|---|---|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(reports)]
    lines += ["", "## Runs and notes", ""]
    for report in reports:
        lines.append(f"### {report.benchmark.name}")
        lines.append("")
        lines.append(f"{report.benchmark.description} ({report.seconds:.0f} s in total)")
        lines.append("")
        for row in report.rows:
            values = ", ".join(format_value(v) for v in row.values) or "none"
            lines.append(f"- {row.row}: runs {values} {row.unit}".rstrip())
            if row.error:
                lines.append(f"- error: `{row.error}`")
        for index, note in report.notes:
            lines.append(f"- run {index}: {note}")
        lines.append("")
    return "\n".join(lines)
