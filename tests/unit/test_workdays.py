"""The official working-day calendar: deadlines agree with chinesecalendar, and unknown years say so."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from services.runtime.workdays import CalendarFileInvalid, Deadline, OutsideCalendar, WorkdayCalendar

CALENDAR = WorkdayCalendar.official()


def _library_add_workdays(start: date, n: int) -> date:
    """chinesecalendar's own answer, one day at a time (what the calendar must agree with)."""
    day = start
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def test_every_day_the_library_knows_agrees_with_it() -> None:
    day = date(2004, 1, 1)
    while day <= date(2026, 12, 31):
        assert CALENDAR.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize("start", [date(2026, 9, 28), date(2026, 2, 13)])
def test_five_working_days_match_the_library(start: date) -> None:
    deadline = CALENDAR.add_workdays(start, 5)
    assert deadline == Deadline(_library_add_workdays(start, 5), provisional=False)


def test_five_working_days_from_2026_09_28_skip_national_day_and_count_the_swapped_saturday() -> None:
    # 09-29 and 09-30 count, 10-01..10-07 are off, 10-08 and 10-09 count, and Saturday 10-10 is worked in lieu.
    assert CALENDAR.add_workdays(date(2026, 9, 28), 5).due == date(2026, 10, 10)


def test_a_swapped_working_weekend_day_counts() -> None:
    swapped = min(d for d in chinese_calendar.workdays if d.year == 2026)
    assert swapped.weekday() >= 5
    assert CALENDAR.is_workday(swapped)
    before = swapped - timedelta(days=1)
    assert CALENDAR.add_workdays(before, 1).due == swapped


def test_a_calendar_day_limit_ending_in_a_holiday_ends_on_the_next_working_day() -> None:
    # 30 days from 2026-09-01 is 2026-10-01, National Day: the period ends on 2026-10-08 (民法典 Art 203).
    assert CALENDAR.add_days(date(2026, 9, 1), 30) == Deadline(date(2026, 10, 8))
    assert CALENDAR.add_days(date(2026, 9, 2), 15) == Deadline(date(2026, 9, 17))


def test_a_year_beyond_the_library_is_provisional_on_weekends_alone() -> None:
    deadline = CALENDAR.add_workdays(date(2026, 12, 28), 5)
    assert deadline.provisional
    assert deadline.due == date(2027, 1, 4)  # 12-29, 12-30, 12-31, then Friday 1 January counts as a weekday
    assert not CALENDAR.add_workdays(date(2026, 12, 1), 5).provisional


def test_the_override_file_makes_a_year_official(tmp_path: Path) -> None:
    overrides = tmp_path / "workdays.yaml"
    overrides.write_text('2027:\n  holidays: ["2027-01-01"]\n  workdays: ["2027-01-09..2027-01-09"]\n')
    calendar = WorkdayCalendar.official(overrides)
    assert calendar.add_workdays(date(2026, 12, 28), 5) == Deadline(date(2027, 1, 5), provisional=False)
    assert calendar.is_workday(date(2027, 1, 9))  # a Saturday worked in lieu
    assert calendar.workdays_between(date(2026, 12, 31), date(2027, 1, 10)) == 6


@pytest.mark.parametrize(
    "text",
    [
        "2027: [2027-01-01]\n",
        '2027:\n  holidays: ["2027-13-01"]\n',
        '2027:\n  holidays: ["2026-12-31"]\n',
        '2027:\n  holidays: ["2027-01-05"]\n  workdays: ["2027-01-05"]\n',
        '2027:\n  days_off: ["2027-01-05"]\n',
    ],
)
def test_a_malformed_override_file_is_refused_naming_the_year(tmp_path: Path, text: str) -> None:
    overrides = tmp_path / "bad.yaml"
    overrides.write_text(text)
    with pytest.raises(CalendarFileInvalid, match="2027"):
        WorkdayCalendar.official(overrides)


def test_working_days_between_counts_after_the_first_day() -> None:
    assert CALENDAR.workdays_between(date(2026, 9, 28), date(2026, 10, 10)) == 5
    assert CALENDAR.workdays_between(date(2026, 10, 9), date(2026, 10, 9)) == 0


@pytest.mark.parametrize("start", [date(1, 1, 1), date(9999, 12, 31), date(1899, 1, 1)])
def test_a_date_outside_the_calendar_is_refused_as_such(start: date) -> None:
    with pytest.raises(OutsideCalendar):
        CALENDAR.add_days(start, 15)
    with pytest.raises(OutsideCalendar):
        CALENDAR.add_workdays(start, 5)
