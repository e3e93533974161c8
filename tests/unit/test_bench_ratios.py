"""The benchmark runner's ratio logic: bars on figure / limit, taken run by run (pure logic, nothing timed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bench.core import (
    QUICK_ENV,
    Bar,
    Benchmark,
    BenchmarkReport,
    Context,
    Measurement,
    RowResult,
    record_run,
    run_benchmark,
    size,
)
from bench.report import table_rows


async def _never(ctx: Context) -> dict[str, Measurement]:
    raise AssertionError("not run")


def _report(bar: Bar | None) -> BenchmarkReport:
    bench = Benchmark("rebuild", "embedded", {"rebuild": bar}, _never, "")
    return BenchmarkReport(bench, [RowResult("rebuild", "rebuild", bar)])


def _run(report: BenchmarkReport, figure: float, limit: float | None) -> None:
    result = {"rebuild": Measurement(figure, "events/s")}
    if limit is not None:
        result["raw consume+decode"] = Measurement(limit, "msgs/s")
    record_run(report, result)


def test_ratio_is_taken_within_each_run_and_the_bar_applies_to_its_median() -> None:
    report = _report(Bar(">=", 0.35, of="raw consume+decode"))
    # A slow hour (second run) moves figure and limit together: the ratio does not move.
    for figure, limit in ((40_000, 100_000), (20_000, 50_000), (44_000, 100_000)):
        _run(report, figure, limit)
    row = report.rows[0]
    assert row.ratios["raw consume+decode"] == [0.4, 0.4, 0.44]
    assert row.ratio("raw consume+decode") == pytest.approx(0.4)
    assert row.verdict == "pass"
    assert report.limits["raw consume+decode"].median == 100_000


def test_a_figure_that_falls_while_its_limit_holds_misses_the_bar() -> None:
    report = _report(Bar(">=", 0.35, of="raw consume+decode"))
    for _ in range(3):
        _run(report, 30_000, 100_000)
    assert report.rows[0].verdict == "FAIL (bar missed)"


def test_a_run_without_its_limit_adds_no_ratio() -> None:
    report = _report(Bar(">=", 0.35, of="raw consume+decode"))
    _run(report, 40_000, None)
    assert report.rows[0].ratios == {}
    assert report.rows[0].verdict == "FAIL (bar missed)"  # a bar that cannot be judged is not met


def test_latency_bars_are_at_most_a_multiple_of_their_limit() -> None:
    bar = Bar("<=", 10.0, of="SELECT 1 over HTTP p99")
    assert bar.met(9.9) and bar.met(10.0) and not bar.met(10.1)


def test_a_bar_without_a_limit_judges_the_figure_itself() -> None:
    report = _report(Bar(">=", 50_000))
    _run(report, 52_000, None)
    assert report.rows[0].verdict == "pass"


def test_the_table_shows_figure_limit_ratio_and_spread() -> None:
    report = _report(Bar(">=", 0.35, of="raw consume+decode"))
    for figure in (40_000, 36_000, 44_000):
        _run(report, figure, 100_000)
    [row] = table_rows([report])
    assert row == (
        "rebuild",
        "40,000 events/s",
        "raw consume+decode 100,000 msgs/s",
        "0.40 (0.36-0.44)",
        ">= 0.35 of limit",
        "pass",
    )


def test_quick_sizes_are_a_tenth_unless_given_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(QUICK_ENV, raising=False)
    monkeypatch.delenv("RENSHE_BENCH_X", raising=False)
    assert size(1_000_000) == 1_000_000
    monkeypatch.setenv(QUICK_ENV, "1")
    assert size(1_000_000) == 100_000
    assert size(10_000_000, quick_size=200_000) == 200_000
    monkeypatch.setenv("RENSHE_BENCH_X", "42")
    assert size(1_000_000, env="RENSHE_BENCH_X") == 42


def test_a_quick_threshold_applies_only_to_quick_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    bar = Bar(">=", 0.15, of="raw consume+decode", quick_threshold=0.04)
    monkeypatch.delenv(QUICK_ENV, raising=False)
    assert not bar.met(0.1) and str(bar) == ">= 0.15 of limit"
    monkeypatch.setenv(QUICK_ENV, "1")
    assert bar.met(0.1) and str(bar) == ">= 0.04 of limit"


def test_a_logged_run_reads_back_ratio_by_ratio_for_comparison() -> None:
    from bench.compare import compare, sections
    from bench.report import render_section

    logs = []
    for figure, limit in ((40_000, 100_000), (20_000, 50_000)):
        report = _report(Bar(">=", 0.35, of="raw consume+decode"))
        _run(report, figure, limit)
        logs.append(render_section([report], title="run", environment="Machine: test."))
    runs = sections("# log\n\n" + "\n".join(logs))
    assert [rows for _, rows in runs] == [
        {("rebuild", "raw consume+decode"): (40_000, 100_000, 0.4)},
        {("rebuild", "raw consume+decode"): (20_000, 50_000, 0.4)},
    ]
    # A slower machine: figure and limit halve, the ratio holds.
    assert compare(runs[0], runs[1]).splitlines()[-1].split()[-3:] == ["-50%", "-50%", "+0%"]


async def test_a_capped_benchmark_runs_no_more_often_than_its_cap() -> None:
    calls: list[int] = []

    async def soak(ctx: Context) -> dict[str, Measurement]:
        calls.append(ctx.run_index)
        return {"soak": Measurement(1.0, "%")}

    bench = Benchmark("soak", "embedded", {"soak": None}, soak, "", max_runs=1)
    report = await run_benchmark(bench, None, 3)  # type: ignore[arg-type]  # the function never touches resources
    assert calls == [1]
    assert report.rows[0].values == [1.0]


class Switches:
    """Stands in for ``Resources``: notes each infrastructure switch a run asks for."""

    def __init__(self) -> None:
        self.to: list[str] = []

    async def switch_to(self, needs: str) -> None:
        self.to.append(needs)


def _recorder(order: list[str], name: str) -> Callable[[Context], Awaitable[dict[str, Measurement]]]:
    """A benchmark that only notes, in ``order``, that it ran."""

    async def record(ctx: Context) -> dict[str, Measurement]:
        order.append(name)
        return {name: Measurement(1.0, "s")}

    return record


async def test_every_embedded_benchmark_runs_before_any_on_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.__main__ as runner

    order: list[str] = []
    # Registered as the modules do: embedded, stack, embedded, stack.
    registry = {
        name: Benchmark(name, needs, {name: None}, _recorder(order, name), "")
        for name, needs in (("store", "embedded"), ("http", "stack"), ("demo", "embedded"), ("soak", "stack"))
    }
    monkeypatch.setattr(runner, "REGISTRY", registry)

    switches = Switches()
    await runner.run_all(["soak", "demo", "http", "store"], 1, switches, [])  # type: ignore[arg-type]
    assert order == ["store", "demo", "http", "soak"]
    # Resources.switch_to starts what a switch needs only when it changes: once each here, not twice each.
    assert switches.to == ["embedded", "embedded", "stack", "stack"]


async def test_a_benchmark_marked_first_runs_before_the_rest_of_its_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.__main__ as runner

    order: list[str] = []
    # The quick demo wants the shared stack before any other benchmark has written to it.
    chosen = (("store", "embedded", False), ("http", "stack", False), ("demo", "stack", True), ("soak", "stack", False))
    registry = {
        name: Benchmark(name, needs, {name: None}, _recorder(order, name), "", first=first)  # type: ignore[arg-type]
        for name, needs, first in chosen
    }
    monkeypatch.setattr(runner, "REGISTRY", registry)

    await runner.run_all(["soak", "demo", "http", "store"], 1, Switches(), [])  # type: ignore[arg-type]
    assert order == ["store", "demo", "http", "soak"]
