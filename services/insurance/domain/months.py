"""Calendar months as ``YYYY-MM`` strings, the unit contributions, benefits and pensions are paid in."""

from __future__ import annotations

import calendar
from datetime import date

from services.runtime.errors import RuleViolated


def month_of(day: date) -> str:
    """The month ``day`` falls in, e.g. 2026-03-15 -> "2026-03"."""
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(month: str) -> tuple[int, int]:
    """(year, month) of a ``YYYY-MM`` string."""
    year, _, number = month.partition("-")
    return int(year), int(number)


def add_months_to_month(month: str, n: int) -> str:
    """The month ``n`` months after ``month`` (before it for negative ``n``)."""
    year, number = parse_month(month)
    index = year * 12 + number - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def next_month(month: str) -> str:
    """The month after ``month``."""
    return add_months_to_month(month, 1)


def months_from_to(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (empty when ``last`` is earlier)."""
    out: list[str] = []
    month = first
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def month_bounds(month: str) -> tuple[date, date]:
    """The first and the last day of ``month``."""
    year, number = parse_month(month)
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def add_months(day: date, n: int) -> date:
    """The same day ``n`` months later, or that month's last day when it is shorter (31 Jan + 1 -> 28/29 Feb)."""
    year, number = parse_month(add_months_to_month(month_of(day), n))
    return date(year, number, min(day.day, calendar.monthrange(year, number)[1]))


def full_years_between(start: date, end: date) -> int:
    """Completed years from ``start`` to ``end`` (0 when ``end`` is earlier)."""
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return max(years, 0)


def require_not_future_month(month: str, today: date, *, field: str = "month") -> None:
    """A month that has not begun cannot be paid or owed yet."""
    if month > month_of(today):
        raise RuleViolated("MonthNotInFuture", f"{month} has not begun yet (today is {today})", field=field)


def require_not_future(day: date, today: date, *, field: str) -> None:
    """A fact is recorded on or after the day it happened."""
    if day > today:
        raise RuleViolated("DateNotInFuture", f"{field} {day} is in the future (today is {today})", field=field)
