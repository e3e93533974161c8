"""Insurance rules with docs/rules.md's examples: benefit durations, survivor months, the surcharge to the fen,
certification and suspension, death, enrolment, arrears reported to supervision."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import insurance as ins
from services.insurance.domain.benefit import (
    ClaimBenefit,
    RegistrationFacts,
    benefit_months,
    decide_claim_benefit,
    decide_pay_benefit,
    decide_stop_benefit,
)
from services.insurance.domain.contributions import BaseBounds, check_contribution, fen_of
from services.insurance.domain.employer_account import (
    AssessArrears,
    EmployerAccount,
    decide_assess,
    decide_pay_arrears,
    evolve_account,
    late_surcharge_fen,
)
from services.insurance.domain.enrolment import (
    EndEnrolment,
    Enrol,
    decide_end_enrolment,
    decide_enrol,
    decide_expect_enrolment,
)
from services.insurance.domain.insured import InsuredState, evolve_insured
from services.insurance.domain.months import add_months, months_from_to
from services.insurance.domain.retirement import (
    ClaimSurvivorBenefits,
    TransferIn,
    decide_certify,
    decide_claim_survivor,
    decide_death,
    decide_suspend_overdue,
    decide_transfer_in,
    survivor_months,
)
from services.runtime.errors import RuleViolated

TODAY = date(2026, 12, 3)
VILLAGE = "430527100201"
UNEMPLOYED = RegistrationFacts("registered_unemployed", date(2026, 9, 1), involuntary=True)


def fold(state: InsuredState, events) -> InsuredState:
    for event in events:
        state = evolve_insured(state, event)
    return state


def person() -> InsuredState:
    return InsuredState.blank("p-1", VILLAGE)


def claim(state: InsuredState, months: int, facts: RegistrationFacts = UNEMPLOYED, claim_id: str = "c-1"):
    return decide_claim_benefit(ClaimBenefit(claim_id, TODAY, 150_000), state, facts, months, today=TODAY)


# --- unemployment benefit: durations at 11, 12, 59, 60, 119, 120 months (条例 Art 17) -------------------


@pytest.mark.parametrize(("months", "granted"), [(12, 12), (59, 12), (60, 18), (119, 18), (120, 24), (300, 24)])
def test_benefit_duration_follows_cumulative_contribution_years(months, granted):
    assert benefit_months(months) == granted
    assert claim(person(), months)[0].months == granted


def test_benefit_refused_with_eleven_months_of_contributions():
    with pytest.raises(RuleViolated) as refused:
        claim(person(), 11)
    assert refused.value.rule == "BenefitNeedsOneYearOfContributions"
    assert "Art 14(1)" in refused.value.detail


def test_benefit_needs_unemployment_registration_and_involuntary_loss():
    with pytest.raises(RuleViolated) as refused:
        claim(person(), 24, RegistrationFacts("employed", None, involuntary=True))
    assert refused.value.rule == "BenefitNeedsUnemploymentRegistration"
    with pytest.raises(RuleViolated) as refused:
        claim(person(), 24, RegistrationFacts("registered_unemployed", date(2026, 9, 1), involuntary=False))
    assert refused.value.rule == "BenefitNeedsInvoluntaryJobLoss"


def test_grant_names_its_articles_and_starts_at_unemployment_registration():
    granted = claim(person(), 30)[0]
    assert granted.starts_on == date(2026, 9, 1)
    assert "失业保险条例 Art 14, 17" in granted.article and "社会保险法 Art 45, 46, 50" in granted.article


def test_unused_months_carry_into_a_new_claim_capped_at_24():
    state = fold(person(), claim(person(), 130))  # 24 months granted
    for month in ("2026-09", "2026-10", "2026-11"):
        state = fold(state, decide_pay_benefit(state, month, today=TODAY))
    stopped = decide_stop_benefit(state, "reemployed", TODAY)
    assert (stopped[0].months_paid, stopped[0].months_left) == (3, 21)
    assert "Art 15(1)" in stopped[0].article
    state = fold(state, stopped)
    assert claim(state, 12, claim_id="c-2")[0].months == 24  # 12 earned + 21 unused, capped at 24
    small = fold(person(), claim(person(), 30))  # 12 months granted
    small = fold(small, decide_pay_benefit(small, "2026-09", today=TODAY))
    small = fold(small, decide_stop_benefit(small, "reemployed", TODAY))
    again = claim(small, 12, claim_id="c-2")[0]
    assert (again.months, again.carried_over_months) == (23, 11)


def test_the_last_month_paid_ends_the_benefit_and_a_month_is_paid_once():
    months = months_from_to("2025-09", "2026-08")
    state = InsuredState.blank("p-1", VILLAGE)
    facts = RegistrationFacts("registered_unemployed", date(2025, 9, 1), involuntary=True)
    state = fold(state, claim(state, 12, facts))
    for month in months[:-1]:
        state = fold(state, decide_pay_benefit(state, month, today=TODAY))
    with pytest.raises(RuleViolated) as twice:
        decide_pay_benefit(state, months[0], today=TODAY)
    assert twice.value.rule == "MonthPaidOnce"
    last = decide_pay_benefit(state, months[-1], today=TODAY)
    assert [type(e) for e in last] == [ins.UnemploymentBenefitPaid, ins.UnemploymentBenefitStopped]
    assert last[1].reason == "exhausted"


def test_a_benefit_is_not_paid_for_a_future_month():
    state = fold(person(), claim(person(), 12))
    with pytest.raises(RuleViolated) as refused:
        decide_pay_benefit(state, "2027-01", today=TODAY)
    assert (refused.value.rule, refused.value.field) == ("MonthNotInFuture", "month")


# --- survivor months at 15 and 30 years and for a retiree (人社部发〔2021〕18号) -------------------------


@pytest.mark.parametrize(("years", "months"), [(10, 9), (15, 9), (16, 10), (20, 14), (30, 24), (35, 24)])
def test_survivor_months_by_contribution_years(years, months):
    assert survivor_months(years) == months


def test_survivor_months_of_a_retiree_lose_one_per_year_of_pension_drawn_floor_nine():
    assert survivor_months(30, pension_years_drawn=10) == 14
    assert survivor_months(20, pension_years_drawn=10) == 9
    assert survivor_months(30, pension_years_drawn=0) == 24


def retiree(transferred_on: date = date(2025, 3, 10)) -> InsuredState:
    command = TransferIn(320_000, date(2016, 2, 1), 30, transferred_on)
    return fold(person(), decide_transfer_in(command, person(), today=TODAY))


def test_death_of_a_retiree_stops_the_pension_from_the_next_month_and_claims_survivor_benefits():
    state = retiree()
    events = decide_death(state, date(2026, 11, 20), TODAY, reported_here=True)
    assert isinstance(events[0], ins.DeathReported)
    assert events[1].stopped_from == "2026-12"
    state = fold(state, events)
    claimed = decide_claim_survivor(ClaimSurvivorBenefits(TODAY, "43", 400_000, 2025, 0), state, today=TODAY)[0]
    # 30 years of contributions -> 24 months, 10 full years of pension drawn -> 14
    assert (claimed.survivor_months, claimed.funeral_grant_fen, claimed.survivor_benefit_fen) == (
        14,
        800_000,
        5_600_000,
    )
    assert decide_death(state, date(2026, 11, 20), TODAY, reported_here=False) == []


def test_death_reported_by_registration_is_recorded_without_republishing_the_report():
    events = decide_death(retiree(), date(2026, 11, 20), TODAY, reported_here=False)
    assert [type(e) for e in events] == [ins.DeathRecorded, ins.PensionStopped]


# --- certification (人社部发〔2015〕32号) -----------------------------------------------------------------


def test_overdue_certification_suspends_and_certifying_resumes_with_back_pay():
    state = retiree(date(2025, 3, 10))
    assert state.pension.certification_due_on == date(2026, 3, 10)
    assert decide_suspend_overdue(state, date(2026, 3, 10)) == []
    suspended = decide_suspend_overdue(state, date(2026, 3, 11))
    assert suspended[0].suspended_from == "2026-04"
    state = fold(state, suspended)
    assert decide_suspend_overdue(state, TODAY) == []
    certified = decide_certify(state, date(2026, 6, 15), today=TODAY)[0]
    assert certified.resumed and certified.back_paid_months == ["2026-04", "2026-05", "2026-06"]
    assert certified.back_pay_fen == 3 * 320_000 and certified.next_due_on == date(2027, 6, 15)


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


# --- surcharge to the fen (社会保险法 Art 86) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("owed", "days", "surcharge"),
    [(100_000, 30, 1_500), (123_456, 45, 2_778), (12_345, 7, 43), (12_345, 9, 56), (1, 1, 0), (100_000, 0, 0)],
)
def test_late_surcharge_is_half_a_permille_a_day_to_the_fen(owed, days, surcharge):
    assert late_surcharge_fen(owed, days) == surcharge


def test_two_months_of_arrears_report_the_employer_and_paying_all_clears_it():
    account = EmployerAccount("e-1", "430527100000")
    first = decide_assess(AssessArrears("2026-09", 100_000, 5, date(2026, 10, 15)), account, today=TODAY)
    assert len(first) == 1
    for event in first:
        account = evolve_account(account, event)
    second = decide_assess(AssessArrears("2026-10", 50_000, 4, date(2026, 11, 15)), account, today=TODAY)
    report = second[1]
    assert isinstance(report, ins.EmployerArrearsReported)
    # 49 days late on 100,000 fen and 18 days late on 50,000 fen
    assert report.months == ["2026-09", "2026-10"] and report.arrears_fen == 150_000
    assert report.surcharge_fen == late_surcharge_fen(100_000, 49) + late_surcharge_fen(50_000, 18) == 2_450 + 450
    for event in second:
        account = evolve_account(account, event)
    paid = decide_pay_arrears(account, "2026-09", 100_000, TODAY, today=TODAY)
    assert paid[0].surcharge_fen == 2_450 and len(paid) == 1
    account = evolve_account(account, paid[0])
    last = decide_pay_arrears(account, "2026-10", 50_000, TODAY, today=TODAY)
    assert isinstance(last[1], ins.EmployerArrearsCleared)


# --- enrolment ----------------------------------------------------------------------------------------------


def test_one_open_enrolment_per_person_and_type():
    enrolled = decide_enrol(Enrol("medical", "flexible", date(2026, 1, 1)), person(), employer_known=False, today=TODAY)
    state = fold(person(), enrolled)
    with pytest.raises(RuleViolated) as twice:
        decide_enrol(Enrol("medical", "employer", date(2026, 2, 1), "e-1"), state, employer_known=True, today=TODAY)
    assert (twice.value.rule, twice.value.field) == ("OneOpenEnrolmentPerType", "insurance_type")
    ended = decide_end_enrolment(
        EndEnrolment("medical", "terminate", date(2026, 3, 1), "moved away"), state, today=TODAY
    )
    state = fold(state, ended)
    assert decide_enrol(Enrol("medical", "employer", date(2026, 3, 2), "e-1"), state, employer_known=True, today=TODAY)


def test_employer_enrolment_needs_a_registered_employer_and_suspension_a_reason():
    with pytest.raises(RuleViolated) as unknown:
        decide_enrol(
            Enrol("unemployment", "employer", date(2026, 1, 1), "e-9"), person(), employer_known=False, today=TODAY
        )
    assert unknown.value.field == "employer_id"
    with pytest.raises(RuleViolated) as flexible:
        decide_enrol(Enrol("work_injury", "flexible", date(2026, 1, 1)), person(), employer_known=False, today=TODAY)
    assert flexible.value.rule == "FlexibleEnrolmentTypes"
    state = fold(
        person(),
        decide_enrol(Enrol("medical", "flexible", date(2026, 1, 1)), person(), employer_known=False, today=TODAY),
    )
    with pytest.raises(RuleViolated) as no_reason:
        decide_end_enrolment(EndEnrolment("medical", "suspend", date(2026, 2, 1), " "), state, today=TODAY)
    assert no_reason.value.rule == "ReasonGiven"


def test_an_employer_enrolment_meets_the_expectation_and_a_second_report_of_the_hire_changes_nothing():
    started = date(2026, 10, 8)
    expected = decide_expect_enrolment(
        person(), employer_id="e-1", started_on=started, due_on=date(2026, 11, 9), source="registration"
    )
    state = fold(person(), expected)
    assert (
        decide_expect_enrolment(
            state, employer_id="e-1", started_on=started, due_on=date(2026, 11, 9), source="assistance"
        )
        == []
    )
    state = fold(
        state,
        decide_enrol(
            Enrol("enterprise_pension", "employer", date(2026, 11, 20), "e-1"), state, employer_known=True, today=TODAY
        ),
    )
    assert state.open_expectations == () and state.expectations[0].met_on == date(2026, 11, 20)


# --- contribution rows ----------------------------------------------------------------------------------------


def test_a_contribution_base_outside_the_province_bounds_or_a_fraction_of_a_fen_is_refused():
    bounds = BaseBounds(400_000, 2_000_000)
    row = {"insurance_type": "enterprise_pension", "base": "5000", "employer_part": "800.00", "personal_part": "400.5"}
    assert check_contribution(bounds=bounds, **row) is None
    assert check_contribution(bounds=bounds, **{**row, "base": "3999.99"}) == "BaseWithinProvinceBounds"
    assert check_contribution(bounds=bounds, **{**row, "personal_part": "400.505"}) == "AmountInWholeFen"
    assert check_contribution(bounds=bounds, **{**row, "personal_part": "-1"}) == "AmountInWholeFen"
    assert check_contribution(bounds=bounds, **{**row, "insurance_type": "pension"}) == "KnownInsuranceType"
    assert fen_of("320.5") == 32_050 and fen_of("12") == 1_200
