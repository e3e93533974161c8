"""``python -m bench.compare [A B]``: two runs of bench/results.md side by side, ratio by ratio.

A and B are section numbers of the log, counted from 1 (the oldest) or from -1 (the newest); the
default compares the last two, i.e. the runs before and after a change. For each figure and limit it
shows both ratios and how figure, limit and ratio moved: figure and limit falling together with the
ratio steady is a slower machine, a falling ratio a slower program.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).with_name("results.md")

Key = tuple[str, str]
#: (figure, limit, ratio) of one row against one limit.
Row = tuple[float, float, float]


def _number(text: str) -> float:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return float("nan")


def sections(text: str) -> list[tuple[str, dict[Key, Row]]]:
    """Every run of the log: its title and its (row, limit) -> (figure, limit, ratio)."""
    out: list[tuple[str, dict[Key, Row]]] = []
    for chunk in text.split("\n## ")[1:]:
        title, _, body = chunk.partition("\n")
        rows: dict[Key, Row] = {}
        name = ""
        figure = float("nan")
        for line in body.splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not line.startswith("|") or len(cells) != 6 or cells[3] in ("-", "ratio (min-max)"):
                continue
            if cells[0]:
                name, figure = cells[0], _number(cells[1].split()[0])
            limit_words = cells[2].split()
            if len(limit_words) < 3:
                continue
            limit = " ".join(limit_words[:-2])
            rows[(name, limit)] = (figure, _number(limit_words[-2]), _number(cells[3].split()[0]))
        out.append((title, rows))
    return out


def _change(before: float, after: float) -> str:
    return f"{100 * (after / before - 1):+.0f}%" if before and before == before and after == after else "-"


def compare(a: tuple[str, dict[Key, Row]], b: tuple[str, dict[Key, Row]]) -> str:
    """The two runs' ratios and the changes of figure, limit and ratio, one line per (row, limit)."""
    lines = [f"A: {a[0]}", f"B: {b[0]}", ""]
    header = ("row", "limit", "ratio A", "ratio B", "figure", "limit", "ratio")
    table = [header]
    for key in [k for k in a[1] if k in b[1]]:
        (fa, la, ra), (fb, lb, rb) = a[1][key], b[1][key]
        table.append((*key, f"{ra:.3g}", f"{rb:.3g}", _change(fa, fb), _change(la, lb), _change(ra, rb)))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in table]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison of two runs of the log (default: the last two)."""
    args = list(sys.argv[1:] if argv is None else argv)
    runs = [run for run in sections(RESULTS.read_text()) if run[1]]
    if len(runs) < 2:
        print("bench/results.md holds fewer than two runs with ratios")
        return 1
    first, second = (int(args[0]), int(args[1])) if len(args) == 2 else (-2, -1)
    pick = [runs[i - 1] if i > 0 else runs[i] for i in (first, second)]
    print(compare(pick[0], pick[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
