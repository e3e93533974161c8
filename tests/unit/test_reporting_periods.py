"""Periods and windows: what a figure covers."""

from __future__ import annotations

from datetime import date

import pytest

from services.reporting.periods import parse_period, periods_between, quarter_of, window

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "start", "end", "zh"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026年"),
        ("2026Q3", date(2026, 7, 1), date(2026, 9, 30), "2026年第3季度"),
        ("2026Q4", date(2026, 10, 1), date(2026, 12, 31), "2026年第4季度"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31), "2026年12月"),
    ],
)
def test_periods_parse_to_their_first_and_last_day(text, start, end, zh):
    period = parse_period(text)
    assert (period.start, period.end, period.label, period.label_zh) == (start, end, text, zh)


@pytest.mark.parametrize("text", ["2026Q5", "2026-13", "26Q1", "2026-9", "Q3", ""])
def test_malformed_periods_are_refused_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match="quarter"):
        parse_period(text)


def test_a_running_period_is_taken_up_to_today_and_a_future_one_is_refused():
    assert window(parse_period("2026Q4"), None, TODAY).as_of == TODAY
    assert window(parse_period("2026Q3"), None, TODAY).as_of == date(2026, 9, 30)
    with pytest.raises(ValueError, match="not begun"):
        window(parse_period("2027"), None, TODAY)
    with pytest.raises(ValueError, match="future"):
        window(None, date(2026, 11, 23), TODAY)


def test_now_and_as_of_sum_flows_over_the_quarter_to_date():
    now = window(None, None, TODAY)
    assert (now.as_of, now.flows_from) == (TODAY, date(2026, 10, 1))
    past = window(None, date(2026, 5, 17), TODAY)
    assert (past.as_of, past.flows_from, quarter_of(past.as_of).label) == (
        date(2026, 5, 17),
        date(2026, 4, 1),
        "2026Q2",
    )


def test_series_periods_run_consecutively_and_keep_one_granularity():
    assert [p.label for p in periods_between(parse_period("2025Q4"), parse_period("2026Q2"))] == [
        "2025Q4",
        "2026Q1",
        "2026Q2",
    ]
    assert len(periods_between(parse_period("2025-11"), parse_period("2026-02"))) == 4
    with pytest.raises(ValueError, match="same kind"):
        periods_between(parse_period("2026-01"), parse_period("2026Q2"))
    with pytest.raises(ValueError, match="before"):
        periods_between(parse_period("2026"), parse_period("2025"))
