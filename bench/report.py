"""The results table (figure, limit, ratio, bar, pass/fail), the machine it ran on, and ``results.md``.

``results.md`` is a log: every run appends one section (date, machine, mode, table, each run's values and
notes), so a later run can be compared with an earlier one ratio by ratio. A ratio that holds while the
figure and the limit both fell is a slower machine; a ratio that fell is a slower program.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.core import BenchmarkReport, RowResult, format_value

HEADER = ("benchmark", "figure", "limit (same run)", "ratio (min-max)", "bar", "pass/fail")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """CPU model, cores usable by this process, and the load average when the run started."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{cpu_model()}, {usable} cores (of {os.cpu_count()}), load average {load} at the start"


def _ratio_cell(row: RowResult, limit: str) -> str:
    ratios = row.ratios.get(limit, [])
    if not ratios:
        return "-"
    text = format_value(row.ratio(limit))
    if len(ratios) > 1:
        text += f" ({format_value(min(ratios))}-{format_value(max(ratios))})"
    return text


def _figure_cell(row: RowResult) -> str:
    if row.error is not None and not row.values:
        return "error"
    return f"{format_value(row.median)} {row.unit}".rstrip()


def table_rows(reports: Iterable[BenchmarkReport]) -> list[tuple[str, ...]]:
    """One line per row of every report, and one more per extra limit a row is shown against."""
    out: list[tuple[str, ...]] = []
    for report in reports:
        for row in report.rows:
            limits = row.bar.limits if row.bar else ()
            bar = str(row.bar) if row.bar else "none"
            if not limits:
                out.append((row.row, _figure_cell(row), "-", "-", bar, row.verdict))
                continue
            for i, limit in enumerate(limits):
                series = report.limits.get(limit)
                value = f"{format_value(series.median)} {series.unit}" if series else "not measured"
                cells = (f"{limit} {value}", _ratio_cell(row, limit))
                if i == 0:
                    out.append((row.row, _figure_cell(row), *cells, bar, row.verdict))
                else:
                    out.append(("", "", *cells, "(shown)", ""))
    return out


def render_text(reports: Sequence[BenchmarkReport]) -> str:
    """The results as a fixed-width table for the terminal."""
    lines = [HEADER, *table_rows(reports)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    right = {1, 3}
    formatted = [
        " | ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(line))
        for line in lines
    ]
    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([formatted[0], rule, *formatted[1:]])


def render_section(reports: Sequence[BenchmarkReport], *, title: str, environment: str) -> str:
    """One run of ``python -m bench`` as a markdown section: the table, then each run's values and notes."""
    lines = [
        f"## {title}",
        "",
        environment,
        "",
        "| " + " | ".join(HEADER) + " |",
        "|---|---:|---|---:|---|---|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(reports)]
    lines += ["", "<details><summary>Runs and notes</summary>", ""]
    for report in reports:
        lines.append(f"#### {report.benchmark.name}")
        lines.append("")
        lines.append(f"{report.benchmark.description} ({report.seconds:.0f} s in total)")
        lines.append("")
        for row in report.rows:
            values = ", ".join(format_value(v) for v in row.values) or "none"
            lines.append(f"- {row.row}: runs {values} {row.unit}".rstrip())
            for limit, ratios in row.ratios.items():
                lines.append(f"  - ratio to {limit}: runs {', '.join(format_value(r) for r in ratios)}")
            if row.error:
                lines.append(f"- error: `{row.error}`")
        for limit, series in report.limits.items():
            lines.append(f"- limit {limit}: runs {', '.join(format_value(v) for v in series.values)} {series.unit}")
        for index, note in report.notes:
            lines.append(f"- run {index}: {note}")
        lines.append("")
    lines += ["</details>", ""]
    return "\n".join(lines)


def append_section(path: Path, section: str) -> None:
    """Append ``section`` to the results log (created with a heading when missing)."""
    existing = path.read_text() if path.exists() else "# renshe benchmark results\n"
    path.write_text(existing.rstrip("\n") + "\n\n" + section)
