"""Reporting periods and the window a figure is taken over.

A period is a year ("2026"), a quarter ("2026Q3") or a month ("2026-09"). Stocks are taken at the end of
the window's ``as_of`` day; flows are summed from ``flows_from`` to ``as_of``. For a period that is the
period itself (up to today while it runs); for ``as_of`` a date and for "now" it is the quarter to date,
the statistical quarter the upward report (统计上报) uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Granularity = Literal["year", "quarter", "month"]

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

#: At most this many points in one series.
MAX_POINTS = 240


@dataclass(frozen=True, order=True)
class Period:
    """A calendar year, quarter or month; ``end`` is its last day."""

    start: date
    end: date
    granularity: Granularity

    @property
    def label(self) -> str:
        """The period as the API writes it: 2026, 2026Q3 or 2026-09."""
        if self.granularity == "year":
            return f"{self.start.year}"
        if self.granularity == "quarter":
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label_zh(self) -> str:
        """The period in Chinese: 2026年, 2026年第3季度, 2026年9月."""
        if self.granularity == "year":
            return f"{self.start.year}年"
        if self.granularity == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年{self.start.month}月"

    def following(self) -> Period:
        """The next period of the same granularity."""
        return _make(self.end + timedelta(days=1), self.granularity)


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _make(start: date, granularity: Granularity) -> Period:
    months = {"year": 12, "quarter": 3, "month": 1}[granularity]
    last = start.month + months - 1
    return Period(start, _month_end(start.year + (last - 1) // 12, (last - 1) % 12 + 1), granularity)


def parse_period(text: str) -> Period:
    """ "2026", "2026Q3" or "2026-09"; ValueError naming the accepted forms otherwise."""
    value = text.strip()
    if match := _YEAR.match(value):
        return _make(date(int(match[1]), 1, 1), "year")
    if match := _QUARTER.match(value):
        return _make(date(int(match[1]), 3 * int(match[2]) - 2, 1), "quarter")
    if match := _MONTH.match(value):
        return _make(date(int(match[1]), int(match[2]), 1), "month")
    raise ValueError(f"period must be a year (2026), a quarter (2026Q3) or a month (2026-09), got {text!r}")


def quarter_of(day: date) -> Period:
    """The quarter a day falls in."""
    return _make(date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), "quarter")


@dataclass(frozen=True)
class Window:
    """What one figure covers: stocks at the end of ``as_of``, flows from ``flows_from`` to ``as_of``."""

    period: Period | None
    as_of: date
    flows_from: date


def window(period: Period | None, as_of: date | None, today: date) -> Window:
    """The window of a request: a period, a past date, or now (neither). ValueError for the future."""
    if period is not None and as_of is not None:
        raise ValueError("give either period or as_of, not both")
    if period is not None:
        if period.start > today:
            raise ValueError(f"period {period.label} has not begun yet")
        return Window(period, min(period.end, today), period.start)
    if as_of is not None and as_of > today:
        raise ValueError(f"as_of {as_of} is in the future")
    day = as_of or today
    return Window(None, day, quarter_of(day).start)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every period from ``first`` to ``last`` inclusive; ValueError if they differ in kind or order."""
    if first.granularity != last.granularity:
        raise ValueError(f"from and to must be the same kind of period, got {first.label} and {last.label}")
    if last < first:
        raise ValueError(f"to ({last.label}) is before from ({first.label})")
    out = [first]
    while out[-1] != last:
        if len(out) >= MAX_POINTS:
            raise ValueError(f"a series has at most {MAX_POINTS} points")
        out.append(out[-1].following())
    return out
