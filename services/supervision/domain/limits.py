"""The statutory time limits supervision computes, and the date rules every command shares.

Defaults are the national rules (docs/rules.md, "Supervision"); a province that varies one sets it in
``SupervisionSettings``. Working-day limits count on the official calendar (``WorkdayCalendar.add_workdays``);
calendar-day limits end on the next working day when their last day is a rest day (民法典 Art 203).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from pydantic import BaseModel

from services.runtime.errors import RuleViolated
from services.runtime.workdays import Deadline, WorkdayCalendar


@dataclass(frozen=True)
class Limits:
    """Every time limit, in the unit its rule counts in."""

    #: Accept or refuse a complaint (关于实施〈劳动保障监察条例〉若干规定 Art 18): working days.
    complaint_decision_workdays: int = 5
    #: Violations older than this are not pursued (劳动保障监察条例 Art 20): years.
    limitation_years: int = 2
    #: Close an investigation (条例 Art 17): working days from opening.
    investigation_workdays: int = 60
    #: Its one extension, approved at county level (条例 Art 17): at most this many working days.
    extension_max_workdays: int = 30
    #: A rectification order's deadline when the order names none: working days (local practice).
    rectification_workdays: int = 15
    #: A grid inspection's follow-up of its findings (local practice): working days.
    grid_follow_up_workdays: int = 10
    #: Mediation without agreement goes to arbitration (劳动争议调解仲裁法 Art 14): calendar days from receipt.
    mediation_days: int = 15
    #: Arbitration is applied for within this many years (Art 27), counted again after mediation.
    arbitration_application_years: int = 1
    #: Accept or refuse an arbitration application (Art 29): calendar days.
    arbitration_accept_days: int = 5
    #: Award (Art 43): calendar days from acceptance, and its one extension.
    award_days: int = 45
    award_extension_max_days: int = 15
    #: Answer a petition (信访工作条例 Art 32): calendar days from receipt.
    petition_answer_days: int = 60
    #: What "due soon" means in the due-soon lists: working days ahead.
    due_soon_workdays: int = 5


class DeadlineView(BaseModel):
    """A time limit as every answer shows it: when it falls due, on what data, and whether it has passed."""

    due: date
    provisional: bool
    overdue: bool
    workdays_left: int
    met: bool | None = None


def deadline_view(
    cal: WorkdayCalendar, due: date, provisional: bool, today: date, done_on: date | None
) -> DeadlineView:
    """The limit ``due`` seen on ``today``: overdue when it passed before the step it limits was done.

    ``met`` is None while the step is outstanding, else whether it was done by ``due``.
    """
    if done_on is not None:
        return DeadlineView(due=due, provisional=provisional, overdue=False, workdays_left=0, met=done_on <= due)
    return DeadlineView(
        due=due,
        provisional=provisional,
        overdue=today > due,
        workdays_left=cal.workdays_between(today, due),
    )


@dataclass(frozen=True)
class RunningLimit:
    """A time limit a stream is running: its name, the deadline its events gave it, and how it is computed.

    Every aggregate lists its running limits in one function (``running_limits``); the same list fills the
    ``deadlines`` table and, through :func:`recomputed`, finds what a newly published holiday notice moves
    (issue 14: a deadline computed without official data for its year says so and is recomputed when the
    data arrives), so a limit cannot be listed without being recomputed, or the other way round.
    """

    name: str
    due: date
    provisional: bool
    compute: Callable[[WorkdayCalendar], Deadline]


def recomputed(running: Sequence[RunningLimit], cal: WorkdayCalendar) -> list[tuple[RunningLimit, Deadline]]:
    """The provisional limits that ``cal``, as it now is, computes otherwise: each with its new deadline.

    A limit on official data never moves; a provisional one moves when its year's data arrived (the due day
    may change, and ``provisional`` turns false).
    """
    found = []
    for limit in running:
        if limit.provisional:
            fresh = limit.compute(cal)
            if (fresh.due, fresh.provisional) != (limit.due, limit.provisional):
                found.append((limit, fresh))
    return found


E = TypeVar("E")


def decide_recompute(running: Sequence[RunningLimit], cal: WorkdayCalendar, recorded: Callable[..., E]) -> list[E]:
    """One ``recorded(limit=, previous_due_on=, due_on=, provisional=)`` event per running limit that ``cal``
    moves (the stream's ``...DeadlineRecomputed``, its id and region already bound)."""
    return [
        recorded(limit=limit.name, previous_due_on=limit.due, due_on=fresh.due, provisional=fresh.provisional)
        for limit, fresh in recomputed(running, cal)
    ]


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def resume(cal: WorkdayCalendar, start: date, workdays: int) -> Deadline:
    """``workdays`` working days after ``start``; none left means the first working day from ``start``."""
    return cal.add_workdays(start, workdays) if workdays > 0 else cal.next_workday(start)


def require_not_future(day: date, today: date, field: str) -> None:
    """A step is recorded when it happened, never ahead of time."""
    if day > today:
        raise RuleViolated("StepNotInTheFuture", f"{field} {day} is in the future (today is {today})", field=field)


def require_on_or_after(day: date, earlier: date, field: str, what: str) -> None:
    """A step cannot be dated before the step it follows."""
    if day < earlier:
        raise RuleViolated("StepsInOrder", f"{field} {day} is before {what} ({earlier})", field=field)


def require_dated(day: date, earlier: date, today: date, field: str, what: str) -> None:
    """A step's date lies between the step it follows and today."""
    require_not_future(day, today, field)
    require_on_or_after(day, earlier, field, what)
