"""The evaluation a request asks for: which month and up to which day, the county's scores with the month
before (for 连续两个月末位), and the names of the regions they name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.reporting.entities import now_in_china
from services.reporting.periods import Period, parse_period
from services.reporting.staff import queries
from services.reporting.staff.scoring import Evaluation, RegionTarget, evaluate, region_targets
from services.reporting.staff.settings import StaffPerformanceSettings
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated

#: The first year evaluated: the working-day calendar's (the month before must exist as a date, too).
FIRST_YEAR = 1901


@dataclass(frozen=True)
class EvaluationWindow:
    """The month evaluated and the last day whose work counts (the month's end, today, or ``as_of``)."""

    month: Period
    last_day: date


def evaluation_window(month: str | None, as_of: date | None) -> EvaluationWindow:
    """``month`` (2026-11; default this month) or ``as_of`` (the month of that day, up to it); 422 naming the
    parameter otherwise."""
    today = now_in_china().date()
    if month is not None and as_of is not None:
        raise RuleViolated("PeriodOrAsOf", "give either month or as_of, not both", field="as_of")
    if as_of is not None:
        if as_of > today:
            raise RuleViolated("NotYetReportable", f"as_of {as_of} is in the future", field="as_of")
        if as_of.year < FIRST_YEAR:
            raise RuleViolated("EvaluationMonth", f"as_of {as_of} is before {FIRST_YEAR}", field="as_of")
        return EvaluationWindow(parse_period(f"{as_of.year:04d}-{as_of.month:02d}"), as_of)
    try:
        period = parse_period(month or f"{today.year:04d}-{today.month:02d}")
    except ValueError as exc:
        raise RuleViolated("EvaluationMonth", str(exc), field="month") from exc
    if period.start.year < FIRST_YEAR:
        raise RuleViolated("EvaluationMonth", f"month {month} is before {FIRST_YEAR}", field="month")
    if period.granularity != "month":
        raise RuleViolated(
            "EvaluationMonth", f"the evaluation is monthly: give a month such as 2026-11, got {month!r}", field="month"
        )
    if period.start > today:
        raise RuleViolated("NotYetReportable", f"month {period.label} has not begun yet", field="month")
    return EvaluationWindow(period, min(period.end, today))


@dataclass(frozen=True)
class CountyEvaluation:
    """A county's month: every staff member's evaluation, best first, and the 以奖代补 list."""

    county_code: str
    window: EvaluationWindow
    evaluations: list[Evaluation]
    targets: list[RegionTarget]


async def county_evaluation(
    conn: Connection,
    county_code: str,
    window: EvaluationWindow,
    settings: StaffPerformanceSettings,
    *,
    ids_of: str | None = None,
) -> CountyEvaluation:
    """Score and rank the county's staff for the window's month; the month before decides ``dismissal_due``.
    ``ids_of``: the subject whose evaluation lists the ids of the events behind it."""
    month = window.month
    works = await queries.month_work(conn, county_code, month.start, window.last_day, ids_of=ids_of)
    before = month.start - timedelta(days=1)
    previous = await queries.month_work(conn, county_code, before.replace(day=1), before)
    last_before = frozenset(e.work.subject for e in evaluate(previous, settings, before.year) if e.last_in_county)
    evaluations = evaluate(works, settings, month.start.year, last_before=last_before)
    return CountyEvaluation(county_code, window, evaluations, region_targets(evaluations, settings))
