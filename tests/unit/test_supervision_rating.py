"""Employer compliance rating (人社部规〔2016〕1号): A, B, C, each change with its reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from contracts.supervision import PenaltyImposed
from services.supervision.domain.rating import ComplianceFacts, decide_rate, evolve_rating, grade_of, with_case_step

TODAY = date(2026, 12, 3)
CLEAN = ComplianceFacts(employer_id="e1", region_code="430527100000")


def test_an_employer_with_nothing_found_is_a_and_records_nothing():
    assert grade_of(CLEAN)[0] == "A"
    assert decide_rate(None, CLEAN, TODAY) == []


def test_open_insurance_arrears_make_b_and_clearing_them_makes_a_again():
    owing = replace(CLEAN, arrears_open=True, arrears_fen=1_234_56, arrears_months=2)
    [changed] = decide_rate(None, owing, TODAY)
    assert (changed.grade, changed.previous_grade) == ("B", "A")
    assert "1,234.56 yuan for 2 month(s)" in changed.reasons[0]
    state = evolve_rating(None, changed)
    [back] = decide_rate(state, CLEAN, TODAY)
    assert (back.grade, back.previous_grade, back.arrears_open) == ("A", "B", False)


def test_three_violations_child_labour_or_a_refused_order_make_c():
    assert grade_of(replace(CLEAN, violations=2))[0] == "B"
    grade, reasons = grade_of(replace(CLEAN, violations=3))
    assert grade == "C" and "3 times" in reasons[0]
    assert grade_of(replace(CLEAN, violations=1, child_labour=True))[0] == "C"
    assert grade_of(replace(CLEAN, refused_rectification=True))[0] == "C"


def test_case_steps_add_to_the_facts():
    penalty = PenaltyImposed(
        case_id="k1", region_code="430527100000", decided_on=TODAY, amount_fen=500_000, legal_basis="条例 Art 26"
    )
    facts = with_case_step(CLEAN, [penalty], True, "child_labour")
    assert (facts.violations, facts.penalties, facts.penalty_fen, facts.child_labour) == (1, 1, 500_000, True)
    [changed] = decide_rate(None, facts, TODAY)
    assert changed.grade == "C" and any("child labour" in r for r in changed.reasons)
