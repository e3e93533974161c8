"""Assistance rules with the examples of docs/rules.md "Assistance": computed categories, the three-level
certification, zero-employment households, services, public-welfare posts and matching."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import assistance as a
from contracts.assistance import HardToEmployCategory as C
from contracts.registration import EMPLOYMENT_STATUSES, HouseholdMember
from services.assistance.domain import Policy
from services.assistance.domain import cases as case_rules
from services.assistance.domain import certification as cert
from services.assistance.domain import households as hh
from services.assistance.domain import posts as post_rules
from services.assistance.domain.cases import OpenVacancy, Profile
from services.assistance.domain.matching import rank
from services.assistance.domain.persons import PersonView, computed_categories, is_4050, is_long_term_unemployed
from services.runtime.auth import Principal, Role
from services.runtime.errors import Forbidden, RuleViolated
from services.runtime.workdays import Deadline, WorkdayCalendar

VILLAGE = "430527100201"
POLICY = Policy()
VILLAGE_CLERK = Principal("v-1", Role.VILLAGE, VILLAGE)
TOWNSHIP_CLERK = Principal("t-1", Role.TOWNSHIP, "430527100000")
COUNTY_OFFICER = Principal("c-1", Role.COUNTY, "430527000000")


def person(**overrides: object) -> PersonView:
    values: dict[str, object] = dict(
        person_id="p-1",
        region_code=VILLAGE,
        sex="female",
        birth_date=date(1985, 6, 1),
        hukou="urban",
        categories=(),
        status="registered_unemployed",
        unemployed_since=date(2026, 3, 1),
        household_id=None,
    )
    values.update(overrides)
    return PersonView(**values)  # type: ignore[arg-type]


def rule_of(excinfo: pytest.ExceptionInfo[RuleViolated]) -> str:
    return excinfo.value.rule


# --- computed categories -------------------------------------------------------------------------------


def test_urban_woman_counts_as_4050_from_her_fortieth_birthday() -> None:
    woman = person(birth_date=date(1986, 12, 3))
    assert not is_4050(woman, date(2026, 12, 2))
    assert is_4050(woman, date(2026, 12, 3))


def test_man_counts_as_4050_from_fifty_not_forty() -> None:
    man = person(sex="male", birth_date=date(1980, 1, 1))
    assert not is_4050(man, date(2026, 12, 3))  # 46
    assert is_4050(person(sex="male", birth_date=date(1976, 12, 3)), date(2026, 12, 3))


def test_rural_woman_of_45_is_not_4050() -> None:
    assert not is_4050(person(hukou="rural", birth_date=date(1981, 1, 1)), date(2026, 12, 3))


def test_unemployed_a_year_or_more_is_long_term() -> None:
    since = person(unemployed_since=date(2025, 12, 3), birth_date=date(1995, 1, 1))
    assert not is_long_term_unemployed(since, date(2026, 12, 2))
    assert is_long_term_unemployed(since, date(2026, 12, 3))
    assert computed_categories(since, date(2026, 12, 3), in_zero_employment_household=True) == [
        C.zero_employment_household,
        C.long_term_unemployed,
    ]


def test_employed_person_is_not_long_term_unemployed() -> None:
    assert not is_long_term_unemployed(person(status="employed", unemployed_since=date(2020, 1, 1)), date(2026, 12, 3))


# --- certification across three levels ------------------------------------------------------------------

APPLIED_ON = date(2026, 1, 5)


def apply(
    principal: Principal = VILLAGE_CLERK,
    categories: tuple[C, ...] = (C.disabled,),
    evidence: tuple[str, ...] = ("残疾人证",),
    computed: list[C] | None = None,
) -> list[a.HardToEmployApplied]:
    return cert.decide_apply(
        cert.Apply("app-1", "p-1", VILLAGE, "case-1", categories, evidence, APPLIED_ON),
        principal,
        computed=computed or [],
        pending_application=None,
        active_certification=None,
    )


def applied() -> cert.ApplicationState:
    state = None
    for event in apply():
        state = cert.evolve_application(state, event)
    assert state is not None
    return state


def notice_until(day: date) -> Deadline:
    return WorkdayCalendar.official().add_workdays(day, POLICY.notice_workdays)


def reviewed(on: date = date(2026, 1, 9)) -> cert.ApplicationState:
    state = applied()
    for event in cert.decide_review(state, TOWNSHIP_CLERK, passed=True, reason="", on=on, notice=notice_until(on)):
        state = cert.evolve_application(state, event)
    return state


def test_village_applies_with_typed_category_and_evidence() -> None:
    [event] = apply(computed=[C.aged_4050])
    assert event.categories == [C.aged_4050, C.disabled]
    assert event.computed_categories == [C.aged_4050]


def test_4050_cannot_be_typed_in() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        apply(categories=(C.aged_4050,))
    assert rule_of(excinfo) == "ComputedCategoryNotTyped"


def test_typed_category_needs_evidence() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        apply(evidence=())
    assert rule_of(excinfo) == "TypedCategoryNeedsEvidence"


def test_application_without_any_category_is_refused() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        apply(categories=(), evidence=())
    assert rule_of(excinfo) == "HardToEmployNeedsACategory"


def test_county_does_not_take_applications() -> None:
    with pytest.raises(Forbidden):
        apply(principal=COUNTY_OFFICER)


def test_public_notice_lasts_five_working_days() -> None:
    state = reviewed(date(2026, 1, 9))  # a Friday: the notice runs Monday 12 to Friday 16 January
    assert state.stage == "under_notice"
    assert state.notice_ends_on == date(2026, 1, 16)


def test_village_cannot_review() -> None:
    with pytest.raises(Forbidden):
        cert.decide_review(
            applied(), VILLAGE_CLERK, passed=True, reason="", on=date(2026, 1, 9), notice=notice_until(date(2026, 1, 9))
        )


def test_review_twice_is_out_of_order() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        cert.decide_review(
            reviewed(),
            TOWNSHIP_CLERK,
            passed=True,
            reason="",
            on=date(2026, 1, 9),
            notice=notice_until(date(2026, 1, 9)),
        )
    assert rule_of(excinfo) == "ReviewFollowsApplication"


def decide(
    state: cert.ApplicationState, principal: Principal = COUNTY_OFFICER, on: date = date(2026, 1, 19), **kw: object
) -> list[object]:
    args: dict[str, object] = dict(
        certify=True, reason="", on=on, computed=[], certification_id="cert-1", policy=POLICY
    )
    args.update(kw)
    return list(cert.decide_decision(state, principal, **args))  # type: ignore[arg-type]


def test_county_decides_after_the_notice_and_certifies() -> None:
    decided, certified = decide(reviewed())
    assert isinstance(decided, a.HardToEmployDecided) and decided.certified
    assert isinstance(certified, a.HardToEmployCertified)
    assert (certified.categories, certified.review_on) == ([C.disabled], date(2027, 1, 19))


def test_decision_during_the_notice_is_refused() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        decide(reviewed(), on=date(2026, 1, 16))
    assert rule_of(excinfo) == "DecisionAfterPublicNotice"


def test_decision_before_review_is_out_of_order() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        decide(applied())
    assert rule_of(excinfo) == "DecisionFollowsReview"


def test_reviewer_may_not_decide() -> None:
    same_subject_at_county = Principal("t-1", Role.COUNTY, "430527000000")
    with pytest.raises(RuleViolated) as excinfo:
        decide(reviewed(), principal=same_subject_at_county)
    assert rule_of(excinfo) == "ReviewerMayNotDecide"


def test_village_token_cannot_certify() -> None:
    with pytest.raises(Forbidden):
        decide(reviewed(), principal=VILLAGE_CLERK)


def test_objection_outside_the_notice_is_refused_and_must_be_answered() -> None:
    state = reviewed()
    with pytest.raises(RuleViolated) as excinfo:
        cert.decide_objection(state, "他有经营收入", date(2026, 1, 17))
    assert rule_of(excinfo) == "ObjectionDuringNotice"
    state = cert.evolve_application(state, cert.decide_objection(state, "他有经营收入", date(2026, 1, 13))[0])
    with pytest.raises(RuleViolated) as answered:
        decide(state)
    assert rule_of(answered) == "ObjectionsAnswered"
    assert decide(state, reason="经核实无经营收入")


def test_refusal_gives_reason() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        decide(reviewed(), certify=False)
    assert rule_of(excinfo) == "RefusalGivesReason"
    [refused] = decide(reviewed(), certify=False, reason="不符合条件")
    assert isinstance(refused, a.HardToEmployDecided) and not refused.certified


def test_certified_status_ends_once_and_review_waits_for_its_date() -> None:
    status = cert.evolve_certification(None, decide(reviewed())[1])  # type: ignore[arg-type]
    with pytest.raises(RuleViolated) as excinfo:
        cert.decide_end(status, "review_due", date(2026, 6, 1), strict=True)
    assert rule_of(excinfo) == "ReviewDateReached"
    [ended] = cert.decide_end(status, "reemployed", date(2026, 6, 1), strict=False)
    status = cert.evolve_certification(status, ended)
    assert not status.active
    assert cert.decide_end(status, "died", date(2026, 7, 1), strict=False) == []


# --- zero-employment households --------------------------------------------------------------------------


def member(pid: str, status: str, working_age: bool = True) -> HouseholdMember:
    return HouseholdMember(
        person_id=pid, relation="head" if pid == "p-1" else "spouse", working_age=working_age, status=status
    )  # type: ignore[arg-type]


TWO_UNEMPLOYED = [member("p-1", "registered_unemployed"), member("p-2", "registered_unemployed")]


def detected() -> hh.HouseholdState:
    [event] = hh.decide_snapshot(None, "h-1", VILLAGE, TWO_UNEMPLOYED, date(2026, 3, 1))
    return hh.evolve_household(None, event)


def confirmed(on: date = date(2026, 3, 2)) -> hh.HouseholdState:
    state = detected()
    clear_by = WorkdayCalendar.official().add_days(on, POLICY.clear_target_days)
    [event] = hh.decide_confirm(state, TOWNSHIP_CLERK, on, clear_by)
    return hh.evolve_household(state, event)


def test_household_of_two_unemployed_is_detected() -> None:
    state = detected()
    assert (state.stage, state.member_ids) == ("detected", ("p-1", "p-2"))


def test_household_with_an_employed_member_is_not_zero_employment() -> None:
    assert (
        hh.decide_snapshot(
            None, "h-1", VILLAGE, [member("p-1", "registered_unemployed"), member("p-2", "employed")], date(2026, 3, 1)
        )
        == []
    )


def test_household_of_a_student_and_a_retiree_is_not_zero_employment() -> None:
    members = [member("p-1", "not_in_labour_force"), member("p-2", "retired", working_age=False)]
    assert hh.decide_snapshot(None, "h-1", VILLAGE, members, date(2026, 3, 1)) == []


def test_a_snapshot_that_may_not_change_the_stage_changes_none_of_them() -> None:
    """The worker skips reading the household for such snapshots: for every stage they must decide nothing."""
    statuses = EMPLOYMENT_STATUSES
    states = [None, detected(), confirmed()]
    for first in statuses:
        for second in statuses:
            for working_age in (True, False):
                members = [member("p-1", first), member("p-2", second, working_age=working_age)]
                decided = [hh.decide_snapshot(s, "h-1", VILLAGE, members, date(2026, 3, 9)) for s in states]
                if not hh.may_change_stage(members):
                    assert decided == [[], [], []], members
                else:
                    assert any(decided), members


def test_confirmation_sets_the_thirty_day_target() -> None:
    state = confirmed(date(2026, 3, 2))
    assert (state.stage, state.clear_by) == ("confirmed", date(2026, 4, 1))


def test_only_the_township_confirms() -> None:
    with pytest.raises(Forbidden):
        hh.decide_confirm(detected(), VILLAGE_CLERK, date(2026, 3, 2), Deadline(date(2026, 4, 1)))


def test_confirmed_household_clears_when_a_member_is_employed() -> None:
    employed = [member("p-1", "employed"), member("p-2", "registered_unemployed")]
    [cleared] = hh.decide_snapshot(confirmed(), "h-1", VILLAGE, employed, date(2026, 4, 12))
    assert isinstance(cleared, a.ZeroEmploymentHouseholdCleared)
    assert (cleared.reason, cleared.person_id, cleared.days_outstanding, cleared.within_target) == (
        "member_employed",
        "p-1",
        41,
        False,
    )


def test_placement_clears_a_confirmed_household_within_target() -> None:
    [cleared] = hh.decide_member_placed(confirmed(), "p-2", date(2026, 3, 20))
    assert isinstance(cleared, a.ZeroEmploymentHouseholdCleared)
    assert (cleared.reason, cleared.days_outstanding, cleared.within_target) == ("member_placed", 18, True)


def test_detected_household_with_a_member_employed_is_dismissed() -> None:
    [event] = hh.decide_snapshot(detected(), "h-1", VILLAGE, [member("p-1", "employed")], date(2026, 3, 5))
    assert isinstance(event, a.ZeroEmploymentHouseholdDismissed)


def test_refusing_help_without_reason_needs_confirmation_first() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        hh.decide_refused_help(detected(), TOWNSHIP_CLERK, date(2026, 3, 5))
    assert rule_of(excinfo) == "ClearingFollowsConfirmation"


# --- cases and services ------------------------------------------------------------------------------------


def open_case() -> case_rules.CaseState:
    [event] = case_rules.decide_open_case(
        None, person(), on=date(2026, 3, 1), reason="unemployment_registered", indicated=[]
    )
    return case_rules.evolve_case(None, event)


def test_case_opens_once_for_a_reaction_and_refuses_a_second_request() -> None:
    state = open_case()
    assert (
        case_rules.decide_open_case(
            state, person(), on=date(2026, 3, 2), reason="unemployment_registered", indicated=[]
        )
        == []
    )
    with pytest.raises(RuleViolated) as excinfo:
        case_rules.decide_open_case(state, person(), on=date(2026, 3, 2), reason="requested", indicated=[])
    assert rule_of(excinfo) == "OneOpenCasePerPerson"


def test_business_loan_pre_review_is_capped_at_200000_yuan() -> None:
    state = open_case()
    assert case_rules.decide_loan_pre_review(state, 20_000_000, True, "", date(2026, 3, 2), POLICY)
    with pytest.raises(RuleViolated) as excinfo:
        case_rules.decide_loan_pre_review(state, 20_000_001, True, "", date(2026, 3, 2), POLICY)
    assert rule_of(excinfo) == "BusinessLoanWithinCap"


VACANCY = OpenVacancy("v-1", "e-1", "430527100000", "保洁员", 2, True, 180_000, 250_000, "能吃苦")


def test_referral_hired_places_the_person_and_closes_the_case() -> None:
    state = open_case()
    [referred] = case_rules.decide_referral(state, VACANCY, "v-1", "r-1", date(2026, 3, 3))
    state = case_rules.evolve_case(state, referred)
    recorded, placed = case_rules.decide_referral_outcome(
        state, person(), "r-1", "hired", date(2026, 3, 10), date(2026, 3, 9)
    )
    assert isinstance(placed, a.PlacedInJob) and (placed.kind, placed.vacancy_id, placed.employer_id) == (
        "unit",
        "v-1",
        "e-1",
    )
    state = case_rules.evolve_case(case_rules.evolve_case(state, recorded), placed)
    assert (state.is_open, state.close_reason) == (False, "placed")
    with pytest.raises(RuleViolated) as excinfo:
        case_rules.decide_guidance(state, "求职技巧", "ok", date(2026, 3, 11))
    assert rule_of(excinfo) == "CaseIsOpen"


def test_referral_to_a_closed_vacancy_is_refused() -> None:
    closed = OpenVacancy("v-2", "e-1", VILLAGE, "保洁员", 0, False)
    with pytest.raises(RuleViolated) as excinfo:
        case_rules.decide_referral(open_case(), closed, "v-2", "r-1", date(2026, 3, 3))
    assert rule_of(excinfo) == "ReferralToOpenVacancy"


def test_training_completion_needs_its_referral() -> None:
    with pytest.raises(RuleViolated) as excinfo:
        case_rules.decide_training_completion(open_case(), "t-9", None, date(2026, 3, 3))
    assert rule_of(excinfo) == "TrainingCompletesAReferral"


# --- public-welfare posts ----------------------------------------------------------------------------------


def post(positions: int = 1) -> post_rules.PostState:
    command = post_rules.CreatePost(
        "post-1", VILLAGE, "长铺镇人民政府", "保洁员", positions, 150_000, date(2026, 1, 1), date(2028, 12, 31)
    )
    [event] = post_rules.decide_create_post(command, POLICY)
    return post_rules.evolve_post(None, event)


def test_post_term_is_at_most_three_years() -> None:
    command = post_rules.CreatePost(
        "post-1", VILLAGE, "镇政府", "护林员", 1, 150_000, date(2026, 1, 1), date(2029, 1, 2)
    )
    with pytest.raises(RuleViolated) as excinfo:
        post_rules.decide_create_post(command, POLICY)
    assert rule_of(excinfo) == "PostTermAtMostThreeYears"


def test_full_post_and_uncertified_person_are_refused() -> None:
    state = post()
    with pytest.raises(RuleViolated) as uncertified:
        post_rules.decide_fill(
            state, person_id="p-1", case_id="c-1", certification_id=None, started_on=date(2026, 3, 1), ends_on=None
        )
    assert rule_of(uncertified) == "PostForCertifiedHardToEmploy"
    [filled] = post_rules.decide_fill(
        state, person_id="p-1", case_id="c-1", certification_id="cert-1", started_on=date(2026, 3, 1), ends_on=None
    )
    state = post_rules.evolve_post(state, filled)
    with pytest.raises(RuleViolated) as full:
        post_rules.decide_fill(
            state, person_id="p-2", case_id="c-2", certification_id="cert-2", started_on=date(2026, 3, 1), ends_on=None
        )
    assert rule_of(full) == "PostHasVacancy"


def test_post_ending_within_thirty_days_is_listed() -> None:
    assert post_rules.ending_within(post(), date(2028, 12, 1), 30)
    assert not post_rules.ending_within(post(), date(2028, 11, 30), 30)


# --- matching -------------------------------------------------------------------------------------------------


def test_matching_ranks_by_occupation_skills_distance_and_wage_and_says_why() -> None:
    vacancies = [
        OpenVacancy("far", "e-1", "430527200000", "保洁员", 1, True, 200_000, 300_000),
        OpenVacancy("near", "e-2", VILLAGE, "叉车司机", 1, True, 300_000, 400_000, "持叉车证"),
        OpenVacancy("closed", "e-3", VILLAGE, "叉车司机", 0, False, 300_000, 400_000),
        OpenVacancy("other", "e-4", "430527100000", "厨师", 1, True, 100_000, 150_000),
    ]
    profile = Profile(occupations=("叉车司机",), skills=("叉车",), expected_wage_fen=350_000)
    ranked = rank(profile, VILLAGE, vacancies)
    assert [m.vacancy.vacancy_id for m in ranked] == ["near", "other", "far"]
    assert ranked[0].score == 40 + 10 + 30 + 20
    assert "same village" in ranked[0].reasons
    assert any("叉车" in r and "skills" in r for r in ranked[0].reasons)
    assert "same township" in ranked[1].reasons
    assert any("below" in r for r in ranked[1].reasons)
