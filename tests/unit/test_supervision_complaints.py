"""Complaint rules (若干规定 Art 18, 条例 Art 20) on the official 2026 calendar, from docs/rules.md's examples."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.supervision import EmployerRef
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain import complaint as c
from services.supervision.domain.limits import Limits, deadline_view

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


def filed(received_on: date = date(2026, 9, 28), **overrides) -> c.ComplaintState:
    command = c.FileComplaint(
        complaint_id="c1",
        region_code="430527100201",
        employer=overrides.pop("employer", EMPLOYER),
        complaint_type=overrides.pop("complaint_type", "wage_arrears"),
        scope=overrides.pop("scope", None),
        facts="三个月工资未发",
        violation_from=overrides.pop("violation_from", date(2026, 6, 1)),
        violation_until=overrides.pop("violation_until", None),
        received_on=received_on,
        workers_concerned=3,
        amount_claimed_fen=1_200_000,
        on_behalf=True,
    )
    [event] = c.decide_file_complaint(command, CAL, LIMITS, max(TODAY, received_on))
    return c.evolve_complaint(None, event)


def apply(state: c.ComplaintState, events) -> c.ComplaintState:
    for event in events:
        state = c.evolve_complaint(state, event)
    return state


def test_decision_is_due_five_working_days_after_receipt_past_national_day():
    state = filed(date(2026, 9, 28))
    # 9-29, 9-30, then 10-1..10-7 off, 10-8, 10-9 and the swapped Saturday 10-10.
    assert (state.decision_due, state.provisional) == (date(2026, 10, 10), False)


def test_decision_from_2026_02_13_skips_the_spring_festival():
    assert (
        filed(date(2026, 2, 13), violation_from=date(2026, 1, 5)).decision_due
        == CAL.add_workdays(date(2026, 2, 13), 5).due
        == date(2026, 2, 27)
    )


def test_a_decision_due_in_a_year_the_library_does_not_know_is_provisional():
    state = filed(date(2026, 12, 28), violation_from=date(2026, 12, 1))
    assert state.provisional and state.decision_due == date(2027, 1, 4)


def test_other_must_name_its_article_11_matter():
    with pytest.raises(RuleViolated) as refused:
        filed(complaint_type="other")
    assert (refused.value.rule, refused.value.field) == ("ComplaintWithinInspectionScope", "scope")
    assert filed(complaint_type="other", scope="women_minors_protection").scope == "women_minors_protection"


def test_a_scope_contradicting_the_type_is_refused():
    with pytest.raises(RuleViolated, match="wages_minimum_wage") as refused:
        filed(scope="social_insurance")
    assert refused.value.rule == "ScopeMatchesComplaintType"


def test_a_violation_after_the_complaint_is_refused():
    with pytest.raises(RuleViolated) as refused:
        filed(date(2026, 9, 28), violation_from=date(2026, 10, 1))
    assert refused.value.field == "violation_from"


def test_incomplete_material_pauses_the_clock_and_completion_resumes_it_with_what_was_left():
    state = filed(date(2026, 9, 28))
    # Two working days used (9-29, 9-30) when the request goes out on 9-30: three are left.
    state = apply(state, c.decide_request_completion(state, date(2026, 9, 30), ["工资条"], CAL, LIMITS, TODAY))
    assert state.status == "awaiting_material" and state.clock_workdays == 3
    with pytest.raises(RuleViolated) as refused:
        c.decide_accept(state, date(2026, 10, 8), "k1", LIMITS, TODAY)
    assert refused.value.rule == "MaterialCompleteBeforeDecision"
    state = apply(state, c.decide_complete_material(state, date(2026, 10, 12), CAL, TODAY))
    # Three working days after Monday 10-12: Thursday 10-15.
    assert (state.status, state.decision_due) == ("received", date(2026, 10, 15))


def test_a_violation_older_than_two_years_cannot_be_accepted_and_is_refused_in_writing():
    state = filed(date(2026, 9, 28), violation_from=date(2024, 1, 1), violation_until=date(2024, 9, 27))
    with pytest.raises(RuleViolated) as refused:
        c.decide_accept(state, date(2026, 9, 29), "k1", LIMITS, TODAY)
    assert (refused.value.rule, refused.value.field) == ("ViolationWithinTwoYears", "violation_until")
    [event] = c.decide_refuse(state, date(2026, 9, 29), "older_than_two_years", "超过两年", LIMITS, TODAY)
    assert event.reason == "older_than_two_years" and not event.decided_late


def test_a_violation_ending_exactly_two_years_before_is_still_pursued():
    state = filed(date(2026, 9, 28), violation_from=date(2024, 1, 1), violation_until=date(2024, 9, 28))
    [accepted] = c.decide_accept(state, date(2026, 9, 29), "k1", LIMITS, TODAY)
    assert accepted.case_id == "k1"
    with pytest.raises(RuleViolated) as refused:
        c.decide_refuse(state, date(2026, 9, 29), "older_than_two_years", "超过两年", LIMITS, TODAY)
    assert refused.value.rule == "RefusalReasonHolds"


def test_a_continuing_violation_is_never_too_old():
    state = filed(date(2026, 9, 28), violation_from=date(2020, 1, 1))
    assert c.decide_accept(state, date(2026, 9, 29), "k1", LIMITS, TODAY)


def test_an_employer_in_another_county_is_outside_jurisdiction():
    elsewhere = EMPLOYER.model_copy(update={"region_code": "330503100000"})
    state = filed(employer=elsewhere)
    with pytest.raises(RuleViolated) as refused:
        c.decide_accept(state, date(2026, 9, 29), "k1", LIMITS, TODAY)
    assert refused.value.rule == "ComplaintWithinJurisdiction"
    [event] = c.decide_refuse(state, date(2026, 9, 29), "outside_jurisdiction", "请向南浔区投诉", LIMITS, TODAY)
    assert event.reason == "outside_jurisdiction"


def test_a_decision_after_five_working_days_is_accepted_but_flagged_late():
    state = filed(date(2026, 9, 28))
    [accepted] = c.decide_accept(state, date(2026, 10, 12), "k1", LIMITS, TODAY)
    assert accepted.decided_late


def test_a_complaint_is_decided_once():
    state = filed()
    state = apply(state, c.decide_accept(state, date(2026, 9, 29), "k1", LIMITS, TODAY))
    with pytest.raises(RuleViolated) as refused:
        c.decide_refuse(state, date(2026, 9, 30), "no_clear_employer", "x", LIMITS, TODAY)
    assert refused.value.rule == "ComplaintDecidedOnce"


def test_the_overdue_check_flags_once():
    state = filed(date(2026, 9, 28))
    assert c.decide_flag_overdue(state, date(2026, 10, 10)) == []
    [flag] = c.decide_flag_overdue(state, date(2026, 10, 12))
    assert flag.decision_due == date(2026, 10, 10)
    assert c.decide_flag_overdue(apply(state, [flag]), date(2026, 10, 13)) == []


def test_a_deadline_view_counts_working_days_left_and_flags_overdue():
    view = deadline_view(CAL, date(2026, 10, 10), False, date(2026, 9, 30), None)
    assert (view.overdue, view.workdays_left, view.met) == (False, 3, None)
    late = deadline_view(CAL, date(2026, 10, 10), False, date(2026, 10, 12), None)
    assert late.overdue and late.workdays_left == -1
    assert deadline_view(CAL, date(2026, 10, 10), False, TODAY, date(2026, 10, 9)).met is True
