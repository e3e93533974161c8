"""The simulated period and the randomness of the demo: both fixed by the seed and the day it runs.

The window is the last eight whole quarters and the quarter to date, so that the dashboard's key figures,
its series over 8 quarters and the quarterly report for last quarter all have history behind them
(docs/design.md section 5, reporting). Every date the simulation produces lies in the past: the services
refuse future dates (a 422 naming the field).

Randomness is drawn from one ``random.Random`` per purpose, seeded with the demo's seed and the names of
that purpose (``sim.rng("registration", "person", 17)``). Seeding a ``Random`` with a string hashes it
with SHA-512, so the draws are the same in every process and on every machine, and a module added later
draws from its own streams: it cannot shift what the modules before it produce.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

#: Whole quarters of history before the current one.
QUARTERS_OF_HISTORY = 8


def quarter_start(day: date) -> date:
    """The first day of the quarter ``day`` falls in."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_name(day: date) -> str:
    """The quarter ``day`` falls in, written as the services write it: ``2026Q3``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month (the simulation steps by month)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def anniversary(birth: date, years: int) -> date:
    """The day someone born on ``birth`` turns ``years`` (28 February for 29 February births)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return birth.replace(year=birth.year + years, day=28)


@dataclass(frozen=True)
class Window:
    """From the first day of the quarter eight quarters back to ``today``, both included."""

    start: date
    today: date

    @classmethod
    def ending(cls, today: date, quarters: int = QUARTERS_OF_HISTORY) -> Window:
        """The window of ``quarters`` whole quarters before ``today``'s quarter, and that quarter to date."""
        first = quarter_start(today)
        return cls(add_months(first, -3 * quarters), today)

    @cached_property
    def months(self) -> tuple[tuple[date, date], ...]:
        """(first day, last day) of every month the window touches, in order; the last ends on ``today``."""
        out, month = [], self.start
        while month <= self.today:
            following = add_months(month, 1)
            out.append((month, min(following - timedelta(days=1), self.today)))
            month = following
        return tuple(out)

    @cached_property
    def quarters(self) -> tuple[tuple[str, date, date], ...]:
        """(name, first day, last day) of every quarter in the window; the last ends on ``today``."""
        out, first = [], self.start
        while first <= self.today:
            last = min(add_months(first, 3) - timedelta(days=1), self.today)
            out.append((quarter_name(first), first, last))
            first = add_months(first, 3)
        return tuple(out)

    def day_in(self, rng: random.Random, first: date, last: date) -> date:
        """A day from ``first`` to ``last`` (both included, clipped to ``today``), uniformly."""
        if last > self.today:
            last = self.today
        span = (last - first).days
        if span <= 0:
            return first if first < self.today else self.today
        return first + timedelta(days=int(rng.random() * (span + 1)))


def seeded(seed: int, *names: object) -> random.Random:
    """The random stream for one purpose: the same for the same seed and names, in any process."""
    return random.Random(":".join(str(part) for part in (seed, *names)))
