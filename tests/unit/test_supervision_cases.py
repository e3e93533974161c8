"""Case rules (劳动保障监察条例 Art 17): 60 working days, one county extension of at most 30, steps in order."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.supervision import EmployerRef
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain import case as k
from services.supervision.domain.limits import Limits

CAL = WorkdayCalendar.official()
LIMITS = Limits()
TODAY = date(2026, 12, 3)
EMPLOYER = EmployerRef(
    employer_id="e1",
    credit_code="91350100M000100Y43",
    name="绥宁县竹木加工厂",
    region_code="430527100000",
    registered=True,
)


def opened(on: date = date(2026, 7, 1)) -> k.CaseState:
    command = k.OpenCase("k1", EMPLOYER, "complaint", "wages_minimum_wage", on, 3, complaint_id="c1")
    [event] = k.decide_open_case(command, CAL, LIMITS, TODAY)
    return k.evolve_case(None, event)


def apply(state, events):
    for event in events:
        state = k.evolve_case(state, event)
    return state


def inspected(state: k.CaseState, violation: bool = True) -> k.CaseState:
    return apply(state, k.decide_inspect(state, date(2026, 7, 6), "site", "工资表缺三个月", violation, TODAY))


def test_the_investigation_is_due_sixty_working_days_after_opening():
    state = opened(date(2026, 9, 28))
    assert state.due_on == CAL.add_workdays(date(2026, 9, 28), 60).due == date(2026, 12, 25)
    assert opened(date(2026, 7, 1)).due_on == date(2026, 9, 22)


def test_one_extension_of_at_most_thirty_working_days_before_the_limit():
    state = opened()
    with pytest.raises(RuleViolated) as refused:
        k.decide_extend(state, date(2026, 9, 1), "county-1", 31, "复杂", CAL, LIMITS, TODAY)
    assert (refused.value.rule, refused.value.field) == ("ExtensionAtMostThirtyWorkdays", "workdays")
    with pytest.raises(RuleViolated) as refused:
        k.decide_extend(state, date(2026, 9, 23), "county-1", 30, "复杂", CAL, LIMITS, TODAY)
    assert refused.value.rule == "ExtensionBeforeTheLimit"
    state = apply(state, k.decide_extend(state, date(2026, 9, 1), "county-1", 30, "涉及人数多", CAL, LIMITS, TODAY))
    # 30 working days after 9-22 cross National Day: 11-10.
    assert state.extended and state.due_on == CAL.add_workdays(date(2026, 9, 22), 30).due == date(2026, 11, 10)
    with pytest.raises(RuleViolated) as refused:
        k.decide_extend(state, date(2026, 9, 2), "county-1", 5, "再延", CAL, LIMITS, TODAY)
    assert refused.value.rule == "OneExtension"


def test_rectification_needs_a_found_violation_and_has_its_own_deadline():
    state = opened()
    with pytest.raises(RuleViolated) as refused:
        k.decide_order_rectification(state, date(2026, 7, 6), "补发工资", None, None, CAL, LIMITS, TODAY)
    assert refused.value.rule == "RectificationFollowsAFoundViolation"
    state = inspected(state)
    state = apply(
        state, k.decide_order_rectification(state, date(2026, 7, 7), "补发工资", None, 10, CAL, LIMITS, TODAY)
    )
    assert state.order_open and state.order_due == date(2026, 7, 21)
    with pytest.raises(RuleViolated) as refused:
        k.decide_close(state, date(2026, 7, 8), "corrected", None, TODAY)
    assert refused.value.rule == "RectificationVerifiedBeforeClosure"
    state = apply(state, k.decide_verify_rectification(state, date(2026, 7, 20), True, 1_200_000, TODAY))
    [closed] = k.decide_close(state, date(2026, 7, 22), "corrected", None, TODAY)
    assert (closed.within_limit, closed.wages_recovered_fen, closed.violation_found) == (True, 1_200_000, True)


def test_a_rectification_deadline_on_a_holiday_moves_to_the_next_working_day():
    state = inspected(opened())
    [order] = k.decide_order_rectification(
        state, date(2026, 9, 28), "补发工资", date(2026, 10, 3), None, CAL, LIMITS, TODAY
    )
    assert order.due_on == date(2026, 10, 8)


def test_a_penalty_is_positive_fen_for_a_found_violation():
    state = opened()
    with pytest.raises(RuleViolated) as refused:
        k.decide_penalty(state, date(2026, 7, 6), 500_000, "条例 Art 26", TODAY)
    assert refused.value.rule == "PenaltyFollowsAFoundViolation"
    state = inspected(state)
    with pytest.raises(RuleViolated) as refused:
        k.decide_penalty(state, date(2026, 7, 7), 0, "条例 Art 26", TODAY)
    assert refused.value.field == "amount_fen"
    state = apply(state, k.decide_penalty(state, date(2026, 7, 7), 500_000, "条例 Art 26", TODAY))
    assert (state.penalties, state.penalty_fen) == (1, 500_000)


def test_steps_after_closure_are_refused():
    state = inspected(opened(), violation=False)
    state = apply(state, k.decide_close(state, date(2026, 7, 8), "no_violation", None, TODAY))
    with pytest.raises(RuleViolated) as refused:
        k.decide_inspect(state, date(2026, 7, 9), "site", "再查", True, TODAY)
    assert (refused.value.rule, refused.value.field) == ("CaseIsOpen", "status")


def test_a_step_dated_before_the_last_one_is_refused():
    state = inspected(opened())
    with pytest.raises(RuleViolated) as refused:
        k.decide_penalty(state, date(2026, 7, 2), 100, "x", TODAY)
    assert (refused.value.rule, refused.value.field) == ("StepsInOrder", "decided_on")


def test_closure_outcome_must_match_the_findings():
    state = opened()
    with pytest.raises(RuleViolated) as refused:
        k.decide_close(state, date(2026, 7, 8), "no_violation", None, TODAY)
    assert refused.value.rule == "InspectedBeforeClosure"
    with pytest.raises(RuleViolated) as refused:
        k.decide_close(inspected(state), date(2026, 7, 8), "no_violation", None, TODAY)
    assert refused.value.rule == "OutcomeMatchesFindings"


def test_a_transfer_closes_the_case_as_transferred():
    state = inspected(opened())
    state = apply(state, k.decide_transfer(state, date(2026, 7, 8), "public_security", "拒不支付劳动报酬", TODAY))
    assert state.status == "transferred" and state.closed_on == date(2026, 7, 8)


def test_the_breach_check_flags_each_limit_once():
    state = inspected(opened())
    state = apply(state, k.decide_order_rectification(state, date(2026, 7, 7), "补发", None, 10, CAL, LIMITS, TODAY))
    assert k.decide_flag_breaches(state, date(2026, 7, 21)) == []
    [order] = k.decide_flag_breaches(state, date(2026, 7, 22))
    assert order.limit == "rectification"
    state = apply(state, [order])
    assert k.decide_flag_breaches(state, date(2026, 9, 22)) == []
    [investigation] = k.decide_flag_breaches(state, date(2026, 9, 23))
    assert (investigation.limit, investigation.due_on) == ("investigation", date(2026, 9, 22))
    assert k.decide_flag_breaches(apply(state, [investigation]), TODAY) == []


def test_a_provisional_limit_is_recomputed_once_the_years_calendar_arrives(tmp_path):
    state = opened(date(2026, 11, 2))
    # 2027 is beyond the library: weekends alone, so Friday 1 January counts and the limit is provisional.
    assert (state.due_on, state.provisional) == (date(2027, 1, 25), True)
    assert k.decide_recompute(state, CAL, LIMITS) == []
    overrides = tmp_path / "workdays.yaml"
    overrides.write_text('2027:\n  holidays: ["2027-01-01"]\n  workdays: []\n', encoding="utf-8")
    official = WorkdayCalendar.official(overrides)
    [recomputed] = k.decide_recompute(state, official, LIMITS)
    assert (recomputed.previous_due_on, recomputed.due_on, recomputed.provisional) == (
        date(2027, 1, 25),
        date(2027, 1, 26),
        False,
    )
    state = apply(state, [recomputed])
    assert k.decide_recompute(state, official, LIMITS) == []
