"""The benchmark registry, bars on ratios to measured limits, medians and sizes.

A benchmark is an async function registered with ``@benchmark``. One call is one run; it returns a
``Measurement`` (value, unit) per row it reports, keyed by row name, and one per limit it measured in
the same run, keyed by the limit's name (``bench.limits``). A row's ``Bar`` names the limit it is
bounded by (``of``) and other limits worth showing beside it (``also``): the runner takes the ratio
figure / limit within each run and the bar applies to the median of those ratios, so a machine that is
slower this hour moves figure and limit together and the verdict stays put. The runner calls the
function ``--runs`` times and reports the median of each row, each limit and each ratio.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from bench.infra import Resources

Needs = Literal["embedded", "stack"]

#: Set by ``python -m bench --quick`` before the benchmark modules are imported (their sizes are constants).
QUICK_ENV = "RENSHE_BENCH_QUICK"


def quick() -> bool:
    """Whether this is a ``--quick`` run (about a tenth of the data)."""
    return os.environ.get(QUICK_ENV) == "1"


def size(full: int, *, quick_size: int | None = None, env: str | None = None) -> int:
    """A benchmark size: the ``env`` variable when set, else ``full``, or ``quick_size`` (default a tenth
    of ``full``) in a ``--quick`` run."""
    if env and env in os.environ:
        return int(os.environ[env])
    if quick():
        return quick_size if quick_size is not None else max(1, full // 10)
    return full


class Measurement(NamedTuple):
    """One figure of one run."""

    value: float
    unit: str


RunResult = dict[str, Measurement]


class BenchmarkFailed(Exception):
    """The benchmark ran but its result is wrong (e.g. a projection total that does not add up)."""


@dataclass(frozen=True)
class Bar:
    """A target: ``ratio op threshold``, the ratio being figure / limit ``of`` measured in the same run
    (or, without ``of``, the figure itself). ``also`` names limits shown beside it, without a bar.
    ``quick_threshold`` replaces the threshold in a ``--quick`` run, for a benchmark whose fixed costs
    weigh more on a tenth of the data (the rebuild's start-up); most bars need none."""

    op: Literal[">=", "<="]
    threshold: float
    of: str | None = None
    also: tuple[str, ...] = ()
    quick_threshold: float | None = None

    @property
    def target(self) -> float:
        """The threshold in effect for this run."""
        return self.quick_threshold if quick() and self.quick_threshold is not None else self.threshold

    @property
    def limits(self) -> tuple[str, ...]:
        """Every limit the row is shown against, the barred one first."""
        return ((self.of,) if self.of else ()) + self.also

    def met(self, value: float) -> bool:
        """Whether ``value`` (a ratio, or the figure when there is no ``of``) reaches the bar."""
        if math.isnan(value):
            return False
        return value >= self.target if self.op == ">=" else value <= self.target

    def __str__(self) -> str:
        return f"{self.op} {format_value(self.target)}" + (" of limit" if self.of else "")


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
    #: At most this many runs whatever ``--runs`` asks (``None``: as many as asked). A soak is one long
    #: run whose figures are already medians over its minutes; three would take an hour and a half.
    max_runs: int | None = None
    #: Runs before every other benchmark of its group (``needs``): it wants infrastructure nothing has written to.
    first: bool = False

    @property
    def limits(self) -> tuple[str, ...]:
        """The limits its rows are measured against, in order of first mention."""
        return tuple(dict.fromkeys(name for bar in self.rows.values() if bar for name in bar.limits))


REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    name: str,
    *,
    needs: Needs,
    rows: dict[str, Bar | None] | None = None,
    max_runs: int | None = None,
    first: bool = False,
) -> Callable[[BenchFn], BenchFn]:
    """Register a benchmark; ``rows`` defaults to one row named after it, without a bar; ``max_runs`` caps
    its runs (see ``Benchmark.max_runs``); ``first`` runs it before the rest of its group (``Benchmark.first``)."""

    def register(fn: BenchFn) -> BenchFn:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name} registered twice")
        description = " ".join((fn.__doc__ or "").split())
        chosen_rows: dict[str, Bar | None] = rows if rows is not None else {name: None}
        REGISTRY[name] = Benchmark(name, needs, chosen_rows, fn, description, max_runs, first)
        return fn

    return register


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else math.nan


@dataclass
class Series:
    """The values of one figure or limit, one per run."""

    unit: str = ""
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """The median over the runs (NaN when no run finished)."""
        return median(self.values)


@dataclass
class RowResult:
    """The runs of one row, their median, and its ratio to each of its limits run by run."""

    benchmark: str
    row: str
    bar: Bar | None
    unit: str = ""
    values: list[float] = field(default_factory=list)
    error: str | None = None
    #: limit name -> figure / limit of each run in which both were measured.
    ratios: dict[str, list[float]] = field(default_factory=dict)

    @property
    def median(self) -> float:
        """The median over the runs (NaN when no run finished)."""
        return median(self.values)

    def ratio(self, limit: str) -> float:
        """The median of the per-run ratios to ``limit``."""
        return median(self.ratios.get(limit, []))

    @property
    def judged(self) -> float:
        """What the bar applies to: the median ratio to the barred limit, or the median figure."""
        if self.bar is not None and self.bar.of:
            return self.ratio(self.bar.of)
        return self.median

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL (...)`` or ``n/a`` when the row has no bar."""
        if self.error is not None:
            return "FAIL (error)"
        if self.bar is None:
            return "n/a (no bar)"
        return "pass" if self.bar.met(self.judged) else "FAIL (bar missed)"

    @property
    def failed(self) -> bool:
        """Whether this row counts as a failure."""
        return self.verdict.startswith("FAIL")


@dataclass
class BenchmarkReport:
    """Everything one benchmark produced over its runs."""

    benchmark: Benchmark
    rows: list[RowResult]
    limits: dict[str, Series] = field(default_factory=dict)
    notes: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


def record_run(report: BenchmarkReport, result: RunResult) -> None:
    """Add one run's measurements to the report: figures to their rows, limits to theirs, and each barred
    row's ratio to every limit it names (only when both were measured in this run)."""
    limit_names = report.benchmark.limits
    rows = {row.row: row for row in report.rows}
    for name, measurement in result.items():
        if name in limit_names:
            series = report.limits.setdefault(name, Series())
            series.unit = measurement.unit
            series.values.append(measurement.value)
            continue
        row = rows.get(name)
        if row is None:
            row = rows[name] = RowResult(report.benchmark.name, name, None)
            report.rows.append(row)
        row.unit = measurement.unit
        row.values.append(measurement.value)
    for row in report.rows:
        for limit in row.bar.limits if row.bar else ():
            if row.row in result and limit in result and result[limit].value > 0:
                row.ratios.setdefault(limit, []).append(result[row.row].value / result[limit].value)


async def run_benchmark(bench: Benchmark, resources: Resources, runs: int) -> BenchmarkReport:
    """Run one benchmark ``runs`` times; an exception fails its rows but not the whole session."""
    report = BenchmarkReport(bench, [RowResult(bench.name, name, bar) for name, bar in bench.rows.items()])
    runs = min(runs, bench.max_runs or runs)
    started = time.monotonic()
    print(f"== {bench.name}: {bench.description}", flush=True)
    for index in range(1, runs + 1):
        ctx = Context(resources, index)
        try:
            result = await bench.fn(ctx)
        except Exception as exc:  # report the failure and go on with the other benchmarks
            message = f"{type(exc).__name__}: {exc}"
            print(f"   run {index}/{runs}: ERROR {message}", flush=True)
            for row in report.rows:
                row.error = message
            report.notes += [(index, note) for note in ctx.notes]
            report.notes.append((index, f"error: {message}"))
            break
        report.notes += [(index, note) for note in ctx.notes]
        record_run(report, result)
        shown = ", ".join(f"{name} {format_value(m.value)} {m.unit}" for name, m in result.items())
        print(f"   run {index}/{runs}: {shown}", flush=True)
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
