"""The official working-day calendar (工作日) and statutory deadlines computed on it.

Working days follow the State Council's yearly holiday notice (国务院办公厅关于部分节假日安排的通知), with its
swapped working weekends (调休上班), from the maintained ``chinesecalendar`` library; no hand-kept list.
The library knows the years of its release. For a later year (each notice comes out in November) a local
override file takes precedence, and without one a deadline in that year is computed on weekends alone and
says so: ``Deadline.provisional`` is true, and the caller recomputes it once the year's data arrives.

Two kinds of limit (see ``docs/rules.md``, "Supervision"):

- working-day limits ("within 5 working days", 劳动保障监察条例 Art 17's 60 working days):
  :meth:`WorkdayCalendar.add_workdays`;
- calendar-day limits ("within 15 days", "30 days from employment"): :meth:`WorkdayCalendar.add_days`, moved to
  the next working day when the last day is a rest day or holiday (民法典 Art 203: a period whose last day
  is a statutory holiday ends on the day after the holiday).

Each answer is a binary search in a sorted array of working-day ordinals built once, not a loop over days,
so a deadline costs about a microsecond.

The override file (``WORKDAY_OVERRIDES``) is YAML, one entry per year, dates or ``first..last`` ranges::

    # 国办发明电〔2026〕N号
    2027:
      holidays: ["2027-01-01", "2027-02-06..2027-02-12"]
      workdays: ["2027-02-14"]   # swapped working weekend days

A year in the file counts as official; the library's data for that year, if any, is replaced.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

#: The years the calendar covers (a job may have started decades ago); outside them a date is refused.
#: Years without official data are provisional and weekend-only.
FIRST_YEAR, LAST_YEAR = 1900, 2100


class OutsideCalendar(ValueError):
    """A date, or a deadline counted from it, lies outside the years the calendar covers: bad input (a
    received day in year 1 or 9999), which the HTTP layer answers with 422 ``DateWithinCalendar``."""


class CalendarFileInvalid(ValueError):
    """The override file is not in the documented format; the message names the year and the entry."""


@dataclass(frozen=True)
class Deadline:
    """The last day of a time limit, and whether it rests on official data for every year it spans."""

    due: date
    provisional: bool = False


def _expand(entry: object, year: int) -> list[date]:
    text = str(entry)
    first, sep, last = text.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if sep else start
    except ValueError:
        raise CalendarFileInvalid(f"{year}: {text!r} is not a date or a first..last range") from None
    if end < start or start.year != year or end.year != year:
        raise CalendarFileInvalid(f"{year}: {text!r} must be an ascending range inside {year}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def read_overrides(path: Path) -> dict[int, tuple[set[date], set[date]]]:
    """The override file's years: ``year -> (holidays, swapped working days)``."""
    try:
        loaded: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CalendarFileInvalid(f"{path}: not YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise CalendarFileInvalid(f"{path}: expected a mapping of years")
    years: dict[int, tuple[set[date], set[date]]] = {}
    for key, value in loaded.items():
        if not isinstance(key, int) or not isinstance(value, dict) or set(value) - {"holidays", "workdays"}:
            raise CalendarFileInvalid(f"{path}: {key!r} must be a year holding 'holidays' and 'workdays' lists")
        holidays = {d for e in value.get("holidays") or [] for d in _expand(e, key)}
        workdays = {d for e in value.get("workdays") or [] for d in _expand(e, key)}
        if holidays & workdays:
            raise CalendarFileInvalid(f"{path}: {key}: {min(holidays & workdays)} is both a holiday and a workday")
        years[key] = (holidays, workdays)
    return years


class WorkdayCalendar:
    """Which days are working days, and the deadlines that follow from them."""

    def __init__(self, holidays: set[date], workdays: set[date], official_years: set[int]) -> None:
        """``holidays`` are days off that would be weekdays, ``workdays`` weekend days worked in lieu."""
        self.official_years = frozenset(official_years)
        ordinals = []
        day, end = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
        while day <= end:
            if day in workdays or (day.weekday() < 5 and day not in holidays):
                ordinals.append(day.toordinal())
            day += timedelta(days=1)
        self._ordinals = ordinals
        # Deadlines on official data are built once and shared (Deadline is frozen): a lookup allocates nothing.
        self._deadlines = [Deadline(date.fromordinal(o)) for o in ordinals]
        self._lowest, self._highest = date(FIRST_YEAR, 1, 1).toordinal(), end.toordinal()
        # Runs of consecutive official years as ordinal spans: a limit is official when it starts and ends
        # in one run, which is one bisect instead of a loop over the years it spans.
        starts: list[int] = []
        ends: list[int] = []
        for year in sorted(self.official_years):
            if ends and date.fromordinal(ends[-1]).year == year - 1:
                ends[-1] = date(year, 12, 31).toordinal()
            else:
                starts.append(date(year, 1, 1).toordinal())
                ends.append(date(year, 12, 31).toordinal())
        self._official_starts, self._official_ends = starts, ends

    @classmethod
    def official(cls, overrides: Path | None = None) -> WorkdayCalendar:
        """The State Council's calendar as ``chinesecalendar`` knows it, with the override file's years on top."""
        return _official(overrides.resolve() if overrides is not None else None)

    def _provisional(self, first: int, last: int) -> bool:
        """Whether the ordinals ``first`` to ``last`` are not all in years with official data."""
        run = bisect_right(self._official_starts, first) - 1
        return run < 0 or last > self._official_ends[run]

    def _deadline(self, start: int, index: int) -> Deadline:
        """The working day at ``index`` as the deadline of a limit counted from ordinal ``start``."""
        official = self._deadlines[index]
        if self._provisional(start, self._ordinals[index]):
            return Deadline(official.due, True)
        return official

    def _check(self, day: date) -> int:
        ordinal = day.toordinal()
        if not self._lowest <= ordinal <= self._highest:
            raise OutsideCalendar(f"{day} is outside the calendar's years {FIRST_YEAR}-{LAST_YEAR}")
        return ordinal

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day (provisional, weekends only, in a year without official data)."""
        ordinal = self._check(day)
        index = bisect_left(self._ordinals, ordinal)
        return index < len(self._ordinals) and self._ordinals[index] == ordinal

    def is_official(self, day: date) -> bool:
        """Whether ``day``'s year has official data (the library's or the override file's)."""
        return day.year in self.official_years

    def add_workdays(self, start: date, n: int) -> Deadline:
        """The ``n``-th working day after ``start`` (``start`` itself never counts); ``n`` >= 1."""
        if n < 1:
            raise ValueError("a working-day limit counts at least one day")
        ordinal = self._check(start)
        index = bisect_right(self._ordinals, ordinal) + n - 1
        if index >= len(self._ordinals):
            raise OutsideCalendar(f"{n} working days after {start} is beyond {LAST_YEAR}")
        return self._deadline(ordinal, index)

    def next_workday(self, day: date) -> Deadline:
        """``day`` itself when it is a working day, else the first working day after it (民法典 Art 203)."""
        ordinal = self._check(day)
        index = bisect_left(self._ordinals, ordinal)
        if index >= len(self._ordinals):
            raise OutsideCalendar(f"no working day after {day} before {LAST_YEAR}")
        return self._deadline(ordinal, index)

    def add_days(self, start: date, n: int) -> Deadline:
        """``n`` calendar days after ``start``, moved past rest days and holidays to the next working day."""
        if n < 0:
            raise ValueError("a time limit cannot be negative")
        first = self._check(start)
        last = first + n
        if last > self._highest:
            raise OutsideCalendar(f"{n} days after {start} is beyond {LAST_YEAR}")
        index = bisect_left(self._ordinals, last)
        if index >= len(self._ordinals):
            raise OutsideCalendar(f"no working day after {date.fromordinal(last)} before {LAST_YEAR}")
        return self._deadline(first, index)

    def workdays_between(self, first: date, last: date) -> int:
        """How many working days lie after ``first`` up to and including ``last`` (negative when reversed)."""
        return bisect_right(self._ordinals, self._check(last)) - bisect_right(self._ordinals, self._check(first))


@lru_cache(maxsize=4)
def _official(overrides: Path | None) -> WorkdayCalendar:
    holidays = {d for d in chinese_calendar.holidays if isinstance(d, date)}
    workdays = {d for d in chinese_calendar.workdays if isinstance(d, date)}
    known = {d.year for d in holidays} | {d.year for d in workdays}
    official_years = set(range(min(known), max(known) + 1))
    if overrides is not None:
        for year, (extra_holidays, extra_workdays) in read_overrides(overrides).items():
            holidays = {d for d in holidays if d.year != year} | extra_holidays
            workdays = {d for d in workdays if d.year != year} | extra_workdays
            official_years.add(year)
    return WorkdayCalendar(holidays, workdays, official_years)
