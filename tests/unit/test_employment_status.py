"""The employment status machine (就业失业登记) and the statutory retirement age, as pure rules."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.registration import INVOLUNTARY_END_REASONS
from services.registration.domain.employment import (
    RegisterEmployment,
    decide_deregister_unemployment,
    decide_end_employment,
    decide_register_employment,
    decide_register_unemployment,
)
from services.registration.domain.person import PersonState, decide_record_death, decide_retire, evolve_person
from services.registration.domain.survey import Survey, decide_survey, quarter_bounds, quarter_of
from services.registration.domain.working_age import is_working_age, retirement_delay_months, statutory_retirement_date
from services.runtime.errors import RuleViolated

TODAY = date(2026, 5, 20)


def person(status: str = "not_in_labour_force", born: date = date(1990, 3, 7), sex: str = "male", **kw) -> PersonState:
    state = PersonState(person_id="p1", sex=sex, birth_date=born, region_code="430527100201", version=1, **kw)
    if status == "employed":
        return evolve_person(state, hire(state)[0])
    return PersonState(**{**state.__dict__, "status": status})


def hire(state, started_on=date(2026, 5, 1), reported_on=date(2026, 5, 10), kind="unit"):
    command = RegisterEmployment(kind=kind, started_on=started_on, reported_on=reported_on)
    return decide_register_employment(state, command, today=TODAY)


def refused(call) -> RuleViolated:
    with pytest.raises(RuleViolated) as excinfo:
        call()
    return excinfo.value


# --- statutory retirement age (RULES.md, 2024 NPCSC decision) ------------------------------------------


@pytest.mark.parametrize(
    ("born", "sex", "former", "retires"),
    [
        (date(1964, 12, 15), "male", 55, date(2024, 12, 15)),  # before the reform: 60
        (date(1965, 1, 10), "male", 55, date(2025, 2, 10)),  # first month delayed: 60 and 1 month
        (date(1965, 4, 30), "male", 55, date(2025, 5, 30)),  # still +1: one month per 4 months of birth
        (date(1965, 5, 1), "male", 55, date(2025, 7, 1)),  # +2
        (date(1976, 8, 1), "male", 55, date(2039, 7, 1)),  # +35: 63 less a month
        (date(1976, 9, 1), "male", 55, date(2039, 9, 1)),  # RULES.md: men born 1976-09 or later retire at 63
        (date(1990, 3, 7), "male", 55, date(2053, 3, 7)),
        (date(1969, 12, 31), "female", 55, date(2024, 12, 31)),  # women formerly 55: before the base month
        (date(1970, 1, 20), "female", 55, date(2025, 2, 20)),
        (date(1981, 9, 1), "female", 55, date(2039, 9, 1)),  # 58
        (date(1975, 1, 5), "female", 50, date(2025, 2, 5)),  # women formerly 50: +1 per 2 months
        (date(1975, 3, 5), "female", 50, date(2025, 5, 5)),  # +2
        (date(1984, 11, 1), "female", 50, date(2039, 11, 1)),  # cap of 60 months: 55
        (date(1995, 6, 1), "female", 50, date(2050, 6, 1)),
    ],
)
def test_statutory_retirement_date_follows_the_2025_gradual_increase(born, sex, former, retires):
    assert statutory_retirement_date(born, sex, former_female_age=former) == retires


def test_retirement_age_caps_are_three_years_for_men_and_five_for_women_formerly_fifty():
    assert retirement_delay_months(date(2000, 1, 1), "male") == 36
    assert retirement_delay_months(date(2000, 1, 1), "female", 55) == 36
    assert retirement_delay_months(date(2000, 1, 1), "female", 50) == 60


def test_a_leap_day_birthday_retires_on_the_last_day_of_february():
    assert statutory_retirement_date(date(1980, 2, 29), "male") == date(2043, 2, 28)
    assert statutory_retirement_date(date(1976, 2, 29), "male") == date(2038, 12, 29)  # 62 and 10 months


def test_a_former_female_age_other_than_50_or_55_is_an_error():
    with pytest.raises(ValueError):
        statutory_retirement_date(date(1980, 1, 1), "female", former_female_age=60)


@pytest.mark.parametrize(
    ("born", "day", "working"),
    [
        (date(2010, 5, 21), TODAY, False),  # 15
        (date(2010, 5, 20), TODAY, True),  # 16 today
        (date(1965, 1, 10), date(2025, 2, 9), True),  # the day before retirement
        (date(1965, 1, 10), date(2025, 2, 10), False),
    ],
)
def test_working_age_is_sixteen_to_the_retirement_date(born, day, working):
    assert is_working_age(born, "male", day) is working


# --- employment registration (就业登记) -----------------------------------------------------------------


def test_hire_reported_within_30_days_is_on_time_and_after_is_flagged_late():
    [on_time] = hire(person(), started_on=date(2026, 4, 20), reported_on=date(2026, 5, 20))
    assert (on_time.report_deadline, on_time.reported_late) == (date(2026, 5, 20), False)
    [late] = hire(person(), started_on=date(2026, 4, 19), reported_on=date(2026, 5, 20))
    assert late.reported_late is True and late.previous_status == "not_in_labour_force"


def test_registered_unemployed_person_may_take_a_job():
    [event] = hire(person("registered_unemployed"))
    assert event.previous_status == "registered_unemployed"
    assert evolve_person(person("registered_unemployed"), event).status == "employed"


@pytest.mark.parametrize(
    ("status", "rule"),
    [
        ("employed", "OneEmploymentAtATime"),
        ("deceased", "DeceasedIsFinal"),
        ("retired", "RetiredLeftTheLabourForce"),
    ],
)
def test_employment_refused_from_a_status_that_does_not_allow_it(status, rule):
    assert refused(lambda: hire(person(status))).rule == rule


def test_under_16_cannot_register_employment():
    minor = person(born=date(2010, 6, 1))
    error = refused(lambda: hire(minor, started_on=date(2026, 5, 1)))
    assert (error.rule, error.field) == ("NoEmploymentUnder16", "started_on")


def test_employment_start_in_the_future_is_refused():
    error = refused(lambda: hire(person(), started_on=date(2026, 5, 21), reported_on=date(2026, 5, 21)))
    assert (error.rule, error.field) == ("EmploymentStartNotInFuture", "started_on")


def test_employment_past_the_retirement_date_is_refused():
    old = person(born=date(1960, 1, 1))
    assert refused(lambda: hire(old)).rule == "RegistrationIsForWorkingAge"


def test_hire_cannot_be_reported_before_it_started():
    assert refused(lambda: hire(person(), reported_on=date(2026, 4, 30))).rule == "HireReportedAfterStart"


# --- end of employment, unemployment registration -------------------------------------------------------


def test_termination_reported_after_15_days_is_late_and_involuntary_reasons_are_marked():
    employed = person("employed")
    [ended] = decide_end_employment(employed, date(2026, 5, 4), "dismissed", date(2026, 5, 20), today=TODAY)
    assert (ended.report_deadline, ended.reported_late, ended.involuntary) == (date(2026, 5, 19), True, True)
    [quit_] = decide_end_employment(employed, date(2026, 5, 10), "resigned", date(2026, 5, 20), today=TODAY)
    assert (quit_.reported_late, quit_.involuntary, quit_.status_after) == (False, False, "not_in_labour_force")
    assert {"contract_expired", "dismissed", "resigned_employer_fault"} == INVOLUNTARY_END_REASONS


def test_end_before_start_is_refused():
    error = refused(
        lambda: decide_end_employment(person("employed"), date(2026, 4, 30), "resigned", TODAY, today=TODAY)
    )
    assert (error.rule, error.field) == ("EmploymentEndsAfterStart", "ended_on")


def test_ending_employment_needs_one():
    error = refused(lambda: decide_end_employment(person(), date(2026, 5, 1), "resigned", TODAY, today=TODAY))
    assert error.rule == "EndNeedsEmployment"


def test_ending_for_retirement_leaves_the_person_retired():
    [ended] = decide_end_employment(person("employed"), date(2026, 5, 10), "retired", TODAY, today=TODAY)
    assert evolve_person(person("employed"), ended).status == "retired"


def test_unemployment_registration_remembers_how_the_last_job_ended():
    employed = person("employed")
    [ended] = decide_end_employment(employed, date(2026, 5, 10), "contract_expired", TODAY, today=TODAY)
    out_of_work = evolve_person(employed, ended)
    [registered] = decide_register_unemployment(out_of_work, TODAY, today=TODAY)
    assert (registered.involuntary, registered.last_employment_end_reason) == (True, "contract_expired")
    before_end = refused(lambda: decide_register_unemployment(out_of_work, date(2026, 5, 9), today=TODAY))
    assert before_end.rule == "UnemploymentAfterLastJob"


@pytest.mark.parametrize(
    ("status", "rule"),
    [
        ("employed", "EndEmploymentBeforeUnemployment"),
        ("registered_unemployed", "AlreadyRegisteredUnemployed"),
        ("retired", "RetiredLeftTheLabourForce"),
        ("deceased", "DeceasedIsFinal"),
    ],
)
def test_unemployment_registration_refused_from_a_status_that_does_not_allow_it(status, rule):
    assert refused(lambda: decide_register_unemployment(person(status), TODAY, today=TODAY)).rule == rule


def test_deregistration_needs_a_registration_and_returns_to_not_in_labour_force():
    [event] = decide_deregister_unemployment(person("registered_unemployed"), TODAY, "enlisted", today=TODAY)
    assert evolve_person(person("registered_unemployed"), event).status == "not_in_labour_force"
    error = refused(lambda: decide_deregister_unemployment(person(), TODAY, "other", today=TODAY))
    assert error.rule == "DeregistrationNeedsUnemploymentRegistration"


def test_retirement_ends_a_job_and_is_refused_twice():
    [retired] = decide_retire(person("employed"), TODAY, today=TODAY)
    after = evolve_person(person("employed"), retired)
    assert (retired.previous_status, after.status, after.employment) == ("employed", "retired", None)
    assert refused(lambda: decide_retire(after, TODAY, today=TODAY)).rule == "AlreadyRetired"


def test_nothing_follows_death():
    [died] = decide_record_death(person("employed"), TODAY, today=TODAY)
    dead = evolve_person(person("employed"), died)
    for attempt in (
        lambda: decide_retire(dead, TODAY, today=TODAY),
        lambda: decide_record_death(dead, TODAY, today=TODAY),
        lambda: decide_register_unemployment(dead, TODAY, today=TODAY),
        lambda: hire(dead),
    ):
        assert refused(attempt).rule == "DeceasedIsFinal"


# --- quarterly survey (动态调查) ------------------------------------------------------------------------


def survey(state, status, **kw):
    return decide_survey(state, Survey(quarter="2026Q2", status=status, surveyed_on=TODAY, **kw), today=TODAY)


def test_a_survey_that_confirms_the_status_records_only_the_survey():
    [event] = survey(person(), "not_in_labour_force")
    assert (event.event_type, event.changed, event.quarter) == ("StatusSurveyed", False, "2026Q2")


def test_a_survey_finding_a_lost_job_ends_it_and_registers_unemployment():
    events = survey(person("employed"), "registered_unemployed", ended_on=date(2026, 5, 15), end_reason="dismissed")
    assert [e.event_type for e in events] == ["EmploymentEnded", "UnemploymentRegistered", "StatusSurveyed"]
    assert events[-1].changed is True and events[-1].status == "registered_unemployed"


def test_a_survey_finding_a_new_job_needs_its_details():
    assert refused(lambda: survey(person(), "employed")).rule == "SurveyNeedsEmploymentDetails"
    job = RegisterEmployment(kind="flexible", started_on=date(2026, 4, 1), reported_on=TODAY)
    events = survey(person(), "employed", employment=job)
    assert [e.event_type for e in events] == ["EmploymentRegistered", "StatusSurveyed"]
    assert events[0].reported_late is True  # found by the survey 49 days after the start


def test_a_survey_cannot_be_for_a_future_quarter_or_revive_the_dead():
    future = Survey(quarter="2026Q3", status="employed", surveyed_on=TODAY)
    assert refused(lambda: decide_survey(person(), future, today=TODAY)).rule == "QuarterNotInFuture"
    assert refused(lambda: survey(person("deceased"), "not_in_labour_force")).rule == "DeceasedIsFinal"


@pytest.mark.parametrize(("day", "quarter"), [(date(2026, 1, 1), "2026Q1"), (date(2026, 9, 30), "2026Q3")])
def test_quarters(day, quarter):
    assert quarter_of(day) == quarter
    first, last = quarter_bounds(quarter)
    assert first <= day <= last
