"""Mediation and arbitration (劳动争议调解仲裁法 Art 14, 27, 29, 43), petitions and grid follow-ups."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.supervision import EmployerRef, Finding
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain import dispute as d
from services.supervision.domain import grid as g
from services.supervision.domain import petition as p
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


def applied(received_on: date) -> d.DisputeState:
    [event] = d.decide_apply_mediation(
        "d1", "430527100000", EMPLOYER, "追索加班费", 300_000, 1, received_on, CAL, LIMITS, TODAY
    )
    return d.evolve_dispute(None, event)


def apply(state, events, evolve=d.evolve_dispute):
    for event in events:
        state = evolve(state, event)
    return state


def test_mediation_runs_fifteen_calendar_days_moved_past_a_holiday():
    assert applied(date(2026, 9, 2)).mediation_due == date(2026, 9, 17)
    # 9-28 + 15 = 10-13, a working day; 9-20 + 15 = 10-5, inside National Day: moved to 10-8.
    assert applied(date(2026, 9, 28)).mediation_due == date(2026, 10, 13)
    assert applied(date(2026, 9, 20)).mediation_due == date(2026, 10, 8)


def test_no_agreement_in_fifteen_days_refers_the_dispute_to_arbitration_once():
    state = applied(date(2026, 9, 2))
    assert d.decide_lapse(state, date(2026, 9, 17)) == []
    [referral] = d.decide_lapse(state, date(2026, 9, 18))
    assert (referral.reason, referral.referred_on) == ("no_agreement_in_15_days", date(2026, 9, 18))
    state = apply(state, [referral])
    assert d.decide_lapse(state, date(2026, 9, 19)) == []
    with pytest.raises(RuleViolated) as refused:
        d.decide_agree(state, date(2026, 9, 18), 0, TODAY)
    assert refused.value.rule == "MediationStillOpen"


def test_an_agreement_after_the_fifteen_days_is_refused():
    state = applied(date(2026, 9, 2))
    with pytest.raises(RuleViolated) as refused:
        d.decide_agree(state, date(2026, 9, 18), 100, TODAY)
    assert refused.value.rule == "AgreementWithinFifteenDays"


def test_failure_refers_and_arbitration_is_accepted_in_five_days_and_awarded_in_forty_five_plus_fifteen():
    state = applied(date(2026, 9, 2))
    with pytest.raises(RuleViolated) as refused:
        d.decide_apply_arbitration(state, date(2026, 9, 3), CAL, LIMITS, TODAY)
    assert refused.value.rule == "ArbitrationAfterMediation"
    state = apply(state, d.decide_fail(state, date(2026, 9, 10), "双方分歧大", TODAY))
    assert state.stage == "referred"
    state = apply(state, d.decide_apply_arbitration(state, date(2026, 9, 25), CAL, LIMITS, TODAY))
    # 9-25 + 5 = 9-30, a working day.
    assert state.accept_due == date(2026, 9, 30)
    state = apply(state, d.decide_accept_arbitration(state, date(2026, 9, 29), CAL, LIMITS, TODAY))
    assert state.award_due == CAL.add_days(date(2026, 9, 29), 45).due == date(2026, 11, 13)
    with pytest.raises(RuleViolated) as refused:
        d.decide_extend_arbitration(state, date(2026, 11, 1), 16, CAL, LIMITS, TODAY)
    assert refused.value.rule == "AwardExtensionAtMostFifteenDays"
    state = apply(state, d.decide_extend_arbitration(state, date(2026, 11, 1), 15, CAL, LIMITS, TODAY))
    # 9-29 + 60 = 11-28, a Saturday: Monday 11-30.
    assert state.award_due == date(2026, 11, 30)
    [award] = d.decide_award(state, date(2026, 11, 30), 250_000, TODAY)
    assert award.on_time


def test_a_petition_is_answered_within_sixty_days_after_assignment():
    [registered] = p.decide_register_petition(
        "p1", "430527100201", "visit", "工资拖欠", date(2026, 8, 3), CAL, LIMITS, TODAY
    )
    # 8-3 + 60 = 10-2, inside National Day: 10-8.
    assert registered.answer_due == date(2026, 10, 8)
    state = p.evolve_petition(None, registered)
    with pytest.raises(RuleViolated) as refused:
        p.decide_answer(state, date(2026, 8, 10), "已督促发放", TODAY)
    assert refused.value.rule == "PetitionAssignedBeforeAnswer"
    state = apply(state, p.decide_assign(state, date(2026, 8, 4), "inspector-1", TODAY), p.evolve_petition)
    [answer] = p.decide_answer(state, date(2026, 10, 9), "已督促发放", TODAY)
    assert not answer.on_time


def test_grid_findings_need_a_follow_up_within_ten_working_days():
    findings = [Finding(scope="labour_contracts", description="5人未签合同", workers=5)]
    [event] = g.decide_record_inspection(
        "g1", "长铺镇第3网格", EMPLOYER, date(2026, 9, 28), findings, CAL, LIMITS, TODAY
    )
    assert event.follow_up_due == CAL.add_workdays(date(2026, 9, 28), 10).due == date(2026, 10, 16)
    state = g.evolve_grid_inspection(None, event)
    [follow] = g.decide_follow_up(state, date(2026, 10, 19), False, "仍未签订", "k1", TODAY)
    assert (follow.on_time, follow.case_id) == (False, "k1")
    state = g.evolve_grid_inspection(state, follow)
    with pytest.raises(RuleViolated) as refused:
        g.decide_follow_up(state, date(2026, 10, 20), True, "x", None, TODAY)
    assert refused.value.rule == "OneFollowUp"


def test_a_clean_visit_needs_no_follow_up():
    [event] = g.decide_record_inspection("g1", "长铺镇第3网格", EMPLOYER, date(2026, 9, 28), [], CAL, LIMITS, TODAY)
    assert event.follow_up_due is None
    with pytest.raises(RuleViolated) as refused:
        g.decide_follow_up(g.evolve_grid_inspection(None, event), date(2026, 10, 1), True, "x", None, TODAY)
    assert refused.value.rule == "FollowUpNeedsFindings"
